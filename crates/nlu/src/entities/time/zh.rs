//! Chinese time pieces: 今天/明天, 下周五, 这个周末, 本月底, 下个月3号,
//! 明天下午三点半, 晚上八点, 国庆节, 春节, 3天后, 2015年3月3号, 十月第一个星期一.

use chrono::{Datelike, Duration};

use super::{en, holidays, merge, n_grains, range, resolve, Ctx, Grain, Pod, Spec, TimeValue};
use crate::entities::number_zh;
use crate::entities::numeral::{digits, number_at, Num};
use crate::entities::text::{at, starts};
use crate::entities::Lang;

fn lit(c: &[char], i: usize, ps: &[&str]) -> Option<usize> {
    let mut best = None;
    for p in ps {
        if starts(c, i, p) {
            let e = i + p.chars().count();
            if best.map(|b| e > b).unwrap_or(true) {
                best = Some(e);
            }
        }
    }
    best
}

fn zh_num(c: &[char], i: usize) -> Option<Num> {
    let ch = at(c, i);
    if ch.is_ascii_digit() {
        let d = digits(c, i)?;
        if d.ndig == 0 {
            return None;
        }
        return Some(d);
    }
    if number_zh::is_num_char(ch) {
        return number_at(c, i, Lang::Zh);
    }
    None
}

fn weekday_char(ch: char) -> Option<u32> {
    Some(match ch {
        '一' | '1' => 0,
        '二' | '2' => 1,
        '三' | '3' => 2,
        '四' | '4' => 3,
        '五' | '5' => 4,
        '六' | '6' => 5,
        '日' | '天' | '7' => 6,
        _ => return None,
    })
}

/// 星期X / 礼拜X / 周X at `i`: (weekday, end).
fn weekday(c: &[char], i: usize) -> Option<(u32, usize)> {
    let e = lit(c, i, &["星期", "礼拜", "禮拜", "周", "週"])?;
    let wd = weekday_char(at(c, e))?;
    Some((wd, e + 1))
}

/// Week words: 周/週/星期/礼拜 (as a noun).
fn week_word(c: &[char], i: usize) -> Option<usize> {
    lit(
        c,
        i,
        &[
            "星期",
            "礼拜",
            "禮拜",
            "周",
            "週",
            "个星期",
            "個星期",
            "个礼拜",
            "個礼拜",
            "個禮拜",
            "个禮拜",
            "一周",
            "一週",
            "一礼拜",
            "一禮拜",
            "一星期",
        ],
    )
}

/// Relative prefix for weeks: (offset, end).
fn week_prefix(c: &[char], i: usize) -> Option<(i64, usize)> {
    let table: &[(&str, i64)] = &[
        ("上上", -2),
        ("下下", 2),
        ("上", -1),
        ("下", 1),
        ("这", 0),
        ("這", 0),
        ("今個", 0),
        ("今个", 0),
        ("今", 0),
        ("本", 0),
        ("呢個", 0),
        ("呢个", 0),
    ];
    let mut best: Option<(i64, usize)> = None;
    for (p, v) in table {
        if starts(c, i, p) {
            let e = i + p.chars().count();
            if best.map(|b| e > b.1).unwrap_or(true) {
                best = Some((*v, e));
            }
        }
    }
    best
}

fn pod_at(c: &[char], i: usize) -> Option<(Pod, usize)> {
    let table: &[(&str, u32, u32, bool)] = &[
        ("早上", 4, 12, false),
        ("早晨", 4, 12, false),
        ("清晨", 4, 9, false),
        ("凌晨", 0, 6, false),
        ("上午", 4, 12, false),
        ("上晝", 4, 12, false),
        ("朝早", 4, 12, false),
        ("中午", 12, 14, true),
        ("下午", 12, 19, true),
        ("晏晝", 12, 19, true),
        ("午后", 12, 19, true),
        ("午後", 12, 19, true),
        ("傍晚", 17, 19, true),
        ("晚上", 18, 24, true),
        ("晚间", 18, 24, true),
        ("晚間", 18, 24, true),
        ("夜晚", 18, 24, true),
        ("夜里", 18, 24, true),
        ("夜裡", 18, 24, true),
        ("夜間", 18, 24, true),
        ("夜间", 18, 24, true),
        ("半夜", 0, 4, false),
        ("深夜", 21, 24, true),
        ("夜晚", 18, 24, true),
        ("晚", 18, 24, true),
    ];
    let mut best: Option<(Pod, usize)> = None;
    for (p, f, t, pm) in table {
        if starts(c, i, p) {
            let e = i + p.chars().count();
            if best.map(|b| e > b.1).unwrap_or(true) {
                best = Some((Pod { from: *f, to: *t, pm: *pm }, e));
            }
        }
    }
    best
}

