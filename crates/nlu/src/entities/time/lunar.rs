//! Chinese lunisolar calendar computed from astronomy: mean-to-true new moons
//! (Meeus, ch. 49, main periodic terms) and a low-precision solar longitude;
//! months start on the Beijing-time day of the new moon, the month holding the
//! winter solstice is month 11, and in a 13-month year the first month without a
//! principal solar term is the leap month.

use chrono::{Duration, NaiveDate};

const D2R: f64 = std::f64::consts::PI / 180.0;

fn sin_d(x: f64) -> f64 {
    (x * D2R).sin()
}

/// Julian day number (noon-based integer) of a date.
fn jdn(d: NaiveDate) -> i64 {
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(d);
    2451545 + (d - epoch).num_days()
}

fn date_of_jdn(n: i64) -> Option<NaiveDate> {
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1)?;
    epoch.checked_add_signed(Duration::days(n - 2451545))
}

/// Julian ephemeris day of true new moon number `k` (k = 0 near 2000-01-06).
fn new_moon(k: f64) -> f64 {
    let t = k / 1236.85;
    let t2 = t * t;
    let t3 = t2 * t;
    let t4 = t3 * t;
    let jde = 2451550.09766 + 29.530588861 * k + 0.00015437 * t2 - 0.000000150 * t3 + 0.00000000073 * t4;
    let e = 1.0 - 0.002516 * t - 0.0000074 * t2;
    let m = 2.5534 + 29.10535670 * k - 0.0000014 * t2 - 0.00000011 * t3;
    let mp = 201.5643 + 385.81693528 * k + 0.0107582 * t2 + 0.00001238 * t3 - 0.000000058 * t4;
    let f = 160.7108 + 390.67050284 * k - 0.0016118 * t2 - 0.00000227 * t3 + 0.000000011 * t4;
    let om = 124.7746 - 1.56375588 * k + 0.0020672 * t2 + 0.00000215 * t3;
    let corr = -0.40720 * sin_d(mp)
        + 0.17241 * e * sin_d(m)
        + 0.01608 * sin_d(2.0 * mp)
        + 0.01039 * sin_d(2.0 * f)
        + 0.00739 * e * sin_d(mp - m)
        - 0.00514 * e * sin_d(mp + m)
        + 0.00208 * e * e * sin_d(2.0 * m)
        - 0.00111 * sin_d(mp - 2.0 * f)
        - 0.00057 * sin_d(mp + 2.0 * f)
        + 0.00056 * e * sin_d(2.0 * mp + m)
        - 0.00042 * sin_d(3.0 * mp)
        + 0.00042 * e * sin_d(m + 2.0 * f)
        + 0.00038 * e * sin_d(m - 2.0 * f)
        - 0.00024 * e * sin_d(2.0 * mp - m)
        - 0.00017 * sin_d(om)
        - 0.00007 * sin_d(mp + 2.0 * m)
        + 0.00004 * sin_d(2.0 * mp - 2.0 * f)
        + 0.00004 * sin_d(3.0 * m)
        + 0.00003 * sin_d(mp + m - 2.0 * f)
        + 0.00003 * sin_d(2.0 * mp + 2.0 * f)
        - 0.00003 * sin_d(mp + m + 2.0 * f)
        + 0.00003 * sin_d(mp - m + 2.0 * f)
        - 0.00002 * sin_d(mp - m - 2.0 * f)
        - 0.00002 * sin_d(3.0 * mp + m)
        + 0.00002 * sin_d(4.0 * mp);
    jde + corr
}

/// Local date and hour of true new moon `k` in a zone `zone` days east of UTC.
pub(crate) fn new_moon_local(k: i64, zone: f64) -> Option<(NaiveDate, f64)> {
    let x = new_moon(k as f64) + 0.5 + zone;
    let day = x.floor();
    Some((date_of_jdn(day as i64)?, (x - day) * 24.0))
}

/// Apparent solar longitude in degrees at Julian day `jd`.
pub(crate) fn sun_longitude(jd: f64) -> f64 {
    let t = (jd - 2451545.0) / 36525.0;
    let l0 = 280.46646 + 36000.76983 * t + 0.0003032 * t * t;
    let m = 357.52911 + 35999.05029 * t - 0.0001537 * t * t;
    let c = (1.914602 - 0.004817 * t - 0.000014 * t * t) * sin_d(m)
        + (0.019993 - 0.000101 * t) * sin_d(2.0 * m)
        + 0.000289 * sin_d(3.0 * m);
    let om = 125.04 - 1934.136 * t;
    (l0 + c - 0.00569 - 0.00478 * sin_d(om)).rem_euclid(360.0)
}

