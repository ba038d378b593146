//! Chinese numerals: 零一二两三…十百千万亿, financial forms 壹贰叁…, 〇, 廿卅卌,
//! mixed forms (3万5, 1.5万), decimals (一點一), fractions (三分之一, 百分之二十).

use super::numeral::{digits, scale, with_fraction, Form, Num};
use super::text::at;

/// Value of a Chinese digit character.
pub(crate) fn digit(ch: char) -> Option<f64> {
    Some(match ch {
        '零' | '〇' => 0.0,
        '一' | '壹' | '幺' => 1.0,
        '二' | '贰' | '貳' | '两' | '兩' | '弍' => 2.0,
        '三' | '叁' | '參' | '叄' | '参' => 3.0,
        '四' | '肆' => 4.0,
        '五' | '伍' => 5.0,
        '六' | '陆' | '陸' => 6.0,
        '七' | '柒' => 7.0,
        '八' | '捌' => 8.0,
        '九' | '玖' => 9.0,
        _ => return None,
    })
}

/// Value of a unit character and whether it is a section unit (万, 亿).
pub(crate) fn big_unit(ch: char) -> Option<(f64, bool)> {
    Some(match ch {
        '十' | '拾' => (10.0, false),
        '百' | '佰' => (100.0, false),
        '千' | '仟' => (1000.0, false),
        '万' | '萬' => (1e4, true),
        '亿' | '億' => (1e8, true),
        _ => return None,
    })
}

fn tens(ch: char) -> Option<f64> {
    match ch {
        '廿' => Some(20.0),
        '卅' => Some(30.0),
        '卌' => Some(40.0),
        _ => None,
    }
}

/// True for a character that can start a Chinese numeral.
pub(crate) fn is_num_char(ch: char) -> bool {
    digit(ch).is_some() || big_unit(ch).is_some() || tens(ch).is_some()
}

/// Digit value of a Chinese or ASCII digit.
fn any_digit(ch: char) -> Option<f64> {
    ch.to_digit(10).map(|d| d as f64).or_else(|| digit(ch))
}

/// Parses a Chinese numeral at `i` (may start with ASCII digits: 3万5, 1.5万).
pub(crate) fn parse(c: &[char], i: usize) -> Option<Num> {
    let first = at(c, i);
    // Leading Arabic part (integer or decimal) is a "pending" digit group.
    let mut j = i;
    let mut pending: Option<f64> = None;
    let mut pending_ascii = false;
    if first.is_ascii_digit() {
        let n = digits(c, i)?;
        pending = Some(n.v);
        pending_ascii = true;
        j = n.e;
        if big_unit(at(c, j)).is_none() && tens(at(c, j)).is_none() {
            return None;
        }
    }
    let mut total = 0.0; // completed 亿 part
    let mut wan = 0.0; // completed 万 part
    let mut section = 0.0; // below 万
    let mut last_unit = 0.0f64; // last unit applied
    let mut zero_gap = false;
    let mut any = pending.is_some();
    let mut seq: Vec<f64> = Vec::new(); // plain digit sequence (二零一五)
    let mut seq_only = pending.is_none();
    let mut count = 0;
    while j < c.len() {
        count += 1;
        if count > 40 {
            break;
        }
        let ch = c[j];
        if let Some(d) = digit(ch) {
            if !seq_only {
                if let Some(p) = pending {
                    if p != 0.0 || pending_ascii {
                        break;
                    }
                }
            } else {
                seq.push(d);
            }
            if d == 0.0 {
                zero_gap = true;
            }
            pending = Some(d);
            pending_ascii = false;
            any = true;
            j += 1;
            continue;
        }
        if let Some(t) = tens(ch) {
            if pending.is_some() && seq.len() > 1 {
                break;
            }
            seq_only = false;
            section += t;
            pending = None;
            last_unit = 10.0;
            zero_gap = false;
            any = true;
            j += 1;
            continue;
        }
        if let Some((u, sect)) = big_unit(ch) {
            if seq.len() > 1 {
                break;
            }
            seq_only = false;
            if !sect {
                if last_unit != 0.0 && u >= last_unit && pending.is_none() && section > 0.0 {
                    // 十百 etc: not a number continuation
                    break;
                }
                let p = pending.unwrap_or(1.0);
                section += scale(p, u);
                last_unit = u;
            } else if u == 1e4 {
                let p = abbrev(pending, zero_gap, last_unit);
                let base = section + p;
                wan = scale(if base == 0.0 { 1.0 } else { base }, 1e4);
                if wan == 1e4 && base == 0.0 && (total > 0.0) {
                    break;
                }
                section = 0.0;
                last_unit = 1e4;
            } else {
                let p = abbrev(pending, zero_gap, last_unit);
                let base = wan + section + p;
                total = scale(total + if base == 0.0 { 1.0 } else { base }, 1e8);
                wan = 0.0;
                section = 0.0;
                last_unit = 1e8;
            }
            pending = None;
            zero_gap = false;
            any = true;
            j += 1;
            continue;
        }
        break;
    }
    if !any {
        return None;
    }
    if seq_only && seq.len() > 1 {
        let mut v = 0.0;
        for d in &seq {
            v = v * 10.0 + d;
        }
        return Some(Num { v, s: i, e: j, form: Form::Zh, ndig: seq.len() });
    }
    let mut v = total + wan + section;
    if let Some(p) = pending {
        if !zero_gap && last_unit >= 10.0 && p < 10.0 && !pending_ascii {
            v += p * last_unit / 10.0;
        } else {
            v += p;
        }
    }
    // decimal part: 一點一, 零點77
    let mut e = j;
    if (at(c, e) == '点' || at(c, e) == '點') && last_unit == 0.0 {
        let mut k = e + 1;
        let mut frac: u64 = 0;
        while let Some(d) = any_digit(at(c, k)) {
            frac = frac * 10 + d as u64;
            k += 1;
            if k - e > 18 {
                break;
            }
        }
        if k > e + 1 && big_unit(at(c, k)).is_none() {
            v = with_fraction(v, frac, k - e - 1);
            e = k;
        }
    }
    Some(Num { v: (v * 1e9).round() / 1e9, s: i, e, form: Form::Zh, ndig: 0 })
}

