//! Tokenisation for the tagger: every CJK character is a token, a run of other
//! alphanumerics is a token, every other non-space character is a token of its own.
//!
//! Offsets are code points into the original text, so spans built from tokens use the
//! same coordinates as [`super::TaggedSpan`].

use std::ops::Range;

/// Longest sequence (in tokens) decoded in one piece; longer texts are cut, preferably
/// after a sentence end, so memory and time stay linear in the input.
pub(crate) const MAX_PIECE_TOKENS: usize = 512;

/// One token: `[start, end)` in code points of the original text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub start: usize,
    pub end: usize,
}

/// What a token is made of, for the shape features.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenClass {
    /// One CJK (or kana, hangul) character.
    Cjk,
    /// A run of letters and digits.
    Word,
    /// A punctuation character.
    Punct,
    /// Any other symbol (emoji, currency sign, …).
    Symbol,
}

/// Folds full-width ASCII forms and the ideographic space to ASCII; keeps case.
pub(crate) fn fold(ch: char) -> char {
    let u = ch as u32;
    if (0xFF01..=0xFF5E).contains(&u) {
        char::from_u32(u - 0xFEE0).unwrap_or(ch)
    } else if u == 0x3000 || u == 0xA0 {
        ' '
    } else {
        ch
    }
}

/// Scripts written without spaces (the lexical model's definition): each character is a token.
use crate::lexical::normalize::is_unspaced_script as is_cjk;

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

/// The class of the token starting with `c`.
pub(crate) fn class_of(c: char) -> TokenClass {
    if is_cjk(c) {
        TokenClass::Cjk
    } else if is_word_char(c) {
        TokenClass::Word
    } else if c.is_ascii_punctuation() || is_cjk_punct(c) {
        TokenClass::Punct
    } else {
        TokenClass::Symbol
    }
}

fn is_cjk_punct(c: char) -> bool {
    matches!(c as u32, 0x3000..=0x303F | 0xFF00..=0xFF0F | 0xFF1A..=0xFF20 | 0x2010..=0x2027)
}

/// `'s` ending a word ("Liu's"): the possessive is a token of its own, not part of a name.
fn is_possessive(chars: &[char], apostrophe: usize) -> bool {
    matches!(chars.get(apostrophe + 1), Some('s' | 'S'))
        && chars.get(apostrophe + 2).is_none_or(|c| !is_word_char(*c))
        && chars[apostrophe] != '-'
}

/// Cuts the (folded) code points into tokens.
pub(crate) fn tokenize(chars: &[char]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if is_word_char(c) {
            let start = i;
            // An apostrophe or hyphen between letters stays inside the word: Xi'an, O'Brien,
            // Jean-Luc.
            while i < chars.len()
                && (is_word_char(chars[i])
                    || (matches!(chars[i], '\'' | '’' | '-')
                        && i + 1 < chars.len()
                        && is_word_char(chars[i + 1])
                        && !is_possessive(chars, i)
                        && i > start))
            {
                i += 1;
            }
            out.push(Token { start, end: i });
        } else {
            out.push(Token { start: i, end: i + 1 });
            i += 1;
        }
    }
    out
}

/// True when a sentence may end after this token.
fn ends_sentence(chars: &[char], t: Token) -> bool {
    t.end == t.start + 1 && matches!(chars.get(t.start), Some('。' | '！' | '？' | '；' | '!' | '?' | ';' | '.' | '\n'))
}

/// Consecutive token ranges of at most [`MAX_PIECE_TOKENS`] tokens covering all tokens,
/// cut after a sentence end where one is available.
pub(crate) fn pieces(chars: &[char], tokens: &[Token]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut last_end = None;
    for (i, t) in tokens.iter().enumerate() {
        if ends_sentence(chars, *t) {
            last_end = Some(i + 1);
        }
        if i + 1 - start >= MAX_PIECE_TOKENS {
            let cut = last_end.filter(|&c| c > start).unwrap_or(i + 1);
            out.push(start..cut);
            start = cut;
            last_end = None;
        }
    }
    if start < tokens.len() {
        out.push(start..tokens.len());
    }
    out
}

/// The tokens `[first, last]` (inclusive) that a code-point span covers, snapped outward
/// to whole tokens; `None` when it covers no token (only spaces, or out of range).
pub(crate) fn snap(tokens: &[Token], start: usize, end: usize) -> Option<(usize, usize)> {
    if end <= start {
        return None;
    }
    // first token ending after `start`
    let first = tokens.partition_point(|t| t.end <= start);
    // tokens starting before `end`
    let upto = tokens.partition_point(|t| t.start < end);
    (first < upto).then(|| (first, upto - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        let c: Vec<char> = s.chars().map(fold).collect();
        tokenize(&c).iter().map(|t| c[t.start..t.end].iter().collect()).collect()
    }

    #[test]
    fn cjk_chars_words_and_symbols() {
        assert_eq!(toks("帮Maria Lopez订2张票!"), ["帮", "Maria", "Lopez", "订", "2", "张", "票", "!"]);
        assert_eq!(
            toks("O'Neil, café 3pm 😀 Jean-Luc 'x' a- -b"),
            ["O'Neil", ",", "café", "3pm", "😀", "Jean-Luc", "'", "x", "'", "a", "-", "-", "b"]
        );
        assert_eq!(toks("ＴＯＭ　ok"), ["TOM", "ok"]);
        assert!(toks("").is_empty());
        assert!(toks("   ").is_empty());
    }

    #[test]
    fn spans_snap_outward() {
        let c: Vec<char> = "for Maria Lopez now".chars().collect();
        let t = tokenize(&c);
        assert_eq!(snap(&t, 4, 15), Some((1, 2)));
        assert_eq!(snap(&t, 5, 12), Some((1, 2)));
        assert_eq!(snap(&t, 3, 4), None);
        assert_eq!(snap(&t, 100, 120), None);
        assert_eq!(snap(&t, 7, 7), None);
    }

    #[test]
    fn long_inputs_are_cut_into_bounded_pieces() {
        let text = "a b. ".repeat(400);
        let c: Vec<char> = text.chars().collect();
        let t = tokenize(&c);
        let p = pieces(&c, &t);
        assert!(p.iter().all(|r| r.len() <= MAX_PIECE_TOKENS && !r.is_empty()));
        assert_eq!(p.iter().map(|r| r.len()).sum::<usize>(), t.len());
        assert!(p.windows(2).all(|w| w[0].end == w[1].start));
    }
}
