//! A small longest-match dictionary indexed by first code point.

use std::collections::HashMap;

use super::text::{is_word, word_end};

/// Phrases mapped to values; lookups return the longest phrase at a position.
pub(crate) struct Lexicon<T> {
    by_first: HashMap<char, Vec<(Vec<char>, T)>>,
}

impl<T: Clone> Lexicon<T> {
    /// Builds a lexicon from (normalised phrase, value) pairs.
    pub fn new(entries: &[(&str, T)]) -> Self {
        let mut by_first: HashMap<char, Vec<(Vec<char>, T)>> = HashMap::new();
        for (p, v) in entries {
            let cs: Vec<char> = p.chars().map(super::text::fold).collect();
            if let Some(&f) = cs.first() {
                by_first.entry(f).or_default().push((cs, v.clone()));
            }
        }
        for v in by_first.values_mut() {
            v.sort_by_key(|e| std::cmp::Reverse(e.0.len()));
        }
        Lexicon { by_first }
    }

    /// Longest phrase starting at `i`; with `whole`, a phrase ending in a letter
    /// must end at a word boundary. Returns (end, value).
    pub fn longest(&self, c: &[char], i: usize, whole: bool) -> Option<(usize, &T)> {
        let first = c.get(i)?;
        let list = self.by_first.get(first)?;
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
