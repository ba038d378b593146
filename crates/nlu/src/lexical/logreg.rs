//! Multinomial logistic regression trained by stochastic gradient descent.
//!
//! The loss is the softmax cross-entropy (optionally against label-smoothed targets) plus
//! `l2 / 2 * ||W||²`. Weights are stored feature-major (`w[f * k .. f * k + k]` holds the
//! scores that feature `f` adds to each of the `k` classes), so one sparse example touches
//! `nnz` contiguous rows. The L2 shrinkage is applied lazily through a global scale factor
//! (`W = scale * V`), which keeps every update `O(nnz * k)`. The learning rate decays
//! linearly to zero over the epochs, and the weights of the last epochs can be averaged.

use super::sparse::{Csr, Rng};

/// A dense linear scorer: `score = bias + x · W`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Linear {
    /// Number of classes (row stride of `w`).
    pub k: usize,
    /// Feature-major weights, `n_features * k`.
    pub w: Vec<f32>,
    /// Per-class bias.
    pub b: Vec<f32>,
}

impl Linear {
    pub(crate) fn zeros(n_features: usize, k: usize) -> Self {
        Self { k, w: vec![0.0; n_features * k], b: vec![0.0; k] }
    }

    /// Writes the class scores of the sparse vector `(idx, val)` into `out` (length `k`).
    #[inline]
    pub(crate) fn scores(&self, idx: &[u32], val: &[f32], out: &mut [f32]) {
        out.copy_from_slice(&self.b);
        accumulate(&self.w, self.k, idx, val, 1.0, out);
    }
}

#[inline]
fn accumulate(w: &[f32], k: usize, idx: &[u32], val: &[f32], scale: f32, out: &mut [f32]) {
    for (&f, &x) in idx.iter().zip(val) {
        let a = f as usize * k;
        let row = &w[a..a + k];
        let xs = x * scale;
        for (o, &wv) in out.iter_mut().zip(row) {
            *o += xs * wv;
        }
    }
}

/// In-place softmax; returns `ln(sum(exp(s - max)))+max` (the log-partition).
#[inline]
pub(crate) fn softmax_in_place(s: &mut [f32]) -> f32 {
    let m = s.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut z = 0.0f32;
    for v in s.iter_mut() {
        *v = (*v - m).exp();
        z += *v;
    }
    let inv = 1.0 / z;
    for v in s.iter_mut() {
        *v *= inv;
    }
    m + z.ln()
}

/// Hyper-parameters of the SGD trainer.
#[derive(Debug, Clone)]
pub(crate) struct SgdParams {
    pub epochs: usize,
    pub learning_rate: f32,
    pub l2: f32,
    pub label_smoothing: f32,
    /// Average the weights over the last `average_epochs` epoch ends (0 or 1 = no averaging).
    pub average_epochs: usize,
    /// Probability of dropping each active feature of an example at each step (0 = off).
    pub dropout: f32,
    /// Only features with an index in this range are used (the others keep zero weights).
    pub features: std::ops::Range<u32>,
}

/// A training problem: the rows `rows` of `x`, labelled by `y` (indexed like the rows of
/// `x`), with `n_features` columns and `k` classes.
pub(crate) struct Problem<'a> {
    pub x: &'a Csr,
    pub y: &'a [u32],
    pub rows: &'a [usize],
    pub n_features: usize,
    pub k: usize,
}

