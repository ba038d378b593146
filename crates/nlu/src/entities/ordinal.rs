//! Ordinals: 第三, 第十二, "third", "twenty-fifth", "21st", "one hundred and first",
//! "three hundredth", "the second one".

use super::lexicon::EN_DAY_AND_MONTH_NAMES;
use super::number_en::{cardinal_words, read_word, scale_word, tens_word};
use super::numeral::{digits, number_at};
use super::text::{at, skip_ws, word_end, word_start, Doc};
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
        "thousandth" => 1_000,
        "millionth" => 1_000_000,
        "billionth" => 1_000_000_000,
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
    compound(c, i).or_else(|| simple(c, i))
}

/// An ordinal after cardinal words: "one hundred thirty-second" (132), "one hundred
/// and first" (101), "three hundredth" (300), "two thousand and fifth" (2005).
fn compound(c: &[char], i: usize) -> Option<(i64, usize)> {
    let n = cardinal_words(c, i)?;
    let p = n.int()?;
    let mut q = if at(c, n.e) == '-' { n.e + 1 } else { skip_ws(c, n.e) };
    if q == n.e {
        return None;
    }
    if let Some((w, e)) = read_word(c, q) {
        if w == "and" {
            let q2 = skip_ws(c, e);
            if q2 == e {
                return None;
            }
            q = q2;
        }
    }
    let (o, e) = simple(c, q)?;
    let v = match o {
        // "twenty first", "one hundred first" — not "ten first", "two first"
        1..=9 => (p >= 20 && p % 10 == 0 && p % 100 != 10).then_some(p + o)?,
        10..=99 => (p >= 100 && p % 100 == 0).then_some(p + o)?,
        100 | 1_000 | 1_000_000 | 1_000_000_000 => {
            // the last group multiplies: "two thousand three hundredth" = 2300
            let low = p % o;
            if low == 0 {
                return None;
            }
            (p - low).checked_add(low.checked_mul(o)?)?
        }
        _ => return None,
    };
    Some((v, e))
}

