//! English time pieces: "tomorrow at 3pm", "next Friday", "the 29th", "in 2 hours",
//! "from 3 to 5pm", "last weekend", "Christmas", "March 3rd 2015", "3:30 p.m.".

use chrono::{Datelike, Duration, NaiveDateTime};

use super::{add, holidays, merge, n_grains, range, resolve, shift, truncate, Ctx, Grain, Pod, Spec, TimeValue};
use crate::entities::number_en::read_word;
use crate::entities::numeral::{digits, number_at};
use crate::entities::ordinal::en_ordinal;
use crate::entities::text::{at, skip_ws, word_start, Word};
use crate::entities::Lang;

fn w_at(c: &[char], i: usize) -> Option<(Word, usize)> {
    if !word_start(c, i) {
        return None;
    }
    read_word(c, i)
}

/// Next word after spaces.
fn next_w(c: &[char], e: usize) -> Option<(Word, usize)> {
    let q = skip_ws(c, e);
    if q == e {
        return None;
    }
    read_word(c, q)
}

/// Matches a sequence of words separated by spaces; returns the end.
fn words(c: &[char], i: usize, ws: &[&str]) -> Option<usize> {
    let mut p = i;
    for (k, w) in ws.iter().enumerate() {
        if k > 0 {
            let q = skip_ws(c, p);
            if q == p {
                return None;
            }
            p = q;
        }
        p = lit_word(c, p, w)?;
    }
    Some(p)
}

/// The word at `p` is exactly `w` (what `w_at(c, p)` reading `w` means, without
/// building the word): returns its end.
#[inline]
fn lit_word(c: &[char], p: usize, w: &str) -> Option<usize> {
    let n = w.len();
    if n == 0 || n > crate::entities::text::MAX_WORD || p + n > c.len() || !word_start(c, p) {
        return None;
    }
    for (ch, b) in c[p..p + n].iter().zip(w.bytes()) {
        if !b.is_ascii_alphabetic() || *ch != b as char {
            return None;
        }
    }
    let e = p + n;
    if at(c, e).is_ascii_alphabetic() || !crate::entities::text::word_end(c, e) {
        return None;
    }
    Some(e)
}

fn weekday_word(w: &str) -> Option<u32> {
    Some(match w {
        "monday" | "mon" | "mondays" => 0,
        "tuesday" | "tue" | "tues" | "tuesdays" => 1,
        "wednesday" | "wed" | "wednesdays" => 2,
        "thursday" | "thu" | "thur" | "thurs" | "thursdays" => 3,
        "friday" | "fri" | "fridays" => 4,
        "saturday" | "sat" | "saturdays" => 5,
        "sunday" | "sun" | "sundays" => 6,
        _ => return None,
    })
}

pub(crate) fn month_word(w: &str) -> Option<u32> {
    Some(match w {
        "january" | "jan" => 1,
        "february" | "feb" => 2,
        "march" | "mar" => 3,
        "april" | "apr" => 4,
        "may" => 5,
        "june" | "jun" => 6,
        "july" | "jul" => 7,
        "august" | "aug" => 8,
        "september" | "sep" | "sept" => 9,
        "october" | "oct" => 10,
        "november" | "nov" => 11,
        "december" | "dec" => 12,
        _ => return None,
    })
}

fn grain_word(w: &str) -> Option<Grain> {
    Some(match w {
        "second" | "seconds" | "sec" | "secs" => Grain::Second,
        "minute" | "minutes" | "min" | "mins" => Grain::Minute,
        "hour" | "hours" | "hr" | "hrs" | "h" => Grain::Hour,
        "day" | "days" => Grain::Day,
        "week" | "weeks" | "wk" | "wks" => Grain::Week,
        "month" | "months" => Grain::Month,
        "quarter" | "quarters" | "qtr" | "qtrs" => Grain::Quarter,
        "year" | "years" | "yr" | "yrs" => Grain::Year,
        _ => return None,
    })
}

/// Weekday word (with optional trailing '.') at `i`.
fn weekday_at(c: &[char], i: usize) -> Option<(u32, usize)> {
    let (w, e) = w_at(c, i)?;
    let wd = weekday_word(&w)?;
    Some((wd, if at(c, e) == '.' { e + 1 } else { e }))
}

fn month_at(c: &[char], i: usize) -> Option<(u32, usize)> {
    let (w, e) = w_at(c, i)?;
    let m = month_word(&w)?;
    Some((m, if at(c, e) == '.' && w.len() <= 4 { e + 1 } else { e }))
}

/// Weekday and month names that are also everyday English words ("I sat", "sun cream", "May I",
/// "we wed"): alone they are dates only after a word that introduces one ("on sat", "in may",
/// "until wed"), before a number ("sat 14th", "may 2027"), or as the whole message.
const AMBIGUOUS_DATE_WORDS: [&str; 4] = ["sat", "sun", "wed", "may"];

/// Words after which an ambiguous date word is a date.
const DATE_INTRODUCERS: [&str; 21] = [
    "on", "in", "of", "since", "until", "till", "til", "by", "from", "during", "before", "after", "this", "next",
    "last", "every", "early", "mid", "late", "through", "to",
];

/// Whether the ambiguous word at `[i, e)` (see [`AMBIGUOUS_DATE_WORDS`]) reads as a plain word.
fn is_plain_english_word(c: &[char], i: usize, e: usize) -> bool {
    let word: String = c[i..e].iter().filter(|ch| ch.is_ascii_alphabetic()).collect();
    if !AMBIGUOUS_DATE_WORDS.contains(&word.as_str()) {
        return false;
    }
    let next = skip_ws(c, e);
    let number_follows = at(c, next).is_ascii_digit()
        || crate::entities::number_en::parse(c, next).is_some()
        || en_ordinal(c, next).is_some();
    // "wed evening", "sun morning" (not "May morning")
    let pod_follows = word != "may" && pod_word(c, next).is_some();
    if number_follows || pod_follows || matches!(at(c, e), '-' | '/') {
        return false;
    }
    let (before, p) = word_before(c, i);
    if is_date_introducer(before) || matches!(at(c, p.wrapping_sub(1)), '-' | '~' | ',') {
        return false;
    }
    // The whole message ("sat?") is a date too.
    let alone = !c[..i].iter().any(|ch| ch.is_alphanumeric()) && !c[e..].iter().any(|ch| ch.is_alphanumeric());
    !alone
}

/// "march on", "marched forward": the verb, not the month — "march" followed by a
/// particle and not introduced by a date word ("in march on the 3rd" stays a date).
fn is_march_verb(c: &[char], i: usize, e: usize) -> bool {
    if lit_word(c, i, "march").is_none() {
        return false;
    }
    let particle = next_w(c, e).is_some_and(|(w, _)| {
        matches!(
            w.as_str(),
            "on" | "forward"
                | "ahead"
                | "off"
                | "past"
                | "down"
                | "up"
                | "along"
                | "out"
                | "into"
                | "toward"
                | "towards"
        )
    });
    if !particle {
        return false;
    }
    !is_date_introducer(word_before(c, i).0)
}

/// The word just before `i` (spaces skipped; empty when none) and where the gap before `i`
/// starts.
fn word_before(c: &[char], i: usize) -> (&[char], usize) {
    let mut p = i;
    while p > 0 && c[p - 1] == ' ' {
        p -= 1;
    }
    let mut start = p;
    while start > 0 && c[start - 1].is_ascii_alphabetic() {
        start -= 1;
    }
    (&c[start..p], p)
}

/// Whether `word` is one of [`DATE_INTRODUCERS`] (no allocation).
fn is_date_introducer(word: &[char]) -> bool {
    DATE_INTRODUCERS.iter().any(|w| w.chars().eq(word.iter().copied()))
}

/// "the 80s", "the '90s", "the 1970s", "the 1980's", "2010s", "the nineties": the decade as
/// a ten-year interval. Two digits need "the" or an apostrophe ("in her 80s" is an age).
fn decade(c: &[char], i: usize, cx: &Ctx) -> Option<(TimeValue, usize)> {
    let mut p = i;
    let the = words(c, i, &["the"]);
    if let Some(e) = the {
        p = skip_ws(c, e);
    }
    let apos = matches!(at(c, p), '\'' | '\u{2019}');
    if apos {
        p += 1;
    }
    let year = |d: i32| if 2000 + d <= cx.now.year() { 2000 + d } else { 1900 + d };
    let (start, e) = if let Some(d) = digits(c, p).filter(|d| d.ndig == 2 || d.ndig == 4) {
        let v = d.v as i32;
        if v % 10 != 0 || (d.ndig == 2 && !apos && the.is_none()) || (d.ndig == 4 && apos) {
            return None;
        }
        let mut e = d.e;
        if matches!(at(c, e), '\'' | '\u{2019}') {
            e += 1;
        }
        if at(c, e) != 's' {
            return None;
        }
        e += 1;
        let y = if d.ndig == 2 { year(v) } else { v };
        if !(1000..=2200).contains(&y) {
            return None;
        }
        (y, e)
    } else {
        the?;
        let (w, e) = w_at(c, p)?;
        let d = match w.as_str() {
            "twenties" => 20,
            "thirties" => 30,
            "forties" => 40,
            "fifties" => 50,
            "sixties" => 60,
            "seventies" => 70,
            "eighties" => 80,
            "nineties" => 90,
            _ => return None,
        };
        (year(d), e)
    };
    if at(c, e).is_ascii_alphanumeric() {
        return None;
    }
    let from = chrono::NaiveDate::from_ymd_opt(start, 1, 1)?.and_hms_opt(0, 0, 0)?;
    let to = chrono::NaiveDate::from_ymd_opt(start + 10, 1, 1)?.and_hms_opt(0, 0, 0)?;
    Some((TimeValue::Interval(Some(from), Some(to), Grain::Year), e))
}

/// Two-digit years: 74 → 1974, 15 → 2015.
fn year2(v: i64) -> i32 {
    if v < 50 {
        2000 + v as i32
    } else {
        1900 + v as i32
    }
}

/// hh:mm, hh:mm:ss, 15h30, 15h — 24-hour or ambiguous clocks. Also am/pm suffixes.
pub(crate) fn colon_clock(c: &[char], i: usize) -> Option<(Spec, usize)> {
    let h = digits(c, i)?;
    if h.ndig == 0 || h.ndig > 2 {
        return None;
    }
    let hv = h.v as u32;
    if hv > 24 {
        return None;
    }
    let sep = at(c, h.e);
    if sep != ':' && sep != 'h' {
        return None;
    }
    let mut s = Spec { hour: Some(hv), ambig: (1..=12).contains(&hv), ..Default::default() };
    let m = digits(c, h.e + 1).filter(|m| m.ndig == 2);
    let mut end;
    match m {
        Some(m) if m.v < 60.0 => {
            s.minute = Some(m.v as u32);
            end = m.e;
            if at(c, end) == ':' {
                if let Some(sec) = digits(c, end + 1).filter(|x| x.ndig == 2 && x.v < 60.0) {
                    s.second = Some(sec.v as u32);
                    end = sec.e;
                }
            }
        }
        _ => {
            if sep == 'h' && !at(c, h.e + 1).is_ascii_alphanumeric() {
                s.minute = Some(0);
                end = h.e + 1;
            } else {
                return None;
            }
        }
    }
    if sep == 'h' {
        s.ambig = false;
    }
    if at(c, end).is_ascii_digit() {
        return None;
    }
    if let Some((pm, e2)) = ampm(c, end) {
        apply_ampm(&mut s, pm);
        end = e2;
    }
    Some((s, end))
}

/// am/pm marker after a clock (optional space): am, a.m., a m, a, pm, p.m., p.
fn ampm(c: &[char], e: usize) -> Option<(bool, usize)> {
    let q = skip_ws(c, e);
    let ch = at(c, q);
    if ch != 'a' && ch != 'p' {
        return None;
    }
    let pm = ch == 'p';
    let mut j = q + 1;
    if at(c, j) == '.' {
        j += 1;
    }
    if at(c, j) == 'm' {
        j += 1;
        if at(c, j) == '.' {
            j += 1;
        }
    } else if at(c, j) == ' ' && at(c, j + 1) == 'm' && !at(c, j + 2).is_ascii_alphanumeric() {
        j += 2;
    } else if q > e {
        // a lone "a"/"p" after a space is too ambiguous unless nothing follows
        if at(c, j).is_ascii_alphanumeric() || q > e && ch == 'a' {
            return None;
        }
    }
    if at(c, j).is_ascii_alphanumeric() {
        return None;
    }
    Some((pm, j))
}

fn apply_ampm(s: &mut Spec, pm: bool) {
    if let Some(h) = s.hour {
        if h > 12 {
            s.ambig = false;
            return;
        }
        let h2 = match (pm, h) {
            (true, 12) => 12,
            (true, h) => h + 12,
            (false, 12) => 0,
            (false, h) => h,
        };
        s.hour = Some(h2);
        s.ambig = false;
    }
}

