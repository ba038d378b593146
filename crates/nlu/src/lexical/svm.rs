//! One-vs-rest linear SVM with the squared hinge loss, solved in the dual by coordinate
//! descent with shrinking (the method of Hsieh et al., 2008).
//!
//! For each class `c` the binary problem `min ½||w||² + C Σ max(0, 1 - yᵢ w·xᵢ)²` (the bias
//! is an extra constant feature, regularised like the weights) is solved independently, so
//! classes are split between threads without affecting the result.

use super::logreg::{Linear, Problem};
use super::sparse::Rng;

/// Hyper-parameters of the SVM solver.
#[derive(Debug, Clone)]
pub(crate) struct SvmParams {
    /// Inverse regularisation strength.
    pub c: f32,
    /// Stopping tolerance on the projected-gradient spread.
    pub eps: f32,
    /// Maximal number of passes per class.
    pub max_passes: usize,
}

/// Value of the constant bias feature.
const BIAS_FEATURE: f32 = 1.0;

/// Trains one binary problem; returns the weights (`nf` features, then the bias).
fn train_binary(prob: &Problem<'_>, qd: &[f32], class: u32, p: &SvmParams, seed: u64) -> Vec<f32> {
    let Problem { x, y, rows, n_features: nf, .. } = *prob;
    let n = rows.len();
    let d_ii = 0.5 / p.c;
    let mut w = vec![0.0f32; nf + 1];
    let mut alpha = vec![0.0f32; n];
    let mut index: Vec<usize> = (0..n).collect();
    let mut active = n;
    let mut rng = Rng::new(seed ^ (u64::from(class) << 32) ^ 0x5356_4D00);
    let mut pg_max_old = f32::INFINITY;
    let mut passes = 0;
    while passes < p.max_passes {
        let (mut pg_max, mut pg_min) = (f32::NEG_INFINITY, f32::INFINITY);
        rng.shuffle(&mut index[..active]);
        let mut s = 0;
        while s < active {
            let i = index[s];
            let r = rows[i];
            let yi: f32 = if y[r] == class { 1.0 } else { -1.0 };
            let (idx, val) = x.row(r);
            let mut dot = w[nf] * BIAS_FEATURE;
            for (&f, &v) in idx.iter().zip(val) {
                dot += w[f as usize] * v;
            }
            let g = yi * dot - 1.0 + d_ii * alpha[i];
            let mut pg = 0.0;
            if alpha[i] == 0.0 {
                if g > pg_max_old {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                } else if g < 0.0 {
                    pg = g;
                }
            } else {
                pg = g;
            }
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (old - g / (qd[r] + d_ii)).max(0.0);
                let d = (alpha[i] - old) * yi;
                for (&f, &v) in idx.iter().zip(val) {
                    w[f as usize] += d * v;
                }
                w[nf] += d * BIAS_FEATURE;
            }
            s += 1;
        }
        passes += 1;
        if pg_max - pg_min <= p.eps {
            if active == n {
                break;
            }
            active = n;
            pg_max_old = f32::INFINITY;
            continue;
        }
        pg_max_old = if pg_max <= 0.0 { f32::INFINITY } else { pg_max };
    }
    w
}

/// Trains all `k` one-vs-rest problems on `rows` and returns them as one feature-major
/// linear scorer (bias = weight of the constant feature).
pub(crate) fn train(prob: &Problem<'_>, p: &SvmParams, seed: u64, threads: usize) -> Linear {
    let Problem { x, n_features: nf, k, .. } = *prob;
    let qd: Vec<f32> = (0..x.indptr.len() - 1)
        .map(|r| {
            let (_, val) = x.row(r);
            val.iter().map(|v| v * v).sum::<f32>() + BIAS_FEATURE * BIAS_FEATURE
        })
        .collect();
    let solve = |classes: std::ops::Range<usize>| -> Vec<Vec<f32>> {
        classes.map(|c| train_binary(prob, &qd, c as u32, p, seed)).collect()
    };
    let per_class: Vec<Vec<f32>> = if threads >= 2 && k >= 4 {
        let mid = k / 2;
        std::thread::scope(|s| {
            let h = s.spawn(|| solve(mid..k));
            let mut first = solve(0..mid);
            let second = h.join().unwrap_or_else(|_| solve(mid..k));
            first.extend(second);
            first
        })
    } else {
        solve(0..k)
    };
    let mut out = Linear::zeros(nf, k);
    for (c, wc) in per_class.iter().enumerate() {
        for (f, &v) in wc[..nf].iter().enumerate() {
            out.w[f * k + c] = v;
        }
        out.b[c] = wc[nf] * BIAS_FEATURE;
    }
    out
}
