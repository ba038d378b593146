//! English number words: "twenty-five", "a dozen", "three million two hundred
//! thousand", "two point two", Indian scales (lakh, crore), and scale words after
//! digits ("3 million", "12 lakhs").

use super::numeral::{digits, scale, with_fraction, Form, Num};
use super::text::{at, skip_ws, word_end, Word, MAX_WORD};

/// Value of a unit or teen word.
pub(crate) fn unit_word(w: &str) -> Option<f64> {
    Some(match w {
        "zero" | "naught" | "nought" | "nil" | "oh" => 0.0,
        "one" => 1.0,
        "two" => 2.0,
        "three" => 3.0,
        "four" => 4.0,
        "five" => 5.0,
        "six" => 6.0,
        "seven" => 7.0,
        "eight" => 8.0,
        "nine" => 9.0,
        "ten" => 10.0,
        "eleven" => 11.0,
        "twelve" => 12.0,
        "thirteen" => 13.0,
        "fourteen" => 14.0,
        "fifteen" => 15.0,
        "sixteen" => 16.0,
        "seventeen" => 17.0,
        "eighteen" => 18.0,
        "nineteen" => 19.0,
        _ => return None,
    })
}

/// Value of a tens word.
pub(crate) fn tens_word(w: &str) -> Option<f64> {
    Some(match w {
        "twenty" => 20.0,
        "thirty" => 30.0,
        "forty" | "fourty" => 40.0,
        "fifty" => 50.0,
        "sixty" => 60.0,
        "seventy" => 70.0,
        "eighty" => 80.0,
        "ninety" => 90.0,
        _ => return None,
    })
}

/// Value of a scale word (hundred handled apart).
pub(crate) fn scale_word(w: &str) -> Option<f64> {
    Some(match w {
        "thousand" | "thousands" => 1e3,
        "million" | "millions" => 1e6,
        "billion" | "billions" => 1e9,
        "trillion" | "trillions" => 1e12,
        "lakh" | "lakhs" | "lac" | "lacs" | "lkh" | "lkhs" => 1e5,
        "crore" | "crores" | "cr" | "koti" | "krore" | "krores" | "kr" => 1e7,
        _ => return None,
    })
}

/// Reads an ASCII-letter word at `i`: (word, end).
pub(crate) fn read_word(c: &[char], i: usize) -> Option<(Word, usize)> {
    let mut j = i;
    while j < c.len() && c[j].is_ascii_alphabetic() {
        j += 1;
        if j - i > MAX_WORD {
            return None;
        }
    }
    if j == i || !word_end(c, j) {
        return None;
    }
    Some((Word::from_chars(&c[i..j])?, j))
}

/// "3 million", "12 lakhs", "2 dozens" after a digit number ending at `e`.
pub(crate) fn scale_after(c: &[char], e: usize) -> Option<(f64, usize)> {
    let j = skip_ws(c, e);
    if j - e > 1 {
        return None;
    }
    let (w, k) = read_word(c, j)?;
    if let Some(s) = scale_word(&w) {
        return Some((s, k));
    }
    match w.as_str() {
        "hundred" | "hundreds" => Some((100.0, k)),
        "dozen" | "dozens" => Some((12.0, k)),
        _ => None,
    }
}

/// Suffixes after a number: "dozens", "(45)".
pub(crate) fn suffix(c: &[char], e: usize, v: f64) -> Option<(f64, usize)> {
    let j = skip_ws(c, e);
    if at(c, j) == '(' {
        let k = skip_ws(c, j + 1);
        let inner = if at(c, k).is_ascii_digit() { digits(c, k) } else { parse(c, k) }?;
        let k2 = skip_ws(c, inner.e);
        if at(c, k2) == ')' && (inner.v - v).abs() < 1e-9 {
            return Some((v, k2 + 1));
        }
    }
    None
}

/// Parses English number words at `i` (a word start).
pub(crate) fn parse(c: &[char], i: usize) -> Option<Num> {
    let (w0, e0) = read_word(c, i)?;
    // fixed phrases
    let phrase = |ws: &[&str]| -> Option<usize> {
        let mut p = i;
        for (k, w) in ws.iter().enumerate() {
            if k > 0 {
                let q = skip_ws(c, p);
                if q == p {
                    return None;
                }
                p = q;
            }
            let (x, e) = read_word(c, p)?;
            if x != *w {
                return None;
            }
            p = e;
        }
        Some(p)
    };
    let of_tail = |e: usize| -> usize {
        let q = skip_ws(c, e);
        match read_word(c, q) {
            Some((x, e2)) if x == "of" && q > e => e2,
            _ => e,
        }
    };
    match w0.as_str() {
        "a" | "an" => {
            if let Some(e) = phrase(&["a", "couple"]).or_else(|| phrase(&["a", "pair"])) {
                return Some(mk(2.0, i, of_tail(e)));
            }
            if let Some(e) = phrase(&["a", "few"]) {
                return Some(mk(3.0, i, e));
            }
            if let Some(e) = phrase(&["a", "dozen"]) {
                return Some(mk(12.0, i, of_tail(e)));
            }
            // "a hundred", "a thousand"
            let q = skip_ws(c, e0);
            if q > e0 {
                if let Some((x, _)) = read_word(c, q) {
                    if x == "hundred" || scale_word(&x).is_some() {
                        return words(c, q, Some(1.0), i);
                    }
                }
            }
            return None;
        }
        "couple" | "pair" => return Some(mk(2.0, i, of_tail(e0))),
        "few" => return Some(mk(3.0, i, e0)),
        "single" => return Some(mk(1.0, i, e0)),
        "dozen" => return Some(mk(12.0, i, e0)),
        "point" => {
            let (f, e) = fraction_digits(c, e0)?;
            return Some(mk(f, i, e));
        }
        _ => {}
    }
    words(c, i, None, i)
}

