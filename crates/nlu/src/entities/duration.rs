//! Durations: 两个半小时, 三天, 一个礼拜, "half an hour", "3 days",
//! "2 years and 3 months" (composites are summed in their smallest unit).

use serde_json::json;

use super::number_en::{cardinal_words, parse_with_fractions, read_word};
use super::numeral::{digits, mixed_fraction, number_at, Num};
use super::text::{at, is_word, skip_ws, word_start, Doc};
use super::value::{num, Candidate};
use super::{EntityKind, Lang};

/// Time units, finest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Unit {
    /// Second.
    Second,
    /// Minute.
    Minute,
    /// Hour.
    Hour,
    /// Day.
    Day,
    /// Week.
    Week,
    /// Month (30 days).
    Month,
    /// Quarter (3 months).
    Quarter,
    /// Year (365 days).
    Year,
}

impl Unit {
    /// Length in seconds.
    pub fn seconds(self) -> f64 {
        match self {
            Unit::Second => 1.0,
            Unit::Minute => 60.0,
            Unit::Hour => 3600.0,
            Unit::Day => 86400.0,
            Unit::Week => 604800.0,
            Unit::Month => 2592000.0,
            Unit::Quarter => 7776000.0,
            Unit::Year => 31536000.0,
        }
    }
    /// JSON name.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Second => "second",
            Unit::Minute => "minute",
            Unit::Hour => "hour",
            Unit::Day => "day",
            Unit::Week => "week",
            Unit::Month => "month",
            Unit::Quarter => "quarter",
            Unit::Year => "year",
        }
    }
    /// Next finer unit used to express fractions.
    fn finer(self) -> Option<Unit> {
        Some(match self {
            Unit::Second => return None,
            Unit::Minute => Unit::Second,
            Unit::Hour => Unit::Minute,
            Unit::Day => Unit::Hour,
            Unit::Week => Unit::Day,
            Unit::Month => Unit::Day,
            Unit::Quarter => Unit::Month,
            Unit::Year => Unit::Month,
        })
    }
    fn months(self) -> Option<f64> {
        match self {
            Unit::Month => Some(1.0),
            Unit::Quarter => Some(3.0),
            Unit::Year => Some(12.0),
            _ => None,
        }
    }
    /// How many `to` make one `self`.
    pub fn ratio(self, to: Unit) -> f64 {
        match (self.months(), to.months()) {
            (Some(a), Some(b)) => a / b,
            _ => self.seconds() / to.seconds(),
        }
    }
}

/// A parsed duration: amount in `unit`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Dur {
    /// Amount of `unit`.
    pub n: f64,
    /// Unit.
    pub unit: Unit,
    /// End offset.
    pub end: usize,
}

impl Dur {
    /// Expressed with an integral amount in the coarsest unit that allows it.
    pub fn normalised(&self) -> (f64, Unit) {
        let (mut n, mut u) = (self.n, self.unit);
        for _ in 0..4 {
            if (n - n.round()).abs() < 1e-6 {
                return (n.round(), u);
            }
            match u.finer() {
                Some(f) => {
                    n *= u.ratio(f);
                    u = f;
                }
                None => break,
            }
        }
        (n, u)
    }
    /// JSON value.
    pub fn value(&self) -> serde_json::Value {
        let (n, u) = self.normalised();
        json!({"seconds": num(n * u.seconds()), "value": num(n), "unit": u.name()})
    }
}

fn en_unit(w: &str) -> Option<Unit> {
    Some(match w {
        "s" | "sec" | "secs" | "second" | "seconds" => Unit::Second,
        "m" | "min" | "mins" | "minute" | "minutes" => Unit::Minute,
        "h" | "hr" | "hrs" | "hour" | "hours" => Unit::Hour,
        "d" | "day" | "days" => Unit::Day,
        "w" | "wk" | "wks" | "week" | "weeks" => Unit::Week,
        "mo" | "month" | "months" => Unit::Month,
        "q" | "qtr" | "qtrs" | "quarter" | "quarters" => Unit::Quarter,
        "y" | "yr" | "yrs" | "year" | "years" => Unit::Year,
        "fortnight" | "fortnights" => return None,
        _ => return None,
    })
}