/// Offset of the zone in days (Beijing, UTC+8).
const ZONE: f64 = 8.0 / 24.0;

/// Local day number (JDN) of new moon `k`.
fn new_moon_day(k: i64, zone: f64) -> i64 {
    (new_moon(k as f64) + 0.5 + zone).floor() as i64
}

/// Julian day when the sun reaches longitude `target` near `jd_guess`.
pub(crate) fn solar_term(target: f64, jd_guess: f64) -> f64 {
    let mut jd = jd_guess;
    for _ in 0..8 {
        let l = sun_longitude(jd);
        let mut d = target - l;
        if d > 180.0 {
            d -= 360.0;
        } else if d < -180.0 {
            d += 360.0;
        }
        jd += d / 360.0 * 365.2422;
    }
    jd
}

/// Index k of the new moon that starts month 11 of the cycle ending in `year`
/// (the month containing the December solstice of `year`).
fn month11(year: i32, zone: f64) -> Option<i64> {
    let guess = jdn(NaiveDate::from_ymd_opt(year, 12, 21)?) as f64;
    let ws = solar_term(270.0, guess);
    let ws_day = (ws + 0.5 + zone).floor() as i64;
    let mut k = ((ws - 2451550.09766) / 29.530588861).floor() as i64;
    // month 11 starts on the last new moon day on or before the solstice day
    for _ in 0..4 {
        if new_moon_day(k + 1, zone) <= ws_day {
            k += 1;
        } else if new_moon_day(k, zone) > ws_day {
            k -= 1;
        } else {
            break;
        }
    }
    Some(k)
}

/// Whether the lunar month starting at new moon k has a principal term.
fn has_zhongqi(k: i64, zone: f64) -> bool {
    let a = new_moon_day(k, zone) as f64 - 0.5 - zone; // local midnight in JD
    let b = new_moon_day(k + 1, zone) as f64 - 0.5 - zone;
    let la = (sun_longitude(a) / 30.0).floor();
    let lb = (sun_longitude(b) / 30.0).floor();
    la != lb
}

/// Months of the cycle from month 11 of `year - 1` to month 11 of `year`:
/// (k, month number, leap).
fn cycle(year: i32, zone: f64) -> Option<Vec<(i64, u32, bool)>> {
    let k0 = month11(year - 1, zone)?;
    let k1 = month11(year, zone)?;
    let n = k1 - k0;
    let mut leap_idx = None;
    if n == 13 {
        for i in 1..13 {
            if !has_zhongqi(k0 + i, zone) {
                leap_idx = Some(i);
                break;
            }
        }
    }
    let mut out = Vec::new();
    let mut num = 11u32;
    out.push((k0, 11, false));
    for i in 1..n {
        if Some(i) == leap_idx {
            out.push((k0 + i, num, true));
        } else {
            num = if num == 12 { 1 } else { num + 1 };
            out.push((k0 + i, num, false));
        }
    }
    Some(out)
}

/// Gregorian date of lunar `month`/`day` in the lunar year that starts in `year`.
pub(crate) fn to_solar(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    lunisolar(year, month, day, ZONE)
}

/// Like [`to_solar`] for another time zone (in days east of UTC).
pub(crate) fn lunisolar(year: i32, month: u32, day: u32, zone: f64) -> Option<NaiveDate> {
    if !(1..=12).contains(&month) || !(1..=30).contains(&day) {
        return None;
    }
    let months = if month >= 11 {
        // months 11 and 12 of lunar year `year` belong to the next cycle
        cycle(year + 1, zone)?
    } else {
        cycle(year, zone)?
    };
    let (k, _, _) = months
        .iter()
        .filter(|(_, m, leap)| *m == month && !*leap)
        .find(|(k, _, _)| month < 11 || *k == months[0].0 || *k > months[0].0)?;
    date_of_jdn(new_moon_day(*k, zone) + day as i64 - 1)
}

/// The last day of lunar year starting in `year` (除夕): the day before next new year.
pub(crate) fn new_years_eve(year: i32) -> Option<NaiveDate> {
    to_solar(year + 1, 1, 1).map(|d| d - Duration::days(1))
}
