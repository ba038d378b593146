//! A small longest-match dictionary indexed by first code point.

use super::text::{is_word, word_end};

/// Phrases mapped to values; lookups return the longest phrase at a position.
pub(crate) struct Lexicon<T> {
    /// Phrase groups by first code point, each sorted longest first.
    groups: Vec<Vec<(Vec<char>, T)>>,
    /// Group index of an ASCII first code point (`NONE` when there is none).
    ascii: [u32; 128],
    /// (first code point, group index) for the others, sorted.
    other: Vec<(char, u32)>,
}

const NONE: u32 = u32::MAX;

/// English weekday and month names, lower-case: never a noun after an ordinal ("the third
/// of May") nor a person's name.
pub(crate) const EN_DAY_AND_MONTH_NAMES: [&str; 19] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

impl<T: Clone> Lexicon<T> {
    /// Builds a lexicon from (normalised phrase, value) pairs.
    pub fn new(entries: &[(&str, T)]) -> Self {
        let mut lex = Lexicon { groups: Vec::new(), ascii: [NONE; 128], other: Vec::new() };
        for (p, v) in entries {
            let cs: Vec<char> = p.chars().map(super::text::fold).collect();
            let Some(&f) = cs.first() else { continue };
            let g = match lex.group(f) {
                Some(g) => g,
                None => {
                    let g = lex.groups.len();
                    lex.groups.push(Vec::new());
                    if (f as u32) < 128 {
                        lex.ascii[f as usize] = g as u32;
                    } else {
                        let k = lex.other.partition_point(|x| x.0 < f);
                        lex.other.insert(k, (f, g as u32));
                    }
                    g
                }
            };
            lex.groups[g].push((cs, v.clone()));
        }
        for v in &mut lex.groups {
            // stable: among phrases of one length, the first entry wins
            v.sort_by_key(|e| std::cmp::Reverse(e.0.len()));
        }
        lex
    }

    /// Index of the group of phrases starting with `ch`.
    #[inline]
    fn group(&self, ch: char) -> Option<usize> {
        let g = if (ch as u32) < 128 {
            self.ascii[ch as usize]
        } else {
            let k = self.other.binary_search_by(|x| x.0.cmp(&ch)).ok()?;
            self.other[k].1
        };
        (g != NONE).then_some(g as usize)
    }

    /// Whether some phrase starts with the (normalised) code point `ch`.
    #[inline]
    pub fn has_first(&self, ch: char) -> bool {
        self.group(ch).is_some()
    }

    /// Longest phrase starting at `i`; with `whole`, a phrase ending in a letter
    /// must end at a word boundary. Returns (end, value).
    pub fn longest(&self, c: &[char], i: usize, whole: bool) -> Option<(usize, &T)> {
        let first = c.get(i)?;
        let list = &self.groups[self.group(*first)?];
        for (p, v) in list {
            let e = i + p.len();
            if e <= c.len() && c[i..e] == p[..] {
                let last_word = p.last().map(|ch| is_word(*ch)).unwrap_or(false);
                if !whole || !last_word || word_end(c, e) {
                    return Some((e, v));
                }
            }
        }
        None
    }
}