/// English unit word at `i` (after optional spaces): (unit, end, multiplier).
pub(crate) fn en_unit_at(c: &[char], i: usize) -> Option<(Unit, usize, f64)> {
    let q = skip_ws(c, i);
    match at(c, q) {
        '\'' if q == i => return Some((Unit::Minute, q + 1, 1.0)),
        '"' if q == i => return Some((Unit::Second, q + 1, 1.0)),
        _ => {}
    }
    let (w, e) = read_word(c, q)?;
    if w == "fortnight" || w == "fortnights" {
        return Some((Unit::Week, e, 2.0));
    }
    // "5 business days", "7 working days": counted as days
    if w == "business" || w == "working" {
        let (w2, e2) = read_word(c, skip_ws(c, e))?;
        return matches!(w2.as_str(), "day" | "days").then_some((Unit::Day, e2, 1.0));
    }
    en_unit(&w).map(|u| (u, e, 1.0))
}

/// Chinese unit at `i`: (unit, end, multiplier).
pub(crate) fn zh_unit_at(c: &[char], i: usize, allow_bare_fen: bool) -> Option<(Unit, usize, f64)> {
    let ch = at(c, i);
    let nx = at(c, i + 1);
    Some(match ch {
        '秒' => (Unit::Second, if nx == '钟' || nx == '鐘' { i + 2 } else { i + 1 }, 1.0),
        '分' => {
            if nx == '钟' || nx == '鐘' {
                (Unit::Minute, i + 2, 1.0)
            } else if allow_bare_fen {
                (Unit::Minute, i + 1, 1.0)
            } else {
                return None;
            }
        }
        '小' if nx == '时' || nx == '時' => (Unit::Hour, i + 2, 1.0),
        '钟' | '鐘' => {
            if at(c, i + 1) == '头' || at(c, i + 1) == '頭' {
                (Unit::Hour, i + 2, 1.0)
            } else {
                (Unit::Hour, i + 1, 1.0)
            }
        }
        '天' | '日' => (Unit::Day, i + 1, 1.0),
        // 七个工作日: counted as days
        '工' if nx == '作' && at(c, i + 2) == '日' => (Unit::Day, i + 3, 1.0),
        '周' | '週' => (Unit::Week, i + 1, 1.0),
        '星' if nx == '期' => (Unit::Week, i + 2, 1.0),
        '礼' | '禮' if nx == '拜' => (Unit::Week, i + 2, 1.0),
        '月' => (Unit::Month, i + 1, 1.0),
        '年' => (Unit::Year, i + 1, 1.0),
        '季' if nx == '度' => (Unit::Quarter, i + 2, 1.0),
        '字' => (Unit::Minute, i + 1, 5.0),
        // 一刻钟 = a quarter of an hour (a bare 刻 is a clock time: 三点一刻)
        '刻' if nx == '钟' || nx == '鐘' => (Unit::Minute, i + 2, 15.0),
        _ => return None,
    })
}

fn measure(c: &[char], i: usize) -> usize {
    match at(c, i) {
        '个' | '個' => i + 1,
        _ => i,
    }
}

/// One Chinese duration part at `i`.
fn zh_part(c: &[char], i: usize) -> Option<Dur> {
    // 半 [个] unit
    if at(c, i) == '半' {
        let j = measure(c, i + 1);
        let (u, e, m) = zh_unit_at(c, j, false)?;
        return Some(Dur { n: 0.5 * m, unit: u, end: e });
    }
    // 個半 unit (one and a half)
    if (at(c, i) == '个' || at(c, i) == '個') && at(c, i + 1) == '半' {
        let (u, e, m) = zh_unit_at(c, i + 2, false)?;
        return Some(Dur { n: 1.5 * m, unit: u, end: e });
    }
    // 分半 [钟]
    if at(c, i) == '分' && at(c, i + 1) == '半' {
        let mut e = i + 2;
        if at(c, e) == '钟' || at(c, e) == '鐘' {
            e += 1;
        }
        return Some(Dur { n: 1.5, unit: Unit::Minute, end: e });
    }
    let n: Num = number_at(c, i, Lang::Zh)?;
    let mut j = skip_ws(c, n.e);
    let mut v = n.v;
    // approximate counts take the round number: 十来分钟, 二十多天
    if matches!(at(c, j), '来' | '來' | '多' | '余' | '餘') && n.is_int() && n.v >= 10.0 && n.v % 10.0 == 0.0 {
        j += 1;
    }
    let had_measure = measure(c, j) > j;
    j = measure(c, j);
    if had_measure && at(c, j) == '半' {
        v += 0.5;
        j += 1;
    } else if had_measure && at(c, j) == '多' {
        // 三个多小时: a little over three hours
        j += 1;
    }
    let (u, mut e, m) = zh_unit_at(c, j, true)?;
    // 12月25日 and 三月一日 are dates, not months and days: a month count without a measure
    // word (三个月) that goes on with a day is no duration
    let next = at(c, skip_ws(c, e));
    let day_follows =
        next.is_ascii_digit() || super::number_zh::is_num_char(next) || matches!(next, '日' | '号' | '號' | '份');
    if u == Unit::Month && !had_measure && day_follows {
        return None;
    }
    // 2025年 is a year, not 2,025 years
    if u == Unit::Year && !had_measure && v >= 1000.0 {
        return None;
    }
    if at(c, e) == '半' && !had_measure {
        v += 0.5;
        e += 1;
        if at(c, e) == '钟' || at(c, e) == '鐘' {
            e += 1;
        }
    }
    Some(Dur { n: v * m, unit: u, end: e })
}

