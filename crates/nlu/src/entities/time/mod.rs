//! Times: instants with a grain, intervals and times of day, resolved against
//! `ParseContext::now`.
//!
//! Each language has a piece scanner (`en`, `zh`) that recognises small pieces
//! (a weekday, a date, a clock time, a part of day, a holiday, a relative offset…)
//! as partial [`Spec`]s. Consecutive compatible pieces are merged into one spec,
//! which is resolved into a [`TimeValue`]; two specs joined by a range word form an
//! interval.

mod calendars;
mod en;
mod holidays;
mod lunar;
mod zh;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};
use serde_json::{json, Value};

use super::text::Doc;
use super::value::Candidate;
use super::{EntityKind, Lang, ParseContext};

/// Time grains, finest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Grain {
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Grain {
    fn name(self) -> &'static str {
        match self {
            Grain::Second => "second",
            Grain::Minute => "minute",
            Grain::Hour => "hour",
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
            Grain::Quarter => "quarter",
            Grain::Year => "year",
        }
    }
    /// One grain finer (for "in 2 hours" style shifts).
    fn finer(self) -> Grain {
        match self {
            Grain::Second | Grain::Minute => Grain::Second,
            Grain::Hour => Grain::Minute,
            Grain::Day => Grain::Hour,
            Grain::Week => Grain::Day,
            Grain::Month | Grain::Quarter => Grain::Day,
            Grain::Year => Grain::Month,
        }
    }
}

/// Truncates `t` to the start of its grain.
pub(crate) fn truncate(t: NaiveDateTime, g: Grain) -> NaiveDateTime {
    let d = t.date();
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap_or(t);
    match g {
        Grain::Second => t.with_nanosecond(0).unwrap_or(t),
        Grain::Minute => d.and_hms_opt(t.hour(), t.minute(), 0).unwrap_or(t),
        Grain::Hour => d.and_hms_opt(t.hour(), 0, 0).unwrap_or(t),
        Grain::Day => midnight(d),
        Grain::Week => midnight(d - Duration::days(d.weekday().num_days_from_monday() as i64)),
        Grain::Month => midnight(d.with_day(1).unwrap_or(d)),
        Grain::Quarter => {
            let m = (d.month0() / 3) * 3 + 1;
            midnight(NaiveDate::from_ymd_opt(d.year(), m, 1).unwrap_or(d))
        }
        Grain::Year => midnight(NaiveDate::from_ymd_opt(d.year(), 1, 1).unwrap_or(d)),
    }
}

/// Adds `n` grains to `t`.
pub(crate) fn add(t: NaiveDateTime, g: Grain, n: i64) -> Option<NaiveDateTime> {
    let n = n.clamp(-100_000, 100_000);
    Some(match g {
        Grain::Second => t + Duration::seconds(n),
        Grain::Minute => t + Duration::minutes(n),
        Grain::Hour => t + Duration::hours(n),
        Grain::Day => t + Duration::days(n),
        Grain::Week => t + Duration::weeks(n),
        Grain::Month | Grain::Quarter | Grain::Year => {
            let months = n * match g {
                Grain::Month => 1,
                Grain::Quarter => 3,
                _ => 12,
            };
            add_months(t, months)?
        }
    })
}

fn add_months(t: NaiveDateTime, months: i64) -> Option<NaiveDateTime> {
    let total = t.year() as i64 * 12 + t.month0() as i64 + months;
    let y = total.div_euclid(12) as i32;
    let m = total.rem_euclid(12) as u32 + 1;
    let d = t.day().min(days_in_month(y, m));
    NaiveDate::from_ymd_opt(y, m, d)?.and_hms_opt(t.hour(), t.minute(), t.second())
}

pub(crate) fn days_in_month(y: i32, m: u32) -> u32 {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    match (NaiveDate::from_ymd_opt(ny, nm, 1), NaiveDate::from_ymd_opt(y, m, 1)) {
        (Some(a), Some(b)) => (a - b).num_days() as u32,
        _ => 30,
    }
}