fn rel_day(c: &[char], i: usize) -> Option<(i64, usize)> {
    let table: &[(&str, i64)] = &[
        ("今天", 0),
        ("今日", 0),
        ("昨天", -1),
        ("昨日", -1),
        ("尋日", -1),
        ("寻日", -1),
        ("琴日", -1),
        ("明天", 1),
        ("明日", 1),
        ("聽日", 1),
        ("听日", 1),
        ("后天", 2),
        ("後天", 2),
        ("後日", 2),
        ("后日", 2),
        ("大后天", 3),
        ("大後天", 3),
        ("大後日", 3),
        ("大后日", 3),
        ("前天", -2),
        ("前日", -2),
        ("大前天", -3),
        ("大前日", -3),
    ];
    let mut best: Option<(i64, usize)> = None;
    for (p, v) in table {
        if starts(c, i, p) {
            let e = i + p.chars().count();
            if best.map(|b| e > b.1).unwrap_or(true) {
                best = Some((*v, e));
            }
        }
    }
    best
}

fn unit_at(c: &[char], i: usize) -> Option<(Grain, usize)> {
    let table: &[(&str, Grain)] = &[
        ("秒钟", Grain::Second),
        ("秒鐘", Grain::Second),
        ("秒", Grain::Second),
        ("分钟", Grain::Minute),
        ("分鐘", Grain::Minute),
        ("小时", Grain::Hour),
        ("小時", Grain::Hour),
        ("个钟", Grain::Hour),
        ("個鐘", Grain::Hour),
        ("个小时", Grain::Hour),
        ("個小時", Grain::Hour),
        ("钟头", Grain::Hour),
        ("鐘頭", Grain::Hour),
        ("天", Grain::Day),
        ("日", Grain::Day),
        ("周", Grain::Week),
        ("週", Grain::Week),
        ("个周", Grain::Week),
        ("個週", Grain::Week),
        ("个星期", Grain::Week),
        ("個星期", Grain::Week),
        ("星期", Grain::Week),
        ("个礼拜", Grain::Week),
        ("個禮拜", Grain::Week),
        ("個礼拜", Grain::Week),
        ("礼拜", Grain::Week),
        ("禮拜", Grain::Week),
        ("个月", Grain::Month),
        ("個月", Grain::Month),
        ("月", Grain::Month),
        ("年", Grain::Year),
        ("个季度", Grain::Quarter),
        ("個季度", Grain::Quarter),
        ("季度", Grain::Quarter),
    ];
    let mut best: Option<(Grain, usize)> = None;
    for (p, g) in table {
        if starts(c, i, p) {
            let e = i + p.chars().count();
            if best.map(|b| e > b.1).unwrap_or(true) {
                best = Some((*g, e));
            }
        }
    }
    best
}

