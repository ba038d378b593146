use super::*;
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::json;

/// Thursday 2026-11-26 10:00.
fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 26).and_then(|d| d.and_hms_opt(10, 0, 0)).expect("valid date")
}

fn p(text: &str, lang: Lang) -> Vec<ParsedEntity> {
    parse(text, &ParseContext::new(lang, now()))
}

/// The single entity of `kind` covering the whole text.
fn one(text: &str, lang: Lang, kind: EntityKind) -> serde_json::Value {
    let ents = p(text, lang);
    let n = text.chars().count();
    let hit: Vec<_> = ents.iter().filter(|e| e.kind == kind).collect();
    assert_eq!(hit.len(), 1, "{text:?}: expected one {kind}, got {ents:?}");
    assert_eq!((hit[0].start, hit[0].end), (0, n), "{text:?}: span of {:?}", hit[0]);
    assert_eq!(ents.len(), 1, "{text:?}: extra entities {ents:?}");
    hit[0].value.clone()
}

fn instant(v: &str, g: &str) -> serde_json::Value {
    json!({"type": "instant", "value": v, "grain": g})
}

fn interval(a: &str, b: &str, g: &str) -> serde_json::Value {
    json!({"type": "interval", "from": a, "to": b, "grain": g})
}

#[test]
fn zh_times() {
    let t = EntityKind::Time;
    assert_eq!(one("明天下午三点", Lang::Zh, t), instant("2026-11-27T15:00:00", "hour"));
    assert_eq!(one("明天下午三点半", Lang::Zh, t), instant("2026-11-27T15:30:00", "minute"));
    assert_eq!(one("明天下午", Lang::Zh, t), interval("2026-11-27T12:00:00", "2026-11-27T19:00:00", "hour"));
    assert_eq!(one("晚上八点", Lang::Zh, t), instant("2026-11-26T20:00:00", "hour"));
    assert_eq!(one("今天", Lang::Zh, t), instant("2026-11-26T00:00:00", "day"));
    assert_eq!(one("后天", Lang::Zh, t), instant("2026-11-28T00:00:00", "day"));
    assert_eq!(one("大后天", Lang::Zh, t), instant("2026-11-29T00:00:00", "day"));
    assert_eq!(one("昨天", Lang::Zh, t), instant("2026-11-25T00:00:00", "day"));
    assert_eq!(one("下周五", Lang::Zh, t), instant("2026-12-04T00:00:00", "day"));
    assert_eq!(one("这个周末", Lang::Zh, t), interval("2026-11-27T18:00:00", "2026-11-30T00:00:00", "hour"));
    assert_eq!(one("本月底", Lang::Zh, t), interval("2026-11-21T00:00:00", "2026-12-01T00:00:00", "day"));
    assert_eq!(one("下个月3号", Lang::Zh, t), instant("2026-12-03T00:00:00", "day"));
    assert_eq!(one("国庆节", Lang::Zh, t), instant("2027-10-01T00:00:00", "day"));
    assert_eq!(one("春节", Lang::Zh, t), instant("2027-02-06T00:00:00", "day"));
    assert_eq!(one("中秋节", Lang::Zh, t), instant("2027-09-15T00:00:00", "day"));
    assert_eq!(one("3天后", Lang::Zh, t), interval("2026-11-27T00:00:00", "2026-11-30T00:00:00", "day"));
    assert_eq!(one("2015年3月3号", Lang::Zh, t), instant("2015-03-03T00:00:00", "day"));
    assert_eq!(one("周一", Lang::Zh, t), instant("2026-11-30T00:00:00", "day"));
}

#[test]
fn past_leaning_weekday() {
    let mut ctx = ParseContext::new(Lang::Zh, now());
    ctx.past_leaning = true;
    let e = parse("周一", &ctx);
    assert_eq!(e[0].value, instant("2026-11-23T00:00:00", "day"));
    ctx.lang = Lang::En;
    let e = parse("monday", &ctx);
    assert_eq!(e[0].value, instant("2026-11-23T00:00:00", "day"));
}

