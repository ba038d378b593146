//! A linear intent classifier on dense sentence embeddings, and score fusion with the lexical
//! model. Pure Rust and independent of how embeddings are computed, so it is trained and
//! tested without the transformer (which lives behind the `neural` feature).

use serde::{Deserialize, Serialize};

/// Hyper-parameters of [`DenseClassifier`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DenseConfig {
    /// Seed of the shuffling (training is deterministic for a seed).
    pub seed: u64,
    /// Passes over the data.
    pub epochs: usize,
    /// Adam step size.
    pub learning_rate: f32,
    /// L2 penalty on the weights.
    pub l2: f32,
    /// Examples per gradient step.
    pub batch_size: usize,
    /// Class re-weighting in [0, 1]: an example of a class with `n` examples weighs
    /// `(n_max / n)^class_balance` (then scaled to a mean weight of 1). 0 = plain loss; 1 =
    /// every class counts the same. Rare intents of an imbalanced bot are otherwise drowned
    /// by the big ones; a balanced training set is unaffected.
    pub class_balance: f32,
}

impl Default for DenseConfig {
    fn default() -> Self {
        Self { seed: 0, epochs: 30, learning_rate: 0.05, l2: 1e-4, batch_size: 64, class_balance: 0.0 }
    }
}

/// Why training failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DenseError {
    /// Nothing to learn from.
    #[error("no training examples")]
    NoExamples,
    /// Embeddings and labels differ in number, or embeddings differ in dimension.
    #[error("inconsistent input: {0}")]
    Inconsistent(String),
}

/// Multinomial logistic regression on L2-normalised embeddings, trained with mini-batch Adam.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DenseClassifier {
    labels: Vec<String>,
    dim: usize,
    /// Row-major `labels × dim`.
    weights: Vec<f32>,
    bias: Vec<f32>,
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

impl DenseClassifier {
    /// Trains on embeddings `x` with labels `y`.
    pub fn train(
        x: &[Vec<f32>],
        y: &[String],
        cfg: &DenseConfig,
        progress: &mut dyn FnMut(usize, f32),
    ) -> Result<Self, DenseError> {
        if x.is_empty() {
            return Err(DenseError::NoExamples);
        }
        if x.len() != y.len() {
            return Err(DenseError::Inconsistent(format!("{} embeddings for {} labels", x.len(), y.len())));
        }
        let dim = x[0].len();
        if dim == 0 || x.iter().any(|v| v.len() != dim) {
            return Err(DenseError::Inconsistent("embeddings must all have the same non-zero dimension".into()));
        }
        let mut labels: Vec<String> = y.to_vec();
        labels.sort();
        labels.dedup();
        let target: Vec<usize> = y.iter().map(|l| labels.binary_search(l).unwrap_or(0)).collect();
        let k = labels.len();
        let class_weight = class_weights(&target, k, cfg.class_balance);
        let mut m = Self { labels, dim, weights: vec![0.0; k * dim], bias: vec![0.0; k] };
        let (mut mw, mut vw) = (vec![0.0f32; k * dim], vec![0.0f32; k * dim]);
        let (mut mb, mut vb) = (vec![0.0f32; k], vec![0.0f32; k]);
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        let mut order: Vec<usize> = (0..x.len()).collect();
        let mut rng = cfg.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut step = 0i32;
        let batch = cfg.batch_size.max(1);
        let mut probs = vec![0.0f32; k];
        for epoch in 0..cfg.epochs.max(1) {
            for i in (1..order.len()).rev() {
                order.swap(i, (xorshift(&mut rng) % (i as u64 + 1)) as usize);
            }
            let mut loss = 0.0f32;
            for chunk in order.chunks(batch) {
                let mut gw = vec![0.0f32; k * dim];
                let mut gb = vec![0.0f32; k];
                for &i in chunk {
                    m.scores_into(&x[i], &mut probs);
                    softmax(&mut probs);
                    let weight = class_weight[target[i]];
                    loss -= weight * probs[target[i]].max(1e-12).ln();
                    for c in 0..k {
                        let g = weight * (probs[c] - if c == target[i] { 1.0 } else { 0.0 });
                        gb[c] += g;
                        let row = &mut gw[c * dim..(c + 1) * dim];
                        for (w, xv) in row.iter_mut().zip(&x[i]) {
                            *w += g * xv;
                        }
                    }
                }
                step += 1;
                let n = chunk.len() as f32;
                let (c1, c2) = (1.0 - b1.powi(step), 1.0 - b2.powi(step));
                for j in 0..k * dim {
                    let g = gw[j] / n + cfg.l2 * m.weights[j];
                    mw[j] = b1 * mw[j] + (1.0 - b1) * g;
                    vw[j] = b2 * vw[j] + (1.0 - b2) * g * g;
                    m.weights[j] -= cfg.learning_rate * (mw[j] / c1) / ((vw[j] / c2).sqrt() + eps);
                }
                for c in 0..k {
                    let g = gb[c] / n;
                    mb[c] = b1 * mb[c] + (1.0 - b1) * g;
                    vb[c] = b2 * vb[c] + (1.0 - b2) * g * g;
                    m.bias[c] -= cfg.learning_rate * (mb[c] / c1) / ((vb[c] / c2).sqrt() + eps);
                }
            }
            progress(epoch + 1, loss / x.len() as f32);
        }
        Ok(m)
    }

    fn scores_into(&self, x: &[f32], out: &mut [f32]) {
        for (c, o) in out.iter_mut().enumerate() {
            let row = &self.weights[c * self.dim..(c + 1) * self.dim];
            *o = self.bias[c] + row.iter().zip(x).map(|(w, v)| w * v).sum::<f32>();
        }
    }