/// One English duration part at `i`.
fn en_part(c: &[char], i: usize) -> Option<Dur> {
    if !word_start(c, i) {
        return None;
    }
    let (w, e) = read_word(c, i).unwrap_or_default();
    // half (a|an) unit; a half unit
    let half_at = if w == "half" {
        Some(e)
    } else if w == "a" || w == "an" {
        read_word(c, skip_ws(c, e)).filter(|(x, _)| x == "half").map(|(_, e2)| e2)
    } else {
        None
    };
    if let Some(e) = half_at {
        let mut q = skip_ws(c, e);
        if let Some((x, e2)) = read_word(c, q) {
            if x == "a" || x == "an" {
                q = e2;
            }
        }
        let (u, e3, m) = en_unit_at(c, q)?;
        return Some(Dur { n: 0.5 * m, unit: u, end: e3 });
    }
    if w == "a" || w == "an" {
        // "a quarter of an hour", "a couple of days", else one unit ("a quarter")
        let n = parse_with_fractions(c, i).filter(|n| n.e > e);
        return n.and_then(|n| finish(c, n.v, n.e)).or_else(|| finish(c, 1.0, e));
    }
    if at(c, i).is_ascii_digit() {
        let d = digits(c, i)?;
        // 1/2 h, 3/4 hour
        if at(c, d.e) == '/' && d.ndig > 0 {
            let den = digits(c, d.e + 1)?;
            if den.v == 0.0 || den.ndig == 0 {
                return None;
            }
            let (u, e3, m) = en_unit_at(c, den.e)?;
            return Some(Dur { n: d.v / den.v * m, unit: u, end: e3 });
        }
        // "the 90s", "1980s" are decades, not seconds
        if at(c, d.e) == 's' && !is_word(at(c, d.e + 1)) && d.ndig > 1 && d.v % 10.0 == 0.0 {
            return None;
        }
        // 1 1/2 hours
        if let Some((f, e2)) = mixed_fraction(c, &d) {
            if let Some(r) = finish(c, d.v + f, e2) {
                return Some(r);
            }
        }
        if en_unit_at(c, d.e).is_some() {
            return finish(c, d.v, d.e);
        }
    }
    let n = if at(c, i).is_ascii_alphabetic() { parse_with_fractions(c, i) } else { number_at(c, i, Lang::En) }?;
    finish(c, n.v, n.e).or_else(|| {
        // "three quarters" of a year: the numerator alone counts the unit
        let k = cardinal_words(c, i).filter(|k| k.e < n.e)?;
        finish(c, k.v, k.e)
    })
}