/// A resolved time.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TimeValue {
    Instant(NaiveDateTime, Grain),
    Interval(Option<NaiveDateTime>, Option<NaiveDateTime>, Grain),
}

impl TimeValue {
    fn json(&self) -> Value {
        let f = |t: &NaiveDateTime| t.format("%Y-%m-%dT%H:%M:%S").to_string();
        match self {
            TimeValue::Instant(t, g) => {
                json!({"type": "instant", "value": f(t), "grain": g.name()})
            }
            TimeValue::Interval(a, b, g) => {
                let mut m = serde_json::Map::new();
                m.insert("type".into(), json!("interval"));
                if let Some(a) = a {
                    m.insert("from".into(), json!(f(a)));
                }
                if let Some(b) = b {
                    m.insert("to".into(), json!(f(b)));
                }
                m.insert("grain".into(), json!(g.name()));
                Value::Object(m)
            }
        }
    }
    /// Start instant and grain.
    fn start(&self) -> Option<(NaiveDateTime, Grain)> {
        match self {
            TimeValue::Instant(t, g) => Some((*t, *g)),
            TimeValue::Interval(Some(a), _, g) => Some((*a, *g)),
            _ => None,
        }
    }
}

/// Part of day as an hour range [from, to).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pod {
    pub from: u32,
    pub to: u32,
    /// Whether an ambiguous hour in this part of day is afternoon/evening.
    pub pm: bool,
}

/// A partial time specification.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Spec {
    pub year: Option<i32>,
    pub month: Option<u32>,
    pub day: Option<u32>,
    pub weekday: Option<u32>,
    pub hour: Option<u32>,
    /// Hour given on a 12-hour clock without am/pm.
    pub ambig: bool,
    pub minute: Option<u32>,
    pub second: Option<u32>,
    pub pod: Option<Pod>,
    pub quarter: Option<u32>,
    /// Resolved day anchor (today, tomorrow…).
    pub date: Option<NaiveDate>,
    /// Relative week / month / year / quarter offsets from now.
    pub week_rel: Option<i64>,
    pub month_rel: Option<i64>,
    pub year_rel: Option<i64>,
    pub quarter_rel: Option<i64>,
    /// Holiday index.
    pub holiday: Option<usize>,
    /// Already resolved value (now, in 2 hours, last weekend…).
    pub fixed: Option<TimeValue>,
    /// Weekend of the anchored week.
    pub weekend: bool,
    /// Only valid together with another piece (bare number as hour).
    pub latent: bool,
    /// A week grain was named ("this week").
    pub week_grain: bool,
    /// A numeric day and month: `Some(true)` read day first because the first number
    /// cannot be a month (15/03), `Some(false)` an ambiguous pair read month first (03/09).
    pub day_first: Option<bool>,
}

impl Spec {
    fn has_date(&self) -> bool {
        self.year.is_some()
            || self.month.is_some()
            || self.day.is_some()
            || self.weekday.is_some()
            || self.date.is_some()
            || self.week_rel.is_some()
            || self.month_rel.is_some()
            || self.year_rel.is_some()
            || self.quarter_rel.is_some()
            || self.quarter.is_some()
            || self.holiday.is_some()
            || self.weekend
    }
    fn has_time(&self) -> bool {
        self.hour.is_some() || self.pod.is_some()
    }
}

macro_rules! merge_field {
    ($a:ident, $b:ident, $f:ident) => {
        if $b.$f.is_some() {
            if $a.$f.is_some() && $a.$f != $b.$f {
                return None;
            }
            $a.$f = $b.$f;
        }
    };
}