#[test]
fn en_times() {
    let t = EntityKind::Time;
    assert_eq!(one("tomorrow at 3pm", Lang::En, t), instant("2026-11-27T15:00:00", "hour"));
    assert_eq!(one("next Friday", Lang::En, t), instant("2026-12-04T00:00:00", "day"));
    assert_eq!(one("next Monday", Lang::En, t), instant("2026-11-30T00:00:00", "day"));
    assert_eq!(one("the 29th", Lang::En, t), instant("2026-11-29T00:00:00", "day"));
    assert_eq!(one("in 2 hours", Lang::En, t), instant("2026-11-26T12:00:00", "minute"));
    assert_eq!(one("from 3 to 5pm", Lang::En, t), interval("2026-11-26T15:00:00", "2026-11-26T18:00:00", "hour"));
    assert_eq!(one("last weekend", Lang::En, t), interval("2026-11-20T18:00:00", "2026-11-23T00:00:00", "hour"));
    assert_eq!(one("Christmas", Lang::En, t), instant("2026-12-25T00:00:00", "day"));
    assert_eq!(one("March 3rd 2015", Lang::En, t), instant("2015-03-03T00:00:00", "day"));
    assert_eq!(one("thanksgiving", Lang::En, t), instant("2026-11-26T00:00:00", "day"));
}

#[test]
fn numbers() {
    let n = EntityKind::Number;
    let v = |x: f64| json!({ "value": value::num(x) });
    assert_eq!(one("三百五十", Lang::Zh, n), v(350.0));
    assert_eq!(one("3万5", Lang::Zh, n), v(35000.0));
    assert_eq!(one("1.5万", Lang::Zh, n), v(15000.0));
    assert_eq!(one("百分之二十", Lang::Zh, n), v(0.2));
    assert_eq!(one("两千零一十", Lang::Zh, n), v(2010.0));
    assert_eq!(one("壹佰贰拾叁", Lang::Zh, n), v(123.0));
    assert_eq!(one("〇", Lang::Zh, n), v(0.0));
    assert_eq!(one("１２３", Lang::Zh, n), v(123.0));
    assert_eq!(one("twenty-five", Lang::En, n), v(25.0));
    assert_eq!(one("a dozen", Lang::En, n), v(12.0));
    assert_eq!(one("1.2k", Lang::En, n), v(1200.0));
    assert_eq!(one("3 million", Lang::En, n), v(3e6));
    let third = one("三分之一", Lang::Zh, n);
    assert!((third["value"].as_f64().unwrap_or(0.0) - 1.0 / 3.0).abs() < 1e-6);
    assert_eq!(p("三百五十", Lang::Zh)[0].value, json!({"value": 350}));
}

#[test]
fn ordinals() {
    let o = EntityKind::Ordinal;
    assert_eq!(one("第三", Lang::Zh, o), json!({"value": 3}));
    assert_eq!(one("第十二", Lang::Zh, o), json!({"value": 12}));
    assert_eq!(one("third", Lang::En, o), json!({"value": 3}));
    assert_eq!(one("21st", Lang::En, o), json!({"value": 21}));
}

#[test]
fn amounts() {
    let a = EntityKind::Amount;
    assert_eq!(one("三百五十元", Lang::Zh, a), json!({"value": 350, "currency": "CNY"}));
    assert_eq!(one("$12.50", Lang::En, a), json!({"value": 12.5, "currency": "USD"}));
    assert_eq!(one("¥88", Lang::Zh, a), json!({"value": 88, "currency": "CNY"}));
    assert_eq!(one("两毛五", Lang::Zh, a), json!({"value": 0.25, "currency": "CNY"}));
    assert_eq!(one("100到200元", Lang::Zh, a), json!({"min": 100, "max": 200, "currency": "CNY"}));
    assert_eq!(one("between $10 and $20", Lang::En, a), json!({"min": 10, "max": 20, "currency": "USD"}));
    assert_eq!(one("under 50 bucks", Lang::En, a), json!({"max": 50}));
    assert_eq!(one("at least 3 euros", Lang::En, a), json!({"min": 3, "currency": "EUR"}));
    assert_eq!(one("20美元", Lang::Zh, a), json!({"value": 20, "currency": "USD"}));
}

