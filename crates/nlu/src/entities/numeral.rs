//! Arabic numerals (with separators, decimals, k/M/G and Chinese unit suffixes),
//! the language dispatch used by the other scanners, and the `number` scanner.

use super::text::{at, is_alnum, is_word, skip_ws, word, word_start, Doc};
use super::value::{scalar, Candidate};
use super::{number_en, number_zh, EntityKind, Lang};

/// How a number was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Form {
    /// Arabic digits.
    Digits,
    /// Chinese numerals (possibly mixed with digits).
    Zh,
    /// English words.
    Words,
}

/// A number found in the text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Num {
    /// Value.
    pub v: f64,
    /// Start offset.
    pub s: usize,
    /// End offset (exclusive).
    pub e: usize,
    /// How it was written.
    pub form: Form,
    /// Number of integer digits when written with plain digits and nothing else.
    pub ndig: usize,
}

impl Num {
    /// True when the value is a whole number.
    pub fn is_int(&self) -> bool {
        (self.v - self.v.round()).abs() < 1e-9
    }
    /// The value as an integer when whole and non-negative and small.
    pub fn int(&self) -> Option<i64> {
        if self.is_int() && self.v >= 0.0 && self.v < 1e15 {
            Some(self.v.round() as i64)
        } else {
            None
        }
    }
}

const MAX_DIGITS: usize = 30;

/// Exact powers of ten as `f64` (10^0 ..= 10^22 are all representable).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// `v * m` where `m` is a scale (10^k for "万", "million", "k"…) done in decimal:
/// the shortest decimal that reads back as `v` (the digits the text had) gets its
/// exponent raised by k, so `33.3 × 10^6` is 33300000 and not 33299999.999999996.
/// Other multipliers (12 for a dozen) are a plain product.
pub(crate) fn scale(v: f64, m: f64) -> f64 {
    let p = v * m;
    let Some(k) = POW10.iter().position(|x| *x == m) else {
        return p;
    };
    if !p.is_finite() || v == 0.0 || k == 0 {
        return p;
    }
    let s = format!("{v:e}");
    let Some((mant, exp)) = s.split_once('e') else {
        return p;
    };
    let Ok(exp) = exp.parse::<i32>() else {
        return p;
    };
    format!("{mant}e{}", exp + k as i32).parse().unwrap_or(p)
}

/// `int + digits / 10^n` for a whole `int` and `n` fraction digits, in decimal
/// ("two point two" = 2.2 exactly, not 2 + 0.2 rounded twice).
pub(crate) fn with_fraction(int: f64, digits: u64, n: usize) -> f64 {
    let f = digits as f64 / 10f64.powi(n.min(300) as i32);
    if int.fract() != 0.0 || int.abs() >= 9.0e15 || n == 0 || n >= POW10.len() {
        return int + f;
    }
    format!("{}.{:0width$}", int as i64, digits, width = n).parse().unwrap_or(int + f)
}