/// Merges two compatible specs (None on conflict).
pub(crate) fn merge(a: &Spec, b: &Spec) -> Option<Spec> {
    let mut a = a.clone();
    let b = b.clone();
    if a.fixed.is_some() || b.fixed.is_some() {
        // a fixed value only takes a clock time or part of day onto its day
        let (f, other) = if a.fixed.is_some() { (&a, &b) } else { (&b, &a) };
        if f.fixed.is_some() && other.fixed.is_some() {
            return None;
        }
        if other.has_date() || !other.has_time() {
            return None;
        }
        let (t, g) = f.fixed.as_ref()?.start()?;
        if g < Grain::Hour && !matches!(f.fixed, Some(TimeValue::Instant(_, _))) {
            return None;
        }
        let mut s = other.clone();
        s.date = Some(t.date());
        s.latent = false;
        return Some(s);
    }
    if ((a.date.is_some() && (b.date.is_some() || b.day.is_some() || b.month.is_some()))
        || (b.date.is_some() && (a.day.is_some() || a.month.is_some())))
        && (a.date != b.date || a.date.is_none())
    {
        return None;
    }
    if a.has_time() && b.has_time() && a.hour.is_some() && b.hour.is_some() {
        return None;
    }
    merge_field!(a, b, year);
    merge_field!(a, b, month);
    merge_field!(a, b, day);
    merge_field!(a, b, weekday);
    merge_field!(a, b, minute);
    merge_field!(a, b, second);
    merge_field!(a, b, quarter);
    merge_field!(a, b, date);
    merge_field!(a, b, week_rel);
    merge_field!(a, b, month_rel);
    merge_field!(a, b, year_rel);
    merge_field!(a, b, quarter_rel);
    merge_field!(a, b, holiday);
    if b.hour.is_some() {
        a.hour = b.hour;
        a.ambig = b.ambig;
    }
    if let Some(p) = b.pod {
        if let Some(q) = a.pod {
            // narrower part of day wins when nested ("tonight" + "late")
            if q != p {
                let (f, t) = (p.from.max(q.from), p.to.min(q.to));
                if f >= t {
                    return None;
                }
                a.pod = Some(Pod { from: f, to: t, pm: p.pm || q.pm });
            }
        } else {
            a.pod = Some(p);
        }
    }
    a.weekend |= b.weekend;
    a.week_grain |= b.week_grain;
    if a.latent && b.latent {
        return None;
    }
    a.latent = false;
    Some(a)
}

pub(crate) struct Ctx {
    pub now: NaiveDateTime,
    pub past: bool,
    pub lang: Lang,
    /// English pieces and runs already read in this parse, by start offset (the
    /// rules try the same offsets several times); valid for one text and `now`.
    pub memo: Memo,
}

/// Results by start offset: (offset, spec and end).
pub(crate) type MemoTable = std::cell::RefCell<Vec<(usize, Option<(Spec, usize)>)>>;

/// Per-parse cache of `en::piece` and `en::run` results.
#[derive(Default)]
pub(crate) struct Memo {
    pub piece: MemoTable,
    pub run: MemoTable,
}

impl Memo {
    /// The cached result at `i` in `table`, or `f()` stored there.
    pub fn get(table: &MemoTable, i: usize, f: impl FnOnce() -> Option<(Spec, usize)>) -> Option<(Spec, usize)> {
        if let Some((_, r)) = table.borrow().iter().find(|x| x.0 == i) {
            return r.clone();
        }
        let r = f();
        table.borrow_mut().push((i, r.clone()));
        r
    }
}

impl Ctx {
    pub fn new(now: NaiveDateTime, past: bool, lang: Lang) -> Ctx {
        Ctx { now, past, lang, memo: Memo::default() }
    }
    fn today(&self) -> NaiveDate {
        self.now.date()
    }
}

fn dt(d: NaiveDate, h: u32, m: u32, s: u32) -> Option<NaiveDateTime> {
    if h == 24 {
        return (d + Duration::days(1)).and_hms_opt(0, m, s);
    }
    d.and_hms_opt(h, m, s)
}

/// Resolves the hour of a spec given an optional part of day.
fn hour_of(s: &Spec) -> Option<u32> {
    let h = s.hour?;
    if !s.ambig {
        return Some(h);
    }
    if let Some(p) = s.pod {
        if p.pm && h < 12 {
            return Some(h + 12);
        }
        if !p.pm && h == 12 {
            return Some(0);
        }
        if p.pm && h == 12 && p.from >= 18 {
            return Some(24);
        }
    }
    Some(h)
}

