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

/// Suffixes after a number: "(45)", "and a half" ("2 and a half").
pub(crate) fn suffix(c: &[char], e: usize, v: f64) -> Option<(f64, usize)> {
    if (v - v.round()).abs() < 1e-9 && v >= 0.0 {
        if let Some((f, e2)) = and_fraction(c, e) {
            return Some((v + f, e2));
        }
    }
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

/// Parses cardinal English number words at `i` (a word start): "twenty-five",
/// "a dozen", "three million two hundred thousand", "two point two".
pub(crate) fn parse(c: &[char], i: usize) -> Option<Num> {
    cardinal(c, i).map(|x| x.0)
}

/// Like [`parse`], fractions included: "three quarters", "a half", "one and a half",
/// "forty and two fifths", "half a dozen", "a dozen and a half". Only for the
/// `number` entity and durations: elsewhere "two quarters" is a count of quarters.
pub(crate) fn parse_with_fractions(c: &[char], i: usize) -> Option<Num> {
    if let Some(n) = fraction_phrase(c, i) {
        return Some(n);
    }
    let (n, mult) = cardinal(c, i)?;
    // "three quarters", "two-thirds", "one half"
    if n.form == Form::Words {
        if let Some((den, plural, e)) = denominator_after(c, n.e) {
            let whole = n.is_int() && n.v >= 1.0;
            if whole && ((plural && n.v >= 2.0) || (!plural && n.v == 1.0 && single_word(c, i, n.e))) {
                return Some(mk(n.v / den, i, e));
            }
        }
    }
    // "one and a half", "forty and two fifths", "a dozen and a half"
    if n.is_int() {
        if let Some((f, e)) = and_fraction(c, n.e) {
            let v = if mult > 0.0 && f == 0.5 && (n.v / mult - (n.v / mult).round()).abs() < 1e-9 {
                n.v + f * mult
            } else {
                n.v + f
            };
            return Some(mk(v, i, e));
        }
    }
    Some(n)
}

/// True when `c[s..e]` is a single word.
fn single_word(c: &[char], s: usize, e: usize) -> bool {
    c[s..e.min(c.len())].iter().all(|ch| ch.is_ascii_alphabetic())
}

/// Denominator word of a fraction: (denominator, plural). "half", "thirds",
/// "quarter", "fifths", "hundredths", "millionth"; never "first"/"second".
pub(crate) fn denominator(w: &str) -> Option<(f64, bool)> {
    let (stem, plural) = match w {
        "half" => return Some((2.0, false)),
        "halves" => return Some((2.0, true)),
        "quarter" => return Some((4.0, false)),
        "quarters" => return Some((4.0, true)),
        _ => match w.strip_suffix('s') {
            Some(s) => (s, true),
            None => (w, false),
        },
    };
    let v = match stem {
        "thousandth" => 1e3,
        "millionth" => 1e6,
        "billionth" => 1e9,
        _ => {
            let o = super::ordinal::ordinal_word(stem)?;
            if o < 3 {
                return None;
            }
            o as f64
        }
    };
    Some((v, plural))
}

/// A denominator word after a numerator ending at `e` (space or hyphen between).
fn denominator_after(c: &[char], e: usize) -> Option<(f64, bool, usize)> {
    let q = if at(c, e) == '-' { e + 1 } else { skip_ws(c, e) };
    if q == e {
        return None;
    }
    let (w, e2) = read_word(c, q)?;
    let (den, plural) = denominator(&w)?;
    Some((den, plural, e2))
}

/// The next word after `e` (after at least one space), with its end.
fn next_word(c: &[char], e: usize) -> Option<(Word, usize)> {
    let q = skip_ws(c, e);
    if q == e {
        return None;
    }
    read_word(c, q)
}

/// " and a half", " and one third", " and two fifths", " and half", " and three
/// quarters" after a whole number ending at `e`: (fraction, end).
pub(crate) fn and_fraction(c: &[char], e: usize) -> Option<(f64, usize)> {
    let (w, e1) = next_word(c, e)?;
    if w != "and" {
        return None;
    }
    let (x, e2) = next_word(c, e1)?;
    let f = match x.as_str() {
        "a" | "an" | "one" => {
            let (y, e3) = next_word(c, e2)?;
            let (den, plural) = denominator(&y)?;
            if plural {
                return None;
            }
            (1.0 / den, e3)
        }
        "half" => (0.5, e2),
        "quarter" => (0.25, e2),
        _ => {
            let q = skip_ws(c, e1);
            let (n, _) = cardinal(c, q)?;
            if n.form != Form::Words || !n.is_int() || n.v < 1.0 {
                return None;
            }
            let (den, _, e3) = denominator_after(c, n.e)?;
            (n.v / den, e3)
        }
    };
    (f.0 < 1.0).then_some(f)
}

/// "a half", "a quarter", "a third of", "a millionth", "half a dozen", "a half
/// dozen", "half a million".
fn fraction_phrase(c: &[char], i: usize) -> Option<Num> {
    let (w0, e0) = read_word(c, i)?;
    let (half_start, after_a) = match w0.as_str() {
        "a" | "an" => {
            let (w1, e1) = next_word(c, e0)?;
            if w1 != "half" {
                let (den, plural) = denominator(&w1)?;
                if plural {
                    return None;
                }
                // "a third", "a millionth" are ordinals too ("a third option", "a
                // millionth visitor"): only before "of" or at the end of a clause
                let clear = den == 4.0 || {
                    match next_word(c, e1) {
                        Some((x, _)) => x == "of",
                        None => !at(c, skip_ws(c, e1)).is_ascii_alphanumeric(),
                    }
                };
                return clear.then(|| mk(1.0 / den, i, e1));
            }
            (e1, true)
        }
        "half" => (e0, false),
        _ => return None,
    };
    // after "half": "(a|an) dozen|million", "dozen"
    let (mut w, mut e) = next_word(c, half_start).unwrap_or_default();
    if !after_a && (w == "a" || w == "an") {
        (w, e) = next_word(c, e).unwrap_or_default();
    }
    let m = match w.as_str() {
        "dozen" => 12.0,
        "hundred" => 100.0,
        x => scale_word(x).filter(|_| !w.ends_with('s')).unwrap_or(0.0),
    };
    if m > 0.0 {
        // "half a dozen of", like "a dozen of"
        let e = match next_word(c, e) {
            Some((x, e2)) if x == "of" && m == 12.0 => e2,
            _ => e,
        };
        return Some(mk(0.5 * m, i, e));
    }
    // "a half"
    after_a.then(|| mk(0.5, i, half_start))
}

/// Plain cardinal number words at `i` ("one hundred thirty"): no phrases with "a",
/// no fractions.
pub(crate) fn cardinal_words(c: &[char], i: usize) -> Option<Num> {
    words(c, i, None, i).map(|x| x.0)
}

/// Cardinal number words at `i` (no fractions): the number and, when it ends with
/// "dozen" or a scale word, that multiplier (else 0).
fn cardinal(c: &[char], i: usize) -> Option<(Num, f64)> {
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
                return Some((mk(2.0, i, of_tail(e)), 0.0));
            }
            if let Some(e) = phrase(&["a", "few"]) {
                return Some((mk(3.0, i, e), 0.0));
            }
            if let Some(e) = phrase(&["a", "dozen"]) {
                let e2 = of_tail(e);
                return Some((mk(12.0, i, e2), if e2 == e { 12.0 } else { 0.0 }));
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
        "couple" | "pair" => return Some((mk(2.0, i, of_tail(e0)), 0.0)),
        "few" => return Some((mk(3.0, i, e0), 0.0)),
        "single" => return Some((mk(1.0, i, e0), 0.0)),
        "dozen" => return Some((mk(12.0, i, e0), 12.0)),
        "point" => {
            let (f, e) = fraction_digits(c, e0)?;
            return Some((mk(f, i, e), 0.0));
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

/// The general word-number grammar starting at `i`; also returns the multiplier of
/// the last word when it is "dozen" or a scale word (else 0).
fn words(c: &[char], i: usize, seed: Option<f64>, start: usize) -> Option<(Num, f64)> {
    let mut total = 0.0;
    let mut current = seed.unwrap_or(0.0);
    let mut max_scale = 0.0;
    let mut last = if seed.is_some() { Last::Unit } else { Last::None };
    let mut end = start;
    let mut p = i;
    let mut steps = 0;
    let mut mult = 0.0;
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
        let mut word_mult = 0.0;
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
                word_mult = 100.0;
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
                word_mult = s;
            }
        } else if (w == "dozen" || w == "dozens") && last != Last::None {
            current *= 12.0;
            last = Last::Scale;
            word_mult = 12.0;
        } else {
            ok = false;
        }
        if !ok {
            break;
        }
        end = e;
        mult = word_mult;
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
                    mult = 0.0;
                    if let Some((s, e3)) = scale_after(c, end) {
                        v = scale(v, s);
                        end = e3;
                    }
                }
            }
        }
    }
    Some((mk(v, start, end), mult))
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