/// "3pm", "3 p.m.", "330 p.m.", "3 oclock am", "3ish pm".
pub(crate) fn am_pm_clock(c: &[char], i: usize) -> Option<(Spec, usize)> {
    let h = digits(c, i)?;
    if h.ndig == 0 || h.ndig > 4 {
        return None;
    }
    let mut e = h.e;
    let (hv, mv) = if h.ndig <= 2 {
        (h.v as u32, None)
    } else {
        let v = h.v as u32;
        (v / 100, Some(v % 100))
    };
    if hv > 12 || hv == 0 && mv.is_none() || mv.map(|m| m >= 60).unwrap_or(false) {
        return None;
    }
    if starts_ci(c, e, "ish") {
        e += 3;
    }
    if let Some(e2) = oclock(c, e) {
        e = e2;
    }
    let (pm, e3) = ampm(c, e)?;
    let mut s = Spec {
        hour: Some(hv),
        minute: mv,
        // a bare "4a" is too thin alone; it counts inside a range ("9a to 11a")
        latent: !c[e..e3].contains(&'m') && !after_at(c, i),
        ..Default::default()
    };
    apply_ampm(&mut s, pm);
    Some((s, e3))
}

fn starts_ci(c: &[char], i: usize, p: &str) -> bool {
    crate::entities::text::starts(c, i, p)
}

fn oclock(c: &[char], e: usize) -> Option<usize> {
    let q = skip_ws(c, e);
    for p in ["o'clock", "oclock", "o clock"] {
        if starts_ci(c, q, p) && !at(c, q + p.len()).is_ascii_alphanumeric() {
            return Some(q + p.len());
        }
    }
    None
}

/// Numeric dates: 2015-03-03, 2015-3-3, 3/3/2015, 10/31/74, 2/15, 10.31.1974, 2014-10, 2014/10, 2/2013.
pub(crate) fn numeric_date(c: &[char], i: usize) -> Option<(Spec, usize)> {
    let a = digits(c, i)?;
    if a.ndig == 0 {
        return None;
    }
    let mut p = skip_ws(c, a.e);
    let sep = at(c, p);
    if !matches!(sep, '/' | '-' | '.') {
        return None;
    }
    if sep == '.' && p != a.e {
        return None;
    }
    p = skip_ws(c, p + 1);
    // 31/Oct/1974, 31-Oct-74
    if let Some((m, e)) = month_at(c, p) {
        let d = a.v as u32;
        let mut s = Spec { day: Some(d), month: Some(m), ..Default::default() };
        let mut end = e;
        if at(c, e) == sep {
            let y = digits(c, e + 1)?;
            s.year = Some(if y.ndig == 2 { year2(y.v as i64) } else { y.v as i32 });
            end = y.e;
        }
        if !(1..=31).contains(&d) {
            return None;
        }
        return Some((s, end));
    }
    let b = digits(c, p)?;
    if b.ndig == 0 || b.ndig > 4 {
        return None;
    }
    let q = b.e;
    let third = if at(c, q) == sep && (sep != '.' || at(c, q + 1).is_ascii_digit()) {
        digits(c, q + 1).filter(|x| x.ndig == 2 || x.ndig == 4 || (a.ndig == 4 && x.ndig == 1))
    } else {
        None
    };
    if at(c, q).is_ascii_alphabetic() && third.is_none() {
        return None;
    }
    let (av, bv) = (a.v as i64, b.v as i64);
    if a.ndig == 4 {
        // y-m-d or y-m
        if let Some(t) = third {
            let s = Spec { year: Some(av as i32), month: Some(bv as u32), day: Some(t.v as u32), ..Default::default() };
            if !(1..=12).contains(&bv) || !(1..=31).contains(&(t.v as i64)) {
                return None;
            }
            return Some((s, t.e));
        }
        // "2025 - 03/09/2025" is a range, not March 2025
        let spaced = skip_ws(c, a.e) > a.e;
        if (1..=12).contains(&bv) && sep != '.' && !spaced {
            return Some((Spec { year: Some(av as i32), month: Some(bv as u32), ..Default::default() }, q));
        }
        return None;
    }
    if a.ndig > 2 {
        return None;
    }
    if let Some(t) = third {
        // m/d/y, or d/m/y when the first number cannot be a month (15/03/2026)
        let y = if t.ndig == 2 { year2(t.v as i64) } else { t.v as i32 };
        let swap = (13..=31).contains(&av) && (1..=12).contains(&bv);
        let (m, d) = if swap { (bv, av) } else { (av, bv) };
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return None;
        }
        let day_first = if swap { Some(true) } else { (d <= 12).then_some(false) };
        let s = Spec { year: Some(y), month: Some(m as u32), day: Some(d as u32), day_first, ..Default::default() };
        return Some((s, t.e));
    }
    if b.ndig == 4 && (1..=12).contains(&av) && sep == '/' {
        return Some((Spec { year: Some(bv as i32), month: Some(av as u32), ..Default::default() }, q));
    }
    if (1..=12).contains(&av) && (1..=31).contains(&bv) && b.ndig <= 2 && sep != '.' {
        // a dash right after a month-day pair: may be a range start, fine
        if at(c, q) == ':' {
            return None;
        }
        let day_first = (bv <= 12).then_some(false);
        return Some((Spec { month: Some(av as u32), day: Some(bv as u32), day_first, ..Default::default() }, q));
    }
    // d/m when the first number cannot be a month: 15/03, 28/12 (ambiguous pairs
    // such as 03/09 stay month first, above)
    if (13..=31).contains(&av) && (1..=12).contains(&bv) && b.ndig <= 2 && sep == '/' && at(c, q) != ':' {
        let s = Spec { month: Some(bv as u32), day: Some(av as u32), day_first: Some(true), ..Default::default() };
        return Some((s, q));
    }
    None
}

/// Day of month as a cardinal in words after a month: "thirty", "twenty one" (not
/// the start of a spelled year: "May nineteen ninety").
fn spelled_day(c: &[char], i: usize) -> Option<(u32, usize)> {
    if !at(c, i).is_ascii_alphabetic() || spelled_year(c, i).is_some() {
        return None;
    }
    let (w, _) = w_at(c, i)?;
    if matches!(w.as_str(), "a" | "an") {
        return None;
    }
    let n = crate::entities::number_en::parse(c, i)?;
    let v = n.int()?;
    if !(1..=31).contains(&v) || c[i..n.e].iter().any(|ch| ch.is_ascii_digit()) {
        return None;
    }
    // "June one of …", "March two miles": a count, not a day
    let r = skip_ws(c, n.e);
    if at(c, r).is_ascii_alphabetic() && !may_start(c, r) {
        return None;
    }
    Some((v as u32, n.e))
}

/// Day of month written as ordinal or number: "15th", "the 15th", "third", "15".
fn day_num(c: &[char], i: usize, allow_plain: bool) -> Option<(u32, usize)> {
    if let Some((v, e)) = en_ordinal(c, i) {
        if (1..=31).contains(&v) {
            return Some((v as u32, e));
        }
    }
    if allow_plain {
        let d = digits(c, i)?;
        if d.ndig >= 1 && d.ndig <= 2 && (1..=31).contains(&(d.v as i64)) && !at(c, d.e).is_ascii_alphanumeric() {
            return Some((d.v as u32, d.e));
        }
    }
    None
}

fn pod_word(c: &[char], i: usize) -> Option<(Pod, usize)> {
    let (w, e) = w_at(c, i)?;
    let p = match w.as_str() {
        "morning" | "mornings" => Pod { from: 0, to: 12, pm: false },
        "afternoon" | "afternoons" | "afternoonish" => Pod { from: 12, to: 19, pm: true },
        "evening" | "evenings" => Pod { from: 18, to: 24, pm: true },
        "night" | "nights" => Pod { from: 18, to: 24, pm: true },
        "lunch" | "lunchtime" => Pod { from: 12, to: 14, pm: true },
        _ => return None,
    };
    Some((p, e))
}

/// One English piece at `i`.
fn piece(c: &[char], i: usize, cx: &Ctx) -> Option<(Spec, usize)> {
    if !may_start(c, i) {
        return None;
    }
    super::Memo::get(&cx.memo.piece, i, || piece_uncached(c, i, cx))
}