/// Clock time at `i`: 三点, 三点十五(分), 三点半, 三点一刻, 3:15, 三點踏三.
fn clock(c: &[char], i: usize) -> Option<(Spec, usize)> {
    // hh:mm(:ss)
    if at(c, i).is_ascii_digit() {
        if let Some((s, e)) = en::colon_clock(c, i) {
            return Some((s, e));
        }
    }
    // the hour must not swallow 点 as a decimal point: parse up to it
    let cut = (i..c.len().min(i + 8)).find(|&k| c[k] == '点' || c[k] == '點').unwrap_or(c.len());
    let h = zh_num(&c[..cut], i)?;
    let hv = h.int()?;
    if hv > 24 {
        return None;
    }
    let e = lit(c, h.e, &["点钟", "點鐘", "点", "點", "时", "時"])?;
    let mut s = Spec { hour: Some(hv as u32), ambig: hv <= 12 && hv > 0, ..Default::default() };
    let mut end = e;
    // minutes
    let mut p = e;
    if let Some(x) = lit(c, p, &["踏", "搭"]) {
        p = x;
    }
    if at(c, p) == '半' {
        s.minute = Some(30);
        end = p + 1;
    } else if let Some(x) = lit(c, p, &["一刻", "1刻"]) {
        s.minute = Some(15);
        end = x;
    } else if let Some(x) = lit(c, p, &["三刻", "3刻"]) {
        s.minute = Some(45);
        end = x;
    } else {
        let zero = at(c, p) == '零' || (at(c, p) == '0' && at(c, p + 1).is_ascii_digit());
        if let Some(m) = zh_num(c, p) {
            if let Some(mv) = m.int() {
                let after = m.e;
                if let Some(x) = lit(c, after, &["个字", "個字", "字"]) {
                    if mv <= 11 {
                        s.minute = Some(mv as u32 * 5);
                        end = x;
                    }
                } else if let Some(x) = lit(c, after, &["分钟", "分鐘", "分"]) {
                    if mv < 60 {
                        s.minute = Some(mv as u32);
                        end = x;
                    }
                } else if mv < 60 && !at(c, after).is_ascii_digit() {
                    // bare number after 点: minutes; a single digit 1-9 in Cantonese
                    // style (三點三) counts units of five minutes
                    let single = m.e - m.s == 1 && !zero && mv < 10;
                    let is_day = lit(c, after, &["号", "號", "日", "天", "月"]).is_some();
                    if !is_day {
                        s.minute = Some(if single && !zero { mv as u32 * 5 } else { mv as u32 });
                        end = m.e;
                    }
                }
            }
        }
        if s.minute.is_some() {
            if let Some(sec) = zh_num(c, end) {
                if let (Some(sv), Some(x)) = (sec.int(), lit(c, sec.e, &["秒钟", "秒鐘", "秒"])) {
                    if sv < 60 {
                        s.second = Some(sv as u32);
                        end = x;
                    }
                }
            }
        }
    }
    Some((s, end))
}

/// One piece at `i`.
/// Whether a Chinese time piece or expression can start with `ch`: an ASCII
/// letter or digit (clocks, dates), a Chinese numeral, the first character of a holiday name,
/// or the first character of any literal of this grammar (a cheap filter run
/// before [`piece`]; the unit test `zh_openers_cover_literals` keeps it complete).
pub(crate) fn may_start(ch: char) -> bool {
    ch.is_ascii_alphanumeric()
        || matches!(
            ch,
            '—' | '一'
                | '三'
                | '上'
                | '下'
                | '个'
                | '中'
                | '之'
                | '二'
                | '五'
                | '今'
                | '从'
                | '以'
                | '份'
                | '依'
                | '個'
                | '傍'
                | '六'
                | '凌'
                | '出'
                | '分'
                | '到'
                | '前'
                | '卅'
                | '午'
                | '半'
                | '去'
                | '号'
                | '后'
                | '听'
                | '呢'
                | '周'
                | '四'
                | '夜'
                | '大'
                | '天'
                | '字'
                | '季'
                | '宜'
                | '寻'
                | '尋'
                | '小'
                | '年'
                | '廿'
                | '当'
                | '後'
                | '從'
                | '搭'
                | '日'
                | '早'
                | '时'
                | '明'
                | '星'
                | '昨'
                | '時'
                | '晏'
                | '晚'
                | '月'
                | '朝'
                | '末'
                | '本'
                | '此'
                | '深'
                | '清'
                | '点'
                | '现'
                | '現'
                | '琴'
                | '由'
                | '當'
                | '的'
                | '目'
                | '礼'
                | '禮'
                | '秒'
                | '第'
                | '而'
                | '聽'
                | '至'
                | '號'
                | '踏'
                | '这'
                | '這'
                | '週'
                | '鐘'
                | '钟'
                | '零'
                | '點'
                | '过'
                | '過'
                | '最'
                | '近'
                | '来'
                | '來'
                | '底'
                | '初'
                | '起'
                | '开'
                | '開'
        )
        || number_zh::is_num_char(ch)
        || holidays::NAMES.has_first(ch)
}