#[test]
fn durations() {
    let d = EntityKind::Duration;
    assert_eq!(one("两个半小时", Lang::Zh, d), json!({"seconds": 9000, "value": 150, "unit": "minute"}));
    assert_eq!(one("三天", Lang::Zh, d), json!({"seconds": 259200, "value": 3, "unit": "day"}));
    assert_eq!(one("一个礼拜", Lang::Zh, d), json!({"seconds": 604800, "value": 1, "unit": "week"}));
    assert_eq!(one("half an hour", Lang::En, d), json!({"seconds": 1800, "value": 30, "unit": "minute"}));
    assert_eq!(one("3 days", Lang::En, d), json!({"seconds": 259200, "value": 3, "unit": "day"}));
    assert_eq!(one("two weeks", Lang::En, d), json!({"seconds": 1209600, "value": 2, "unit": "week"}));
    assert_eq!(one("2小时", Lang::Zh, d), json!({"seconds": 7200, "value": 2, "unit": "hour"}));
}

#[test]
fn contacts() {
    let ph = EntityKind::Phone;
    assert_eq!(one("13812345678", Lang::Zh, ph), json!({"value": "+8613812345678"}));
    assert_eq!(one("+86 138 1234 5678", Lang::Zh, ph), json!({"value": "+8613812345678"}));
    assert_eq!(one("138-1234-5678", Lang::Zh, ph), json!({"value": "+8613812345678"}));
    assert_eq!(one("010-12345678", Lang::Zh, ph), json!({"value": "01012345678"}));
    assert_eq!(one("+44 20 7946 0958", Lang::En, ph), json!({"value": "+442079460958"}));
    let e = p("请联系 Foo.Bar@Example.COM 谢谢", Lang::Zh);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].kind, EntityKind::Email);
    assert_eq!(e[0].value, json!({"value": "Foo.Bar@example.com"}));
    assert_eq!(e[0].text, "Foo.Bar@Example.COM");
    let u = p("see https://Example.com/a?b=1.", Lang::En);
    assert_eq!(u.len(), 1, "{u:?}");
    assert_eq!(u[0].value, json!({"value": "https://example.com/a?b=1"}));
}

#[test]
fn sentence_offsets() {
    let e = p("我想订明天下午三点的票，预算三百五十元，电话13812345678", Lang::Zh);
    let kinds: Vec<_> = e.iter().map(|x| x.kind).collect();
    assert_eq!(kinds, vec![EntityKind::Time, EntityKind::Amount, EntityKind::Phone], "{e:?}");
    assert_eq!((e[0].start, e[0].end), (3, 9));
    assert_eq!(e[0].text, "明天下午三点");
    let f = ParseContext { kinds: Some(vec![EntityKind::Number]), ..ParseContext::new(Lang::Zh, now()) };
    assert!(parse("明天下午三点", &f).iter().all(|x| x.kind == EntityKind::Number));
}

#[test]
fn kind_names_round_trip() {
    for k in EntityKind::ALL {
        assert_eq!(k.as_str().parse::<EntityKind>(), Ok(k));
        assert_eq!(serde_json::to_value(k).ok(), Some(json!(k.as_str())));
    }
    assert!("bogus".parse::<EntityKind>().is_err());
}