/// A trailing digit right after 十/百/千 abbreviates the next lower unit (百二 = 120).
fn abbrev(pending: Option<f64>, zero_gap: bool, last_unit: f64) -> f64 {
    match pending {
        Some(p) if !zero_gap && (10.0..=1000.0).contains(&last_unit) => p * last_unit / 10.0,
        Some(p) => p,
        None => 0.0,
    }
}

/// Number of any form at `i` as Chinese text sees it (digits or numerals).
fn zh_or_digits(c: &[char], i: usize) -> Option<Num> {
    let ch = at(c, i);
    if ch.is_ascii_digit() {
        if let Some(z) = parse(c, i) {
            return Some(z);
        }
        return digits(c, i);
    }
    parse(c, i)
}

/// Special whole-number forms: fractions, halves, percentages.
pub(crate) fn special(c: &[char], i: usize) -> Option<(f64, usize)> {
    // 百分之二十
    if at(c, i) == '百' && at(c, i + 1) == '分' && at(c, i + 2) == '之' {
        let n = zh_or_digits(c, i + 3)?;
        return Some((n.v / 100.0, n.e));
    }
    if at(c, i) == '半' {
        if at(c, i + 1) == '个' || at(c, i + 1) == '個' {
            return Some((0.5, i + 2));
        }
        return None;
    }
    let a = zh_or_digits(c, i)?;
    // 一半, 1半, 一半半
    if at(c, a.e) == '半' && a.v == 1.0 {
        let mut e = a.e + 1;
        if at(c, e) == '半' {
            e += 1;
        }
        return Some((0.5, e));
    }
    // whole + 又 + fraction
    if at(c, a.e) == '又' {
        if let Some((f, e)) = fraction(c, a.e + 1, true) {
            return Some((a.v + f, e));
        }
        return None;
    }
    if let Some((f, e)) = fraction(c, i, false) {
        return Some((f, e));
    }
    None
}

/// X分之Y, X份之Y, X份Y (and X分Y after 又): Y/X.
fn fraction(c: &[char], i: usize, loose: bool) -> Option<(f64, usize)> {
    let d = zh_or_digits(c, i)?;
    let k = d.e;
    let sep = at(c, k);
    let mut j = if sep == '分' || sep == '份' {
        k + 1
    } else {
        return None;
    };
    if at(c, j) == '之' {
        j += 1;
    } else if sep == '分' && !loose {
        return None;
    }
    let n = zh_or_digits(c, j)?;
    if d.v == 0.0 {
        return None;
    }
    Some((n.v / d.v, n.e))
}

/// Classifier and multiplier suffixes: 个/個, 对/對/双/雙 (×2), 打 (×12).
pub(crate) fn suffix(c: &[char], e: usize, v: f64) -> Option<(f64, usize)> {
    match at(c, e) {
        '个' | '個' => Some((v, e + 1)),
        '对' | '對' | '双' | '雙' => Some((v * 2.0, e + 1)),
        '打' => Some((v * 12.0, e + 1)),
        _ => None,
    }
}