fn piece(c: &[char], i: usize, cx: &Ctx) -> Option<(Spec, usize)> {
    if !may_start(at(c, i)) {
        return None;
    }
    let today = cx.today();
    let mut best: Option<(Spec, usize)> = None;
    let mut consider = |s: Spec, e: usize| {
        if best.as_ref().map(|b| e > b.1).unwrap_or(true) {
            best = Some((s, e));
        }
    };
    // now
    if let Some(e) = lit(
        c,
        i,
        &["现在", "此时", "此刻", "当前", "現在", "此時", "當前", "宜家", "而家", "依家", "目前", "当下", "當下"],
    ) {
        consider(Spec { fixed: Some(TimeValue::Instant(cx.now, Grain::Second)), ..Default::default() }, e);
    }
    // relative days (+ 晚/早 shortcuts)
    if let Some((d, e)) = rel_day(c, i) {
        consider(Spec { date: Some(today + Duration::days(d)), ..Default::default() }, e);
    }
    for (p, d, pod) in [
        ("今晚", 0, Pod { from: 18, to: 24, pm: true }),
        ("今夜", 0, Pod { from: 18, to: 24, pm: true }),
        ("今早", 0, Pod { from: 4, to: 12, pm: false }),
        ("今朝", 0, Pod { from: 4, to: 12, pm: false }),
        ("明早", 1, Pod { from: 4, to: 12, pm: false }),
        ("明晚", 1, Pod { from: 18, to: 24, pm: true }),
        ("昨晚", -1, Pod { from: 18, to: 24, pm: true }),
        ("昨夜", -1, Pod { from: 18, to: 24, pm: true }),
    ] {
        if starts(c, i, p) {
            consider(Spec { date: Some(today + Duration::days(d)), pod: Some(pod), ..Default::default() }, i + 2);
        }
    }
    // weekdays with optional week prefix; weeks; weekends
    if let Some((wd, e)) = weekday(c, i) {
        consider(Spec { weekday: Some(wd), ..Default::default() }, e);
    }
    if let Some((off, p)) = week_prefix(c, i) {
        let p2 = match at(c, p) {
            '个' | '個' => p + 1,
            _ => p,
        };
        if let Some((wd, e)) = weekday(c, p2).or_else(|| weekday(c, p)) {
            consider(Spec { weekday: Some(wd), week_rel: Some(off), ..Default::default() }, e);
        }
        if let Some(e) = week_word(c, p) {
            if let Some(e2) = lit(c, e, &["末"]) {
                consider(Spec { week_rel: Some(off), weekend: true, ..Default::default() }, e2);
            } else {
                consider(Spec { week_rel: Some(off), week_grain: true, ..Default::default() }, e);
            }
        }
        if let Some(e) = lit(c, p, &["周末", "週末", "个周末", "個週末"]) {
            consider(Spec { week_rel: Some(off), weekend: true, ..Default::default() }, e);
        }
        // months
        if let Some(e) = lit(c, p, &["月", "个月", "個月"]) {
            if !(off == 0 && at(c, p) == '月') {
                consider(Spec { month_rel: Some(off), ..Default::default() }, e);
            }
        }
        // 本月底 / 下个月底 / 月初
        if let Some(e) = lit(c, p, &["月底", "月末", "个月底", "個月底", "个月末", "個月末"]) {
            if let Some(v) = month_part(cx, off, true) {
                consider(Spec { fixed: Some(v), ..Default::default() }, e);
            }
        }
        if let Some(e) = lit(c, p, &["月初", "个月初", "個月初"]) {
            if let Some(v) = month_part(cx, off, false) {
                consider(Spec { fixed: Some(v), ..Default::default() }, e);
            }
        }
        // years: 上年, 下年, 今年
        if let Some(e) = lit(c, p, &["年"]) {
            if matches!(at(c, i), '上' | '下' | '今') && p == i + 1 {
                consider(Spec { year_rel: Some(off), ..Default::default() }, e);
            }
        }
        if let Some(e) = lit(c, p, &["一年"]) {
            if off == 0 {
                consider(Spec { year_rel: Some(0), ..Default::default() }, e);
            }
        }
        if let Some(e) = lit(c, p, &["季度", "个季度", "個季度"]) {
            consider(Spec { quarter_rel: Some(off), ..Default::default() }, e);
        }
    }
    if let Some(e) = lit(c, i, &["月底", "月末"]) {
        if let Some(v) = month_part(cx, 0, true) {
            consider(Spec { fixed: Some(v), ..Default::default() }, e);
        }
    }
    if let Some(e) = lit(c, i, &["周末", "週末"]) {
        consider(Spec { week_rel: Some(0), weekend: true, ..Default::default() }, e);
    }
    for (p, y) in
        [("去年", -1), ("今年", 0), ("明年", 1), ("前年", -2), ("后年", 2), ("後年", 2), ("本年", 0), ("出年", 1)]
    {
        if starts(c, i, p) {
            consider(Spec { year_rel: Some(y), ..Default::default() }, i + 2);
        }
    }
    // pod
    if let Some((pod, e)) = pod_at(c, i) {
        consider(Spec { pod: Some(pod), ..Default::default() }, e);
    }
    // holidays
    if let Some((e, h)) = holidays::NAMES.longest(c, i, true) {
        consider(Spec { holiday: Some(*h), latent: holidays::needs_context(c, i, e), ..Default::default() }, e);
    }
    // numbers: year, month, day, clock
    if let Some(n) = zh_num(c, i) {
        if let Some(v) = n.int() {
            let e = n.e;
            match at(c, e) {
                '年' if n.ndig >= 2 || v >= 1000 => {
                    let y = if n.ndig == 2 {
                        if v < 50 {
                            2000 + v
                        } else {
                            1900 + v
                        }
                    } else {
                        v
                    };
                    consider(Spec { year: Some(y as i32), ..Default::default() }, e + 1);
                }
                '月' if (1..=12).contains(&v) => {
                    let mut e2 = e + 1;
                    if at(c, e2) == '份' {
                        e2 += 1;
                    }
                    consider(Spec { month: Some(v as u32), ..Default::default() }, e2);
                }
                '号' | '號' | '日' if (1..=31).contains(&v) => {
                    consider(Spec { day: Some(v as u32), ..Default::default() }, e + 1);
                }
                _ => {}
            }
        }
        if let Some((s, e)) = clock(c, i) {
            consider(s, e);
        }
    }
    // 廿号 etc.
    if matches!(at(c, i), '廿' | '卅') && matches!(at(c, i + 1), '号' | '號' | '日') {
        let v = if at(c, i) == '廿' { 20 } else { 30 };
        consider(Spec { day: Some(v), ..Default::default() }, i + 2);
    }
    // digit dates shared with English: 2015-03-03, 3/3/2015, 2/15
    if at(c, i).is_ascii_digit() {
        if let Some((s, e)) = en::numeric_date(c, i) {
            consider(s, e);
        }
        if let Some((s, e)) = en::am_pm_clock(c, i) {
            consider(s, e);
        }
    }
    // relative periods: 上两天, 前两分钟, 下三周, 后三天
    if let Some((v, e)) = rel_period(c, i, cx) {
        consider(Spec { fixed: Some(v), ..Default::default() }, e);
    }
    // 过去三天 / 最近一周 / 近两个月: the whole units before the current one
    let after_other_word = i > 0 && crate::entities::zh_words::NEAR_COMPOUND_FIRSTS.contains(at(c, i - 1));
    if let Some(p) = lit(c, i, &["过去", "過去", "最近", "近"]).filter(|_| !after_other_word) {
        let p = lit(c, p, &["的"]).unwrap_or(p);
        if let Some(n) = zh_num(c, p) {
            if let (Some(nv), Some((g, e))) = (n.int(), unit_at(c, n.e)) {
                if (1..=10000).contains(&nv) && g >= Grain::Day {
                    if let Some(v) = n_grains(cx, nv, g, false) {
                        consider(Spec { fixed: Some(v), ..Default::default() }, e);
                    }
                }
            }
        }
    }
    // 八十年代 / 90年代 / 2010年代: a decade (two digits: 00–20 are this century's)
    if let Some(n) = zh_num(c, i) {
        if let (Some(v), Some(e)) = (n.int(), lit(c, n.e, &["年代"])) {
            let start = match v {
                0..=20 if v % 10 == 0 => Some(2000 + v),
                30..=90 if v % 10 == 0 => Some(1900 + v),
                1000..=2990 if v % 10 == 0 => Some(v),
                _ => None,
            };
            if let Some(y) = start.and_then(|y| chrono::NaiveDate::from_ymd_opt(y as i32, 1, 1)) {
                let from = y.and_hms_opt(0, 0, 0);
                let to = chrono::NaiveDate::from_ymd_opt(y.year() + 10, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
                if let (Some(from), Some(to)) = (from, to) {
                    let v = TimeValue::Interval(Some(from), Some(to), Grain::Year);
                    consider(Spec { fixed: Some(v), ..Default::default() }, e);
                }
            }
        }
    }
    // 年底 / 明年初 / 今年上半年
    if let Some((v, e)) = year_part(c, i, cx) {
        consider(Spec { fixed: Some(v), ..Default::default() }, e);
    }
    // 月中 / 本月中: the 11th to the 20th
    if let Some(e) = lit(c, i, &["月中旬", "月中", "本月中旬", "本月中", "这个月中", "這個月中"]) {
        if let Some(v) = month_middle(cx) {
            consider(Spec { fixed: Some(v), ..Default::default() }, e);
        }
    }
    best
}

/// A part of a year, relative to now: 年底/年末 (September to December, as Duckling reads "end
/// of the year"), 年初 (January to March), 上半年, 下半年; after 今年/明年/去年 or alone (this
/// year).
fn year_part(c: &[char], i: usize, cx: &Ctx) -> Option<(TimeValue, usize)> {
    let mut p = i;
    let mut off = 0;
    let mut prefixed = false;
    for (w, o) in [("今年", 0), ("本年", 0), ("明年", 1), ("来年", 1), ("來年", 1), ("去年", -1)] {
        if let Some(e) = lit(c, i, &[w]) {
            p = lit(c, e, &["的"]).unwrap_or(e);
            off = o;
            prefixed = true;
            break;
        }
    }
    let parts: &[(&str, u32, u32)] =
        &[("年底", 9, 13), ("年末", 9, 13), ("年初", 1, 4), ("上半年", 1, 7), ("下半年", 7, 13)];
    let short: &[(&str, u32, u32)] = &[("底", 9, 13), ("末", 9, 13), ("初", 1, 4)];
    let (from_month, to_month, e) = parts
        .iter()
        .chain(if prefixed { short } else { &[] })
        .find_map(|(w, a, b)| lit(c, p, &[w]).map(|e| (*a, *b, e)))?;
    let year = super::add(super::truncate(cx.now, Grain::Year), Grain::Year, off)?;
    let from = year.with_month(from_month)?;
    let to = if to_month == 13 { super::add(year, Grain::Year, 1)? } else { year.with_month(to_month)? };
    Some((TimeValue::Interval(Some(from), Some(to), Grain::Month), e))
}

/// The middle of this month: the 11th to the 20th (beside 月初, the 1st to the 10th, and 月底).
fn month_middle(cx: &Ctx) -> Option<TimeValue> {
    let first = super::truncate(cx.now, Grain::Month);
    Some(TimeValue::Interval(Some(first.with_day(11)?), Some(first.with_day(21)?), Grain::Day))
}

/// End (21st to month end) or beginning (1st to 10th) of a month relative to now.
fn month_part(cx: &Ctx, off: i64, end: bool) -> Option<TimeValue> {
    let first = super::add(super::truncate(cx.now, Grain::Month), Grain::Month, off)?;
    let next = super::add(first, Grain::Month, 1)?;
    let (from, to) = if end { (first.with_day(21)?, next) } else { (first, first.with_day(11)?) };
    Some(TimeValue::Interval(Some(from), Some(to), Grain::Day))
}

/// 上两秒 / 前两天 / 下三周 / 后三个月 / 两天前 / 三天后.
fn rel_period(c: &[char], i: usize, cx: &Ctx) -> Option<(TimeValue, usize)> {
    let dir = match at(c, i) {
        '上' | '前' => Some(false),
        '下' | '后' | '後' => Some(true),
        _ => None,
    };
    let (future, p) = match dir {
        Some(f) => (Some(f), i + 1),
        None => (None, i),
    };
    if future.is_none() {
        if let Some(r) = half_shift(c, p, cx) {
            return Some(r);
        }
    }
    let n = zh_num(c, p)?;
    let nv = n.int()?;
    if nv == 0 || nv > 10000 {
        return None;
    }
    let (g, e) = unit_at(c, n.e)?;
    match future {
        Some(f) => Some((n_grains(cx, nv, g, f)?, e)),
        None => {
            let (f, e2) = if let Some(x) = lit(c, e, &["之前", "以前", "前"]) {
                (false, x)
            } else if let Some(x) = lit(c, e, &["之后", "之後", "以后", "以後", "后", "後"]) {
                (true, x)
            } else {
                return None;
            };
            Some((n_grains(cx, nv, g, f)?, e2))
        }
    }
}

/// 半小时后 / 两个半小时后 / 1.5小时前: a count that is no whole number of units is a
/// shift of now (an instant), not a run of whole units like 三小时后.
fn half_shift(c: &[char], i: usize, cx: &Ctx) -> Option<(TimeValue, usize)> {
    let (n, p) = if at(c, i) == '半' {
        (0.5, i + 1)
    } else {
        // decimals too: 1.5小时后
        let n = if at(c, i).is_ascii_digit() { digits(c, i)? } else { zh_num(c, i)? };
        match (at(c, n.e), at(c, n.e + 1)) {
            ('个' | '個', '半') => (n.v + 0.5, n.e + 2),
            _ => (n.v, n.e),
        }
    };
    if n.fract() == 0.0 || n <= 0.0 || n > 10000.0 {
        return None;
    }
    let (g, e) = unit_at(c, p)?;
    if g > Grain::Week {
        return None;
    }
    let (sign, e2) = if let Some(x) = lit(c, e, &["之前", "以前", "前"]) {
        (-1.0, x)
    } else {
        (1.0, lit(c, e, &["之后", "之後", "以后", "以後", "后", "後"])?)
    };
    Some((super::shift(cx, sign * n, g)?, e2))
}

/// Merges consecutive pieces from `i`.
fn run(c: &[char], i: usize, cx: &Ctx) -> Option<(Spec, usize)> {
    let (mut s, mut e) = piece(c, i, cx)?;
    for _ in 0..8 {
        let mut j = e;
        while matches!(at(c, j), ' ' | ',' | '，' | '的') {
            j += 1;
        }
        // 第N个星期X of a month
        if s.month.is_some() && s.day.is_none() && s.weekday.is_none() {
            if let Some((n, wd, e2)) = nth_weekday(c, j) {
                let y = s.year.unwrap_or_else(|| {
                    let m = s.month.unwrap_or(1);
                    if m >= cx.today().month() {
                        cx.today().year()
                    } else {
                        cx.today().year() + 1
                    }
                });
                if let Some(d) = holidays::nth_weekday(y, s.month.unwrap_or(1), wd, n) {
                    s = Spec { date: Some(d), ..Default::default() };
                    e = e2;
                    continue;
                }
            }
        }
        match piece(c, j, cx) {
            Some((s2, e2)) => match merge(&s, &s2) {
                Some(m) => {
                    s = m;
                    e = e2;
                }
                None => break,
            },
            None => break,
        }
    }
    if s.latent {
        return None;
    }
    Some((s, e))
}

/// 第一个星期一: (n, weekday, end).
fn nth_weekday(c: &[char], i: usize) -> Option<(i32, u32, usize)> {
    if at(c, i) != '第' {
        return None;
    }
    let n = zh_num(c, i + 1)?;
    let nv = n.int()?;
    let mut p = n.e;
    if matches!(at(c, p), '个' | '個') {
        p += 1;
    }
    let (wd, e) = weekday(c, p)?;
    Some((nv as i32, wd, e))
}

/// A full expression at `i`: ranges and open intervals around runs.
pub(crate) fn expr(c: &[char], i: usize, cx: &Ctx) -> Option<(TimeValue, usize)> {
    let mut p = i;
    let from_kw = if let Some(e) = lit(c, i, &["从", "從", "由"]) {
        p = e;
        true
    } else {
        false
    };
    let (a, e) = run(c, p, cx)?;
    // range
    let mut q = e;
    while at(c, q) == ' ' {
        q += 1;
    }
    if let Some(x) = lit(c, q, &["到", "至", "-", "~", "－", "—"]) {
        let mut q2 = x;
        while at(c, q2) == ' ' {
            q2 += 1;
        }
        if let Some((b, e2)) = run(c, q2, cx) {
            if let Some(v) = range(&a, &b, cx) {
                return Some((v, e2));
            }
        }
    }
    let v = resolve(&a, cx)?;
    // open intervals: 以后 / 之后 / 以前 / 之前, and after a date or holiday the bare 后 / 前
    // (国庆节前, 春节后); 从上周二开始 / 从明天起
    let dated = a.fixed.is_none() && a.has_date();
    let after = lit(c, e, &["以后", "以後", "之后", "之後"])
        .or_else(|| lit(c, e, &["后", "後"]).filter(|&x| dated && !compound_after(c, x)))
        .or_else(|| lit(c, e, &["开始", "開始", "起"]).filter(|_| from_kw));
    if let Some(x) = after {
        if let Some((t, g)) = v_start(&v) {
            return Some((TimeValue::Interval(Some(t), None, g), x));
        }
    }
    if let Some(x) =
        lit(c, e, &["以前", "之前"]).or_else(|| lit(c, e, &["前"]).filter(|&x| dated && !compound_after(c, x)))
    {
        if let Some((t, g)) = v_start(&v) {
            return Some((TimeValue::Interval(None, Some(t), g), x));
        }
    }
    Some((v, e))
}

/// Whether the 前 / 后 just before `x` starts another word (前台, 后面, 后续…).
fn compound_after(c: &[char], x: usize) -> bool {
    crate::entities::zh_words::FRONT_BACK_COMPOUND_SECONDS.contains(at(c, x)) && at(c, x) != '\0'
}

fn v_start(v: &TimeValue) -> Option<(chrono::NaiveDateTime, Grain)> {
    v.start()
}

#[cfg(test)]
mod tests {
    /// Every string or char literal of this grammar starts with a code point
    /// that [`super::may_start`] lets through (ASCII connectors aside), so the
    /// filter never hides a rule.
    #[test]
    fn zh_openers_cover_literals() {
        let src = include_str!("zh.rs");
        let mut firsts = Vec::new();
        for line in src.lines() {
            let code = line.split("//").next().unwrap_or("");
            let cs: Vec<char> = code.chars().collect();
            let mut k = 0;
            while k < cs.len() {
                if cs[k] == '"' {
                    if let Some(&f) = cs.get(k + 1).filter(|f| **f != '"') {
                        firsts.push(f);
                    }
                    k += 1;
                    while k < cs.len() && cs[k] != '"' {
                        k += if cs[k] == '\\' { 2 } else { 1 };
                    }
                } else if cs[k] == '\'' && cs.get(k + 2) == Some(&'\'') {
                    firsts.push(cs[k + 1]);
                    k += 2;
                }
                k += 1;
            }
        }
        let folded: Vec<char> = firsts.into_iter().map(crate::entities::text::fold).filter(|f| !f.is_ascii()).collect();
        assert!(folded.len() > 50, "literals not found: {folded:?}");
        for f in folded {
            assert!(super::may_start(f), "{f:?} opens a literal but is filtered");
        }
    }
}