/// Plain Arabic number at `i`: `123`, `1,234,567`, `3.14`, `.77`. No suffixes.
pub(crate) fn digits(c: &[char], i: usize) -> Option<Num> {
    if i > 0 && (c[i - 1].is_ascii_digit() || (c[i - 1] == '.' && at(c, i.wrapping_sub(2)).is_ascii_digit())) {
        return None;
    }
    let mut j = i;
    // The digits read, without separators, as an integer mantissa and a count of decimals:
    // exact while the mantissa stays below 2^53, else parsed from text (both correctly
    // rounded); no allocation for the usual short numbers.
    let mut mantissa: u128 = 0;
    let mut decimals = 0usize;
    let mut push = |d: char| {
        mantissa = mantissa.saturating_mul(10).saturating_add(u128::from(d.to_digit(10).unwrap_or(0)));
    };
    let mut nd = 0usize;
    while j < c.len() && c[j].is_ascii_digit() {
        push(c[j]);
        j += 1;
        nd += 1;
        if nd > MAX_DIGITS {
            return None;
        }
    }
    let mut plain = true;
    // thousands separators: groups of exactly three
    if nd > 0 && nd <= 3 && at(c, j) == ',' {
        let mut k = j;
        while at(c, k) == ','
            && at(c, k + 1).is_ascii_digit()
            && at(c, k + 2).is_ascii_digit()
            && at(c, k + 3).is_ascii_digit()
            && !at(c, k + 4).is_ascii_digit()
        {
            c[k + 1..k + 4].iter().for_each(|&d| push(d));
            k += 4;
        }
        if k > j {
            j = k;
            plain = false;
        }
    }
    if at(c, j) == '.' && at(c, j + 1).is_ascii_digit() {
        let mut k = j + 1;
        while k < c.len() && c[k].is_ascii_digit() {
            push(c[k]);
            k += 1;
            decimals += 1;
            if decimals > MAX_DIGITS {
                return None;
            }
        }
        j = k;
        plain = false;
    }
    if j == i {
        return None;
    }
    if nd == 0 && j == i + 1 {
        return None;
    }
    const EXACT: u128 = 1 << 53;
    let v: f64 = if mantissa < EXACT && decimals <= 22 {
        // both operands exact, so the quotient is the correctly rounded value
        mantissa as f64 / 10f64.powi(decimals as i32)
    } else {
        let text: String = c[i..j].iter().filter(|&&ch| ch != ',').collect();
        let text = if nd == 0 { format!("0{text}") } else { text };
        text.parse().ok()?
    };
    Some(Num { v: (v * 1e9).round() / 1e9, s: i, e: j, form: Form::Digits, ndig: if plain { nd } else { 0 } })
}

/// Arabic number with an optional magnitude suffix: `100k`, `1.2M`, `.0012G`,
/// `3万5`, `1.5万`, `3 million` (English scale words are handled by the caller).
pub(crate) fn arabic(c: &[char], i: usize) -> Option<Num> {
    let mut n = digits(c, i)?;
    let j = n.e;
    let ch = at(c, j);
    // "2.3bn", "2.3b" (a bare "b" only after a decimal: "2b" is more often a flat)
    if ch == 'b' {
        let decimal = c[i..j].contains(&'.');
        let len = if at(c, j + 1) == 'n' { 2 } else { 1 };
        if (len == 2 || decimal) && !is_word(at(c, j + len)) {
            n.v *= 1e9;
            n.e = j + len;
            n.ndig = 0;
            return Some(n);
        }
    }
    let mult = match ch {
        'k' => 1e3,
        'm' => 1e6,
        'g' => 1e9,
        _ => 0.0,
    };
    if mult > 0.0 && !is_word(at(c, j + 1)) {
        n.v = scale(n.v, mult);
        n.e = j + 1;
        n.ndig = 0;
        return Some(n);
    }
    if let Some((u, _)) = number_zh::big_unit(ch) {
        if u >= 100.0 {
            n.v = scale(n.v, u);
            n.e = j + 1;
            n.ndig = 0;
            // trailing abbreviated digit: 3万5 = 35000
            let d = at(c, n.e);
            let dv = d.to_digit(10).map(|x| x as f64).or_else(|| number_zh::digit(d));
            if let Some(dv) = dv {
                let nx = at(c, n.e + 1);
                if !nx.is_ascii_digit()
                    && number_zh::digit(nx).is_none()
                    && number_zh::big_unit(nx).is_none()
                    && nx != '.'
                    && nx != '点'
                    && nx != '點'
                {
                    n.v += dv * u / 10.0;
                    n.e += 1;
                }
            }
        }
    }
    Some(n)
}

/// A number of any form at `i`, for the given language.
pub(crate) fn number_at(c: &[char], i: usize, _lang: Lang) -> Option<Num> {
    let ch = at(c, i);
    if ch.is_ascii_digit() || (ch == '.' && at(c, i + 1).is_ascii_digit()) {
        let n = arabic(c, i)?;
        // English scale words after digits: "3 million", "12 lakhs"
        if let Some(m) = number_en::scale_after(c, n.e) {
            return Some(Num { v: scale(n.v, m.0), e: m.1, ndig: 0, ..n });
        }
        if let Some((v, e)) = number_en::digits_point(c, &n) {
            return Some(Num { v, e, ndig: 0, ..n });
        }
        // digits followed by Chinese numerals/units: "2千5百"
        if let Some(z) = number_zh::parse(c, i) {
            if z.e > n.e {
                return Some(z);
            }
        }
        return Some(n);
    }
    if number_zh::is_num_char(ch) {
        return number_zh::parse(c, i);
    }
    if ch.is_ascii_alphabetic() && word_start(c, i) {
        return number_en::parse(c, i);
    }
    None
}