/// Finds the date part of a spec: (date, grain of the date part).
fn resolve_date(s: &Spec, cx: &Ctx) -> Option<(NaiveDate, Grain)> {
    let today = cx.today();
    if let Some(h) = s.holiday {
        let year = s.year.or(s.year_rel.map(|r| today.year() + r as i32));
        let d = match year {
            Some(y) => holidays::date(h, y)?,
            // the next one, or with a past-leaning context the last one
            None if cx.past => match holidays::date(h, today.year()) {
                Some(d) if d <= today => d,
                _ => holidays::date(h, today.year() - 1)?,
            },
            None => match holidays::date(h, today.year()) {
                Some(d) if d >= today => d,
                _ => holidays::date(h, today.year() + 1)?,
            },
        };
        return Some((d, Grain::Day));
    }
    if let Some(d) = s.date {
        return Some((d, Grain::Day));
    }
    if let Some(w) = s.week_rel {
        let monday = today - Duration::days(today.weekday().num_days_from_monday() as i64) + Duration::weeks(w);
        if let Some(wd) = s.weekday {
            return Some((monday + Duration::days(wd as i64), Grain::Day));
        }
        return Some((monday, Grain::Week));
    }
    if let Some(m) = s.month_rel {
        let first = add_months(truncate(cx.now, Grain::Month), m)?.date();
        if let Some(d) = s.day {
            return Some((first.with_day(d)?, Grain::Day));
        }
        return Some((first, Grain::Month));
    }
    if let Some(q) = s.quarter_rel {
        let first = add_months(truncate(cx.now, Grain::Quarter), 3 * q)?.date();
        return Some((first, Grain::Quarter));
    }
    let year = s.year.or(s.year_rel.map(|r| today.year() + r as i32));
    if let Some(q) = s.quarter {
        let y = year.unwrap_or(today.year());
        return Some((NaiveDate::from_ymd_opt(y, (q - 1) * 3 + 1, 1)?, Grain::Quarter));
    }
    match (year, s.month, s.day, s.weekday) {
        (Some(y), None, None, None) => Some((NaiveDate::from_ymd_opt(y, 1, 1)?, Grain::Year)),
        (Some(y), Some(m), None, None) => Some((NaiveDate::from_ymd_opt(y, m, 1)?, Grain::Month)),
        (Some(y), Some(m), Some(d), _) => Some((NaiveDate::from_ymd_opt(y, m, d)?, Grain::Day)),
        (None, Some(m), None, None) => {
            let y = if cx.past {
                if m <= today.month() {
                    today.year()
                } else {
                    today.year() - 1
                }
            } else if m >= today.month() {
                today.year()
            } else {
                today.year() + 1
            };
            Some((NaiveDate::from_ymd_opt(y, m, 1)?, Grain::Month))
        }
        (None, Some(m), Some(d), wd) => {
            for k in 0..60 {
                let y = if cx.past { today.year() - k } else { today.year() + k };
                if let Some(date) = NaiveDate::from_ymd_opt(y, m, d) {
                    // an explicit weekday that fits this year's date wins even if past
                    let ok_dir = (k == 0 && wd.is_some()) || if cx.past { date <= today } else { date >= today };
                    let ok_wd = wd.map(|w| date.weekday().num_days_from_monday() == w).unwrap_or(true);
                    if ok_dir && ok_wd {
                        return Some((date, Grain::Day));
                    }
                }
            }
            None
        }
        (None, None, Some(d), wd) => {
            let mut y = today.year();
            let mut m = today.month();
            for _ in 0..400 {
                if let Some(date) = NaiveDate::from_ymd_opt(y, m, d) {
                    let ok_dir = if cx.past { date <= today } else { date >= today };
                    let ok_wd = wd.map(|w| date.weekday().num_days_from_monday() == w).unwrap_or(true);
                    if ok_dir && ok_wd {
                        return Some((date, Grain::Day));
                    }
                }
                if cx.past {
                    if m == 1 {
                        m = 12;
                        y -= 1;
                    } else {
                        m -= 1;
                    }
                } else if m == 12 {
                    m = 1;
                    y += 1;
                } else {
                    m += 1;
                }
            }
            None
        }
        (_, None, None, Some(wd)) => {
            let cur = today.weekday().num_days_from_monday() as i64;
            let mut delta = wd as i64 - cur;
            if cx.past {
                if delta >= 0 {
                    delta -= 7;
                }
            } else if delta <= 0 {
                delta += 7;
            }
            Some((today + Duration::days(delta), Grain::Day))
        }
        (Some(y), None, Some(_), _) | (Some(y), Some(_), None, Some(_)) => {
            let _ = y;
            None
        }
        (None, Some(m), None, Some(wd)) => {
            // first such weekday of the month
            let (d, _) = resolve_date(&Spec { month: Some(m), ..Default::default() }, cx)?;
            let off = (wd as i64 - d.weekday().num_days_from_monday() as i64).rem_euclid(7);
            Some((d + Duration::days(off), Grain::Day))
        }
        (None, None, None, None) => None,
    }
}

