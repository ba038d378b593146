//! English time pieces: "tomorrow at 3pm", "next Friday", "the 29th", "in 2 hours",
//! "from 3 to 5pm", "last weekend", "Christmas", "March 3rd 2015", "3:30 p.m.".

use chrono::{Datelike, Duration, NaiveDateTime};

use super::{add, holidays, merge, n_grains, range, resolve, shift, truncate, Ctx, Grain, Pod, Spec, TimeValue};
use crate::entities::number_en::read_word;
use crate::entities::numeral::{digits, number_at};
use crate::entities::ordinal::en_ordinal;
use crate::entities::text::{at, skip_ws, word_start};
use crate::entities::Lang;

fn w_at(c: &[char], i: usize) -> Option<(String, usize)> {
    if !word_start(c, i) {
        return None;
    }
    read_word(c, i)
}

/// Next word after spaces.
fn next_w(c: &[char], e: usize) -> Option<(String, usize)> {
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
        let (x, e) = w_at(c, p)?;
        if x != *w {
            return None;
        }
        p = e;
    }
    Some(p)
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
    let mut s = Spec { hour: Some(hv), minute: mv, ..Default::default() };
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
        if (1..=12).contains(&bv) && sep != '.' {
            return Some((Spec { year: Some(av as i32), month: Some(bv as u32), ..Default::default() }, q));
        }
        return None;
    }
    if a.ndig > 2 {
        return None;
    }
    if let Some(t) = third {
        // m/d/y
        let y = if t.ndig == 2 { year2(t.v as i64) } else { t.v as i32 };
        if !(1..=12).contains(&av) || !(1..=31).contains(&bv) {
            return None;
        }
        return Some((Spec { year: Some(y), month: Some(av as u32), day: Some(bv as u32), ..Default::default() }, t.e));
    }
    if b.ndig == 4 && (1..=12).contains(&av) && sep == '/' {
        return Some((Spec { year: Some(bv as i32), month: Some(av as u32), ..Default::default() }, q));
    }
    if (1..=12).contains(&av) && (1..=31).contains(&bv) && b.ndig <= 2 && sep != '.' {
        // a dash right after a month-day pair: may be a range start, fine
        if at(c, q) == ':' {
            return None;
        }
        return Some((Spec { month: Some(av as u32), day: Some(bv as u32), ..Default::default() }, q));
    }
    None
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
    let today = cx.today();
    let mut best: Option<(Spec, usize)> = None;
    let mut consider = |s: Spec, e: usize| {
        if best.as_ref().map(|b| e > b.1).unwrap_or(true) {
            best = Some((s, e));
        }
    };
    let fixed = |v: TimeValue| Spec { fixed: Some(v), ..Default::default() };
    let ch = at(c, i);
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
    if let Some(e) = words(c, i, &["right", "now"])
        .or_else(|| words(c, i, &["just", "now"]))
        .or_else(|| words(c, i, &["at", "the", "moment"]))
    {
        consider(fixed(TimeValue::Instant(cx.now, Grain::Second)), e);
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
        consider(Spec { weekday: Some(wd), ..Default::default() }, e);
    }
    // month (+ day): "march 3", "march first", "february the 15th"
    if let Some((m, e)) = month_at(c, i) {
        consider(Spec { month: Some(m), ..Default::default() }, e);
        let mut q = skip_ws(c, e);
        if let Some(e2) = words(c, q, &["the"]) {
            q = skip_ws(c, e2);
        }
        if q > e || at(c, e).is_ascii_digit() {
            let q = if at(c, e).is_ascii_digit() { e } else { q };
            if let Some((d, e3)) = day_num(c, q, true) {
                consider(Spec { month: Some(m), day: Some(d), ..Default::default() }, e3);
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
            if q > i {
                // "the 15th" alone
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
                let w2: String = c[dg.e..k].iter().collect();
                if let Some(m) = month_word(&w2) {
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
        consider(Spec { holiday: Some(*h), ..Default::default() }, e);
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
                if let Some(e3) = words(c, skip_ws(c, e2), &["end"]) {
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
        let (n, g, e) = count_grain(c, q)?;
        return match w.as_str() {
            "in" => {
                let v = if g >= Grain::Day && g <= Grain::Week && n.fract() == 0.0 && g == Grain::Week {
                    let t = add(cx.now, g, n as i64)?;
                    TimeValue::Instant(truncate(t, Grain::Day), Grain::Day)
                } else {
                    shift(cx, n, g)?
                };
                Some((v, e))
            }
            "within" => {
                let t = add(truncate(cx.now, Grain::Day), g, n as i64)?;
                Some((TimeValue::Interval(Some(cx.now), Some(t), Grain::Second), e))
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
        s.latent = true;
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
    let (mut s, mut e) = piece(c, i, cx)?;
    for _ in 0..8 {
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

/// A full expression at `i`: prefixes, ranges and open intervals around runs.
pub(crate) fn expr(c: &[char], i: usize, cx: &Ctx) -> Option<(TimeValue, usize)> {
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
            lead = Some((start_word.clone(), skip_ws(c, e)));
        }
        _ => {}
    }
    if let Some((kw, q)) = &lead {
        if (kw == "from" || kw == "between") && run(c, *q, cx).is_none() {
            if let Some((a, e)) = run_loose(c, *q, cx) {
                if let Some(r) = range_tail(c, e, &a, cx, kw == "between") {
                    return Some(r);
                }
            }
        }
        if let Some((a, e)) = run(c, *q, cx) {
            // range
            if let Some(r) = range_tail(c, e, &a, cx, kw == "between") {
                return Some(r);
            }
            let v = resolve(&a, cx)?;
            let (t, g) = v.start()?;
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
    let (a, e) = run(c, p, cx)?;
    if let Some(r) = range_tail(c, e, &a, cx, false) {
        return Some(r);
    }
    let v = resolve(&a, cx)?;
    Some((v, e))
}

/// "- B", "to B", "till B", "through B", "and B" (after between): a range.
fn range_tail(c: &[char], e: usize, a: &Spec, cx: &Ctx, between: bool) -> Option<(TimeValue, usize)> {
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
    let (b, e2) = match bare_bound(c, q2, a) {
        Some(r) => r,
        None => run_loose(c, q2, cx)?,
    };
    let v = range(a, &b, cx)?;
    Some((v, e2))
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