fn piece_uncached(c: &[char], i: usize, cx: &Ctx) -> Option<(Spec, usize)> {
    let today = cx.today();
    let mut best: Option<(Spec, usize)> = None;
    let mut consider = |s: Spec, e: usize| {
        if best.as_ref().map(|b| e > b.1).unwrap_or(true) {
            best = Some((s, e));
        }
    };
    let fixed = |v: TimeValue| Spec { fixed: Some(v), ..Default::default() };
    let ch = at(c, i);
    // clocks right after "at"/"around": "at 1030", "at 3 15", "around 730"
    if after_at(c, i) {
        if let Some(d) = digits(c, i).filter(|d| !at(c, d.e).is_ascii_alphanumeric()) {
            let v = d.v as u32;
            let hm = match d.ndig {
                3 | 4 => Some((v / 100, v % 100, d.e)),
                1 | 2 => {
                    let q = skip_ws(c, d.e);
                    digits(c, q)
                        .filter(|m| q > d.e && m.ndig == 2 && !at(c, m.e).is_ascii_alphanumeric())
                        .map(|m| (v, m.v as u32, m.e))
                }
                _ => None,
            };
            if let Some((h, m, e)) = hm.filter(|(h, m, _)| *h <= 23 && *m < 60) {
                let mut s = Spec { hour: Some(h), minute: Some(m), ambig: (1..=12).contains(&h), ..Default::default() };
                let mut e = e;
                if let Some((pm, e2)) = ampm(c, e) {
                    apply_ampm(&mut s, pm);
                    e = e2;
                }
                consider(s, e);
            }
        }
    }
    if ch.is_ascii_digit() {
        if let Some((s, e)) = numeric_date(c, i) {
            consider(s, e);
        }
        if let Some((s, e)) = colon_clock(c, i) {
            consider(s, e);
        }
        if let Some((s, e)) = am_pm_clock(c, i) {
            consider(s, e);
        }
        // 18q4, 2018q4
        if let Some(d) = digits(c, i) {
            if (d.ndig == 2 || d.ndig == 4)
                && at(c, d.e) == 'q'
                && ('1'..='4').contains(&at(c, d.e + 1))
                && !at(c, d.e + 2).is_ascii_alphanumeric()
            {
                let y = if d.ndig == 2 { year2(d.v as i64) } else { d.v as i32 };
                consider(Spec { year: Some(y), quarter: at(c, d.e + 1).to_digit(10), ..Default::default() }, d.e + 2);
            }
            // years: 4 digits (latent alone); with BC/AD
            if d.ndig == 4 && !at(c, d.e).is_ascii_alphanumeric() && (1000.0..=2200.0).contains(&d.v) {
                consider(Spec { year: Some(d.v as i32), latent: true, ..Default::default() }, d.e);
            }
            if d.ndig >= 1 && d.ndig <= 4 {
                let q = skip_ws(c, d.e);
                for (p, neg) in [("a.d.", false), ("ad", false), ("b.c.", true), ("bc", true)] {
                    if starts_ci(c, q, p) && !at(c, q + p.len()).is_ascii_alphanumeric() {
                        let y = if neg { -(d.v as i32) } else { d.v as i32 };
                        consider(Spec { year: Some(y), ..Default::default() }, q + p.len());
                    }
                }
            }
            // bare hour (latent): 1-12, or 1030/730 style with "at"
            if d.ndig <= 2 && (1.0..=12.0).contains(&d.v) && !matches!(at(c, d.e), ':' | '/' | '.' | '-') {
                let mut e = d.e;
                if let Some(e2) = oclock(c, e) {
                    e = e2;
                    consider(Spec { hour: Some(d.v as u32), ambig: true, ..Default::default() }, e);
                } else {
                    consider(Spec { hour: Some(d.v as u32), ambig: true, latent: true, ..Default::default() }, e);
                }
            }
        }
        // day ordinal: 15th
        if let Some((d, e)) = day_num(c, i, false) {
            consider(Spec { day: Some(d), latent: true, ..Default::default() }, e);
        }
    }
    // spelled years (latent: "Easter Sunday two thousand ten", "May nineteen ninety")
    if ch.is_ascii_alphabetic() {
        if let Some((y, e)) = spelled_year(c, i) {
            consider(Spec { year: Some(y), latent: true, ..Default::default() }, e);
        }
    }
    // spelled hours: "three am", "eight" (latent: "eight tonight")
    if let Some((w, e)) = w_at(c, i) {
        if let Some(h) = crate::entities::number_en::unit_word(&w).filter(|h| (1.0..=12.0).contains(h)) {
            let mut s = Spec { hour: Some(h as u32), ambig: true, latent: true, ..Default::default() };
            let mut end = e;
            if let Some((pm, e2)) = ampm(c, e) {
                apply_ampm(&mut s, pm);
                s.latent = false;
                end = e2;
            } else if let Some(e2) = oclock(c, e) {
                s.latent = false;
                end = e2;
            }
            consider(s, end);
        }
    }
    // "in the AM"/"in the PM" after an hour
    for (ws, pm) in [(&["in", "the", "am"][..], false), (&["in", "the", "pm"][..], true)] {
        if let Some(e) = words(c, i, ws) {
            consider(
                Spec {
                    pod: Some(Pod { from: if pm { 12 } else { 0 }, to: if pm { 24 } else { 12 }, pm }),
                    ..Default::default()
                },
                e,
            );
        }
    }
    let (w, we) = w_at(c, i).unwrap_or_default();
    match w.as_str() {
        "now" => consider(fixed(TimeValue::Instant(cx.now, Grain::Second)), we),
        "atm" => consider(fixed(TimeValue::Instant(cx.now, Grain::Second)), we),
        "today" => consider(Spec { date: Some(today), ..Default::default() }, we),
        "tomorrow" | "tomorrows" | "tmrw" | "tmr" => {
            consider(Spec { date: Some(today + Duration::days(1)), ..Default::default() }, we)
        }
        "yesterday" => consider(Spec { date: Some(today - Duration::days(1)), ..Default::default() }, we),
        "tonight" | "tonite" => consider(
            Spec { date: Some(today), pod: Some(Pod { from: 18, to: 24, pm: true }), ..Default::default() },
            we,
        ),
        "noon" | "midday" => consider(Spec { hour: Some(12), minute: None, ..Default::default() }, we),
        "midnight" => consider(Spec { date: Some(today + Duration::days(1)), hour: Some(0), ..Default::default() }, we),
        "weekend" | "wkend" | "week-end" => {
            consider(Spec { week_rel: Some(0), weekend: true, ..Default::default() }, we)
        }
        _ => {}
    }
    // "all week", "(the) rest of the week": Monday or today until Sunday (Duckling's bounds)
    {
        let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
        let sunday = monday + Duration::days(6);
        let span = |a: chrono::NaiveDate| {
            Some(TimeValue::Interval(Some(a.and_hms_opt(0, 0, 0)?), Some(sunday.and_hms_opt(0, 0, 0)?), Grain::Day))
        };
        let rest =
            words(c, i, &["the", "rest", "of", "the", "week"]).or_else(|| words(c, i, &["rest", "of", "the", "week"]));
        if let (Some(e), Some(v)) = (rest, span(today).filter(|_| today < sunday)) {
            consider(fixed(v), e);
        }
        if let (Some(e), Some(v)) = (words(c, i, &["all", "week"]), span(monday)) {
            consider(fixed(v), e);
        }
    }
    if let Some(e) = words(c, i, &["right", "now"])
        .or_else(|| words(c, i, &["just", "now"]))
        .or_else(|| words(c, i, &["at", "the", "moment"]))
        // "at the moment" once the filler "at" is skipped
        .or_else(|| words(c, i, &["the", "moment"]).filter(|_| after_at(c, i)))
    {
        consider(fixed(TimeValue::Instant(cx.now, Grain::Second)), e);
    }
    // "ASAP", "as soon as possible": from now on
    if let Some(e) = words(c, i, &["asap"]).or_else(|| words(c, i, &["as", "soon", "as", "possible"])) {
        consider(fixed(TimeValue::Interval(Some(cx.now), None, Grain::Second)), e);
    }
    if let Some(e) = words(c, i, &["mid", "day"]) {
        consider(Spec { hour: Some(12), ..Default::default() }, e);
    }
    for (ws, d) in [
        (&["the", "day", "after", "tomorrow"][..], 2),
        (&["day", "after", "tomorrow"][..], 2),
        (&["the", "day", "before", "yesterday"][..], -2),
        (&["day", "before", "yesterday"][..], -2),
    ] {
        if let Some(e) = words(c, i, ws) {
            consider(Spec { date: Some(today + Duration::days(d)), ..Default::default() }, e);
        }
    }
    if let Some(e) = words(c, i, &["last", "night"]) {
        consider(
            Spec {
                date: Some(today - Duration::days(1)),
                pod: Some(Pod { from: 18, to: 24, pm: true }),
                ..Default::default()
            },
            e,
        );
    }
    if let Some(e) = words(c, i, &["week", "end"]) {
        consider(Spec { week_rel: Some(0), weekend: true, ..Default::default() }, e);
    }
    // weekday
    if let Some((wd, e)) = weekday_at(c, i) {
        if !is_plain_english_word(c, i, e) {
            consider(Spec { weekday: Some(wd), ..Default::default() }, e);
        }
    }
    // month (+ day): "march 3", "march first", "february the 15th"
    if let Some((m, e)) = month_at(c, i) {
        if !is_plain_english_word(c, i, e) && !is_march_verb(c, i, e) {
            consider(Spec { month: Some(m), ..Default::default() }, e);
        }
        let mut q = skip_ws(c, e);
        if let Some(e2) = words(c, q, &["the"]) {
            q = skip_ws(c, e2);
        }
        if q > e || at(c, e).is_ascii_digit() {
            let q = if at(c, e).is_ascii_digit() { e } else { q };
            if let Some((d, e3)) = day_num(c, q, true) {
                consider(Spec { month: Some(m), day: Some(d), ..Default::default() }, e3);
            } else if let Some((d, e3)) = spelled_day(c, q).filter(|_| m != 5 && q > e) {
                // "June thirty" ("may one of you…" stays a verb)
                consider(Spec { month: Some(m), day: Some(d), ..Default::default() }, e3);
            }
        }
        // "Mar/7", "Mar-7", "Mar/7/2026"
        let sep = at(c, e);
        if matches!(sep, '/' | '-') && at(c, e + 1).is_ascii_digit() {
            if let Some((d, e3)) = day_num(c, e + 1, true) {
                let mut s = Spec { month: Some(m), day: Some(d), ..Default::default() };
                let mut end = e3;
                if at(c, e3) == sep {
                    if let Some(y) = digits(c, e3 + 1).filter(|y| y.ndig == 2 || y.ndig == 4) {
                        if !at(c, y.e).is_ascii_alphanumeric() {
                            s.year = Some(if y.ndig == 2 { year2(y.v as i64) } else { y.v as i32 });
                            end = y.e;
                        }
                    }
                }
                consider(s, end);
            }
        }
    }
    // "the 1st of march", "15 of february", "15th february", "14april"
    {
        let mut q = i;
        if let Some(e) = words(c, i, &["the"]) {
            q = skip_ws(c, e);
        }
        if let Some((d, e)) = day_num(c, q, true) {
            let mut r = skip_ws(c, e);
            if let Some(e2) = words(c, r, &["of"]) {
                r = skip_ws(c, e2);
            }
            if let Some(e2) = words(c, r, &["day", "of"]) {
                r = skip_ws(c, e2);
            }
            if let Some((m, e2)) = month_at(c, r) {
                consider(Spec { month: Some(m), day: Some(d), ..Default::default() }, e2);
            }
            // "the 15th" alone; a plain "the 5" only when no noun follows ("the 5 items")
            let r = skip_ws(c, e);
            let counted = en_ordinal(c, q).is_none()
                && at(c, r).is_ascii_alphabetic()
                && (!may_start(c, r) || w_at(c, r).is_some_and(|(x, _)| grain_word(&x).is_some()));
            if q > i && !counted {
                consider(Spec { day: Some(d), ..Default::default() }, e);
            }
            // "20 of next month", "20th of the current month"
            let mut r2 = skip_ws(c, e);
            if let Some(e2) = words(c, r2, &["day"]) {
                r2 = skip_ws(c, e2);
            }
            if let Some(e2) = words(c, r2, &["of"]) {
                let mut r3 = skip_ws(c, e2);
                if let Some(e3) = words(c, r3, &["the"]) {
                    r3 = skip_ws(c, e3);
                }
                if let Some((off, e3)) = modifier(c, r3) {
                    if let Some(e4) = words(c, skip_ws(c, e3), &["month"]) {
                        consider(Spec { month_rel: Some(off), day: Some(d), ..Default::default() }, e4);
                    }
                }
            }
        }
        // 14april
        if let Some(dg) = digits(c, q) {
            if dg.ndig <= 2 && at(c, dg.e).is_ascii_alphabetic() {
                let mut k = dg.e;
                while at(c, k).is_ascii_alphabetic() {
                    k += 1;
                }
                if let Some(m) = Word::from_chars(&c[dg.e..k]).and_then(|w2| month_word(&w2)) {
                    consider(Spec { month: Some(m), day: Some(dg.v as u32), ..Default::default() }, k);
                }
            }
        }
        if let Some(e) = words(c, i, &["the", "ides", "of"]) {
            if let Some((m, e2)) = month_at(c, skip_ws(c, e)) {
                let d = if matches!(m, 3 | 5 | 7 | 10) { 15 } else { 13 };
                consider(Spec { month: Some(m), day: Some(d), ..Default::default() }, e2);
            }
        }
    }
    // parts of day
    if let Some((p, e)) = pod_word(c, i) {
        consider(Spec { pod: Some(p), ..Default::default() }, e);
    }
    for (ws, pod) in [
        (&["early", "morning"][..], Pod { from: 0, to: 9, pm: false }),
        (&["early", "in", "the", "morning"][..], Pod { from: 0, to: 9, pm: false }),
        (&["in", "the", "early", "hours", "of", "the", "morning"][..], Pod { from: 0, to: 9, pm: false }),
        (&["early", "afternoon"][..], Pod { from: 12, to: 15, pm: true }),
        (&["late", "afternoon"][..], Pod { from: 15, to: 19, pm: true }),
        (&["late", "morning"][..], Pod { from: 9, to: 12, pm: false }),
        (&["early", "evening"][..], Pod { from: 18, to: 21, pm: true }),
        (&["late", "evening"][..], Pod { from: 21, to: 24, pm: true }),
        (&["late", "at", "night"][..], Pod { from: 21, to: 24, pm: true }),
        (&["at", "night"][..], Pod { from: 18, to: 24, pm: true }),
        (&["late", "tonight"][..], Pod { from: 21, to: 24, pm: true }),
        (&["late", "tonite"][..], Pod { from: 21, to: 24, pm: true }),
    ] {
        if let Some(e) = words(c, i, ws) {
            let mut s = Spec { pod: Some(pod), ..Default::default() };
            if ws[1] == "tonight" || ws[1] == "tonite" {
                s.date = Some(today);
            }
            consider(s, e);
        }
    }
    if let Some(e) = words(c, i, &["late", "last", "night"]) {
        consider(
            Spec {
                date: Some(today - Duration::days(1)),
                pod: Some(Pod { from: 21, to: 24, pm: true }),
                ..Default::default()
            },
            e,
        );
    }
    if let Some(e) = words(c, i, &["after", "lunch"]) {
        consider(Spec { pod: Some(Pod { from: 13, to: 17, pm: true }), ..Default::default() }, e);
    }
    if let Some(e) = words(c, i, &["after", "school"]) {
        consider(Spec { pod: Some(Pod { from: 15, to: 21, pm: true }), ..Default::default() }, e);
    }
    for pre in [&["in", "the"][..], &["this"][..], &["today"][..]] {
        if let Some(e) = words(c, i, pre) {
            if let Some((p, e2)) = pod_word(c, skip_ws(c, e)) {
                let mut s = Spec { pod: Some(p), ..Default::default() };
                if pre[0] != "in" {
                    s.date = Some(today);
                }
                consider(s, e2);
            }
        }
    }
    // holidays
    if let Some((e, h)) = holidays::NAMES.longest(c, i, true) {
        consider(Spec { holiday: Some(*h), latent: holidays::needs_context(c, i, e), ..Default::default() }, e);
    }
    // this/next/last + grain / weekday / month / holiday / weekend
    if let Some((off, e)) = modifier(c, i) {
        let q = skip_ws(c, e);
        if let Some((g, e2)) = w_at(c, q).and_then(|(x, e2)| grain_word(&x).map(|g| (g, e2))) {
            let s = match g {
                Grain::Week => Some(Spec { week_rel: Some(off), week_grain: true, ..Default::default() }),
                Grain::Month => Some(Spec { month_rel: Some(off), ..Default::default() }),
                Grain::Quarter => Some(Spec { quarter_rel: Some(off), ..Default::default() }),
                Grain::Year => Some(Spec { year_rel: Some(off), ..Default::default() }),
                Grain::Day if off == 0 => Some(Spec { date: Some(today), ..Default::default() }),
                _ => None,
            };
            if let Some(s) = s {
                consider(s, e2);
            }
        }
        if let Some((wd, e2)) = weekday_at(c, q) {
            let s = if off == 0 {
                Spec { weekday: Some(wd), ..Default::default() }
            } else {
                Spec { weekday: Some(wd), week_rel: Some(off), ..Default::default() }
            };
            consider(s, e2);
        }
        if let Some((m, e2)) = month_at(c, q) {
            let y = today.year() + if m > today.month() || (off <= 0 && m == today.month()) { 0 } else { 1 };
            let y = if off < 0 {
                if m < today.month() {
                    today.year()
                } else {
                    today.year() - 1
                }
            } else {
                y
            };
            consider(Spec { month: Some(m), year: Some(y), ..Default::default() }, e2);
        }
        if let Some((e2, h)) = holidays::NAMES.longest(c, q, true) {
            let s = if off < 0 {
                // most recent past occurrence
                let this = holidays::date(*h, today.year());
                let y = match this {
                    Some(d) if d < today => today.year(),
                    _ => today.year() - 1,
                };
                Spec { holiday: Some(*h), year: Some(y), ..Default::default() }
            } else {
                Spec { holiday: Some(*h), ..Default::default() }
            };
            consider(s, e2);
        }
        if let Some((x, e2)) = w_at(c, q) {
            if x == "weekend" || x == "wkend" || x == "week-end" {
                consider(Spec { week_rel: Some(off), weekend: true, ..Default::default() }, e2);
            }
            if x == "week" {
                let r = if at(c, e2) == '-' { e2 + 1 } else { skip_ws(c, e2) };
                if let Some(e3) = words(c, r, &["end"]) {
                    consider(Spec { week_rel: Some(off), weekend: true, ..Default::default() }, e3);
                }
            }
        }
    }
    if let Some(e) = words(c, i, &["this", "past", "weekend"]).or_else(|| words(c, i, &["this", "past", "week-end"])) {
        consider(Spec { week_rel: Some(-1), weekend: true, ..Default::default() }, e);
    }
    // <weekday> after next / <month> after next
    if let Some((wd, e)) = weekday_at(c, i) {
        if let Some(e2) = words(c, skip_ws(c, e), &["after", "next"]) {
            let cur = today.weekday().num_days_from_monday() as i64;
            let mut delta = wd as i64 - cur;
            if delta <= 0 {
                delta += 7;
            }
            consider(Spec { date: Some(today + Duration::days(delta + 7)), ..Default::default() }, e2);
        }
    }
    if let Some((m, e)) = month_at(c, i) {
        if let Some(e2) = words(c, skip_ws(c, e), &["after", "next"]) {
            let y = today.year() + if m > today.month() { 1 } else { 2 };
            consider(Spec { month: Some(m), year: Some(y), ..Default::default() }, e2);
        }
    }
    // quarters: third quarter, 3rd qtr
    {
        let mut q = i;
        if let Some(e) = words(c, i, &["the"]) {
            q = skip_ws(c, e);
        }
        if let Some((n, e)) = en_ordinal(c, q) {
            if let Some((x, e2)) = next_w(c, e) {
                if matches!(x.as_str(), "quarter" | "qtr") && (1..=4).contains(&n) {
                    consider(Spec { quarter: Some(n as u32), ..Default::default() }, e2);
                }
            }
        }
    }
    // first Monday of March, last day of october 2015, third last week of 2018
    if let Some((v, e)) = nth_of(c, i, cx) {
        consider(fixed(v), e);
    }
    // decades: "the 80s", "the 1970s", "the nineties"
    if let Some((v, e)) = decade(c, i, cx) {
        consider(fixed(v), e);
    }
    // seasons: "this summer", "next season"
    if let Some((v, e)) = season(c, i, cx) {
        consider(fixed(v), e);
    }
    // beginning / middle / end of a month, year or week; EOM, BOY…
    if let Some((v, e)) = boundary(c, i, cx) {
        consider(fixed(v), e);
    }
    // relative shifts
    if let Some((v, e)) = shifts(c, i, cx) {
        consider(fixed(v), e);
    }
    // spelled clocks: "ten thirty am", "three twenty"
    if let Some((s, e)) = word_clock(c, i) {
        consider(s, e);
    }
    // "half past three", "a quarter past 3pm", "20 past 3pm", "quarter to noon"
    if let Some((s, e)) = relative_clock(c, i, cx) {
        consider(s, e);
    }
    best
}