#[cfg(test)]
mod tests {
    use crate::entities::{parse, EntityKind, Lang, ParseContext, ParsedEntity};

    fn ents(text: &str) -> Vec<ParsedEntity> {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 3, 11).and_then(|d| d.and_hms_opt(10, 0, 0));
        let mut ctx = ParseContext::new(Lang::En, now.unwrap_or_default());
        ctx.kinds = Some(vec![EntityKind::Number, EntityKind::Ordinal, EntityKind::Duration]);
        parse(text, &ctx)
    }

    /// The numbers found in `text`: (matched text, value).
    fn numbers(text: &str) -> Vec<(String, f64)> {
        ents(text)
            .into_iter()
            .filter(|e| e.kind == EntityKind::Number)
            .map(|e| (e.text, e.value["value"].as_f64().unwrap_or(f64::NAN)))
            .collect()
    }

    fn one(text: &str, span: &str, v: f64) {
        let got = numbers(text);
        assert_eq!(got.len(), 1, "{text:?}: {got:?}");
        assert_eq!(got[0].0, span, "{text:?}");
        assert!((got[0].1 - v).abs() < 1e-6 * v.abs().max(1.0), "{text:?}: {} != {v}", got[0].1);
    }

    #[test]
    fn fractions_in_words() {
        one("three quarters of the order", "three quarters", 0.75);
        one("about a half", "a half", 0.5);
        one("two thirds of the refund", "two thirds", 2.0 / 3.0);
        one("two-thirds", "two-thirds", 2.0 / 3.0);
        one("forty and two fifths", "forty and two fifths", 40.4);
        one("a millionth", "a millionth", 1e-6);
        one("one and a half", "one and a half", 1.5);
        one("one quarter", "one quarter", 0.25);
        one("three hundredths", "three hundredths", 0.03);
        one("a third of the price", "a third", 1.0 / 3.0);
        one("2 and a half", "2 and a half", 2.5);
        one("two and three quarters", "two and three quarters", 2.75);
    }

    #[test]
    fn dozens_and_halves() {
        one("a dozen", "a dozen", 12.0);
        one("a dozen and a half", "a dozen and a half", 18.0);
        one("three dozens", "three dozens", 36.0);
        one("three dozen eggs", "three dozen", 36.0);
        one("half a dozen", "half a dozen", 6.0);
        one("a half dozen", "a half dozen", 6.0);
        one("half a million", "half a million", 5e5);
        one("a million and a half", "a million and a half", 1.5e6);
    }

    #[test]
    fn digits_with_suffixes_and_mixed_fractions() {
        one("2 3/4", "2 3/4", 2.75);
        one("3/4", "3/4", 0.75);
        one("25k", "25k", 25000.0);
        one("1.5M", "1.5M", 1.5e6);
        one("2.3bn", "2.3bn", 2.3e9);
        one("2.3b", "2.3b", 2.3e9);
        one("4bn", "4bn", 4e9);
        one("1,200", "1,200", 1200.0);
        // a bare "b" after a whole number is a flat or a grade, not billions
        assert!(numbers("flat 2b").iter().all(|(_, v)| *v < 1e3));
        // no mixed fraction inside a date
        assert!(numbers("2 3/4/2026").iter().all(|(t, _)| t != "2 3/4"));
    }

    #[test]
    fn no_fraction_false_positives() {
        // "a third" before a noun is an ordinal; "one second" a duration
        assert!(numbers("I'd like a third option").is_empty());
        assert!(numbers("twenty fifth").is_empty());
        assert!(numbers("one second please").is_empty());
        assert!(numbers("I have a question").is_empty());
        assert!(numbers("half the time it fails").is_empty());
        assert_eq!(numbers("one and two"), vec![("one".to_string(), 1.0), ("two".to_string(), 2.0)]);
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for t in
            ["and a half", "a", "half", "a half a", "one and", "one and a", "2 3/", "2 3/0", "0/0", "3/4/", "-", "b"]
        {
            let _ = ents(t);
        }
    }
}