/// Trains on `prob`. `progress(epoch, mean_loss)` is called after each epoch.
pub(crate) fn train(prob: &Problem<'_>, p: &SgdParams, seed: u64, progress: &mut dyn FnMut(usize, f32)) -> Linear {
    let Problem { x, y, rows, n_features, k } = *prob;
    let mut model = Linear::zeros(n_features, k);
    let mut order: Vec<usize> = rows.to_vec();
    let mut rng = Rng::new(seed);
    let mut scale = 1.0f32;
    let mut s = vec![0.0f32; k];
    let total_steps = (p.epochs * order.len()).max(1) as f32;
    let mut step = 0usize;
    let avg_from = p.epochs.saturating_sub(p.average_epochs.max(1));
    let mut avg: Option<Linear> = None;
    let mut n_avg = 0usize;
    let smooth_off = p.label_smoothing / k as f32;
    let smooth_on = 1.0 - p.label_smoothing + smooth_off;
    let mut d_idx: Vec<u32> = Vec::new();
    let mut d_val: Vec<f32> = Vec::new();
    let keep = 1.0 - p.dropout.clamp(0.0, 0.95);
    let keep_threshold = (f64::from(keep) * u64::MAX as f64) as u64;
    let inv_keep = 1.0 / keep;
    let all_features = p.features.start == 0 && p.features.end as usize >= n_features;
    for epoch in 0..p.epochs {
        rng.shuffle(&mut order);
        let mut loss_sum = 0.0f64;
        for &r in &order {
            let lr = p.learning_rate * (1.0 - step as f32 / total_steps);
            step += 1;
            let (idx, val) = x.row(r);
            let (idx, val) = if keep < 1.0 || !all_features {
                d_idx.clear();
                d_val.clear();
                for (&f, &v) in idx.iter().zip(val) {
                    if p.features.contains(&f) && (keep >= 1.0 || rng.next_u64() < keep_threshold) {
                        d_idx.push(f);
                        d_val.push(v * inv_keep);
                    }
                }
                (&d_idx[..], &d_val[..])
            } else {
                (idx, val)
            };
            s.copy_from_slice(&model.b);
            accumulate(&model.w, k, idx, val, scale, &mut s);
            let label = y[r] as usize;
            let logz = softmax_in_place(&mut s);
            let _ = logz;
            loss_sum -= f64::from(s[label].max(1e-12).ln());
            // gradient of the cross-entropy w.r.t. scores: p - target
            for (c, g) in s.iter_mut().enumerate() {
                *g -= if c == label { smooth_on } else { smooth_off };
            }
            // L2 shrinkage through the scale factor.
            if p.l2 > 0.0 {
                scale *= 1.0 - (lr * p.l2).min(0.5);
                if scale < 1e-5 {
                    for v in &mut model.w {
                        *v *= scale;
                    }
                    scale = 1.0;
                }
            }
            for (bv, &g) in model.b.iter_mut().zip(s.iter()) {
                *bv -= lr * g;
            }
            let step_size = lr / scale;
            for (&f, &xv) in idx.iter().zip(val) {
                let a = f as usize * k;
                let row = &mut model.w[a..a + k];
                let c = step_size * xv;
                for (wv, &g) in row.iter_mut().zip(s.iter()) {
                    *wv -= c * g;
                }
            }
        }
        if epoch >= avg_from && p.average_epochs > 1 {
            let cur = materialize(&model, scale);
            match avg.as_mut() {
                None => avg = Some(cur),
                Some(a) => {
                    for (av, &cv) in a.w.iter_mut().zip(&cur.w) {
                        *av += cv;
                    }
                    for (av, &cv) in a.b.iter_mut().zip(&cur.b) {
                        *av += cv;
                    }
                }
            }
            n_avg += 1;
        }
        progress(epoch, (loss_sum / order.len().max(1) as f64) as f32);
    }
    match avg {
        Some(mut a) if n_avg > 0 => {
            let inv = 1.0 / n_avg as f32;
            a.w.iter_mut().for_each(|v| *v *= inv);
            a.b.iter_mut().for_each(|v| *v *= inv);
            a
        }
        _ => materialize(&model, scale),
    }
}

fn materialize(m: &Linear, scale: f32) -> Linear {
    let mut out = m.clone();
    if scale != 1.0 {
        out.w.iter_mut().for_each(|v| *v *= scale);
    }
    out
}
