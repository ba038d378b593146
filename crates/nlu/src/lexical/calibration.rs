//! Temperature scaling.
//!
//! A linear model trained to (near) zero training loss is over-confident on new text: its
//! raw softmax puts almost all mass on the top class even when it is wrong. Temperature
//! scaling divides every score by one scalar `T` before the softmax; `T` is fitted by
//! minimising the negative log-likelihood on examples the model did not see in training.
//! It changes no ranking, only how sharp the distribution is, so a caller's threshold on the
//! top probability becomes meaningful (the probability tracks the chance of being right).

use super::logreg::softmax_in_place;

/// Mean negative log-likelihood of `labels` under `softmax(scores / t)`.
fn nll(scores: &[f32], k: usize, labels: &[u32], t: f32, buf: &mut [f32]) -> f64 {
    let mut total = 0.0f64;
    for (row, &y) in scores.chunks_exact(k).zip(labels) {
        for (b, &s) in buf.iter_mut().zip(row) {
            *b = s / t;
        }
        softmax_in_place(buf);
        total -= f64::from(buf[y as usize].max(1e-12).ln());
    }
    total / labels.len().max(1) as f64
}

/// Fits the temperature on held-out `scores` (row-major, `k` per example) and `labels`
/// by golden-section search on `ln T` in `[ln 0.05, ln 50]`.
pub(crate) fn fit_temperature(scores: &[f32], k: usize, labels: &[u32]) -> f32 {
    if labels.is_empty() || k < 2 {
        return 1.0;
    }
    let mut buf = vec![0.0f32; k];
    let f = |lt: f64, buf: &mut [f32]| nll(scores, k, labels, lt.exp() as f32, buf);
    let (mut a, mut b) = (0.05f64.ln(), 50.0f64.ln());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let mut fc = f(c, &mut buf);
    let mut fd = f(d, &mut buf);
    for _ in 0..40 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c, &mut buf);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d, &mut buf);
        }
    }
    (((a + b) / 2.0).exp()) as f32
}