/// One ordinal word or a tens + unit pair: "third", "twentyfifth", "twenty-fifth".
fn simple(c: &[char], i: usize) -> Option<(i64, usize)> {
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

/// " one" after an ordinal ("the second one"): the end of "one", unless a number
/// goes on ("second one hundred").
fn one_tail(c: &[char], e: usize) -> Option<usize> {
    let q = skip_ws(c, e);
    if q == e {
        return None;
    }
    let (w, e2) = read_word(c, q)?;
    if w != "one" {
        return None;
    }
    let q2 = skip_ws(c, e2);
    if let Some((x, _)) = read_word(c, q2) {
        if x == "hundred" || scale_word(&x).is_some() || x == "and" {
            return None;
        }
    }
    if at(c, e2) == '-' {
        return None;
    }
    Some(e2)
}

/// Words after "the <ordinal>" that leave a date reading open ("the fifth of May",
/// "the 3rd at noon", "the first is fine"): no noun tail is taken over them.
/// Words after "the <ordinal>" that are not its noun (besides [`EN_DAY_AND_MONTH_NAMES`]).
const NOT_NOUNS: &[&str] = &[
    "of",
    "and",
    "or",
    "to",
    "at",
    "on",
    "in",
    "by",
    "for",
    "from",
    "the",
    "this",
    "that",
    "next",
    "last",
    "till",
    "until",
    "through",
    "thru",
    "between",
    "before",
    "after",
    "around",
    "about",
    "is",
    "was",
    "are",
    "were",
    "will",
    "would",
    "should",
    "could",
    "can",
    "works",
    "work",
    "suits",
    "please",
    "then",
    "again",
    "too",
    "also",
    "not",
    "day",
    "days",
    "week",
    "weeks",
    "weekend",
    "month",
    "months",
    "year",
    "years",
    "quarter",
    "half",
    "hour",
    "hours",
    "minute",
    "minutes",
    "second",
    "seconds",
    "morning",
    "afternoon",
    "evening",
    "night",
    "noon",
    "midnight",
    "tonight",
    "today",
    "tomorrow",
    "yesterday",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "mon",
    "tue",
    "tues",
    "wed",
    "thu",
    "thur",
    "thurs",
    "fri",
    "sat",
    "sun",
    "one",
    "ones",
    "hundred",
    "thousand",
    "million",
    "billion",
];

/// A noun after "the <ordinal>" ("the fifth time", "the first page", "the 3rd item"):
/// its end. Taking it in makes the ordinal reading longer than the date reading of
/// "the fifth", which such a phrase is not.
fn noun_tail(c: &[char], e: usize) -> Option<usize> {
    if at(c, e) != ' ' {
        return None;
    }
    let q = skip_ws(c, e);
    let (w, e2) = read_word(c, q)?;
    if w.len() < 3
        || NOT_NOUNS.contains(&w.as_str())
        || EN_DAY_AND_MONTH_NAMES.contains(&w.as_str())
        || w.ends_with("ly")
        || w.ends_with("ing")
    {
        return None;
    }
    if ordinal_word(&w).is_some() || scale_word(&w).is_some() {
        return None;
    }
    Some(e2)
}

/// True when "the " ends at `i`.
fn after_the(c: &[char], i: usize) -> bool {
    i >= 4 && c[i - 4..i] == ['t', 'h', 'e', ' '] && word_start(c, i - 4)
}

/// Scans ordinals.
pub(crate) fn scan(doc: &Doc, lang: Lang, out: &mut Vec<Candidate>) {
    let c = &doc.c;
    let mut i = 0;
    while i < c.len() {
        let mut s = i;
        let r = if c[i] == '第' {
            zh_ordinal(c, i)
        } else if c[i].is_ascii_alphanumeric() {
            en_ordinal(c, i).map(|(v, e)| match one_tail(c, e) {
                // "the second one" is one referring expression: "one" is no number
                // of its own (and the span matches the clock reading of "the second one")
                Some(e2) => {
                    if after_the(c, i) {
                        s = i - 4;
                    }
                    (v, e2)
                }
                None if after_the(c, i) => match noun_tail(c, e) {
                    Some(e2) => {
                        s = i - 4;
                        (v, e2)
                    }
                    None => (v, e),
                },
                None => (v, e),
            })
        } else {
            None
        };
        let _ = lang;
        if let Some((v, e)) = r {
            out.push(Candidate::new(EntityKind::Ordinal, s, e, scalar(v as f64)));
            i = e;
        } else {
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::entities::{parse, EntityKind, Lang, ParseContext};

    /// (kind, matched text, value) of every entity.
    fn ents(text: &str) -> Vec<(EntityKind, String, f64)> {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 3, 11).and_then(|d| d.and_hms_opt(10, 0, 0));
        let mut ctx = ParseContext::new(Lang::En, now.unwrap_or_default());
        ctx.kinds = Some(vec![EntityKind::Number, EntityKind::Ordinal]);
        parse(text, &ctx).into_iter().map(|e| (e.kind, e.text, e.value["value"].as_f64().unwrap_or(f64::NAN))).collect()
    }

    fn ord(text: &str, span: &str, v: f64) {
        assert_eq!(ents(text), vec![(EntityKind::Ordinal, span.to_string(), v)], "{text:?}");
    }

    #[test]
    fn compound_ordinals() {
        ord("one hundred thirty-second", "one hundred thirty-second", 132.0);
        ord("three hundredth", "three hundredth", 300.0);
        ord("twenty first", "twenty first", 21.0);
        ord("congrats on the thousandth", "thousandth", 1000.0);
        ord("one hundred and first", "one hundred and first", 101.0);
        ord("two thousand three hundredth", "two thousand three hundredth", 2300.0);
        ord("a millionth visitor", "millionth", 1e6);
        ord("ninety-ninth", "ninety-ninth", 99.0);
    }

    #[test]
    fn the_second_one_is_one_ordinal() {
        ord("the second one is fine", "the second one", 2.0);
        ord("second one please", "second one", 2.0);
        ord("I'll take the 3rd one", "the 3rd one", 3.0);
        // "one" goes on as a number: no tail
        let e = ents("the second one hundred");
        assert!(e.iter().any(|x| x.0 == EntityKind::Ordinal && x.1 == "second"), "{e:?}");
    }

    #[test]
    fn the_nth_noun_is_no_date() {
        // a noun after "the <ordinal>" is taken in, so the ordinal outlasts the date
        // reading of "the fifth"
        ord("this is the fifth time I call", "the fifth time", 5.0);
        ord("on the first page", "the first page", 1.0);
        ord("the 3rd item", "the 3rd item", 3.0);
        // but not over words that leave a date open
        for t in ["the fifth of May", "the 3rd at noon", "the first is fine"] {
            assert!(
                ents(t).iter().all(|x| !x.1.contains(' ') || x.1.starts_with("the ") && x.1.split(' ').count() == 2),
                "{t}"
            );
        }
    }

    #[test]
    fn no_bogus_compounds() {
        // "ten first", "two second" are no ordinals 11 and 4
        assert!(ents("ten first").iter().all(|x| x.2 != 11.0));
        assert!(ents("two second").iter().all(|x| x.2 != 4.0 && x.2 != 22.0));
        assert!(ents("I second that").iter().all(|x| x.1 == "second"));
        for t in ["hundredth and", "one hundred and", "the", "the second", "first one-", "zero first"] {
            let _ = ents(t);
        }
    }
}
