//! Averaged structured perceptron over BIO labels, with constrained Viterbi decoding.
//!
//! A sequence scores `Σ_t (start or transition(y_{t-1}, y_t) + Σ_{f ∈ features(t)} w[f, y_t])`.
//! Transitions look at the previous label only as "outside" or "in a span of type k" (`B-k`
//! and `I-k` share their rows): a span of four tokens then scores like the two-token spans
//! it was trained on, instead of depending on rarely seen `I → I` steps. Decoding never
//! produces an `I` label that does not continue a `B`/`I` of the same type (see
//! [`super::labels::allowed`]).
//!
//! Training decodes each example with the current weights and, on a mistake, moves the
//! weights towards the gold sequence and away from the prediction (Collins 2002); the
//! stored weights are the average over all steps, kept with the usual lazy trick
//! (`w̄ = w − u / c`, where `u` accumulates `c · Δ`). Training decodes cost-augmented: every
//! wrong label of a token gets [`MARGIN`] extra, so the gold sequence must win by a margin
//! that grows with the number of wrong tokens. Without it a perceptron stops at the first
//! weights that separate the data and, with few negatives, tags tokens it knows nothing
//! about.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::features::PieceFeatures;
use super::labels::allowed;

/// Averaged weights, ready for decoding.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Linear {
    /// Number of BIO labels.
    pub n_labels: usize,
    /// Feature keys, sorted; row `r` of `weights` belongs to `keys[r]`.
    pub keys: Vec<u64>,
    /// `keys.len() × n_labels` emission weights, row-major.
    pub weights: Vec<f32>,
    /// Score of each label at the first token.
    pub start: Vec<f32>,
    /// `n_states × n_labels` transition scores, `[state(prev) * n_labels + cur]` (see
    /// [`state`]).
    pub trans: Vec<f32>,
}

impl Linear {
    /// True when every table has the size `n_labels` and `keys` imply (a model read from a
    /// file could be inconsistent; decoding then returns nothing rather than panic).
    pub fn is_consistent(&self) -> bool {
        let l = self.n_labels;
        l > 0
            && l <= usize::from(u16::MAX)
            && self.keys.len().checked_mul(l) == Some(self.weights.len())
            && self.start.len() == l
            && n_states(l).checked_mul(l) == Some(self.trans.len())
    }

    /// Best label sequence for the tokens of one piece; empty if the model is inconsistent.
    pub fn decode(&self, feats: &PieceFeatures) -> Vec<u16> {
        if !self.is_consistent() {
            return Vec::new();
        }
        let l = self.n_labels;
        let n = feats.len();
        let mut emit = vec![0f64; n * l];
        for (j, row) in emit.chunks_exact_mut(l).enumerate() {
            for key in feats.token(j) {
                if let Ok(r) = self.keys.binary_search(key) {
                    if let Some(w) = self.weights.get(r * l..(r + 1) * l) {
                        for (e, &x) in row.iter_mut().zip(w) {
                            *e += f64::from(x);
                        }
                    }
                }
            }
        }
        viterbi(
            n,
            l,
            &emit,
            |y| self.start.get(y).copied().map_or(0.0, f64::from),
            |p, y| self.trans.get(state(p) * l + y).copied().map_or(0.0, f64::from),
        )
    }
}

/// Constrained Viterbi over `n` tokens and `l` labels with emission scores `emit[t * l + y]`.
fn viterbi(
    n: usize,
    l: usize,
    emit: &[f64],
    start: impl Fn(usize) -> f64,
    trans: impl Fn(usize, usize) -> f64,
) -> Vec<u16> {
    if n == 0 || l == 0 || emit.len() < n * l {
        return Vec::new();
    }
    let mut score = vec![f64::NEG_INFINITY; l];
    for (y, s) in score.iter_mut().enumerate() {
        if allowed(None, label(y)) {
            *s = start(y) + emit[y];
        }
    }
    let mut back = vec![0u16; n * l];
    let mut next = vec![f64::NEG_INFINITY; l];
    for t in 1..n {
        for y in 0..l {
            let mut best = f64::NEG_INFINITY;
            let mut arg = 0usize;
            for (p, &sp) in score.iter().enumerate() {
                if sp == f64::NEG_INFINITY || !allowed(Some(label(p)), label(y)) {
                    continue;
                }
                let s = sp + trans(p, y);
                if s > best {
                    best = s;
                    arg = p;
                }
            }
            next[y] = best + emit[t * l + y];
            back[t * l + y] = label(arg);
        }
        std::mem::swap(&mut score, &mut next);
    }
    let mut y = 0usize;
    let mut best = f64::NEG_INFINITY;
    for (k, &s) in score.iter().enumerate() {
        if s > best {
            best = s;
            y = k;
        }
    }
    let mut out = vec![0u16; n];
    for t in (0..n).rev() {
        out[t] = label(y);
        if t > 0 {
            y = usize::from(back[t * l + y]);
        }
    }
    out
}