fn mk(v: f64, s: usize, e: usize) -> Num {
    Num { v, s, e, form: Form::Words, ndig: 0 }
}

/// Digits after "point": "point 77", "point two".
fn fraction_digits(c: &[char], e: usize) -> Option<(f64, usize)> {
    let (d, n, end) = fraction_parts(c, e)?;
    Some((with_fraction(0.0, d, n), end))
}

/// Digits after "point" as (digits as an integer, how many, end).
fn fraction_parts(c: &[char], e: usize) -> Option<(u64, usize, usize)> {
    let q = skip_ws(c, e);
    if q == e {
        return None;
    }
    if at(c, q).is_ascii_digit() {
        let d = digits(c, q)?;
        if d.ndig == 0 || d.ndig > 18 {
            return None;
        }
        let s: String = c[q..d.e].iter().collect();
        return Some((s.parse().ok()?, d.ndig, d.e));
    }
    let mut p = q;
    let mut acc: u64 = 0;
    let mut n = 0;
    let mut end = None;
    while let Some((w, e2)) = read_word(c, p) {
        match unit_word(&w) {
            Some(d) if d < 10.0 && n < 18 => {
                acc = acc * 10 + d as u64;
                n += 1;
                end = Some(e2);
                let q2 = skip_ws(c, e2);
                if q2 == e2 {
                    break;
                }
                p = q2;
            }
            _ => break,
        }
    }
    end.map(|e| (acc, n, e))
}

#[derive(PartialEq, Clone, Copy)]
enum Last {
    None,
    Unit,
    Teen,
    Tens,
    Hundred,
    Scale,
}

/// The general word-number grammar starting at `i`.
fn words(c: &[char], i: usize, seed: Option<f64>, start: usize) -> Option<Num> {
    let mut total = 0.0;
    let mut current = seed.unwrap_or(0.0);
    let mut max_scale = 0.0;
    let mut last = if seed.is_some() { Last::Unit } else { Last::None };
    let mut end = start;
    let mut p = i;
    let mut steps = 0;
    loop {
        steps += 1;
        if steps > 40 {
            break;
        }
        let Some((word, e)) = read_word(c, p) else {
            break;
        };
        let w = word.as_str();
        let mut ok = true;
        if let Some(v) = unit_word(w) {
            match last {
                Last::None | Last::Hundred | Last::Scale => current += v,
                Last::Tens if v < 10.0 && v > 0.0 => current += v,
                _ => ok = false,
            }
            if ok {
                last = if v < 10.0 { Last::Unit } else { Last::Teen };
            }
        } else if let Some(v) = tens_word(w) {
            match last {
                Last::None | Last::Hundred | Last::Scale => current += v,
                // "one twenty two" = 122
                Last::Unit if current > 0.0 && current < 10.0 => current = current * 100.0 + v,
                _ => ok = false,
            }
            if ok {
                last = Last::Tens;
            }
        } else if w == "hundred" || w == "hundreds" {
            if last == Last::Hundred || last == Last::None && seed.is_none() {
                ok = false;
            } else {
                if current == 0.0 {
                    current = 1.0;
                }
                current *= 100.0;
                last = Last::Hundred;
            }
        } else if let Some(s) = scale_word(w) {
            if last == Last::None {
                ok = false;
            } else {
                if current == 0.0 && total == 0.0 {
                    current = 1.0;
                }
                if s > max_scale {
                    total = (total + current) * s;
                    max_scale = s;
                } else {
                    total += current * s;
                }
                current = 0.0;
                last = Last::Scale;
            }
        } else if (w == "dozen" || w == "dozens") && last != Last::None {
            current *= 12.0;
            last = Last::Scale;
        } else {
            ok = false;
        }
        if !ok {
            break;
        }
        end = e;
        // separator to next word: spaces, hyphen, "and"
        let mut q = skip_ws(c, e);
        if at(c, q) == '-' && q == e {
            q = e + 1;
        }
        if let Some((x, e2)) = read_word(c, q) {
            if x == "and" && (last == Last::Hundred || last == Last::Scale) {
                let q2 = skip_ws(c, e2);
                if q2 > e2 {
                    q = q2;
                }
            }
        }
        if q == e {
            break;
        }
        p = q;
    }
    if last == Last::None || end == start {
        return None;
    }
    let mut v = total + current;
    // decimal: "two point two million"
    let q = skip_ws(c, end);
    if q > end {
        if let Some((w, e)) = read_word(c, q) {
            if w == "point" && total == 0.0 {
                if let Some((d, n, e2)) = fraction_parts(c, e) {
                    v = with_fraction(v, d, n);
                    end = e2;
                    if let Some((s, e3)) = scale_after(c, end) {
                        v = scale(v, s);
                        end = e3;
                    }
                }
            }
        }
    }
    Some(mk(v, start, end))
}

/// Digit number followed by "point N": "1 point 1".
pub(crate) fn digits_point(c: &[char], n: &Num) -> Option<(f64, usize)> {
    let q = skip_ws(c, n.e);
    if q == n.e {
        return None;
    }
    let (w, e) = read_word(c, q)?;
    if w != "point" {
        return None;
    }
    let (d, k, e2) = fraction_parts(c, e)?;
    Some((with_fraction(n.v, d, k), e2))
}