#[test]
fn never_panics_on_odd_input() {
    let samples = [
        "",
        "\u{0}\u{1}\u{7f}",
        "﻿",
        "🙂🙂🙂 3点",
        "1/0",
        "0/0 元",
        "9999999999999999999999999999999999999",
        "第",
        "$",
        "@",
        "@@a.b",
        "http://",
        "第999999999999999999999",
        "十百千万亿",
        "亿亿亿亿亿亿",
        "3:99pm",
        "99/99/9999",
        "2013-02-31",
        "二月三十号",
        "Feb 30",
        "0000-00-00",
        "+",
        "++86",
        "between and",
        "from to",
        "in 99999999999 years",
        "9999999年",
        "上99999999天",
        "半",
        "個",
        "−5",
        "٣",
        "３：１５",
        "a a a a a a",
        "...",
        "--",
        "10-",
        "-",
        ".",
        "1.",
        "1..2",
        "3万亿万",
    ];
    for s in samples {
        for lang in [Lang::Zh, Lang::En] {
            let ents = p(s, lang);
            let n = s.chars().count();
            for e in ents {
                assert!(e.start < e.end && e.end <= n, "{s:?}: {e:?}");
            }
        }
    }
    // every prefix of a mixed message
    let msg = "明天下午3点半到5点，next Friday at 3pm, $12.50 或 三百五十元, call +86 138-1234-5678 / a@b.co";
    let chars: Vec<char> = msg.chars().collect();
    for k in 0..=chars.len() {
        let s: String = chars[..k].iter().collect();
        let _ = p(&s, Lang::Zh);
        let _ = p(&s, Lang::En);
    }
}

#[test]
fn long_input_is_roughly_linear() {
    let unit = "我想订明天下午三点的票，预算三百五十元。Call me at 13812345678 next Friday 3pm, $12.50 ok? ";
    let make = |n: usize| unit.repeat(n / unit.chars().count() + 1);
    let small = make(10_000);
    let big = make(100_000);
    assert!(big.chars().count() >= 100_000);
    let ctx = ParseContext::new(Lang::Zh, now());
    // Best of three runs each, so that a preempted run on a busy machine does not count:
    // linear growth gives about 10x for 10x the input, quadratic 100x.
    let best = |text: &str| {
        (0..3)
            .map(|_| {
                let t = std::time::Instant::now();
                let n = parse(text, &ctx).len();
                (t.elapsed(), n)
            })
            .min()
            .unwrap_or_default()
    };
    let (ts, a) = best(&small);
    let (tb, b) = best(&big);
    assert!(a > 0 && b > a * 5);
    assert!(tb <= ts * 30 + std::time::Duration::from_millis(30), "small {ts:?}, big {tb:?}");
    // one 100 KB line without separators
    let digits = "1".repeat(100_000);
    let _ = parse(&digits, &ctx);
    let letters = "a".repeat(100_000);
    let _ = parse(&letters, &ParseContext::new(Lang::En, now()));
}