/// The rest of an English duration part after its amount `base` ending at `j`:
/// fractions, "more"/"extra", "of (a|an)" after a fraction, the unit, "and a half".
fn finish(c: &[char], base: f64, mut j: usize) -> Option<Dur> {
    let mut v = base;
    let mut frac = (base - base.round()).abs() > 1e-9;
    // "and a half", "and (a|one|two|three) quarter(s) (of)"
    if !frac {
        if let Some((f, e2)) = and_fraction(c, j) {
            v += f;
            j = e2;
            frac = true;
        }
    }
    let q = skip_ws(c, j);
    if let Some((x, e2)) = read_word(c, q) {
        // more / additional / extra / less / fewer
        if matches!(x.as_str(), "more" | "additional" | "extra" | "less" | "fewer") {
            j = e2;
        } else if x == "of" && frac && q > j {
            // "three quarters of an hour", "one and a half of hour"
            j = e2;
            if let Some((y, e3)) = read_word(c, skip_ws(c, e2)) {
                if y == "a" || y == "an" {
                    j = e3;
                }
            }
        }
    }
    let (u, mut e3, m) = en_unit_at(c, j)?;
    v *= m;
    if !frac {
        if let Some((f, e4)) = and_fraction(c, e3) {
            if f == 0.5 {
                v += 0.5 * m;
                e3 = e4;
            }
        }
    }
    Some(Dur { n: v, unit: u, end: e3 })
}

/// " and a half", " and (a|one|two|three) quarter(s) [of]", " and an half".
fn and_fraction(c: &[char], j: usize) -> Option<(f64, usize)> {
    let q = skip_ws(c, j);
    let (x, e) = read_word(c, q)?;
    if x != "and" {
        return None;
    }
    let mut q = skip_ws(c, e);
    let (mut y, mut e2) = read_word(c, q)?;
    let mut k = 1.0;
    match y.as_str() {
        "a" | "an" | "one" => {}
        "two" => k = 2.0,
        "three" => k = 3.0,
        "half" | "quarter" | "quarters" => {
            e2 = q;
        }
        _ => return None,
    }
    if e2 > q {
        q = skip_ws(c, e2);
        let r = read_word(c, q)?;
        y = r.0;
        e2 = r.1;
    } else {
        e2 = read_word(c, q)?.1;
    }
    let f = match y.as_str() {
        "half" => 0.5 * k,
        "quarter" | "quarters" => 0.25 * k,
        _ => return None,
    };
    let mut end = e2;
    let q2 = skip_ws(c, e2);
    if let Some((z, e3)) = read_word(c, q2) {
        if z == "of" {
            end = e3;
        }
    }
    Some((f, end))
}

/// Parses a (possibly composite) duration at `i`.
pub(crate) fn parse_at(c: &[char], i: usize, lang: Lang) -> Option<Dur> {
    let zh = lang == Lang::Zh || super::text::is_cjk(at(c, i)) || at(c, i) == '半';
    let first = if zh { zh_part(c, i).or_else(|| en_part(c, i)) } else { en_part(c, i) }?;
    let mut smallest = first.unit;
    let mut total = first.n; // in `smallest`
    let mut end = first.end;
    let mut last_unit = first.unit;
    for _ in 0..6 {
        // separators
        let mut q = skip_ws(c, end);
        if at(c, q) == ',' {
            q = skip_ws(c, q + 1);
        }
        if let Some((w, e)) = read_word(c, q) {
            if w == "and" {
                q = skip_ws(c, e);
            }
        }
        if at(c, q) == '零' {
            q += 1;
        }
        let next = if zh { zh_part(c, q) } else { en_part(c, q) };
        let next = match next {
            Some(d) if d.unit < last_unit => d,
            _ => {
                // bare number: next finer unit ("1 hour thirty", "两小时十分")
                let finer = match last_unit {
                    Unit::Hour => Unit::Minute,
                    Unit::Minute => Unit::Second,
                    _ => break,
                };
                let n = match number_at(c, q, lang) {
                    Some(n) if n.is_int() && n.v < 60.0 && q > end => n,
                    Some(n) if n.is_int() && n.v < 60.0 && zh && q >= end => n,
                    _ => break,
                };
                let after = at(c, n.e);
                if after.is_ascii_alphanumeric() || super::text::is_cjk(after) && !zh {
                    break;
                }
                if zh && super::text::is_cjk(after) {
                    break;
                }
                Dur { n: n.v, unit: finer, end: n.e }
            }
        };
        if next.unit < smallest {
            total *= smallest.ratio(next.unit);
            smallest = next.unit;
        }
        total += next.n * next.unit.ratio(smallest);
        last_unit = next.unit;
        end = next.end;
    }
    Some(Dur { n: total, unit: smallest, end })
}