/// Scans numbers for the `number` entity.
pub(crate) fn scan(doc: &Doc, lang: Lang, out: &mut Vec<Candidate>) {
    let c = &doc.c;
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        let start_ok = ch.is_ascii_digit()
            || ch == '.'
            || ch == '-'
            || number_zh::is_num_char(ch)
            || ch == '负'
            || ch == '負'
            || (ch.is_ascii_alphabetic() && word_start(c, i))
            || ch == '半';
        if !start_ok {
            i += 1;
            continue;
        }
        if let Some((v, e)) = entity_number(c, i, lang) {
            out.push(Candidate::new(EntityKind::Number, i, e, scalar(v)));
            i = e.max(i + 1);
        } else if ch.is_ascii_alphabetic() {
            while i < c.len() && c[i].is_ascii_alphabetic() {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
}

/// A number as the `number` entity sees it: sign, fractions, classifiers.
fn entity_number(c: &[char], i: usize, lang: Lang) -> Option<(f64, usize)> {
    // sign
    let mut neg = false;
    let mut j = i;
    if at(c, i) == '-' {
        if i > 0 && is_alnum(c[i - 1]) {
            return None;
        }
        neg = true;
        j = skip_ws(c, i + 1);
    } else if at(c, i) == '负' || at(c, i) == '負' {
        neg = true;
        j = skip_ws(c, i + 1);
    } else if let Some(e) = word(c, i, "minus").or_else(|| word(c, i, "negative")) {
        neg = true;
        j = skip_ws(c, e);
    }
    if neg && j == i {
        return None;
    }
    let (mut v, mut e) = if let Some(x) = number_zh::special(c, j) {
        x
    } else {
        let n = if at(c, j).is_ascii_alphabetic() && word_start(c, j) {
            number_en::parse_with_fractions(c, j)?
        } else {
            number_at(c, j, lang)?
        };
        let mut v = n.v;
        let mut e = n.e;
        if n.form == Form::Digits {
            // mixed fractions: 2 3/4
            if let Some((f, e2)) = mixed_fraction(c, &n) {
                v += f;
                e = e2;
            }
            // fractions: 1/5
            if e == n.e && at(c, e) == '/' && at(c, e + 1).is_ascii_digit() {
                if let Some(d) = digits(c, e + 1) {
                    if d.v != 0.0 && n.ndig > 0 && d.ndig > 0 && !at(c, d.e).is_ascii_digit() && at(c, d.e) != '/' {
                        v /= d.v;
                        e = d.e;
                    }
                }
            }
        }
        (v, e)
    };
    // Chinese extras: classifier, pairs, dozens, fractions
    if let Some((v2, e2)) = number_zh::suffix(c, e, v) {
        v = v2;
        e = e2;
    }
    if let Some((v2, e2)) = number_en::suffix(c, e, v) {
        v = v2;
        e = e2;
    }
    if neg {
        v = -v;
    }
    Some((v, e))
}

/// The proper fraction of a mixed number after the whole part `n`: "2 3/4" gives
/// (0.75, end). One space between, numerator below denominator, at most two digits
/// each, and no date-like continuation ("2 3/4/2026").
pub(crate) fn mixed_fraction(c: &[char], n: &Num) -> Option<(f64, usize)> {
    if n.ndig == 0 || at(c, n.e) != ' ' || at(c, n.s.wrapping_sub(1)) == '/' {
        return None;
    }
    let a = digits(c, n.e + 1)?;
    if a.ndig == 0 || a.ndig > 2 || at(c, a.e) != '/' {
        return None;
    }
    let b = digits(c, a.e + 1)?;
    if b.ndig == 0 || b.ndig > 2 || b.v <= a.v || a.v == 0.0 || matches!(at(c, b.e), '/' | ':' | '-') {
        return None;
    }
    if at(c, b.e).is_ascii_alphanumeric() || (at(c, b.e) == '.' && at(c, b.e + 1).is_ascii_digit()) {
        return None;
    }
    Some((a.v / b.v, b.e))
}