/// A year in words: "two thousand ten", "nineteen ninety", "twenty fourteen".
fn spelled_year(c: &[char], i: usize) -> Option<(i32, usize)> {
    use crate::entities::number_en::parse;
    let a = parse(c, i)?;
    let av = a.int()?;
    let q = skip_ws(c, a.e);
    if (1000..=2200).contains(&av) {
        // one word alone ("thousand") is no year
        return (c[i..a.e].iter().any(|ch| *ch == ' ' || *ch == '-')).then_some((av as i32, a.e));
    }
    // century then two digits: "nineteen ninety", "twenty fourteen"
    if !(11..=20).contains(&av) || q == a.e {
        return None;
    }
    let b = parse(c, q)?;
    let bv = b.int()?;
    (10..=99).contains(&bv).then_some(((av * 100 + bv) as i32, b.e))
}

/// "(the) first|2nd|last|third last <weekday|day|week|weekend> of|in <month [year]|
/// year|this month|the month|next month>": the n-th such unit inside the period.
fn nth_of(c: &[char], i: usize, cx: &Ctx) -> Option<(TimeValue, usize)> {
    let mut p = i;
    if let Some(e) = words(c, p, &["the"]) {
        p = skip_ws(c, e);
    }
    // n > 0: n-th from the start; n < 0: from the end
    let (n, e) = if let Some(e) = words(c, p, &["last"]) {
        (-1i64, e)
    } else {
        let (k, e) = en_ordinal(c, p)?;
        if !(1..=53).contains(&k) {
            return None;
        }
        match words(c, skip_ws(c, e), &["last"]) {
            Some(e2) => (-k, e2),
            None => (k, e),
        }
    };
    let q = skip_ws(c, e);
    let (w, e2) = w_at(c, q)?;
    enum Unit {
        Weekday(u32),
        Day,
        Week,
        Weekend,
    }
    let (unit, mut e2) = if let Some(wd) = weekday_word(&w) {
        (Unit::Weekday(wd), e2)
    } else {
        match w.as_str() {
            "day" => (Unit::Day, e2),
            "week" => (Unit::Week, e2),
            "weekend" | "wkend" | "week-end" => (Unit::Weekend, e2),
            _ => return None,
        }
    };
    if matches!(unit, Unit::Week) {
        let r = if at(c, e2) == '-' { e2 + 1 } else { skip_ws(c, e2) };
        if let Some(e3) = words(c, r, &["end"]) {
            return nth_of_weekend(c, n, e3, cx);
        }
    }
    if matches!(unit, Unit::Weekend) {
        return nth_of_weekend(c, n, e2, cx);
    }
    let r = skip_ws(c, e2);
    let e3 = words(c, r, &["of"]).or_else(|| words(c, r, &["in"]))?;
    e2 = skip_ws(c, e3);
    let ((start, g), e4) = period_target(c, e2, cx)?;
    let end = add(start, g, 1)?;
    let (first, last) = (start.date(), end.date() - Duration::days(1));
    let day = |d: chrono::NaiveDate| d.and_hms_opt(0, 0, 0);
    let v = match unit {
        Unit::Day => {
            let d = if n > 0 { first + Duration::days(n - 1) } else { last + Duration::days(n + 1) };
            TimeValue::Instant(day(d)?, Grain::Day)
        }
        Unit::Weekday(wd) => {
            let d = if n > 0 {
                let off = (wd as i64 - first.weekday().num_days_from_monday() as i64).rem_euclid(7);
                first + Duration::days(off + 7 * (n - 1))
            } else {
                let off = (last.weekday().num_days_from_monday() as i64 - wd as i64).rem_euclid(7);
                last - Duration::days(off + 7 * (-n - 1))
            };
            TimeValue::Instant(day(d)?, Grain::Day)
        }
        Unit::Week => {
            // weeks are counted by their Monday: the first week starts on the
            // first Monday of the period, the last one on the last Monday
            let d = if n > 0 {
                let off = (7 - first.weekday().num_days_from_monday() as i64).rem_euclid(7);
                first + Duration::days(off + 7 * (n - 1))
            } else {
                // the last week is the last one that ends (on a Sunday) inside
                let sunday = last - Duration::days((last.weekday().num_days_from_monday() as i64 + 1) % 7);
                sunday - Duration::days(6 + 7 * (-n - 1))
            };
            TimeValue::Instant(day(d)?, Grain::Week)
        }
        Unit::Weekend => return None,
    };
    Some((v, e4))
}

fn nth_of_weekend(c: &[char], n: i64, e: usize, cx: &Ctx) -> Option<(TimeValue, usize)> {
    let r = skip_ws(c, e);
    let e3 = words(c, r, &["of"]).or_else(|| words(c, r, &["in"]))?;
    let ((start, g), e4) = period_target(c, skip_ws(c, e3), cx)?;
    let end = add(start, g, 1)?;
    let (first, last) = (start.date(), end.date() - Duration::days(1));
    // weekends are counted by their Friday
    let fri = if n > 0 {
        let off = (4 - first.weekday().num_days_from_monday() as i64).rem_euclid(7);
        first + Duration::days(off + 7 * (n - 1))
    } else {
        let off = (last.weekday().num_days_from_monday() as i64 - 4).rem_euclid(7);
        last - Duration::days(off + 7 * (-n - 1))
    };
    Some((
        TimeValue::Interval(
            Some(fri.and_hms_opt(18, 0, 0)?),
            Some((fri + Duration::days(3)).and_hms_opt(0, 0, 0)?),
            Grain::Hour,
        ),
        e4,
    ))
}

/// A month (with optional year), a year, or "this/the/next month|year" as
/// (start, grain) for "the first Monday of …".
fn period_target(c: &[char], q: usize, cx: &Ctx) -> Option<((NaiveDateTime, Grain), usize)> {
    if let Some(e) = words(c, q, &["the"]) {
        let (w, e2) = w_at(c, skip_ws(c, e))?;
        let g = match w.as_str() {
            "month" => Grain::Month,
            "year" => Grain::Year,
            _ => return boundary_target(c, skip_ws(c, e), cx),
        };
        return Some(((truncate(cx.now, g), g), e2));
    }
    boundary_target(c, q, cx).filter(|((_, g), _)| *g != Grain::Day)
}

/// Start of season number `n` (year * 4 + 0 spring, 1 summer, 2 fall, 3 winter),
/// astronomical seasons with fixed dates.
fn season_start(n: i64) -> Option<NaiveDateTime> {
    let (m, d) = [(3, 20), (6, 21), (9, 23), (12, 21)][n.rem_euclid(4) as usize];
    chrono::NaiveDate::from_ymd_opt(n.div_euclid(4) as i32, m, d)?.and_hms_opt(0, 0, 0)
}

/// "this summer", "last winter", "next season", "current seasons".
fn season(c: &[char], i: usize, cx: &Ctx) -> Option<(TimeValue, usize)> {
    let (off, e) = modifier(c, i)?;
    let (w, e2) = next_w(c, e)?;
    let y = cx.now.year() as i64;
    // the season we are in
    let cur = (y * 4 - 4..y * 4 + 4).filter(|n| season_start(*n).map(|t| t <= cx.now).unwrap_or(false)).max()?;
    let day = Duration::days(1);
    if w == "season" || w == "seasons" {
        let n = cur + off;
        let v = TimeValue::Interval(Some(season_start(n)?), Some(season_start(n + 1)? - day), Grain::Day);
        return Some((v, e2));
    }
    let idx = match w.as_str() {
        "spring" => 0,
        "summer" => 1,
        "fall" | "autumn" => 2,
        "winter" => 3,
        _ => return None,
    };
    let n = match off {
        0 => (cur..cur + 4).find(|n| n.rem_euclid(4) == idx)?,
        o if o > 0 => (cur + 1..cur + 5).find(|n| n.rem_euclid(4) == idx)?,
        _ => (cur - 4..cur).rev().find(|n| n.rem_euclid(4) == idx)?,
    };
    let v = TimeValue::Interval(Some(season_start(n)?), Some(season_start(n + 1)? + day), Grain::Day);
    Some((v, e2))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Begin,
    Mid,
    End,
}