/// Scans durations.
pub(crate) fn scan(doc: &Doc, lang: Lang, out: &mut Vec<Candidate>) {
    let c = &doc.c;
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        let ok =
            ch.is_ascii_alphanumeric() || super::number_zh::is_num_char(ch) || matches!(ch, '半' | '个' | '個' | '分');
        if ok {
            if let Some(d) = parse_at(c, i, lang) {
                if d.n > 0.0 {
                    out.push(Candidate::new(EntityKind::Duration, i, d.end, d.value()));
                    i = d.end;
                    continue;
                }
            }
            if ch.is_ascii_alphabetic() {
                while i < c.len() && c[i].is_ascii_alphabetic() {
                    i += 1;
                }
                continue;
            }
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use crate::entities::{parse, EntityKind, Lang, ParseContext};

    /// (matched text, seconds) of the durations found.
    fn durs(text: &str, lang: Lang) -> Vec<(String, f64)> {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 3, 11).and_then(|d| d.and_hms_opt(10, 0, 0));
        let mut ctx = ParseContext::new(lang, now.unwrap_or_default());
        ctx.kinds = Some(vec![EntityKind::Duration]);
        parse(text, &ctx).into_iter().map(|e| (e.text, e.value["seconds"].as_f64().unwrap_or(f64::NAN))).collect()
    }

    fn en(text: &str, span: &str, secs: f64) {
        assert_eq!(durs(text, Lang::En), vec![(span.to_string(), secs)], "{text:?}");
    }

    fn zh(text: &str, span: &str, secs: f64) {
        assert_eq!(durs(text, Lang::Zh), vec![(span.to_string(), secs)], "{text:?}");
    }

    #[test]
    fn english_abbreviations_and_fractions() {
        en("it took 5h", "5h", 18000.0);
        en("2 hrs", "2 hrs", 7200.0);
        en("3hrs", "3hrs", 10800.0);
        en("45 mins", "45 mins", 2700.0);
        en("90 s", "90 s", 90.0);
        en("90 sec", "90 sec", 90.0);
        en("90secs", "90secs", 90.0);
        en("an hour and a half", "an hour and a half", 5400.0);
        en("a day and a half", "a day and a half", 129600.0);
        en("half an hour", "half an hour", 1800.0);
        en("a half hour", "a half hour", 1800.0);
        en("1.5 hours", "1.5 hours", 5400.0);
        en("1 1/2 hours", "1 1/2 hours", 5400.0);
        en("three quarters of an hour", "three quarters of an hour", 2700.0);
        en("a quarter of an hour", "a quarter of an hour", 900.0);
        en("one and a half days", "one and a half days", 129600.0);
        en("a couple of hours", "a couple of hours", 7200.0);
    }

    #[test]
    fn decades_are_not_seconds() {
        assert!(durs("back in the 90s", Lang::En).is_empty());
        assert!(durs("the 1980s", Lang::En).is_empty());
        assert_eq!(durs("wait 45s", Lang::En), vec![("45s".to_string(), 45.0)]);
    }

    #[test]
    fn chinese_halves_quarters_and_approximations() {
        zh("大概一个半小时", "一个半小时", 5400.0);
        zh("两天半", "两天半", 216000.0);
        zh("半个小时", "半个小时", 1800.0);
        zh("一个半月", "一个半月", 3888000.0);
        zh("三刻钟", "三刻钟", 2700.0);
        zh("一刻钟", "一刻钟", 900.0);
        zh("半天", "半天", 43200.0);
        zh("两个钟头", "两个钟头", 7200.0);
        zh("十来分钟", "十来分钟", 600.0);
        zh("二十多天", "二十多天", 1728000.0);
        zh("三个多小时", "三个多小时", 10800.0);
        zh("一周半", "一周半", 907200.0);
        // a bare 刻 is a clock time, 十多个人 no duration
        assert!(durs("三点一刻", Lang::Zh).is_empty());
        assert!(durs("十多个人", Lang::Zh).is_empty());
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for t in [
            "a half",
            "half a",
            "1 1/",
            "1 1/0 hours",
            "0/0h",
            "three quarters of",
            "of an hour",
            "十来",
            "个多",
            "刻钟",
        ] {
            let _ = durs(t, Lang::En);
            let _ = durs(t, Lang::Zh);
        }
    }
}
