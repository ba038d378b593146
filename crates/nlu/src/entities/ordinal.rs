//! Ordinals: 第三, 第十二, "third", "twenty-fifth", "21st".

use super::number_en::{read_word, tens_word};
use super::numeral::{digits, number_at};
use super::text::{at, word_end, word_start, Doc};
use super::value::{scalar, Candidate};
use super::{EntityKind, Lang};

/// Value of an English ordinal word ("third", "twentieth").
pub(crate) fn ordinal_word(w: &str) -> Option<i64> {
    Some(match w {
        "first" => 1,
        "second" => 2,
        "third" => 3,
        "fourth" => 4,
        "fifth" => 5,
        "sixth" => 6,
        "seventh" => 7,
        "eighth" => 8,
        "ninth" => 9,
        "tenth" => 10,
        "eleventh" => 11,
        "twelfth" => 12,
        "thirteenth" => 13,
        "fourteenth" => 14,
        "fifteenth" => 15,
        "sixteenth" => 16,
        "seventeenth" => 17,
        "eighteenth" => 18,
        "nineteenth" => 19,
        "twentieth" => 20,
        "thirtieth" => 30,
        "fortieth" => 40,
        "fiftieth" => 50,
        "sixtieth" => 60,
        "seventieth" => 70,
        "eightieth" => 80,
        "ninetieth" => 90,
        "hundredth" => 100,
        _ => return None,
    })
}

/// English ordinal at `i`: words ("twenty-fifth", "twentyfifth") or digits ("21st").
pub(crate) fn en_ordinal(c: &[char], i: usize) -> Option<(i64, usize)> {
    if !word_start(c, i) {
        return None;
    }
    if at(c, i).is_ascii_digit() {
        let n = digits(c, i)?;
        if n.ndig == 0 || n.ndig > 4 {
            return None;
        }
        let suf = (at(c, n.e), at(c, n.e + 1));
        if matches!(suf, ('s', 't') | ('n', 'd') | ('r', 'd') | ('t', 'h')) && word_end(c, n.e + 2) {
            return Some((n.v as i64, n.e + 2));
        }
        return None;
    }
    let (w, e) = read_word(c, i)?;
    if let Some(v) = ordinal_word(&w) {
        return Some((v, e));
    }
    // "twentyfifth"
    for t in ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"] {
        if let Some(rest) = w.strip_prefix(t) {
            if let Some(u) = ordinal_word(rest) {
                if u < 10 {
                    return Some((tens_word(t).unwrap_or(0.0) as i64 + u, e));
                }
            }
        }
    }
    // "twenty-fifth", "twenty fifth"
    let tv = tens_word(&w)? as i64;
    let mut q = e;
    if at(c, q) == '-' {
        q += 1;
    } else {
        while at(c, q) == ' ' {
            q += 1;
        }
    }
    if q == e {
        return None;
    }
    let (w2, e2) = read_word(c, q)?;
    let u = ordinal_word(&w2)?;
    if u < 10 {
        return Some((tv + u, e2));
    }
    None
}

/// Chinese ordinal at `i`: 第 + number.
pub(crate) fn zh_ordinal(c: &[char], i: usize) -> Option<(i64, usize)> {
    if at(c, i) != '第' {
        return None;
    }
    let n = number_at(c, i + 1, Lang::Zh)?;
    let v = n.int()?;
    Some((v, n.e))
}

/// Scans ordinals.
pub(crate) fn scan(doc: &Doc, lang: Lang, out: &mut Vec<Candidate>) {
    let c = &doc.c;
    let mut i = 0;
    while i < c.len() {
        let r = if c[i] == '第' {
            zh_ordinal(c, i)
        } else if c[i].is_ascii_alphanumeric() {
            en_ordinal(c, i)
        } else {
            None
        };
        let _ = lang;
        if let Some((v, e)) = r {
            out.push(Candidate::new(EntityKind::Ordinal, i, e, scalar(v as f64)));
            i = e;
        } else {
            i += 1;
        }
    }
}
