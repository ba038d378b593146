//! N-gram featurisation: word n-grams and character n-grams, hashed to `u64` keys.
//!
//! Every n-gram is hashed incrementally from its characters, so no `String` is ever built
//! for an n-gram. Each feature family starts from its own seed, so a word unigram and the
//! identical character n-gram get different keys. The keys are then finalised with a strong
//! 64-bit mixer; they serve directly as keys of the vocabulary's hash map.

use serde::{Deserialize, Serialize};

use super::normalize::is_unspaced_script;

const SEED_WORD: u64 = 0x9E37_79B9_7F4A_7C15;
const SEED_CHAR: u64 = 0xC2B2_AE3D_27D4_EB4F;
const SEED_BIGRAM: u64 = 0x1656_67B1_9E37_79F9;
const SEED_STEM: u64 = 0x6A09_E667_F3BC_C908;
const SEED_PAIR: u64 = 0x27D4_EB2F_1656_67C5;
const STEP_MUL: u64 = 0x5851_F42D_4C95_7F2D;
/// Word-hash of the virtual token before the first / after the last word.
const BOUNDARY_TOKEN: u64 = 0x2545_F491_4F6C_DD1D;

/// How text is cut into hashed features. Stored in the model file so that prediction uses
/// exactly the featurisation the model was trained with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureSpec {
    /// Longest word n-gram (1 = unigrams only, 2 = unigrams and bigrams; 0 = no word features).
    pub word_ngram_max: usize,
    /// Whether word bigrams include the sentence start and end (`<s> w1`, `wn </s>`).
    pub word_boundaries: bool,
    /// Shortest character n-gram.
    pub char_ngram_min: usize,
    /// Longest character n-gram (0 = no character features).
    pub char_ngram_max: usize,
    /// `true`: character n-grams stay inside one space-padded word (scikit-learn's
    /// `char_wb`); `false`: they run across word boundaries over the whole normalised text.
    pub char_within_words: bool,
    /// Also emit ordered pairs of words 2 to `word_pair_window` positions apart
    /// (0 or 1 = none): cheap interaction features such as `card … arrived`.
    pub word_pair_window: usize,
    /// Add a lightly stemmed form of each Latin word (common English suffixes stripped) as an
    /// extra unigram, and build word n-grams from the stems.
    pub stem_words: bool,
    /// Replace every ASCII digit by `0` before featurisation.
    pub fold_digits: bool,
}

impl Default for FeatureSpec {
    fn default() -> Self {
        Self {
            word_ngram_max: 2,
            word_boundaries: true,
            char_ngram_min: 1,
            char_ngram_max: 5,
            char_within_words: false,
            word_pair_window: 0,
            stem_words: false,
            fold_digits: false,
        }
    }
}

#[inline]
fn step(h: u64, c: char) -> u64 {
    (h.rotate_left(23) ^ (c as u64)).wrapping_mul(STEP_MUL)
}

/// SplitMix64's finaliser: spreads every input bit over the whole output.
#[inline]
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hashed features of one text, split by family.
#[derive(Default, Debug)]
pub(crate) struct HashedFeatures {
    /// Word n-gram keys (with repetitions).
    pub words: Vec<u64>,
    /// Character n-gram keys (with repetitions).
    pub chars: Vec<u64>,
    /// Word skip-pair keys (with repetitions).
    pub pairs: Vec<u64>,
    /// Scratch: token hashes of the current text.
    tokens: Vec<u64>,
}

impl HashedFeatures {
    pub(crate) fn clear(&mut self) {
        self.words.clear();
        self.chars.clear();
        self.pairs.clear();
    }
}

