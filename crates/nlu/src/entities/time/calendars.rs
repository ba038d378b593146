//! Hebrew and Islamic calendar arithmetic for holidays.
//!
//! The Hebrew calendar is fully arithmetic (molad of Tishrei and the four
//! postponement rules). The Islamic months follow the astronomical new moon: a
//! month starts on the day after the conjunction when the conjunction falls
//! before sunset in Mecca (taken as 18:00, UTC+3), else one day later, as in the
//! Umm al-Qura rule.

use chrono::{Datelike, Duration, NaiveDate};

use super::lunar;

/// Day number with 0001-01-01 as day 1 (rata die), as a date.
fn from_rd(rd: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(rd).ok()?)
}

/// Rata die of Tishrei 1, AM 1 (7 October 3761 BCE, Julian).
const HEBREW_EPOCH: i64 = -1_373_427;

/// Days from the epoch to Tishrei 1 of year `y`, before the year-length correction.
fn hebrew_elapsed(y: i64) -> i64 {
    let months = (235 * y - 234).div_euclid(19);
    let parts = 12084 + 13753 * months;
    let day = 29 * months + parts.div_euclid(25920);
    if (3 * (day + 1)).rem_euclid(7) < 3 {
        day + 1
    } else {
        day
    }
}

/// Rata die of Tishrei 1 (Rosh Hashanah) of Hebrew year `y`.
fn hebrew_new_year(y: i64) -> i64 {
    let (a, b, c) = (hebrew_elapsed(y - 1), hebrew_elapsed(y), hebrew_elapsed(y + 1));
    let corr = if c - b == 356 {
        2
    } else if b - a == 382 {
        1
    } else {
        0
    };
    HEBREW_EPOCH + b + corr
}

fn hebrew_leap(y: i64) -> bool {
    (7 * y + 1).rem_euclid(19) < 7
}

/// Hebrew months counted from Tishrei: 1 Tishrei, 2 Heshvan, 3 Kislev, 4 Tevet,
/// 5 Shevat, 6 Adar (Adar II in a leap year), 7 Nisan, 8 Iyar, 9 Sivan, 10 Tammuz,
/// 11 Av, 12 Elul.
pub(crate) fn hebrew(y: i64, month: u32, day: u32) -> Option<NaiveDate> {
    if !(1..=12).contains(&month) || !(1..=30).contains(&day) || !(3000..=8000).contains(&y) {
        return None;
    }
    let start = hebrew_new_year(y);
    let len = hebrew_new_year(y + 1) - start;
    let heshvan = if len % 10 == 5 { 30 } else { 29 };
    let kislev = if len % 10 == 3 { 29 } else { 30 };
    let mut lengths = vec![30, heshvan, kislev, 29, 30];
    if hebrew_leap(y) {
        lengths.push(30); // Adar I
    }
    lengths.extend([29, 30, 29, 30, 29, 30, 29]);
    let idx = if hebrew_leap(y) && month >= 6 { month as usize } else { month as usize - 1 };
    let before: i64 = lengths[..idx].iter().sum();
    from_rd(start + before + day as i64 - 1)
}

/// The Hebrew date (month, day) as it falls in Gregorian year `g`, shifted by
/// `shift`; the first such occurrence in `g` (Hebrew years straddle Gregorian ones).
pub(crate) fn hebrew_in_year(
    g: i32,
    month: u32,
    day: u32,
    shift: impl Fn(NaiveDate) -> NaiveDate,
) -> Option<NaiveDate> {
    let mut first = None;
    for hy in [g as i64 + 3760, g as i64 + 3761] {
        if let Some(d) = hebrew(hy, month, day).map(&shift) {
            if d.year() == g {
                return Some(d);
            }
            first = first.or(Some(d));
        }
    }
    first
}

/// Lunation index (as in `lunar::new_moon`) of the month that starts Hijri
/// year `y`, month `m`: the new moon of 4 April 2000 (k = 3) began 1 Muharram 1421.
fn hijri_lunation(y: i64, m: u32) -> i64 {
    3 + (y - 1421) * 12 + (m as i64 - 1)
}

/// First day of Hijri month `m` of year `y`.
pub(crate) fn hijri_month_start(y: i64, m: u32) -> Option<NaiveDate> {
    if !(1..=12).contains(&m) || !(1..=3000).contains(&y) {
        return None;
    }
    let (day, hour) = lunar::new_moon_local(hijri_lunation(y, m), 3.0 / 24.0)?;
    Some(day + Duration::days(if hour >= 18.0 { 2 } else { 1 }))
}

/// Day `d` of Hijri month `m`, first occurrence in Gregorian year `g`.
pub(crate) fn hijri_in_year(g: i32, m: u32, d: u32) -> Option<NaiveDate> {
    let approx = ((g as f64 - 622.0) * 33.0 / 32.0) as i64;
    (approx - 2..approx + 4)
        .filter_map(|hy| Some((hy, hijri_month_start(hy, m)? + Duration::days(d as i64 - 1))))
        .find(|(_, x)| x.year() == g)
        .map(|(_, x)| x)
}

/// Hijri year and month of the month containing `date`.
pub(crate) fn hijri_month_of(date: NaiveDate) -> Option<(i64, u32)> {
    let approx = ((date.year() as f64 - 622.0) * 33.0 / 32.0) as i64;
    let mut best = None;
    for hy in approx - 2..approx + 4 {
        for m in 1..=12 {
            let s = hijri_month_start(hy, m)?;
            if s <= date {
                best = Some((hy, m));
            }
        }
    }
    best
}

/// First day of the Hijri month after (`y`, `m`).
pub(crate) fn hijri_next_month(y: i64, m: u32) -> Option<NaiveDate> {
    if m == 12 {
        hijri_month_start(y + 1, 1)
    } else {
        hijri_month_start(y, m + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    #[test]
    fn hebrew_new_years() {
        assert_eq!(hebrew(5774, 1, 1), Some(d(2013, 9, 5)));
        assert_eq!(hebrew(5779, 1, 1), Some(d(2018, 9, 10)));
        assert_eq!(hebrew(5778, 7, 15), Some(d(2018, 3, 31))); // Passover
        assert_eq!(hebrew(5779, 3, 25), Some(d(2018, 12, 3))); // Hanukkah
        assert_eq!(hebrew(5784, 6, 14), Some(d(2024, 3, 24))); // Purim in a leap year
    }

    #[test]
    fn hijri_months() {
        assert_eq!(hijri_in_year(2013, 10, 1), Some(d(2013, 8, 8)));
        assert_eq!(hijri_in_year(2018, 9, 1), Some(d(2018, 5, 16)));
        assert_eq!(hijri_in_year(2018, 12, 10), Some(d(2018, 8, 21)));
    }
}
