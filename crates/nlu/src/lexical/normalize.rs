//! Text normalisation shared by training and prediction.
//!
//! The text is NFKC-normalised (full-width letters, digits and punctuation become their
//! ASCII forms), lower-cased, apostrophes are dropped (`don't` → `dont`), and every run of
//! characters that are neither letters nor digits becomes a single space. The result is
//! written as `char`s into a reusable buffer, padded with one space on each side, so that
//! featurisation can slice words and character windows without allocating.

use unicode_normalization::UnicodeNormalization;

/// Whether `c` belongs to a script written without spaces between words (CJK ideographs,
/// kana, Hangul syllables); such characters are treated as one-character words.
pub(crate) fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x20000..=0x3FFFF  // CJK Extensions B..
    )
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '`' | '\u{00B4}')
}

/// Normalises `text` into `out` (cleared first). The output always starts and ends with a
/// single space and never contains two spaces in a row; an input with no letters or digits
/// yields `[' ']`.
pub(crate) fn normalize_into(text: &str, fold_digits: bool, out: &mut Vec<char>) {
    out.clear();
    out.push(' ');
    for c in text.nfkc() {
        if is_apostrophe(c) {
            continue;
        }
        for lc in c.to_lowercase() {
            if lc.is_alphanumeric() {
                let lc = if fold_digits && lc.is_ascii_digit() { '0' } else { lc };
                out.push(lc);
            } else if out.last() != Some(&' ') {
                out.push(' ');
            }
        }
    }
    if out.last() != Some(&' ') {
        out.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        let mut v = Vec::new();
        normalize_into(s, false, &mut v);
        v.into_iter().collect()
    }

    #[test]
    fn full_width_and_punctuation() {
        assert_eq!(norm("ＨＥＬＬＯ，Ｗｏｒｌｄ！"), " hello world ");
        assert_eq!(norm("I don't  know?!"), " i dont know ");
        assert_eq!(norm(""), " ");
        assert_eq!(norm("?!"), " ");
        assert_eq!(norm("我要听tfboys唱的歌。"), " 我要听tfboys唱的歌 ");
    }
}