/// Resolves a spec to a time value.
pub(crate) fn resolve(s: &Spec, cx: &Ctx) -> Option<TimeValue> {
    if s.latent {
        return None;
    }
    if let Some(f) = &s.fixed {
        return Some(f.clone());
    }
    let has_date = s.has_date();
    let date_part = if has_date { Some(resolve_date(s, cx)?) } else { None };
    if s.weekend {
        let (d, _) = date_part.unwrap_or((cx.today(), Grain::Day));
        let monday = d - Duration::days(d.weekday().num_days_from_monday() as i64);
        let from = dt(monday + Duration::days(4), 18, 0, 0)?;
        let to = dt(monday + Duration::days(7), 0, 0, 0)?;
        return Some(TimeValue::Interval(Some(from), Some(to), Grain::Hour));
    }
    if !s.has_time() {
        let (d, g) = date_part?;
        if let Some(h) = s.holiday {
            if let Some(((h1, m1), (h2, m2))) = holidays::clock_span(h) {
                return Some(TimeValue::Interval(Some(dt(d, h1, m1, 0)?), Some(dt(d, h2, m2, 0)?), Grain::Minute));
            }
            if let Some(end) = holidays::span_end(h, d) {
                return Some(TimeValue::Interval(Some(dt(d, 0, 0, 0)?), Some(dt(end, 0, 0, 0)?), Grain::Day));
            }
        }
        let g = if s.week_grain && g == Grain::Day && s.weekday.is_none() { Grain::Week } else { g };
        return Some(TimeValue::Instant(dt(d, 0, 0, 0)?, g));
    }
    // time of day
    let mut day = match date_part {
        Some((d, g)) if g <= Grain::Day => Some(d),
        Some(_) => return None,
        None => None,
    };
    let explicit_day = day.is_some();
    let d0 = day.unwrap_or(cx.today());
    if s.hour.is_none() {
        let p = s.pod?;
        let from = dt(d0, p.from, 0, 0)?;
        let to = dt(d0, p.to, 0, 0)?;
        return Some(TimeValue::Interval(Some(from), Some(to), Grain::Hour));
    }
    let mut h = hour_of(s)?;
    let m = s.minute.unwrap_or(0);
    let sec = s.second.unwrap_or(0);
    let g = if s.second.is_some() {
        Grain::Second
    } else if s.minute.is_some() {
        Grain::Minute
    } else {
        Grain::Hour
    };
    if !explicit_day {
        // next occurrence: today if not before the current hour, else tomorrow;
        // an ambiguous 12-hour clock may also mean the afternoon today
        let cur_hour = truncate(cx.now, Grain::Hour);
        let cand = |d: NaiveDate, h: u32| dt(d, h, m, sec);
        let mut options: Vec<NaiveDateTime> = Vec::new();
        if let Some(t) = cand(d0, h) {
            options.push(t);
        }
        if s.ambig && s.pod.is_none() && h < 12 {
            if let Some(t) = cand(d0, h + 12) {
                options.push(t);
            }
        }
        let pick = if cx.past {
            options.iter().filter(|t| **t <= cx.now).max().copied()
        } else {
            options.iter().filter(|t| **t >= cur_hour).min().copied()
        };
        let t = match pick {
            Some(t) => t,
            None => {
                let d = if cx.past { d0 - Duration::days(1) } else { d0 + Duration::days(1) };
                if cx.past && s.ambig && s.pod.is_none() && h < 12 {
                    h += 12;
                }
                cand(d, h)?
            }
        };
        day = Some(t.date());
        let _ = day;
        return Some(TimeValue::Instant(t, g));
    }
    Some(TimeValue::Instant(dt(d0, h, m, sec)?, g))
}

