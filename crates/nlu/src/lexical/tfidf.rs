//! Vocabulary (hashed n-gram → dense index) and TF-IDF weighting.
//!
//! * term frequency is sublinear: `1 + ln(tf)`;
//! * inverse document frequency is smoothed: `ln((1 + N) / (1 + df)) + 1`;
//! * each feature family (words, characters) is L2-normalised on its own and then scaled by
//!   its block weight, like a union of two independent TF-IDF vectorisers.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::features::HashedFeatures;

/// Hasher for keys that are already well-mixed 64-bit hashes: passes them through.
#[derive(Default, Clone, Copy)]
pub(crate) struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }
}

/// Map from an n-gram key to its dense feature index.
pub(crate) type KeyMap = HashMap<u64, u32, BuildHasherDefault<PassThroughHasher>>;

/// The fitted TF-IDF vectoriser.
#[derive(Debug, Clone)]
pub(crate) struct Vectorizer {
    /// Key of each feature, sorted ascending (the order of feature indices).
    pub keys: Vec<u64>,
    /// Inverse document frequency of each feature.
    pub idf: Vec<f32>,
    /// Multiplier of the L2-normalised word block.
    pub word_weight: f32,
    /// Multiplier of the L2-normalised character block.
    pub char_weight: f32,
    /// Multiplier of the L2-normalised word-pair block.
    pub pair_weight: f32,
    map: KeyMap,
}

/// Reusable buffers for `Vectorizer::transform`.
#[derive(Default, Debug)]
pub(crate) struct SparseBuf {
    idx: Vec<u32>,
}

impl Vectorizer {
    /// Builds the vectoriser from per-document keys. Keys seen in fewer than `min_df`
    /// documents are dropped.
    pub(crate) fn fit(docs: &[HashedFeatures], min_df: u32, weights: [f32; 3]) -> Self {
        let mut df: KeyMap = KeyMap::default();
        let mut uniq: Vec<u64> = Vec::new();
        for d in docs {
            uniq.clear();
            uniq.extend_from_slice(&d.words);
            uniq.extend_from_slice(&d.chars);
            uniq.extend_from_slice(&d.pairs);
            uniq.sort_unstable();
            uniq.dedup();
            for &k in &uniq {
                *df.entry(k).or_insert(0) += 1;
            }
        }
        let mut kept: Vec<(u64, u32)> = df.into_iter().filter(|&(_, c)| c >= min_df).collect();
        kept.sort_unstable_by_key(|&(k, _)| k);
        let n = docs.len() as f64;
        let keys: Vec<u64> = kept.iter().map(|&(k, _)| k).collect();
        let idf: Vec<f32> = kept.iter().map(|&(_, c)| (((1.0 + n) / (1.0 + f64::from(c))).ln() + 1.0) as f32).collect();
        Self::from_parts(keys, idf, weights)
    }

    /// Rebuilds the lookup map from the stored keys and idf values.
    pub(crate) fn from_parts(keys: Vec<u64>, idf: Vec<f32>, weights: [f32; 3]) -> Self {
        let mut map = KeyMap::with_capacity_and_hasher(keys.len(), Default::default());
        for (i, &k) in keys.iter().enumerate() {
            map.insert(k, i as u32);
        }
        let [word_weight, char_weight, pair_weight] = weights;
        Self { keys, idf, word_weight, char_weight, pair_weight, map }
    }

    /// Number of features.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Converts hashed features into a sparse TF-IDF vector appended to `out_idx`/`out_val`.
    pub(crate) fn transform(
        &self,
        f: &HashedFeatures,
        buf: &mut SparseBuf,
        out_idx: &mut Vec<u32>,
        out_val: &mut Vec<f32>,
    ) {
        self.block(&f.words, self.word_weight, buf, out_idx, out_val);
        self.block(&f.chars, self.char_weight, buf, out_idx, out_val);
        self.block(&f.pairs, self.pair_weight, buf, out_idx, out_val);
    }

    fn block(&self, keys: &[u64], weight: f32, buf: &mut SparseBuf, out_idx: &mut Vec<u32>, out_val: &mut Vec<f32>) {
        if weight == 0.0 || keys.is_empty() {
            return;
        }
        buf.idx.clear();
        buf.idx.extend(keys.iter().filter_map(|k| self.map.get(k).copied()));
        buf.idx.sort_unstable();
        let start = out_val.len();
        let mut norm = 0.0f32;
        let mut i = 0;
        while i < buf.idx.len() {
            let f = buf.idx[i];
            let mut j = i + 1;
            while j < buf.idx.len() && buf.idx[j] == f {
                j += 1;
            }
            let tf = (j - i) as f32;
            let v = (1.0 + tf.ln()) * self.idf[f as usize];
            norm += v * v;
            out_idx.push(f);
            out_val.push(v);
            i = j;
        }
        if norm > 0.0 {
            let s = weight / norm.sqrt();
            for v in &mut out_val[start..] {
                *v *= s;
            }
        }
    }
}
