//! The input as code points, normalised for matching (full-width forms folded to
//! ASCII, ASCII lower-cased), with helpers shared by the scanners.

/// Normalised view of the input; offsets are code-point offsets of the original.
pub(crate) struct Doc {
    /// Original code points.
    pub orig: Vec<char>,
    /// Normalised code points, same length as `orig`.
    pub c: Vec<char>,
}

/// Folds one code point for matching.
pub(crate) fn fold(ch: char) -> char {
    let u = ch as u32;
    let ch = if (0xFF01..=0xFF5E).contains(&u) {
        char::from_u32(u - 0xFEE0).unwrap_or(ch)
    } else if u == 0x3000 || u == 0xA0 {
        ' '
    } else {
        match ch {
            '\u{2013}' | '\u{2014}' | '\u{2212}' | '\u{FE63}' => '-',
            '\u{2019}' | '\u{2018}' => '\'',
            '\u{3002}' => '.',
            _ => ch,
        }
    };
    ch.to_ascii_lowercase()
}

impl Doc {
    /// Builds the normalised view of `text`.
    pub fn new(text: &str) -> Doc {
        let orig: Vec<char> = text.chars().collect();
        let c = orig.iter().map(|&ch| fold(ch)).collect();
        Doc { orig, c }
    }

    /// Number of code points.
    pub fn len(&self) -> usize {
        self.c.len()
    }

    /// The original text of `[s, e)`.
    pub fn orig_slice(&self, s: usize, e: usize) -> String {
        let e = e.min(self.orig.len());
        let s = s.min(e);
        self.orig[s..e].iter().collect()
    }
}

/// Normalised char at `i`, or NUL past the end.
#[inline]
pub(crate) fn at(c: &[char], i: usize) -> char {
    c.get(i).copied().unwrap_or('\0')
}

/// True when `c[i..]` starts with `pat` (which must already be normalised).
#[inline]
pub(crate) fn starts(c: &[char], i: usize, pat: &str) -> bool {
    for (j, p) in (i..).zip(pat.chars()) {
        if j >= c.len() || c[j] != p {
            return false;
        }
    }
    true
}

/// Length in code points of an ASCII/CJK literal.
#[inline]
pub(crate) fn clen(s: &str) -> usize {
    s.chars().count()
}

/// ASCII letter or digit (after folding).
#[inline]
pub(crate) fn is_alnum(ch: char) -> bool {
    ch.is_ascii_alphanumeric()
}

/// A letter of any script that words are made of (for word boundaries).
#[inline]
pub(crate) fn is_word(ch: char) -> bool {
    if ch.is_ascii() {
        return ch.is_ascii_alphanumeric();
    }
    !is_cjk(ch) && ch.is_alphabetic()
}

/// CJK ideograph (no spaces between words there).
#[inline]
pub(crate) fn is_cjk(ch: char) -> bool {
    matches!(ch as u32, 0x3400..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF | 0x3007)
}

/// True when position `i` is at a word start (the previous char is no word char).
#[inline]
pub(crate) fn word_start(c: &[char], i: usize) -> bool {
    i == 0 || !is_word(c[i - 1])
}

/// True when position `i` is at a word end (the char at `i` is no word char).
#[inline]
pub(crate) fn word_end(c: &[char], i: usize) -> bool {
    i >= c.len() || !is_word(c[i])
}

/// Skips spaces (and tabs) from `i`.
#[inline]
pub(crate) fn skip_ws(c: &[char], mut i: usize) -> usize {
    while i < c.len() && (c[i] == ' ' || c[i] == '\t') {
        i += 1;
    }
    i
}

/// Matches an English word `w` at `i` (whole word), returning its end.
#[inline]
pub(crate) fn word(c: &[char], i: usize, w: &str) -> Option<usize> {
    if starts(c, i, w) {
        let e = i + clen(w);
        let last_is_word = w.chars().last().map(is_word).unwrap_or(false);
        if !last_is_word || word_end(c, e) {
            return Some(e);
        }
    }
    None
}

/// Longest ASCII word [`read_word`](super::number_en::read_word) accepts.
pub(crate) const MAX_WORD: usize = 24;

/// A short lower-case ASCII word held inline (no allocation); derefs to `str`.
#[derive(Clone, Copy, Default)]
pub(crate) struct Word {
    buf: [u8; MAX_WORD],
    len: u8,
}

impl Word {
    /// Builds a word from ASCII code points (at most [`MAX_WORD`]; longer input
    /// or non-ASCII code points give `None`).
    #[inline]
    pub fn from_chars(cs: &[char]) -> Option<Word> {
        if cs.len() > MAX_WORD {
            return None;
        }
        let mut w = Word::default();
        for (k, ch) in cs.iter().enumerate() {
            if !ch.is_ascii() {
                return None;
            }
            w.buf[k] = *ch as u8;
        }
        w.len = cs.len() as u8;
        Some(w)
    }

    /// The word as a string slice.
    #[inline]
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len as usize]).unwrap_or("")
    }
}

impl std::ops::Deref for Word {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for Word {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for Word {
    #[inline]
    fn eq(&self, o: &Word) -> bool {
        self.as_str() == o.as_str()
    }
}

impl PartialEq<str> for Word {
    #[inline]
    fn eq(&self, o: &str) -> bool {
        self.as_str() == o
    }
}

impl PartialEq<&str> for Word {
    #[inline]
    fn eq(&self, o: &&str) -> bool {
        self.as_str() == *o
    }
}