/// End bound of an explicit range: one grain after the last element.
fn range_end(v: &TimeValue) -> Option<(NaiveDateTime, Grain)> {
    match v {
        TimeValue::Instant(t, g) => Some((add(*t, *g, 1)?, *g)),
        TimeValue::Interval(_, Some(b), g) => Some((*b, *g)),
        _ => None,
    }
}

/// Fills fields missing in `b` from `a` (and vice versa) for ranges
/// ("July 13-15", "3-4pm", "from 13 to 15 July").
fn share(a: &mut Spec, b: &mut Spec) {
    fn fill(x: &mut Spec, y: &Spec) {
        let x_has_date = x.has_date();
        if !x_has_date && y.has_date() && (x.day.is_some() || x.hour.is_some() || x.pod.is_some()) {
            x.date = x.date.or(y.date);
            x.week_rel = x.week_rel.or(y.week_rel);
            x.weekday = x.weekday.or(y.weekday);
            x.holiday = x.holiday.or(y.holiday);
        }
        if x.day.is_some() && x.month.is_none() && x.month_rel.is_none() {
            if y.month.is_some() {
                x.month = y.month;
            } else if y.month_rel.is_some() && y.day.is_some() {
                // "5-12 of next month"
                x.month_rel = y.month_rel;
            }
        }
        // "下周一到周三", "next monday to wednesday": the end is in the start's week
        if x.weekday.is_some() && x.week_rel.is_none() && y.weekday.is_some() && y.week_rel.is_some() {
            x.week_rel = y.week_rel;
        }
        if (x.month.is_some() || x.day.is_some()) && x.year.is_none() && y.year.is_some() {
            x.year = y.year;
        }
        if x.hour.is_some() && x.pod.is_none() && y.pod.is_some() && x.ambig {
            x.pod = y.pod;
        }
        if x.has_time() && !x_has_date && y.has_date() {
            x.date = x.date.or(y.date);
            x.day = x.day.or(y.day);
            x.month = x.month.or(y.month);
            x.year = x.year.or(y.year);
            x.weekday = x.weekday.or(y.weekday);
            x.week_rel = x.week_rel.or(y.week_rel);
            x.holiday = x.holiday.or(y.holiday);
        }
    }
    let a0 = a.clone();
    fill(a, b);
    fill(b, &a0);
    // an ambiguous start hour takes pm from an explicit end ("3-4pm")
    if a.ambig && !b.ambig {
        if let (Some(ha), Some(hb)) = (a.hour, b.hour) {
            if hb >= 12 && ha < 12 && ha + 12 <= hb {
                a.hour = Some(ha + 12);
                a.ambig = false;
            } else if hb < 12 && ha <= hb && a.pod.is_none() {
                // "9 to 11am": the morning too
                a.ambig = false;
            }
        }
    }
}