/// The transition row of a previous label: 0 for `O`, `1 + k` for `B-k` and `I-k`.
fn state(label: usize) -> usize {
    label.div_ceil(2)
}

/// Number of transition rows for `n_labels` labels.
fn n_states(n_labels: usize) -> usize {
    n_labels.div_ceil(2)
}

/// Hamming cost added per wrong label during training (see the module documentation).
const MARGIN: f64 = 1.0;

fn label(y: usize) -> u16 {
    u16::try_from(y).unwrap_or(u16::MAX)
}

/// One training sequence: interned feature rows per token and the gold labels.
struct Sequence {
    rows: Vec<u32>,
    offsets: Vec<usize>,
    gold: Vec<u16>,
}

impl Sequence {
    fn token(&self, j: usize) -> &[u32] {
        match (self.offsets.get(j), self.offsets.get(j + 1)) {
            (Some(&a), Some(&b)) => self.rows.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// Collects training sequences, then trains the averaged perceptron.
pub(crate) struct Trainer {
    n_labels: usize,
    row_of: HashMap<u64, u32>,
    keys: Vec<u64>,
    seqs: Vec<Sequence>,
}

/// Weights while training: current `w` and the accumulator `u` for averaging.
struct Averaged {
    w: Vec<f64>,
    u: Vec<f64>,
}

impl Averaged {
    fn new(n: usize) -> Self {
        Averaged { w: vec![0.0; n], u: vec![0.0; n] }
    }

    fn add(&mut self, i: usize, delta: f64, c: f64) {
        if let (Some(w), Some(u)) = (self.w.get_mut(i), self.u.get_mut(i)) {
            *w += delta;
            *u += c * delta;
        }
    }

    fn averaged(&self, c: f64) -> Vec<f32> {
        self.w.iter().zip(&self.u).map(|(w, u)| (w - u / c) as f32).collect()
    }
}

/// A small deterministic xorshift generator for shuffling.
pub(crate) struct XorShift(u64);

impl XorShift {
    /// A generator seeded by `seed` (any value, 0 included).
    pub fn new(seed: u64) -> Self {
        let s = seed ^ 0x2545_F491_4F6C_DD1D;
        XorShift(if s == 0 { 0x9E37_79B9_7F4A_7C15 } else { s })
    }

    /// The next pseudo-random value.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

impl Trainer {
    /// A trainer for `n_labels` BIO labels.
    pub fn new(n_labels: usize) -> Self {
        Trainer { n_labels, row_of: HashMap::new(), keys: Vec::new(), seqs: Vec::new() }
    }

    /// Adds one sequence; `gold` has one label per token of `feats`.
    pub fn add(&mut self, feats: &PieceFeatures, gold: Vec<u16>) {
        let n = feats.len();
        if n == 0 || gold.len() != n {
            return;
        }
        let mut rows = Vec::with_capacity(feats.keys.len());
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        for j in 0..n {
            for &key in feats.token(j) {
                let next = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
                let r = *self.row_of.entry(key).or_insert_with(|| {
                    self.keys.push(key);
                    next
                });
                rows.push(r);
            }
            offsets.push(rows.len());
        }
        self.seqs.push(Sequence { rows, offsets, gold });
    }

    /// Runs `epochs` passes in an order shuffled by `seed` and returns the averaged model,
    /// without the features whose weights all stayed zero.
    pub fn train(self, epochs: usize, seed: u64) -> Linear {
        let l = self.n_labels;
        let mut emission = Averaged::new(self.keys.len() * l);
        let mut start = Averaged::new(l);
        let mut trans = Averaged::new(n_states(l) * l);
        let mut order: Vec<usize> = (0..self.seqs.len()).collect();
        let mut rng = XorShift::new(seed);
        let mut c = 1.0f64;
        let mut emit = Vec::new();
        for _ in 0..epochs {
            rng.shuffle(&mut order);
            for &s in &order {
                let Some(seq) = self.seqs.get(s) else { continue };
                let n = seq.gold.len();
                emit.clear();
                emit.resize(n * l, 0.0);
                for (j, row) in emit.chunks_exact_mut(l).enumerate() {
                    for &r in seq.token(j) {
                        let base = r as usize * l;
                        if let Some(w) = emission.w.get(base..base + l) {
                            for (e, x) in row.iter_mut().zip(w) {
                                *e += x;
                            }
                        }
                    }
                }
                for (row, &g) in emit.chunks_exact_mut(l).zip(&seq.gold) {
                    for (y, e) in row.iter_mut().enumerate() {
                        if y != usize::from(g) {
                            *e += MARGIN;
                        }
                    }
                }
                let pred = viterbi(n, l, &emit, |y| start.w[y], |p, y| trans.w[state(p) * l + y]);
                if pred != seq.gold {
                    for (j, (&g, &p)) in seq.gold.iter().zip(&pred).enumerate() {
                        let (g, p) = (usize::from(g), usize::from(p));
                        if g != p {
                            for &r in seq.token(j) {
                                emission.add(r as usize * l + g, 1.0, c);
                                emission.add(r as usize * l + p, -1.0, c);
                            }
                        }
                        let (gp, pp) = if j == 0 {
                            (None, None)
                        } else {
                            let prev = |v: &[u16]| v.get(j - 1).map(|&x| state(usize::from(x)));
                            (prev(&seq.gold), prev(&pred))
                        };
                        if (gp, g) != (pp, p) {
                            match gp {
                                None => start.add(g, 1.0, c),
                                Some(gp) => trans.add(gp * l + g, 1.0, c),
                            }
                            match pp {
                                None => start.add(p, -1.0, c),
                                Some(pp) => trans.add(pp * l + p, -1.0, c),
                            }
                        }
                    }
                }
                c += 1.0;
            }
        }
        let weights = emission.averaged(c);
        let mut rows: Vec<(u64, usize)> = self
            .keys
            .iter()
            .enumerate()
            .filter(|(r, _)| weights.get(r * l..(r + 1) * l).is_some_and(|w| w.iter().any(|x| x.abs() > 1e-6)))
            .map(|(r, &k)| (k, r))
            .collect();
        rows.sort_unstable();
        let mut keys = Vec::with_capacity(rows.len());
        let mut kept = Vec::with_capacity(rows.len() * l);
        for (k, r) in rows {
            keys.push(k);
            kept.extend_from_slice(weights.get(r * l..(r + 1) * l).unwrap_or(&[]));
        }
        Linear { n_labels: l, keys, weights: kept, start: start.averaged(c), trans: trans.averaged(c) }
    }
}

#[cfg(test)]
mod tests {
    use super::super::labels::{begin, inside, OUTSIDE};
    use super::*;

    #[test]
    fn viterbi_respects_bio_even_against_the_scores() {
        // 3 labels: O, B-0, I-0. Token 0 strongly prefers I-0, which is not allowed first,
        // and I-0 at token 1 would need a B-0 before it.
        let emit = [1.0, 0.0, 5.0, 0.0, 0.0, 0.5];
        let path = viterbi(2, 3, &emit, |_| 0.0, |_, _| 0.0);
        assert_eq!(path, [OUTSIDE, OUTSIDE]);
        let emit = [0.0, 1.0, 0.0, 0.0, 0.0, 5.0];
        let path = viterbi(2, 3, &emit, |_| 0.0, |_, _| 0.0);
        assert_eq!(path, [begin(0), inside(0)]);
        assert!(viterbi(0, 3, &[], |_| 0.0, |_, _| 0.0).is_empty());
    }

    #[test]
    fn xorshift_is_deterministic_and_permutes() {
        let mut a: Vec<usize> = (0..50).collect();
        let mut b = a.clone();
        XorShift::new(7).shuffle(&mut a);
        XorShift::new(7).shuffle(&mut b);
        assert_eq!(a, b);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(a, sorted);
    }

    #[test]
    fn an_inconsistent_model_decodes_to_nothing() {
        let m = Linear { n_labels: 3, keys: vec![1], weights: vec![0.0], start: vec![], trans: vec![] };
        let feats = PieceFeatures { keys: vec![1], offsets: vec![0, 1] };
        assert!(m.decode(&feats).is_empty());
    }
}