/// "beginning of the month", "end of next week", "late March", "mid-march",
/// "the end of 2012", "EOM", "BOY", "EOD": a part of a month, year, week or day.
fn boundary(c: &[char], i: usize, cx: &Ctx) -> Option<(TimeValue, usize)> {
    let mut p = i;
    if let Some(e) = words(c, p, &["the"]) {
        p = skip_ws(c, e);
    }
    let (w, mut e) = w_at(c, p)?;
    // abbreviations stand for the whole phrase
    let abbr = match w.as_str() {
        "eom" => Some((Part::End, Grain::Month)),
        "bom" => Some((Part::Begin, Grain::Month)),
        "eoy" => Some((Part::End, Grain::Year)),
        "boy" => Some((Part::Begin, Grain::Year)),
        "eow" => Some((Part::End, Grain::Week)),
        "bow" => Some((Part::Begin, Grain::Week)),
        "eod" => Some((Part::End, Grain::Day)),
        _ => None,
    };
    let (part, target) = if let Some((part, g)) = abbr {
        (part, Some((truncate(cx.now, g), g)))
    } else {
        let part = match w.as_str() {
            "beginning" | "start" | "early" => Part::Begin,
            "mid" | "middle" => Part::Mid,
            "end" | "late" => Part::End,
            _ => return None,
        };
        let mut q = skip_ws(c, e);
        if at(c, e) == '-' && w == "mid" {
            q = e + 1;
        } else if let Some(e2) = words(c, q, &["of"]) {
            q = skip_ws(c, e2);
        } else if !matches!(w.as_str(), "early" | "mid" | "late") || q == e {
            return None;
        }
        if let Some(e2) = words(c, q, &["the"]) {
            q = skip_ws(c, e2);
        }
        let (t, e2) = boundary_target(c, q, cx)?;
        e = e2;
        (part, Some(t))
    };
    let (start, g) = target?;
    let d = |n: i64| start + Duration::days(n);
    let iv = |a, b, g| Some(TimeValue::Interval(Some(a), Some(b), g));
    let v = match (g, part) {
        (Grain::Month, Part::Begin) => iv(start, d(10), Grain::Day),
        (Grain::Month, Part::Mid) => iv(d(10), d(20), Grain::Day),
        (Grain::Month, Part::End) => iv(d(20), add(start, Grain::Month, 1)?, Grain::Day),
        (Grain::Year, Part::Begin) => iv(start, add(start, Grain::Month, 3)?, Grain::Month),
        (Grain::Year, Part::End) => iv(add(start, Grain::Month, 8)?, add(start, Grain::Year, 1)?, Grain::Month),
        (Grain::Week, Part::Begin) => iv(start, d(3), Grain::Day),
        (Grain::Week, Part::End) => iv(d(4), d(7), Grain::Day),
        (Grain::Day, Part::End) => iv(start + Duration::hours(18), d(1), Grain::Hour),
        _ => None,
    }?;
    Some((v, e))
}

/// What "beginning of …" applies to: (start of the period, its grain).
fn boundary_target(c: &[char], q: usize, cx: &Ctx) -> Option<((NaiveDateTime, Grain), usize)> {
    let (w, e) = w_at(c, q).unwrap_or_default();
    let plain = match w.as_str() {
        "month" => Some(Grain::Month),
        "year" => Some(Grain::Year),
        "week" => Some(Grain::Week),
        "day" => Some(Grain::Day),
        _ => None,
    };
    if let Some(g) = plain {
        return Some(((truncate(cx.now, g), g), e));
    }
    // "the end of today", "end of tomorrow"
    let day_off = match w.as_str() {
        "today" => Some(0),
        "tomorrow" | "tmrw" => Some(1),
        _ => None,
    };
    if let Some(k) = day_off {
        return Some(((truncate(cx.now, Grain::Day) + Duration::days(k), Grain::Day), e));
    }
    if let Some((off, e1)) = modifier(c, q) {
        let (x, e2) = next_w(c, e1)?;
        let g = grain_word(&x).filter(|g| matches!(g, Grain::Month | Grain::Year | Grain::Week))?;
        return Some(((add(truncate(cx.now, g), g, off)?, g), e2));
    }
    if let Some((m, e1)) = month_at(c, q) {
        let mut s = Spec { month: Some(m), ..Default::default() };
        let mut end = e1;
        if let Some(y) = digits(c, skip_ws(c, e1)).filter(|y| y.ndig == 4) {
            s.year = Some(y.v as i32);
            end = y.e;
        }
        let (t, _) = resolve(&s, cx)?.start()?;
        return Some(((t, Grain::Month), end));
    }
    let y = digits(c, q).filter(|y| y.ndig == 4 && !at(c, y.e).is_ascii_alphanumeric())?;
    let t = chrono::NaiveDate::from_ymd_opt(y.v as i32, 1, 1)?.and_hms_opt(0, 0, 0)?;
    Some(((t, Grain::Year), y.e))
}

/// Whether the word before `i` is "at", "around", "approximately" or "@".
fn after_at(c: &[char], i: usize) -> bool {
    let mut j = i;
    while j > 0 && c[j - 1] == ' ' {
        j -= 1;
    }
    if j == i && i > 0 {
        return false;
    }
    if j > 0 && c[j - 1] == '@' {
        return true;
    }
    let mut k = j;
    while k > 0 && c[k - 1].is_ascii_alphabetic() {
        k -= 1;
    }
    j - k <= 13 && matches!(Word::from_chars(&c[k..j]).as_deref(), Some("at" | "around" | "approximately" | "about"))
}

/// this/next/last/coming/upcoming/past/previous/following/current: (offset, end).
fn modifier(c: &[char], i: usize) -> Option<(i64, usize)> {
    let (w, e) = w_at(c, i)?;
    let off = match w.as_str() {
        "this" | "current" => 0,
        "next" | "coming" | "upcoming" | "following" => 1,
        "last" | "past" | "previous" => -1,
        "the" => {
            let (w2, e2) = next_w(c, e)?;
            return match w2.as_str() {
                "following" | "next" | "coming" => Some((1, e2)),
                "previous" | "last" | "past" => Some((-1, e2)),
                "current" => Some((0, e2)),
                _ => None,
            };
        }
        "around" => {
            let (w2, e2) = next_w(c, e)?;
            return if w2 == "next" { Some((1, e2)) } else { None };
        }
        _ => return None,
    };
    Some((off, e))
}

/// Number for shifts: digits, words, "a", "an", "a couple of", "a few".
fn count_at(c: &[char], i: usize) -> Option<(f64, usize)> {
    if let Some((w, e)) = w_at(c, i) {
        if w == "a" || w == "an" || w == "one" {
            // "a couple of", "a few" handled by number_at
            if let Some(n) = number_at(c, i, Lang::En) {
                if n.e > e {
                    return Some((n.v, n.e));
                }
            }
            return Some((1.0, e));
        }
    }
    let n = number_at(c, i, Lang::En)?;
    Some((n.v, n.e))
}

/// A grain word (or 1/2h style) after a count: (grain, multiplier, end).
fn grain_after(c: &[char], e: usize) -> Option<(Grain, f64, usize)> {
    let q = skip_ws(c, e);
    if q == e && at(c, e) == '\'' {
        return Some((Grain::Minute, 1.0, e + 1));
    }
    if q == e && at(c, e) == '"' {
        return Some((Grain::Second, 1.0, e + 1));
    }
    let (mut w, mut we) = read_word(c, q)?;
    if matches!(w.as_str(), "more" | "additional" | "extra") {
        let r = next_w(c, we)?;
        w = r.0;
        we = r.1;
    }
    if w == "fortnight" || w == "fortnights" {
        return Some((Grain::Week, 2.0, we));
    }
    let g = grain_word(&w)?;
    Some((g, 1.0, we))
}