/// Builds a range value from two specs.
pub(crate) fn range(a: &Spec, b: &Spec, cx: &Ctx) -> Option<TimeValue> {
    let (mut a, mut b) = (a.clone(), b.clone());
    share(&mut a, &mut b);
    let va = resolve(&a, cx)?;
    let (from, ga) = va.start()?;
    // a clock end without a day of its own is on the start's day ("上午九点到十一点"
    // after nine: both tomorrow), then wraps forward below if need be
    if b.has_time() && !b.has_date() && b.fixed.is_none() && a.has_time() && ga <= Grain::Hour {
        b.date = Some(from.date());
    }
    let vb = resolve(&b, cx)?;
    let (mut to, gb) = range_end(&vb)?;
    // a clock range ends one unit of its finer grain after the end ("3:30 to 6pm"
    // ends at 18:01)
    if let TimeValue::Instant(t, g) = vb {
        if ga < g && g <= Grain::Hour {
            to = add(t, ga, 1)?;
        }
    }
    if to <= from {
        // "11:30-1:30": the end wraps to the afternoon
        if b.ambig {
            to += Duration::hours(12);
        } else if to <= from && gb <= Grain::Hour {
            to += Duration::days(1);
        } else if b.weekday.is_some() && b.week_rel.is_none() && gb == Grain::Day {
            // "周五到周一", "friday to monday": the end is the next such weekday
            to += Duration::days(7);
        }
    }
    // an interval never ends before it starts
    if to <= from {
        return None;
    }
    Some(TimeValue::Interval(Some(from), Some(to), ga.min(gb)))
}

/// Scans times.
pub(crate) fn scan(doc: &Doc, ctx: &ParseContext, out: &mut Vec<Candidate>) {
    let cx = Ctx::new(ctx.now, ctx.past_leaning, ctx.lang);
    let c = &doc.c;
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        let try_here = if ch.is_ascii_alphanumeric() {
            super::text::word_start(c, i) || ch.is_ascii_digit() && (i == 0 || !c[i - 1].is_ascii_digit())
        } else {
            !ch.is_whitespace()
        };
        if try_here {
            // English rules only where an English expression can open
            let en_ok = en::may_start(c, i);
            let en_expr = || if en_ok { en::expr(c, i, &cx) } else { None };
            let r = if super::text::is_cjk(ch) || cx.lang == Lang::Zh {
                zh::expr(c, i, &cx).or_else(en_expr)
            } else {
                en_expr()
            };
            if let Some((v, e)) = r {
                if e > i {
                    out.push(Candidate::new(EntityKind::Time, i, e, v.json()));
                    i = e;
                    continue;
                }
            }
        }
        if ch.is_ascii_alphanumeric() {
            while i < c.len() && c[i].is_ascii_alphanumeric() {
                i += 1;
            }
            continue;
        }
        i += 1;
    }
}

/// Shift `now` by n units: instant at one grain finer than the unit.
pub(crate) fn shift(cx: &Ctx, n: f64, g: Grain) -> Option<TimeValue> {
    let secs = match g {
        Grain::Second => n,
        Grain::Minute => n * 60.0,
        Grain::Hour => n * 3600.0,
        Grain::Day => n * 86400.0,
        Grain::Week => n * 604800.0,
        _ => {
            if n.fract() != 0.0 {
                return None;
            }
            let t = add(cx.now, g, n as i64)?;
            let fg = g.finer();
            return Some(TimeValue::Instant(truncate(t, fg), fg));
        }
    };
    let t = cx.now + Duration::seconds(secs.round() as i64);
    let fg = g.finer();
    Some(TimeValue::Instant(truncate(t, fg), fg))
}

/// "last/next N units": interval of N whole grains before/after the current one.
pub(crate) fn n_grains(cx: &Ctx, n: i64, g: Grain, future: bool) -> Option<TimeValue> {
    let cur = truncate(cx.now, g);
    if future {
        let from = add(cur, g, 1)?;
        let to = add(cur, g, 1 + n)?;
        Some(TimeValue::Interval(Some(from), Some(to), g))
    } else {
        let from = add(cur, g, -n)?;
        Some(TimeValue::Interval(Some(from), Some(cur), g))
    }
}