#[test]
fn conformance_corpus_floor() {
    let dir = conformance::find_corpus(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap_or_else(|| {
        panic!(
            "conformance corpus not found: no shared/data/duckling/{{zh,en}}.jsonl in any folder above {}",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    let mut cases = Vec::new();
    for lang in ["zh", "en"] {
        let path = dir.join(format!("{lang}.jsonl"));
        cases.extend(conformance::load(&path).unwrap_or_else(|e| panic!("cannot load {}: {e}", path.display())));
    }
    assert!(cases.len() > 2000, "corpus too small: {}", cases.len());
    // all kinds enabled, as the acceptance check runs the parser
    let preds: Vec<_> = cases.iter().map(conformance::run_case).collect();
    let t = conformance::score(&cases, &preds);
    let acc = |g: &str| t.get(g).map(|x| x.accuracy()).unwrap_or(0.0);
    let (zh, en) = (acc("lang:zh"), acc("lang:en"));
    assert!(zh >= 0.939, "zh accuracy {zh:.3} below floor 0.939");
    assert!(en >= 0.913, "en accuracy {en:.3} below floor 0.913");
    let fp = t.get("all").map(|x| x.fp).unwrap_or(0);
    assert!(fp == 0, "{fp} negative cases with a false positive");
    for k in ["number", "amount", "duration", "ordinal"] {
        assert!(acc(&format!("kind:{k}")) >= 0.99, "{k} accuracy {:.3}", acc(&format!("kind:{k}")));
    }
}

/// Seeded xorshift64* generator (no external crate).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn property_random_text_never_breaks_invariants() {
    const PIECES: &[&str] = &[
        "0",
        "1",
        "2",
        "3",
        "7",
        "9",
        "12",
        "30",
        "2013",
        "１",
        "３",
        "一",
        "二",
        "三",
        "十",
        "百",
        "千",
        "万",
        "亿",
        "零",
        "两",
        "半",
        "點",
        "点",
        "第",
        "号",
        "號",
        "月",
        "年",
        "日",
        "天",
        "周",
        "星期",
        "礼拜",
        "小时",
        "分",
        "分钟",
        "秒",
        "元",
        "块",
        "毛",
        "角",
        "下午",
        "明天",
        "上",
        "下",
        "个",
        "前",
        "后",
        "到",
        "至",
        "am",
        "pm",
        "a",
        "p",
        "th",
        "st",
        "of",
        "at",
        "in",
        "from",
        "to",
        "between",
        "and",
        "for",
        "last",
        "next",
        "this",
        "the",
        "end",
        "beginning",
        "mid",
        "week",
        "weekend",
        "month",
        "year",
        "day",
        "days",
        "hours",
        "mins",
        "fridays",
        "ago",
        "from now",
        "monday",
        "march",
        "oct",
        "christmas",
        "ramadan",
        "passover",
        "lent",
        "summer",
        "season",
        "eom",
        "dollars",
        "$",
        "€",
        "£",
        "%",
        "k",
        "m",
        "dozen",
        "half",
        "quarter",
        "past",
        "o'clock",
        " ",
        " ",
        " ",
        "  ",
        "\t",
        "\n",
        ",",
        ".",
        ":",
        "/",
        "-",
        "~",
        "+",
        "@",
        "'",
        "\"",
        "(",
        ")",
        "，",
        "。",
        "：",
        "、",
        "\u{0}",
        "\u{1}",
        "\u{7f}",
        "\u{200b}",
        "\u{feff}",
        "\u{3000}",
        "🙂",
        "é",
        "ß",
        "ı",
        "İ",
        "٣",
        "Ⅻ",
        "﹣",
        "−",
    ];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for case in 0..4000 {
        let n = 1 + rng.below(14);
        let mut s = String::new();
        for _ in 0..n {
            if rng.below(8) == 0 {
                // an arbitrary code point (surrogates skipped by from_u32)
                let cp = (rng.next() % 0x3_0000) as u32;
                if let Some(ch) = char::from_u32(cp) {
                    s.push(ch);
                }
            } else {
                s.push_str(PIECES[rng.below(PIECES.len())]);
            }
        }
        let lang = if case % 2 == 0 { Lang::Zh } else { Lang::En };
        let ents = std::panic::catch_unwind(|| parse(&s, &ParseContext::new(lang, now())))
            .unwrap_or_else(|_| panic!("parse panicked on {s:?}"));
        let chars: Vec<char> = s.chars().collect();
        let mut prev = 0;
        for e in &ents {
            assert!(e.start < e.end && e.end <= chars.len(), "{s:?}: bad span {e:?}");
            let slice: String = chars[e.start..e.end].iter().collect();
            assert_eq!(e.text, slice, "{s:?}: text is not the span");
            assert!(e.start >= prev, "{s:?}: not sorted by start: {ents:?}");
            prev = e.start;
        }
    }
}

/// The time entity spanning the whole of `text` (other kinds ignored).
fn time_of(text: &str, lang: Lang, past: bool) -> serde_json::Value {
    let mut ctx = ParseContext::new(lang, now());
    ctx.past_leaning = past;
    let ents = parse(text, &ctx);
    let n = text.chars().count();
    let hit: Vec<_> = ents.iter().filter(|e| e.kind == EntityKind::Time && e.start == 0 && e.end == n).collect();
    assert_eq!(hit.len(), 1, "{text:?}: expected one whole-text time, got {ents:?}");
    hit[0].value.clone()
}

fn open_from(a: &str, g: &str) -> serde_json::Value {
    json!({"type": "interval", "from": a, "grain": g})
}

#[test]
fn intervals_never_end_before_they_start() {
    // 10:00: nine o'clock is past, so the morning range is tomorrow's, both ends
    assert_eq!(
        time_of("上午九点到十一点", Lang::Zh, false),
        interval("2026-11-27T09:00:00", "2026-11-27T12:00:00", "hour")
    );
    assert_eq!(time_of("9 to 11am", Lang::En, false), interval("2026-11-27T09:00:00", "2026-11-27T12:00:00", "hour"));
    assert_eq!(time_of("the closest xmas to today", Lang::En, false), instant("2026-12-25T00:00:00", "day"));
    assert_eq!(time_of("the second closest xmas to today", Lang::En, false), instant("2025-12-25T00:00:00", "day"));
    for (text, lang) in [
        ("上午九点到十一点", Lang::Zh),
        ("九点到十一点", Lang::Zh),
        ("下午三点到五点", Lang::Zh),
        ("晚上十点到凌晨两点", Lang::Zh),
        ("the closest xmas to today", Lang::En),
        ("from 10pm to 2am", Lang::En),
        ("9:30 - 11:00", Lang::En),
        ("11:30-1:30", Lang::En),
        ("between 9 and 11am", Lang::En),
        ("monday to friday", Lang::En),
        ("xmas to today", Lang::En),
        ("3月5号到3月1号", Lang::Zh),
    ] {
        for e in p(text, lang) {
            if let (Some(a), Some(b)) = (e.value["from"].as_str(), e.value["to"].as_str()) {
                assert!(a < b, "{text:?}: interval ends before it starts: {e:?}");
            }
        }
    }
}

#[test]
fn within_ends_after_the_duration() {
    assert_eq!(
        time_of("within 48 hours", Lang::En, false),
        interval("2026-11-26T10:00:00", "2026-11-28T10:00:00", "second")
    );
    // weeks end on a day boundary, as in the corpus ("Within 2 weeks")
    assert_eq!(
        time_of("within 2 weeks", Lang::En, false),
        interval("2026-11-26T10:00:00", "2026-12-10T00:00:00", "second")
    );
}

#[test]
fn shifts_by_a_part_of_a_unit_are_instants() {
    let half = instant("2026-11-26T10:30:00", "minute");
    assert_eq!(time_of("半小时后", Lang::Zh, false), half);
    assert_eq!(time_of("半个小时以后", Lang::Zh, false), half);
    assert_eq!(time_of("in half an hour", Lang::En, false), half);
    assert_eq!(time_of("两个半小时后", Lang::Zh, false), instant("2026-11-26T12:30:00", "minute"));
    assert_eq!(time_of("1.5小时后", Lang::Zh, false), instant("2026-11-26T11:30:00", "minute"));
    assert_eq!(time_of("in 2 hours", Lang::En, false), instant("2026-11-26T12:00:00", "minute"));
    // whole units after a count keep the corpus reading: the next N units
    // (Duckling zh: 三小時後 = 05:00–08:00 at 04:30, 三天後 = the next three days)
    assert_eq!(time_of("两小时后", Lang::Zh, false), interval("2026-11-26T11:00:00", "2026-11-26T13:00:00", "hour"));
    assert_eq!(time_of("3天后", Lang::Zh, false), interval("2026-11-27T00:00:00", "2026-11-30T00:00:00", "day"));
}

#[test]
fn day_word_then_shift_is_the_shift() {
    assert_eq!(time_of("today in one hour", Lang::En, false), instant("2026-11-26T11:00:00", "minute"));
}

#[test]
fn spelled_out_years() {
    assert_eq!(time_of("Easter Sunday two thousand ten", Lang::En, false), instant("2010-04-04T00:00:00", "day"));
    assert_eq!(time_of("May nineteen ninety", Lang::En, false), instant("1990-05-01T00:00:00", "month"));
    // a number alone is no year
    assert!(p("two thousand ten", Lang::En).iter().all(|e| e.kind != EntityKind::Time));
}

#[test]
fn past_leaning_dates() {
    let t = |s: &str, l: Lang| time_of(s, l, true);
    let ents = parse("my order from March 3rd", &{
        let mut c = ParseContext::new(Lang::En, now());
        c.past_leaning = true;
        c
    });
    assert_eq!(ents.len(), 1, "{ents:?}");
    assert_eq!(ents[0].value, open_from("2026-03-03T00:00:00", "day"));
    assert_eq!(t("March 3rd", Lang::En), instant("2026-03-03T00:00:00", "day"));
    assert_eq!(t("3月3号", Lang::Zh), instant("2026-03-03T00:00:00", "day"));
    assert_eq!(t("friday", Lang::En), instant("2026-11-20T00:00:00", "day"));
    assert_eq!(t("周五", Lang::Zh), instant("2026-11-20T00:00:00", "day"));
    assert_eq!(t("the 30th", Lang::En), instant("2026-10-30T00:00:00", "day"));
    assert_eq!(t("12/30", Lang::En), instant("2025-12-30T00:00:00", "day"));
    assert_eq!(t("christmas", Lang::En), instant("2025-12-25T00:00:00", "day"));
    assert_eq!(t("圣诞节", Lang::Zh), instant("2025-12-25T00:00:00", "day"));
    assert_eq!(t("国庆节", Lang::Zh), instant("2026-10-01T00:00:00", "day"));
    assert_eq!(t("at 3pm", Lang::En), instant("2026-11-25T15:00:00", "hour"));
    // and future-leaning, the next ones
    assert_eq!(time_of("March 3rd", Lang::En, false), instant("2027-03-03T00:00:00", "day"));
    assert_eq!(time_of("christmas", Lang::En, false), instant("2026-12-25T00:00:00", "day"));
}

#[test]
fn en_corpus_gaps() {
    assert_eq!(time_of("ASAP", Lang::En, false), open_from("2026-11-26T10:00:00", "second"));
    assert_eq!(time_of("as soon as possible", Lang::En, false), open_from("2026-11-26T10:00:00", "second"));
    assert_eq!(time_of("in 2014", Lang::En, false), instant("2014-01-01T00:00:00", "year"));
    assert_eq!(time_of("in 15", Lang::En, false), instant("2026-11-26T10:15:00", "second"));
    assert_eq!(
        time_of("1-8 september", Lang::En, false),
        interval("2027-09-01T00:00:00", "2027-09-09T00:00:00", "day")
    );
    // a number before another word is no year or minutes
    assert!(p("in 2014 we moved", Lang::En).iter().all(|e| e.kind != EntityKind::Time));
}

#[test]
fn long_inputs_are_parsed_piecewise_with_exact_offsets() {
    let unit = "我想订明天下午三点的票，预算三百五十元。Call me at 13812345678 next Friday 3pm, $12.50 ok? ";
    let ctx = ParseContext::new(Lang::Zh, now());
    let per_unit = parse(unit, &ctx).len();
    let long = unit.repeat(60);
    let chars: Vec<char> = long.chars().collect();
    let ents = parse(&long, &ctx);
    assert_eq!(ents.len(), per_unit * 60, "every repetition yields the same entities");
    for e in &ents {
        let slice: String = chars[e.start..e.end].iter().collect();
        assert_eq!(slice, e.text, "{e:?}");
    }
    assert!(ents.windows(2).all(|w| w[0].start <= w[1].start));
    // a piece never exceeds the bound, and the pieces rebuild the text
    let pieces = super::split_bounded(&long, 512);
    assert!(pieces.iter().all(|p| p.chars().count() <= 512));
    assert_eq!(pieces.concat(), long);
    let no_breaks = "1".repeat(2000);
    assert_eq!(super::split_bounded(&no_breaks, 512).concat(), no_breaks);
}