impl FeatureSpec {
    /// Checks that the ranges make sense.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.word_pair_window > 8 {
            return Err("word_pair_window must be at most 8".into());
        }
        if self.word_ngram_max > 4 {
            return Err("word_ngram_max must be at most 4".into());
        }
        if self.char_ngram_max > 0 && (self.char_ngram_min == 0 || self.char_ngram_min > self.char_ngram_max) {
            return Err("need 1 <= char_ngram_min <= char_ngram_max".into());
        }
        if self.char_ngram_max > 12 {
            return Err("char_ngram_max must be at most 12".into());
        }
        if self.word_ngram_max == 0 && self.char_ngram_max == 0 {
            return Err("at least one feature family must be enabled".into());
        }
        Ok(())
    }

    /// Extracts the hashed features of a normalised text (see `normalize_into`) into `out`.
    pub(crate) fn extract(&self, text: &[char], out: &mut HashedFeatures) {
        out.clear();
        if self.word_ngram_max > 0 {
            self.word_features(text, out);
        }
        if self.char_ngram_max > 0 {
            if self.char_within_words {
                let mut start = 0;
                // Each word together with its surrounding spaces is a contiguous slice.
                while start + 1 < text.len() {
                    let mut end = start + 1;
                    while end < text.len() && text[end] != ' ' {
                        end += 1;
                    }
                    let stop = (end + 1).min(text.len());
                    self.char_ngrams(&text[start..stop], &mut out.chars);
                    start = end;
                }
            } else {
                self.char_ngrams(text, &mut out.chars);
            }
        }
    }

    fn char_ngrams(&self, text: &[char], out: &mut Vec<u64>) {
        let (lo, hi) = (self.char_ngram_min, self.char_ngram_max);
        for i in 0..text.len() {
            let mut h = SEED_CHAR;
            for n in 1..=hi {
                let j = i + n;
                if j > text.len() {
                    break;
                }
                h = step(h, text[j - 1]);
                if n >= lo && !(n == 1 && text[i] == ' ') {
                    out.push(mix(h ^ n as u64));
                }
            }
        }
    }

    fn word_features(&self, text: &[char], out: &mut HashedFeatures) {
        let toks = &mut out.tokens;
        toks.clear();
        let mut i = 0;
        while i < text.len() {
            let c = text[i];
            if c == ' ' {
                i += 1;
                continue;
            }
            let mut h = SEED_WORD;
            if is_unspaced_script(c) {
                h = step(h, c);
                i += 1;
                toks.push(h);
                out.words.push(mix(h));
                continue;
            }
            let start = i;
            while i < text.len() && text[i] != ' ' && !is_unspaced_script(text[i]) {
                h = step(h, text[i]);
                i += 1;
            }
            out.words.push(mix(h));
            if self.stem_words {
                let stem_len = light_stem(&text[start..i]);
                if stem_len < i - start {
                    let mut hs = SEED_WORD;
                    for &sc in &text[start..start + stem_len] {
                        hs = step(hs, sc);
                    }
                    out.words.push(mix(hs ^ SEED_STEM));
                    h = hs;
                }
            }
            toks.push(h);
        }
        let n_real = toks.len();
        if n_real == 0 {
            return;
        }
        // Skip pairs: ordered pairs of words 2..=window apart.
        for gap in 2..=self.word_pair_window {
            for j in gap..n_real {
                let (a, b) = (toks[j - gap], toks[j]);
                out.pairs.push(mix(a.wrapping_mul(STEP_MUL) ^ b.rotate_left(29) ^ SEED_PAIR));
            }
        }
        if self.word_ngram_max < 2 {
            return;
        }
        let boundaries = self.word_boundaries;
        if boundaries {
            toks.insert(0, BOUNDARY_TOKEN);
            toks.push(BOUNDARY_TOKEN ^ 1);
        }
        for n in 2..=self.word_ngram_max {
            for win in toks.windows(n) {
                let mut h = SEED_BIGRAM ^ n as u64;
                for &t in win {
                    h = mix(h.wrapping_mul(STEP_MUL) ^ t);
                }
                out.words.push(h);
            }
        }
    }
}

/// Length of the stem of a lower-cased word: strips one common English inflectional suffix
/// when at least three characters remain.
fn light_stem(w: &[char]) -> usize {
    const SUFFIXES: [&str; 9] = ["ing", "ed", "es", "s", "ly", "ment", "ation", "ions", "ion"];
    let n = w.len();
    let mut best = n;
    for suf in SUFFIXES {
        let m = suf.chars().count();
        if n >= m + 3 && w[n - m..].iter().copied().eq(suf.chars()) {
            best = best.min(n - m);
        }
    }
    if best < n && best >= 4 && w[best - 1] == w[best - 2] && !matches!(w[best - 1], 'l' | 's' | 'z') {
        best -= 1; // "stopped" -> "stopp" -> "stop"
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexical::normalize::normalize_into;

    fn feats(spec: &FeatureSpec, s: &str) -> HashedFeatures {
        let mut buf = Vec::new();
        normalize_into(s, false, &mut buf);
        let mut f = HashedFeatures::default();
        spec.extract(&buf, &mut f);
        f
    }

    #[test]
    fn counts() {
        let spec = FeatureSpec {
            word_ngram_max: 2,
            word_boundaries: false,
            char_ngram_min: 2,
            char_ngram_max: 3,
            char_within_words: false,
            word_pair_window: 0,
            stem_words: false,
            fold_digits: false,
        };
        let f = feats(&spec, "ab cd");
        // words: ab, cd, "ab cd"
        assert_eq!(f.words.len(), 3);
        // " ab cd " has 7 chars: 6 bigrams + 5 trigrams
        assert_eq!(f.chars.len(), 11);
        let g = feats(&spec, "你好");
        assert_eq!(g.words.len(), 3);
        let e = feats(&spec, "");
        assert!(e.words.is_empty());
        assert!(e.chars.is_empty());
    }

    #[test]
    fn same_text_same_keys() {
        let spec = FeatureSpec::default();
        let a = feats(&spec, "Card ARRIVAL");
        let b = feats(&spec, "card arrival!");
        assert_eq!(a.words, b.words);
        assert_eq!(a.chars, b.chars);
    }
}