    /// Probabilities per label (same order as [`Self::labels`]); empty on a wrong dimension.
    pub fn probabilities(&self, x: &[f32]) -> Vec<f32> {
        if x.len() != self.dim {
            return Vec::new();
        }
        let mut p = vec![0.0; self.labels.len()];
        self.scores_into(x, &mut p);
        softmax(&mut p);
        p
    }

    /// Labels, sorted.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Embedding dimension it was trained on.
    pub fn dim(&self) -> usize {
        self.dim
    }
}

/// Per-class loss weights `(n_max / n_c)^power`, scaled so that the mean over the examples is 1.
fn class_weights(target: &[usize], classes: usize, power: f32) -> Vec<f32> {
    let mut counts = vec![0usize; classes];
    for &t in target {
        counts[t] += 1;
    }
    let power = power.clamp(0.0, 1.0);
    let max = counts.iter().copied().max().unwrap_or(1).max(1) as f32;
    let raw: Vec<f32> = counts.iter().map(|&n| if n == 0 { 0.0 } else { (max / n as f32).powf(power) }).collect();
    let mean = target.iter().map(|&t| raw[t]).sum::<f32>() / target.len().max(1) as f32;
    raw.iter().map(|w| if mean > 0.0 { w / mean } else { 1.0 }).collect()
}

fn softmax(v: &mut [f32]) {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    if sum > 0.0 {
        v.iter_mut().for_each(|x| *x /= sum);
    }
}

/// Score fusion: a weighted geometric mean of two probability distributions over the union
/// of their labels (a label missing from one side gets a small floor), renormalised and
/// sorted. `dense_weight` in [0, 1]: 0 = lexical only, 1 = dense only.
pub fn fuse(lexical: &[(String, f32)], dense: &[(String, f32)], dense_weight: f32) -> Vec<(String, f32)> {
    const FLOOR: f32 = 1e-6;
    let w = dense_weight.clamp(0.0, 1.0);
    let mut labels: Vec<&str> = lexical.iter().chain(dense).map(|(l, _)| l.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    let get = |side: &[(String, f32)], l: &str| side.iter().find(|(x, _)| x == l).map_or(FLOOR, |(_, p)| p.max(FLOOR));
    let mut out: Vec<(String, f32)> = labels
        .into_iter()
        .map(|l| (l.to_string(), ((1.0 - w) * get(lexical, l).ln() + w * get(dense, l).ln()).exp()))
        .collect();
    let sum: f32 = out.iter().map(|(_, p)| p).sum();
    if sum > 0.0 {
        out.iter_mut().for_each(|(_, p)| *p /= sum);
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three Gaussian-ish clusters on the unit sphere in 16 dimensions.
    fn blobs(n: usize, seed: u64) -> (Vec<Vec<f32>>, Vec<String>) {
        let mut rng = seed | 1;
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            let c = i % 3;
            let mut v: Vec<f32> = (0..16)
                .map(|d| {
                    let noise = (xorshift(&mut rng) % 1000) as f32 / 1000.0 - 0.5;
                    (if d % 3 == c { 1.0 } else { 0.0 }) + 0.6 * noise
                })
                .collect();
            let norm = v.iter().map(|a| a * a).sum::<f32>().sqrt();
            v.iter_mut().for_each(|a| *a /= norm);
            x.push(v);
            y.push(format!("intent{c}"));
        }
        (x, y)
    }

    #[test]
    fn learns_separable_clusters_deterministically() {
        let (x, y) = blobs(300, 7);
        let (tx, ty) = blobs(90, 99);
        let cfg = DenseConfig::default();
        let a = DenseClassifier::train(&x, &y, &cfg, &mut |_, _| {}).unwrap();
        let b = DenseClassifier::train(&x, &y, &cfg, &mut |_, _| {}).unwrap();
        assert_eq!(a, b, "same seed, same model");
        let correct = tx
            .iter()
            .zip(&ty)
            .filter(|(v, l)| {
                let p = a.probabilities(v);
                let best = (0..p.len()).max_by(|i, j| p[*i].total_cmp(&p[*j])).unwrap();
                &a.labels()[best] == *l
            })
            .count();
        assert!(correct as f32 / tx.len() as f32 > 0.95, "{correct}/{}", tx.len());
        assert!((a.probabilities(&tx[0]).iter().sum::<f32>() - 1.0).abs() < 1e-4);
        assert!(a.probabilities(&[1.0, 2.0]).is_empty(), "wrong dimension");
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            DenseClassifier::train(&[], &[], &DenseConfig::default(), &mut |_, _| {}),
            Err(DenseError::NoExamples)
        );
        let bad = DenseClassifier::train(
            &[vec![1.0], vec![1.0, 2.0]],
            &["a".into(), "b".into()],
            &DenseConfig::default(),
            &mut |_, _| {},
        );
        assert!(matches!(bad, Err(DenseError::Inconsistent(_))));
    }

    #[test]
    fn fusion_weights_and_renormalises() {
        let lex = vec![("a".to_string(), 0.7), ("b".to_string(), 0.3)];
        let den = vec![("b".to_string(), 0.9), ("c".to_string(), 0.1)];
        assert_eq!(fuse(&lex, &den, 0.0)[0].0, "a");
        assert_eq!(fuse(&lex, &den, 1.0)[0].0, "b");
        let mid = fuse(&lex, &den, 0.5);
        assert_eq!(mid[0].0, "b");
        assert!((mid.iter().map(|(_, p)| p).sum::<f32>() - 1.0).abs() < 1e-5);
    }
}