/// "in 2 hours", "2 minutes from now", "3 days ago", "7 days hence", "last 2 weeks",
/// "next 3 days", "within 2 weeks", "upcoming two weeks", "after 5 days".
fn shifts(c: &[char], i: usize, cx: &Ctx) -> Option<(TimeValue, usize)> {
    let (w, we) = w_at(c, i).unwrap_or_default();
    // in N units / within N units / after N units
    if w == "in" || w == "within" || w == "after" {
        let mut q = skip_ws(c, we);
        if let Some(e) = words(c, q, &["about"]).or_else(|| words(c, q, &["approximately"])) {
            q = skip_ws(c, e);
        }
        if w == "in" {
            if let Some(r) = in_bare_number(c, q, cx) {
                return Some(r);
            }
        }
        let (n, g, e) = count_grain(c, q)?;
        // "in N units": now shifted, at one grain finer ("in 2 weeks" is a day)
        let ahead = || {
            if g == Grain::Week && n.fract() == 0.0 {
                let t = add(cx.now, g, n as i64)?;
                Some(TimeValue::Instant(truncate(t, Grain::Day), Grain::Day))
            } else {
                shift(cx, n, g)
            }
        };
        return match w.as_str() {
            "in" => Some((ahead()?, e)),
            "within" => {
                // from now until that instant: "within 48 hours" ends at now + 48 h
                let (t, _) = ahead()?.start()?;
                (t > cx.now).then_some((TimeValue::Interval(Some(cx.now), Some(t), Grain::Second), e))
            }
            _ => {
                let t = shift(cx, n, g)?;
                let (s, gg) = t.start()?;
                Some((TimeValue::Interval(Some(s), None, gg), e))
            }
        };
    }
    // last/past/next N units
    if let Some((off, e)) = modifier(c, i) {
        let q = skip_ws(c, e);
        if let Some((n, g, e2)) = count_grain(c, q) {
            if n >= 1.0 && n.fract() == 0.0 {
                if w == "upcoming" {
                    let t = add(truncate(cx.now, g), g, n as i64)?;
                    return Some((TimeValue::Instant(t, g), e2));
                }
                return Some((n_grains(cx, n as i64, g, off > 0)?, e2));
            }
        }
        if w == "next" {
            if let Some(e2) = words(c, q, &["few", "days"]) {
                return Some((n_grains(cx, 3, Grain::Day, true)?, e2));
            }
        }
    }
    // N fridays from now / N thursdays ago
    if let Some((n, e)) = count_at(c, i) {
        let q = skip_ws(c, e);
        if let (Some((w2, e2)), true) = (w_at(c, q), q > e) {
            if let (Some(wd), true) = (weekday_word(&w2), w2.ends_with('s') && n >= 1.0) {
                let (dir, e3) = if let Some(e3) = words(c, skip_ws(c, e2), &["from", "now"]) {
                    (1, e3)
                } else if let Some(e3) =
                    words(c, skip_ws(c, e2), &["ago"]).or_else(|| words(c, skip_ws(c, e2), &["back"]))
                {
                    (-1, e3)
                } else {
                    (0, e2)
                };
                if dir != 0 && n.fract() == 0.0 && n <= 1000.0 {
                    let today = cx.today();
                    let cur = today.weekday().num_days_from_monday() as i64;
                    let mut delta = wd as i64 - cur;
                    if dir > 0 && delta <= 0 {
                        delta += 7;
                    }
                    if dir < 0 && delta >= 0 {
                        delta -= 7;
                    }
                    let d = today + Duration::days(delta + dir * 7 * (n as i64 - 1));
                    return Some((TimeValue::Instant(d.and_hms_opt(0, 0, 0)?, Grain::Day), e3));
                }
            }
        }
    }
    // N upcoming units
    if let Some((n, e)) = count_at(c, i) {
        if let Some(e2) = words(c, skip_ws(c, e), &["upcoming"]) {
            if let Some((g, _, e3)) = grain_after(c, e2) {
                let t = add(truncate(cx.now, g), g, n as i64)?;
                return Some((TimeValue::Instant(t, g), e3));
            }
        }
    }
    // N units ago / hence / from now / from today / back
    let (n, g, e) = count_grain(c, i)?;
    let (x, e2) = next_w(c, e)?;
    match x.as_str() {
        "ago" | "back" => {
            let v = if g >= Grain::Week {
                let t = add(cx.now, g, -(n as i64))?;
                let fg = if g == Grain::Year { Grain::Month } else { Grain::Day };
                TimeValue::Instant(truncate(t, fg), fg)
            } else {
                shift(cx, -n, g)?
            };
            Some((v, e2))
        }
        "hence" => {
            let v = if g >= Grain::Week {
                let t = add(cx.now, g, n as i64)?;
                let fg = if g == Grain::Year { Grain::Month } else { Grain::Day };
                TimeValue::Instant(truncate(t, fg), fg)
            } else {
                shift(cx, n, g)?
            };
            Some((v, e2))
        }
        "from" => {
            let (y, e3) = next_w(c, e2)?;
            match y.as_str() {
                "now" => Some((shift(cx, n, g)?, e3)),
                "today" => {
                    let t = add(truncate(cx.now, Grain::Day), g, n as i64)?;
                    Some((TimeValue::Instant(t, Grain::Day), e3))
                }
                "right" => {
                    let e4 = words(c, skip_ws(c, e3), &["now"])?;
                    let t = add(cx.now, g, n as i64)?;
                    Some((TimeValue::Instant(t, Grain::Second), e4))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// "in 2014" (a year) and "in 15" (minutes, Duckling's reading) when nothing
/// but punctuation or another time word follows the number.
fn in_bare_number(c: &[char], q: usize, cx: &Ctx) -> Option<(TimeValue, usize)> {
    let d = digits(c, q).filter(|d| d.ndig > 0 && !at(c, d.e).is_ascii_alphanumeric())?;
    let r = skip_ws(c, d.e);
    let next = at(c, r);
    if next.is_ascii_alphabetic() && !may_start(c, r) || next.is_ascii_digit() {
        return None;
    }
    if matches!(next, '/' | '-' | ':' | '.' | '%' | '$' | '\'' | '"') && r == d.e {
        return None;
    }
    let v = d.v as i64;
    if d.ndig == 4 && (1000..=2200).contains(&v) {
        let t = chrono::NaiveDate::from_ymd_opt(v as i32, 1, 1)?.and_hms_opt(0, 0, 0)?;
        return Some((TimeValue::Instant(t, Grain::Year), d.e));
    }
    if d.ndig <= 2 && (1..60).contains(&v) && !next.is_ascii_alphabetic() {
        return Some((shift(cx, v as f64, Grain::Minute)?, d.e));
    }
    None
}

/// Count + grain: "2 hours", "a day", "1/2h", "2.5 hours", "2 and an half hours", "a couple of minutes".
fn count_grain(c: &[char], i: usize) -> Option<(f64, Grain, usize)> {
    // fractions 1/4h
    if let Some(a) = digits(c, i) {
        if at(c, a.e) == '/' {
            let b = digits(c, a.e + 1)?;
            if b.v == 0.0 {
                return None;
            }
            let (g, m, e) = grain_after(c, b.e)?;
            return Some((a.v / b.v * m, g, e));
        }
        // "1h" glued
        if at(c, a.e) == 'h' && !at(c, a.e + 1).is_ascii_alphanumeric() {
            return Some((a.v, Grain::Hour, a.e + 1));
        }
    }
    // half an hour, three-quarters of an hour, a quarter of an hour
    if let Some(e) = words(c, i, &["half", "an"]).or_else(|| words(c, i, &["half", "a"])) {
        let (g, m, e2) = grain_after(c, e)?;
        return Some((0.5 * m, g, e2));
    }
    for (ws, f) in [
        (&["a", "quarter", "of", "an"][..], 0.25),
        (&["a", "quarter", "of", "a"][..], 0.25),
        (&["three-quarters", "of", "an"][..], 0.75),
        (&["three", "quarters", "of", "an"][..], 0.75),
    ] {
        if let Some(e) = words(c, i, ws) {
            let (g, m, e2) = grain_after(c, e)?;
            return Some((f * m, g, e2));
        }
    }
    if starts_ci(c, i, "three-quarters of an") {
        let (g, m, e2) = grain_after(c, i + "three-quarters of an".len())?;
        return Some((0.75 * m, g, e2));
    }
    let (mut n, mut e) = count_at(c, i)?;
    // "2 and an half hours"
    if let Some(e2) =
        words(c, skip_ws(c, e), &["and", "an", "half"]).or_else(|| words(c, skip_ws(c, e), &["and", "a", "half"]))
    {
        n += 0.5;
        e = e2;
    }
    let (g, m, e3) = grain_after(c, e)?;
    Some((n * m, g, e3))
}

/// "ten thirty am", "seven thirty p.m.", "four twenty-three a m", "at three twenty".
fn word_clock(c: &[char], i: usize) -> Option<(Spec, usize)> {
    let (w, e) = w_at(c, i)?;
    let h = crate::entities::number_en::unit_word(&w)?;
    if !(1.0..=12.0).contains(&h) {
        return None;
    }
    let q = skip_ws(c, e);
    if q == e {
        return None;
    }
    let m = number_at(c, q, Lang::En)?;
    let mv = m.int()?;
    if !(10..60).contains(&mv) {
        return None;
    }
    let mut s = Spec { hour: Some(h as u32), minute: Some(mv as u32), ambig: true, ..Default::default() };
    let mut end = m.e;
    if let Some((pm, e2)) = ampm(c, end) {
        apply_ampm(&mut s, pm);
        end = e2;
    } else {
        s.latent = !after_at(c, i);
    }
    Some((s, end))
}

/// Clock-ish atom for relative clocks: "3pm", "3", "noon", "three", "15h".
fn clock_atom(c: &[char], i: usize) -> Option<(Spec, usize)> {
    if let Some(r) = am_pm_clock(c, i).or_else(|| colon_clock(c, i)) {
        return Some(r);
    }
    if let Some(e) = words(c, i, &["noon"]) {
        return Some((Spec { hour: Some(12), ..Default::default() }, e));
    }
    if let Some(e) = words(c, i, &["midnight"]) {
        return Some((Spec { hour: Some(0), ..Default::default() }, e));
    }
    let n = number_at(c, i, Lang::En)?;
    let v = n.int()?;
    if !(1..=12).contains(&v) {
        return None;
    }
    let mut s = Spec { hour: Some(v as u32), ambig: true, ..Default::default() };
    let mut end = n.e;
    if let Some((pm, e2)) = ampm(c, end) {
        apply_ampm(&mut s, pm);
        end = e2;
    }
    Some((s, end))
}

/// "half past three", "a quarter past 3pm", "20 past 3pm", "twenty after 3pm",
/// "15 minutes past 3pm", "a quarter to noon", "15 to noon", "half three".
fn relative_clock(c: &[char], i: usize, _cx: &Ctx) -> Option<(Spec, usize)> {
    let mut q;
    let mins: i64;
    let mut explicit = true;
    if let Some(e) = words(c, i, &["half"]) {
        mins = 30;
        q = e;
    } else if let Some(e) = words(c, i, &["a", "quarter"]).or_else(|| words(c, i, &["quarter"])) {
        mins = 15;
        q = e;
    } else {
        let n = number_at(c, i, Lang::En)?;
        let v = n.int()?;
        if !(1..60).contains(&v) {
            return None;
        }
        mins = v;
        q = n.e;
        explicit = v > 12;
        if let Some(e) = words(c, skip_ws(c, q), &["minutes"])
            .or_else(|| words(c, skip_ws(c, q), &["minute"]))
            .or_else(|| words(c, skip_ws(c, q), &["mins"]))
        {
            q = e;
        }
    }
    let r = skip_ws(c, q);
    let (x, e) = read_word(c, r)?;
    let sign = match x.as_str() {
        "past" | "after" => 1,
        "to" | "till" | "before" | "of" if explicit => -1,
        _ => {
            // "half three"
            if mins == 30 && r > q && q == i + 4 {
                let (s, e2) = clock_atom(c, r)?;
                let mut s = s;
                s.minute = Some(30);
                return Some((s, e2));
            }
            return None;
        }
    };
    let (mut s, e2) = clock_atom(c, skip_ws(c, e))?;
    let h = s.hour? as i64;
    let total = h * 60 + sign * mins;
    let total = total.rem_euclid(24 * 60);
    let nh = (total / 60) as u32;
    s.minute = Some((total % 60) as u32);
    if s.ambig && nh == 0 {
        s.hour = Some(12);
    } else {
        s.hour = Some(nh);
    }
    if nh > 12 {
        s.ambig = false;
    }
    if h == 12 && !s.ambig && sign < 0 {
        s.hour = Some(nh);
    }
    s.latent = false;
    Some((s, e2))
}

fn skip_connectors(c: &[char], e: usize) -> usize {
    let mut j = e;
    loop {
        let q = skip_ws(c, j);
        if at(c, q) == ',' {
            j = q + 1;
            continue;
        }
        if at(c, q) == '@' {
            j = q + 1;
            continue;
        }
        if let Some((w, e2)) = read_word(c, q) {
            if matches!(w.as_str(), "at" | "on" | "of" | "the" | "in" | "for" | "during") {
                j = e2;
                continue;
            }
        }
        return q;
    }
}

/// Merges consecutive pieces from `i`.
fn run(c: &[char], i: usize, cx: &Ctx) -> Option<(Spec, usize)> {
    super::Memo::get(&cx.memo.run, i, || run_uncached(c, i, cx))
}

fn run_uncached(c: &[char], i: usize, cx: &Ctx) -> Option<(Spec, usize)> {
    let (mut s, mut e) = piece(c, i, cx)?;
    for _ in 0..8 {
        // "today in one hour": a shift from now within the named day is that instant
        let k = skip_ws(c, e);
        // ("maghi in 2019" merges the year below; "thanksgiving in 3 years" is
        // left to `expr_core`)
        let in_end = words(c, k, &["in"]).filter(|_| k > e);
        let bare = in_end.and_then(|x| in_bare_number(c, skip_ws(c, x), cx));
        if let (Some(_), None) = (in_end, bare) {
            if let Some((v, e2)) = shifts(c, k, cx) {
                let sub_day = matches!(v, TimeValue::Instant(_, g) if g < Grain::Day);
                if sub_day && s.has_date() && !s.has_time() && s.fixed.is_none() {
                    if let (Some(TimeValue::Instant(d, Grain::Day)), Some((t, _))) = (resolve(&s, cx), v.start()) {
                        if t.date() == d.date() {
                            s = Spec { fixed: Some(v), ..Default::default() };
                            e = e2;
                        }
                    }
                }
                break;
            }
        }
        let j = skip_connectors(c, e);
        if j == e && at(c, e).is_ascii_alphanumeric() {
            break;
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
    // trailing "ish", "approximately"
    if let Some(e2) = words(c, skip_ws(c, e), &["approximately"]) {
        e = e2;
    }
    if starts_ci(c, e, "ish") && !at(c, e + 3).is_ascii_alphanumeric() {
        e += 3;
    }
    if s.latent {
        return None;
    }
    Some((s, e))
}

/// Whether an English time expression can start at `i`: a cheap filter run
/// before [`expr`] and [`piece`]. Every rule of this
/// grammar opens with a word this accepts (a filler or range word, a modifier, a
/// number or ordinal word, a calendar or clock word, a holiday name); words only
/// found inside a phrase ("ago", "of", "to", "am") do not open one.
pub(crate) fn may_start(c: &[char], i: usize) -> bool {
    let ch = at(c, i);
    if !ch.is_ascii_alphabetic() {
        // digits; "@ 3pm"; ".5 hours"; a holiday name opening with a symbol
        return ch.is_ascii_digit()
            || ch == '@'
            || (ch == '.' && at(c, i + 1).is_ascii_digit())
            || (matches!(ch, '\'' | '\u{2019}') && at(c, i + 1).is_ascii_digit())
            || holidays::NAMES.has_first(ch);
    }
    let Some((word, _)) = read_word(c, i) else {
        // too long or glued to a non-ASCII letter: let the rules decide
        return true;
    };
    let w = word.as_str();
    let opener = matches!(
        w,
        "a" | "an"
            | "about"
            | "after"
            | "all"
            | "anytime"
            | "approximately"
            | "around"
            | "as"
            | "asap"
            | "at"
            | "atm"
            | "autumn"
            | "before"
            | "beginning"
            | "between"
            | "bom"
            | "bow"
            | "boy"
            | "by"
            | "closest"
            | "coming"
            | "couple"
            | "current"
            | "during"
            | "early"
            | "end"
            | "eod"
            | "eom"
            | "eow"
            | "eoy"
            | "fall"
            | "few"
            | "following"
            | "for"
            | "fortnight"
            | "fortnights"
            | "from"
            | "half"
            | "hundred"
            | "in"
            | "just"
            | "last"
            | "late"
            | "later"
            | "mid"
            | "middle"
            | "nearest"
            | "midday"
            | "midnight"
            | "next"
            | "noon"
            | "now"
            | "on"
            | "pair"
            | "past"
            | "point"
            | "previous"
            | "quarter"
            | "rest"
            | "right"
            | "since"
            | "single"
            | "sometimes"
            | "spring"
            | "start"
            | "summer"
            | "the"
            | "this"
            | "three-quarters"
            | "through"
            | "till"
            | "tmr"
            | "tmrw"
            | "today"
            | "tomorrow"
            | "tomorrows"
            | "tonight"
            | "tonite"
            | "until"
            | "upcoming"
            | "weekend"
            | "winter"
            | "within"
            | "wkend"
            | "yesterday"
            | "dozen"
    );
    opener
        || pod_word(c, i).is_some()
        || weekday_word(w).is_some()
        || month_word(w).is_some()
        || grain_word(w).is_some()
        || crate::entities::number_en::unit_word(w).is_some()
        || crate::entities::number_en::tens_word(w).is_some()
        || crate::entities::number_en::scale_word(w).is_some()
        || en_ordinal(c, i).is_some()
        || holidays::NAMES.longest(c, i, true).is_some()
}

/// A full expression at `i`: prefixes, ranges and open intervals around runs.
pub(crate) fn expr(c: &[char], i: usize, cx: &Ctx) -> Option<(TimeValue, usize)> {
    if let Some(r) = for_duration(c, i, cx) {
        return Some(r);
    }
    let r = expr_core(c, i, cx, None);
    // a day before a clock range: "Thursday from 9:30 to 11:00", "this Thu 9-11am"
    if let Some((a, e)) = run(c, skip_fillers(c, i), cx) {
        if a.has_date() && !a.has_time() && a.fixed.is_none() {
            let j = skip_connectors(c, e);
            if let Some((v, e2)) = expr_core(c, j, cx, Some(&a)) {
                if matches!(v, TimeValue::Interval(..)) && r.as_ref().map(|x| e2 > x.1).unwrap_or(true) {
                    return Some((v, e2));
                }
            }
        }
    }
    let (v, e) = r?;
    // "4pm for 30 mins", "18th Dec for 10 days"
    if let Some(r) = words(c, skip_ws(c, e), &["for"]) {
        if let Some((n, g, e2)) = count_grain(c, skip_ws(c, r)) {
            if let Some(iv) = span_for(&v, n, g) {
                return Some((iv, e2));
            }
        }
    }
    Some((v, e))
}

/// [start, start + n g] as an interval that ends one unit of g later (Duckling's
/// inclusive end): "from 4pm for thirty minutes" is 16:00 to 16:31.
fn span_for(v: &TimeValue, n: f64, g: Grain) -> Option<TimeValue> {
    if n < 1.0 || n.fract() != 0.0 || n > 10_000.0 {
        return None;
    }
    let (t, _) = v.start()?;
    let t = match v {
        TimeValue::Instant(t, vg) if *vg > g => truncate(*t, g),
        _ => t,
    };
    let end = add(t, g, n as i64 + 1)?;
    Some(TimeValue::Interval(Some(t), Some(end), g))
}

/// "for 10 days from 18th Dec", "for 30' starting from 4pm".
fn for_duration(c: &[char], i: usize, cx: &Ctx) -> Option<(TimeValue, usize)> {
    let e = words(c, i, &["for"])?;
    let (n, g, e2) = count_grain(c, skip_ws(c, e))?;
    let mut q = skip_ws(c, e2);
    if let Some(e3) = words(c, q, &["starting"]) {
        q = skip_ws(c, e3);
    }
    let e3 = words(c, q, &["from"])?;
    let (v, e4) = expr_core(c, skip_ws(c, e3), cx, None)?;
    Some((span_for(&v, n, g)?, e4))
}

fn skip_fillers(c: &[char], i: usize) -> usize {
    let mut p = i;
    for _ in 0..3 {
        if let Some((w, e)) = w_at(c, p) {
            if matches!(w.as_str(), "around" | "about" | "approximately" | "at" | "on") {
                let q = skip_ws(c, e);
                if q > e {
                    p = q;
                    continue;
                }
            }
        }
        break;
    }
    p
}

/// A bare day or hour number starting a range whose end names the month or
/// the half of the day: "23rd to 26th Oct", "1-8 september", "3-4pm".
fn loose_range(c: &[char], p: usize, cx: &Ctx, between: bool, base: Option<&Spec>) -> Option<(TimeValue, usize)> {
    if let Some((d, e)) = day_num(c, p, true) {
        let a = Spec { day: Some(d), ..Default::default() };
        if let Some((v, e2, b)) = range_tail_b(c, e, &a, cx, between, base) {
            if b.month.is_some() || b.month_rel.is_some() {
                return Some((v, e2));
            }
        }
    }
    let dg = digits(c, p).filter(|d| d.ndig <= 2 && d.v <= 24.0)?;
    if at(c, dg.e).is_ascii_alphanumeric() {
        return None;
    }
    let a = Spec { hour: Some(dg.v as u32), ambig: (1.0..=12.0).contains(&dg.v), ..Default::default() };
    let (v, e2, b) = range_tail_b(c, dg.e, &a, cx, between, base)?;
    (b.hour.is_some() && (!b.ambig || b.minute.is_some() || base.is_some())).then_some((v, e2))
}

fn expr_core(c: &[char], i: usize, cx: &Ctx, base: Option<&Spec>) -> Option<(TimeValue, usize)> {
    let mut p = i;
    // leading fillers
    for _ in 0..3 {
        if let Some((w, e)) = w_at(c, p) {
            if matches!(
                w.as_str(),
                "around" | "about" | "approximately" | "for" | "sometimes" | "anytime" | "at" | "on" | "during"
            ) {
                let q = skip_ws(c, e);
                if q > e {
                    p = q;
                    continue;
                }
            }
        }
        if at(c, p) == '@' {
            p = skip_ws(c, p + 1);
            continue;
        }
        break;
    }
    let start_word = w_at(c, p).map(|x| x.0).unwrap_or_default();
    // open intervals and ranges introduced by a word
    let mut lead = None;
    match start_word.as_str() {
        "from" | "between" | "after" | "since" | "before" | "until" | "till" | "through" | "by" | "later" => {
            let mut e = w_at(c, p).map(|x| x.1).unwrap_or(p);
            if start_word == "later" {
                e = words(c, p, &["later", "than"])?;
            }
            if start_word == "by" {
                if let Some(e2) = words(c, skip_ws(c, e), &["the"]) {
                    e = e2;
                }
            }
            lead = Some((start_word, skip_ws(c, e)));
        }
        _ => {}
    }
    if let Some((kw, q)) = &lead {
        if kw == "from" || kw == "between" {
            // "from 5-12 of next month": a day range, not May 12th
            let whole = run(c, *q, cx).map(|r| r.1);
            if let Some(r) = loose_range(c, *q, cx, kw == "between", base).filter(|r| whole.is_none_or(|w| r.1 >= w)) {
                return Some(r);
            }
        }
        if (kw == "from" || kw == "between") && run(c, *q, cx).is_none() {
            if let Some((a, e)) = run_loose(c, *q, cx) {
                if let Some(r) = range_tail(c, e, &a, cx, kw == "between", base) {
                    return Some(r);
                }
            }
        }
        let year_only = || {
            let d = digits(c, *q).filter(|d| d.ndig == 4 && !at(c, d.e).is_ascii_alphanumeric())?;
            let (s, e) = run_loose(c, *q, cx)?;
            (e == d.e && s.year.is_some()).then_some((s, e))
        };
        if let Some((a, e)) = run(c, *q, cx).or_else(year_only) {
            // range
            if let Some(r) = range_tail(c, e, &a, cx, kw == "between", base) {
                return Some(r);
            }
            let a = match base {
                Some(b) => merge(b, &a)?,
                None => a,
            };
            // "since Monday", "since February 20", "since June": what has already begun, so
            // the last such day or month, not the next
            let v = if kw == "since" && !cx.past {
                resolve(&a, &super::Ctx::new(cx.now, true, cx.lang))?
            } else {
                resolve(&a, cx)?
            };
            let (mut t, g) = v.start()?;
            // "since this January": a named month still ahead is last year's
            if kw == "since"
                && t > cx.now
                && g == Grain::Month
                && a.month.is_some()
                && !c[*q..e].iter().any(|ch| ch.is_ascii_digit())
            {
                t = add(t, Grain::Year, -1)?;
            }
            // "vinyl from the 80s", "orders from the past 5 days": within that period, not
            // from its start on
            if kw == "from" && a.fixed.is_some() && matches!(v, TimeValue::Interval(Some(_), Some(_), _)) {
                return Some((v, e));
            }
            return match kw.as_str() {
                "after" | "since" | "from" | "later" => Some((TimeValue::Interval(Some(t), None, g), e)),
                "before" | "until" | "till" | "through" => {
                    let g2 = if g == Grain::Hour && kw != "before" { Grain::Minute } else { g };
                    Some((TimeValue::Interval(None, Some(t), g2), e))
                }
                "by" => {
                    let end = match &v {
                        TimeValue::Interval(_, Some(b), _) => *b,
                        _ => t,
                    };
                    Some((TimeValue::Interval(Some(cx.now), Some(end), Grain::Second), e))
                }
                _ => Some((TimeValue::Interval(Some(t), None, g), e)),
            };
        }
        if kw == "by" || kw == "after" || kw == "within" {
            // "by EOD" etc. handled below by boundary words
        }
    }
    if base.is_none() {
        if let Some(r) = closest(c, p, cx) {
            return Some(r);
        }
        // "three days after Easter", "2 hours before 5pm"
        if let Some((n, g, e)) = count_grain(c, p) {
            let q = skip_ws(c, e);
            let dir = match w_at(c, q).map(|x| x.0).as_deref() {
                Some("after") => 1,
                Some("before") => -1,
                _ => 0,
            };
            if dir != 0 && n.fract() == 0.0 && n.abs() <= 10_000.0 {
                let e2 = w_at(c, q)?.1;
                if let Some((a, e3)) = run(c, skip_ws(c, e2), cx) {
                    if let TimeValue::Instant(t, tg) = resolve(&a, cx)? {
                        let t = add(t, g, dir * n as i64)?;
                        return Some((TimeValue::Instant(t, tg.min(g.finer().max(Grain::Second))), e3));
                    }
                }
            }
        }
    }
    let Some((a, e)) = run(c, p, cx) else {
        return loose_range(c, p, cx, false, base);
    };
    // "1-8 september": a day range, not the date 1/8 followed by a month
    if at(c, p).is_ascii_digit() {
        if let Some((v, e2)) = loose_range(c, p, cx, false, base) {
            let tail = range_tail(c, e, &a, cx, false, base).map(|r| r.1);
            if e2 > e && tail.map(|t| e2 > t).unwrap_or(true) {
                return Some((v, e2));
            }
        }
    }
    // "thanksgiving in a year", "March in 1 year", "thanksgiving 3 months ago":
    // the expression as seen from a shifted now
    if base.is_none() && !a.has_time() && a.fixed.is_none() && a.date.is_none() {
        let q = skip_ws(c, e);
        let shifted = if let Some(e2) = words(c, q, &["in"]) {
            count_grain(c, skip_ws(c, e2))
        } else {
            count_grain(c, q).and_then(|(n, g, e3)| {
                let e4 = words(c, skip_ws(c, e3), &["ago"])?;
                Some((-n, g, e4))
            })
        };
        if let Some((n, g, e3)) = shifted.filter(|x| x.0.fract() == 0.0 && x.0.abs() <= 10_000.0) {
            let cx2 = Ctx::new(add(cx.now, g, n as i64)?, cx.past, cx.lang);
            if let Some(v) = resolve(&a, &cx2) {
                return Some((v, e3));
            }
        }
    }
    if let Some(r) = range_tail(c, e, &a, cx, false, base) {
        return Some(r);
    }
    if base.is_some() {
        return None;
    }
    let v = resolve(&a, cx)?;
    Some((v, e))
}

/// "the closest Monday to Oct 5th", "the 2nd closest xmas to today": the n-th
/// occurrence of a weekday or holiday nearest to a day, either side of it.
fn closest(c: &[char], i: usize, cx: &Ctx) -> Option<(TimeValue, usize)> {
    let mut p = i;
    if let Some(e) = words(c, p, &["the"]) {
        p = skip_ws(c, e);
    }
    let mut n = 1;
    if let Some((k, e)) = en_ordinal(c, p) {
        n = k;
        p = skip_ws(c, e);
    }
    let e = words(c, p, &["closest"]).or_else(|| words(c, p, &["nearest"]))?;
    if !(1..=5).contains(&n) {
        return None;
    }
    let (x, e1) = piece(c, skip_ws(c, e), cx)?;
    let e2 = words(c, skip_ws(c, e1), &["to"])?;
    let (y, e3) = run(c, skip_ws(c, e2), cx)?;
    let (t, _) = resolve(&y, cx)?.start()?;
    let t = t.date();
    let only = |s: &Spec| Spec { weekday: s.weekday, holiday: s.holiday, ..Default::default() };
    let mut days: Vec<chrono::NaiveDate> = match (x.weekday, x.holiday) {
        (Some(wd), None) if only(&x) == x => {
            (-14..=14).map(|k| t + Duration::days(k)).filter(|d| d.weekday().num_days_from_monday() == wd).collect()
        }
        (None, Some(h)) if x.year.is_none() && !x.has_time() => {
            (-6..=6).filter_map(|k| holidays::date(h, t.year() + k)).collect()
        }
        _ => return None,
    };
    days.sort_by_key(|d| ((*d - t).num_days().abs(), *d));
    let d = *days.get(n as usize - 1)?;
    Some((TimeValue::Instant(d.and_hms_opt(0, 0, 0)?, Grain::Day), e3))
}

/// "- B", "to B", "till B", "through B", "and B" (after between): a range.
fn range_tail(
    c: &[char],
    e: usize,
    a: &Spec,
    cx: &Ctx,
    between: bool,
    base: Option<&Spec>,
) -> Option<(TimeValue, usize)> {
    range_tail_b(c, e, a, cx, between, base).map(|(v, e, _)| (v, e))
}

/// `range_tail`, also returning the end's spec.
fn range_tail_b(
    c: &[char],
    e: usize,
    a: &Spec,
    cx: &Ctx,
    between: bool,
    base: Option<&Spec>,
) -> Option<(TimeValue, usize, Spec)> {
    let q = skip_ws(c, e);
    let after = if at(c, q) == '-' || at(c, q) == '~' {
        Some(q + 1)
    } else if let Some((w, e2)) = read_word(c, q) {
        match w.as_str() {
            "to" | "till" | "until" | "untill" | "thru" | "through" => Some(e2),
            "and" if between => Some(e2),
            "but" => words(c, skip_ws(c, e2), &["before"]),
            _ => None,
        }
    } else {
        None
    }?;
    let mut q2 = skip_ws(c, after);
    if let Some(e3) = words(c, q2, &["the"]) {
        q2 = skip_ws(c, e3);
    }
    let (mut b, e2) = match bare_bound(c, q2, a) {
        Some(r) => r,
        None => run_loose(c, q2, cx)?,
    };
    // "12/03 - 15/03": an ambiguous pair reads like the other end, day first
    let mut a = a.clone();
    let swap = |s: &mut Spec| {
        std::mem::swap(&mut s.month, &mut s.day);
        s.day_first = Some(true);
    };
    match (a.day_first, b.day_first) {
        (Some(false), Some(true)) => swap(&mut a),
        (Some(true), Some(false)) => swap(&mut b),
        _ => {}
    }
    let a = &a;
    let v = match base {
        Some(d) => range(&merge(d, a)?, &merge(d, &b)?, cx)?,
        None => range(a, &b, cx)?,
    };
    Some((v, e2, b))
}

/// A bare day or hour ending a range whose start names one ("July 13-15", "3-4pm").
fn bare_bound(c: &[char], i: usize, a: &Spec) -> Option<(Spec, usize)> {
    let (v, e) = if let Some((v, e)) = en_ordinal(c, i) {
        (v, e)
    } else {
        let d = digits(c, i)?;
        if d.ndig == 0 || d.ndig > 2 {
            return None;
        }
        // "3/9", "03/09/2025": a numeric date of its own
        if at(c, d.e) == '/' && at(c, d.e + 1).is_ascii_alphanumeric() {
            return None;
        }
        (d.v as i64, d.e)
    };
    let q = skip_ws(c, e);
    let more = at(c, q).is_ascii_alphanumeric() || at(c, e) == ':';
    if a.day.is_some() && a.hour.is_none() && (1..=31).contains(&v) {
        if more {
            if let Some((m, e2)) = month_at(c, q) {
                return Some((Spec { day: Some(v as u32), month: Some(m), ..Default::default() }, e2));
            }
            if words(c, q, &["of"]).is_some() {
                return None;
            }
        }
        return Some((Spec { day: Some(v as u32), ..Default::default() }, e));
    }
    if a.hour.is_some() && (0..=24).contains(&v) && !more {
        return Some((Spec { hour: Some(v as u32), ambig: (1..=12).contains(&v), ..Default::default() }, e));
    }
    None
}

/// Like `run`, but a bare number is accepted (range end: "July 13-15", "3-4pm").
fn run_loose(c: &[char], i: usize, cx: &Ctx) -> Option<(Spec, usize)> {
    if let Some(r) = run(c, i, cx) {
        return Some(r);
    }
    let (mut s, mut e) = piece(c, i, cx)?;
    for _ in 0..4 {
        let j = skip_connectors(c, e);
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
    s.latent = false;
    Some((s, e))
}

#[allow(dead_code)]
fn _unused(_: NaiveDateTime) {}

#[cfg(test)]
mod tests {
    use crate::entities::{conformance, parse, EntityKind, Lang, ParseContext};
    use chrono::NaiveDateTime;
    use serde_json::{json, Value};

    /// 2026-03-11 10:00, a Wednesday.
    fn now() -> NaiveDateTime {
        NaiveDateTime::parse_from_str("2026-03-11T10:00:00", "%Y-%m-%dT%H:%M:%S").unwrap_or_default()
    }

    /// The time entities of `text` as (text, value).
    fn times_at(text: &str, now: NaiveDateTime) -> Vec<(String, Value)> {
        let ctx = ParseContext::new(Lang::En, now);
        let chars: Vec<char> = text.chars().collect();
        parse(text, &ctx)
            .into_iter()
            .filter(|e| e.kind == EntityKind::Time)
            .map(|e| (chars[e.start..e.end].iter().collect(), e.value))
            .collect()
    }

    fn at_time(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap_or_default()
    }

    fn instant(v: &str, g: &str) -> Value {
        json!({"type": "instant", "value": v, "grain": g})
    }

    fn interval(a: &str, b: &str, g: &str) -> Value {
        json!({"type": "interval", "from": a, "to": b, "grain": g})
    }

    /// The one time entity in `text` at `now`: (its text, value).
    fn one_at(text: &str, now: &str) -> (String, Value) {
        let t = times_at(text, at_time(now));
        assert_eq!(t.len(), 1, "{text:?}: {t:?}");
        t.into_iter().next().unwrap_or_default()
    }

    /// The value of the one time entity in `text` at 2026-03-11 10:00.
    fn val(text: &str) -> Value {
        one_at(text, "2026-03-11T10:00:00").1
    }

    fn day(d: &str) -> Value {
        instant(&format!("{d}T00:00:00"), "day")
    }

    fn days(a: &str, b: &str) -> Value {
        interval(&format!("{a}T00:00:00"), &format!("{b}T00:00:00"), "day")
    }

    #[test]
    fn day_month_without_year() {
        assert_eq!(val("on 15/03"), day("2026-03-15"));
        assert_eq!(val("3/15"), day("2026-03-15"));
        // an ambiguous pair stays month first
        assert_eq!(one_at("03/09", "2026-03-01T10:00:00").1, day("2026-03-09"));
        assert_eq!(one_at("Mar/7", "2026-02-10T09:00:00").1, day("2026-03-07"));
        assert_eq!(val("7-Apr"), day("2026-04-07"));
        assert_eq!(val("Mar-7-2027"), day("2027-03-07"));
        assert_eq!(val("June thirty"), day("2026-06-30"));
        assert_eq!(val("June twenty one"), day("2026-06-21"));
        assert_eq!(val("the 3rd of June"), day("2026-06-03"));
        assert_eq!(one_at("March the third", "2026-02-10T09:00:00").1, day("2026-03-03"));
        assert_eq!(val("15/03/2027"), day("2027-03-15"));
        // year roll-over
        assert_eq!(one_at("on 13/1", "2026-12-28T15:00:00").1, day("2027-01-13"));
        // a spelled year is not a day
        assert_eq!(val("May nineteen ninety"), instant("1990-05-01T00:00:00", "month"));
    }

    #[test]
    fn ranges_between_dates() {
        assert_eq!(val("March 3, 2025 - 03/09/2025"), days("2025-03-03", "2025-03-10"));
        assert_eq!(one_at("from March 3 to March 9", "2026-02-10T09:00:00").1, days("2026-03-03", "2026-03-10"));
        assert_eq!(one_at("between 3/3 and 3/9", "2026-02-10T09:00:00").1, days("2026-03-03", "2026-03-10"));
        assert_eq!(val("from 5-12 of next month"), days("2026-04-05", "2026-04-13"));
        assert_eq!(val("June 1st through June 5th"), days("2026-06-01", "2026-06-06"));
        assert_eq!(val("from 2/20/2026 to 3/2/2026"), days("2026-02-20", "2026-03-03"));
        assert_eq!(val("from 15/03 to 20/03"), days("2026-03-15", "2026-03-21"));
        // an ambiguous end reads day first like the other one
        assert_eq!(val("from 12/03 to 15/03"), days("2026-03-12", "2026-03-16"));
        assert_eq!(one_at("from Dec 28 to Jan 3", "2026-12-20T10:00:00").1, days("2026-12-28", "2027-01-04"));
        assert_eq!(val("from 1-8 september"), days("2026-09-01", "2026-09-09"));
    }

    #[test]
    fn months_relative_to_now() {
        let month = |d: &str| instant(&format!("{d}-01T00:00:00"), "month");
        let since = |d: &str| json!({"type": "interval", "from": format!("{d}-01T00:00:00"), "grain": "month"});
        assert_eq!(val("this june"), month("2026-06"));
        assert_eq!(val("in June"), month("2026-06"));
        assert_eq!(val("next march"), month("2027-03"));
        assert_eq!(val("last march"), month("2025-03"));
        assert_eq!(val("since this march"), since("2026-03"));
        assert_eq!(val("since this january"), since("2026-01"));
        assert_eq!(val("since june"), since("2025-06"));
        assert_eq!(val("since march 2025"), since("2025-03"));
        assert_eq!(one_at("in January", "2026-12-28T15:00:00").1, month("2027-01"));
    }

    #[test]
    fn decades() {
        let dec = |y: i32| interval(&format!("{y}-01-01T00:00:00"), &format!("{}-01-01T00:00:00", y + 10), "year");
        assert_eq!(val("the 80s"), dec(1980));
        assert_eq!(val("the '90s"), dec(1990));
        assert_eq!(val("the 2010s"), dec(2010));
        assert_eq!(val("the nineties"), dec(1990));
        assert_eq!(val("in the 1970s"), dec(1970));
        assert_eq!(val("the 1980's"), dec(1980));
        assert_eq!(val("vinyl from the 60s"), dec(1960));
        assert!(times_at("she is in her 80s", now()).is_empty());
    }

    #[test]
    fn period_ends_and_spans() {
        let by = |t: &str| interval("2026-03-11T10:00:00", t, "second");
        assert_eq!(val("end of today"), interval("2026-03-11T18:00:00", "2026-03-12T00:00:00", "hour"));
        assert_eq!(val("by end of day"), by("2026-03-12T00:00:00"));
        assert_eq!(val("by the end of today"), by("2026-03-12T00:00:00"));
        assert_eq!(val("end of next week"), days("2026-03-20", "2026-03-23"));
        assert_eq!(val("by the end of next week"), by("2026-03-23T00:00:00"));
        assert_eq!(val("end of the month"), days("2026-03-21", "2026-04-01"));
        assert_eq!(val("beginning of next month"), days("2026-04-01", "2026-04-11"));
        assert_eq!(val("the past 5 days"), days("2026-03-06", "2026-03-11"));
        assert_eq!(val("the last 2 weeks"), interval("2026-02-23T00:00:00", "2026-03-09T00:00:00", "week"));
        assert_eq!(val("the next 3 days"), days("2026-03-12", "2026-03-15"));
        assert_eq!(val("over the past month"), instant("2026-02-01T00:00:00", "month"));
        assert_eq!(val("the rest of the week"), days("2026-03-11", "2026-03-15"));
        assert_eq!(val("all week"), days("2026-03-09", "2026-03-15"));
    }

    #[test]
    fn parts_of_day() {
        let h = |a: &str, b: &str| interval(&format!("2026-03-{a}:00:00"), &format!("2026-03-{b}:00:00"), "hour");
        assert_eq!(val("this morning"), h("11T00", "11T12"));
        assert_eq!(val("tomorrow evening"), h("12T18", "13T00"));
        assert_eq!(val("monday afternoon"), h("16T12", "16T19"));
        assert_eq!(val("tonight"), h("11T18", "12T00"));
        assert_eq!(val("late tonight"), h("11T21", "12T00"));
        assert_eq!(val("tomorrow early morning"), h("12T00", "12T09"));
        assert_eq!(val("in the afternoon"), h("11T12", "11T19"));
        assert_eq!(val("tomorrow late afternoon"), h("12T15", "12T19"));
        assert_eq!(val("call me at night"), h("11T18", "12T00"));
        assert_eq!(val("sun morning"), h("15T00", "15T12"));
    }

    #[test]
    fn plain_words_and_numbers_are_no_dates() {
        for text in [
            "may I ask something",
            "I sat on hold",
            "do you sell sun cream",
            "we will march on",
            "is it second hand",
            "I had a fall",
            "15",
            "3",
            "I need 15 of these",
            "return 2 of the 5 items",
            "in the 5 days since",
            "may one of you help me",
            "the size 12 shoes",
            "2014 - 10",
        ] {
            assert!(times_at(text, now()).is_empty(), "{text:?}: {:?}", times_at(text, now()));
        }
        // the verb guard leaves dates alone
        assert_eq!(val("in march on the 3rd").get("grain"), Some(&json!("day")));
        assert_eq!(one_at("at the moment", "2026-03-11T10:00:00").1, instant("2026-03-11T10:00:00", "second"));
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for text in [
            "'",
            "the '",
            "the 80",
            "'9s",
            "the 2",
            "Mar/",
            "Mar/99",
            "31/13",
            "99/99/9999",
            "june thirty-",
            "/3",
            "3/",
        ] {
            let _ = times_at(text, now());
        }
    }

    #[test]
    #[ignore = "diagnostic: prints the time entities of the texts in KEFU_DATES (one a line)"]
    fn dbg_texts() {
        let texts = std::env::var("KEFU_DATES").unwrap_or_default();
        for t in texts.lines() {
            eprintln!("{t:?} → {:?}", times_at(t, now()));
        }
    }

    #[test]
    #[ignore = "diagnostic: prints the English conformance accuracy and time misses"]
    fn en_conformance_report() {
        let Some(dir) = conformance::find_corpus(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))) else {
            return;
        };
        let cases = conformance::load(&dir.join("en.jsonl")).unwrap_or_default();
        let preds: Vec<_> = cases.iter().map(conformance::run_case).collect();
        let t = conformance::score(&cases, &preds);
        let all = t.get("lang:en").copied().unwrap_or_default();
        eprintln!("en accuracy {}/{} = {:.4}", all.correct, all.cases, all.accuracy());
        for (c, p) in cases.iter().zip(&preds) {
            if !conformance::judge(c, p) && c.expect.iter().any(|e| e.0 == EntityKind::Time) {
                let got: Vec<String> = p.iter().map(|x| format!("{:?} {}", x.kind, x.value)).collect();
                eprintln!("MISS {} {:?} → {}", c.id, c.text, got.join("; "));
            }
        }
    }
}
