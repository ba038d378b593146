//! Fused CPU kernels for [`super::bert`]: each reads its input once and writes one fresh
//! output, in loops simple enough for the compiler to vectorise. Inputs must be contiguous f32.
//!
//! Work is spread over rayon's pool (the one candle's matmuls use) only above
//! [`PARALLEL_MIN_ELEMENTS`]: below it, waking the second thread costs more than it saves.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Shape};
use rayon::prelude::*;

/// Smallest tensor (in floats) worth splitting across threads.
const PARALLEL_MIN_ELEMENTS: usize = 1 << 15;

fn contiguous<'a>(storage: &'a CpuStorage, layout: &Layout, op: &str) -> candle_core::Result<&'a [f32]> {
    let all = storage.as_slice::<f32>()?;
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&all[start..end]),
        None => candle_core::bail!("{op}: input is not contiguous"),
    }
}

/// Last dimension and row count of a rank ≥ 1 layout.
fn rows_of(layout: &Layout, op: &str) -> candle_core::Result<(usize, usize)> {
    let dims = layout.dims();
    let Some(&width) = dims.last() else { candle_core::bail!("{op}: a scalar has no rows") };
    if width == 0 {
        candle_core::bail!("{op}: empty rows");
    }
    Ok((layout.shape().elem_count() / width, width))
}

/// Runs `f(row_index, input_row, output_row)` over rows, in parallel when the tensor is big.
fn for_rows(input: &[f32], output: &mut [f32], width: usize, f: impl Fn(usize, &[f32], &mut [f32]) + Sync) {
    if input.len() >= PARALLEL_MIN_ELEMENTS && rayon::current_num_threads() > 1 {
        let rows_per_task = (PARALLEL_MIN_ELEMENTS / 4 / width).max(1);
        output.par_chunks_mut(rows_per_task * width).enumerate().for_each(|(task, out)| {
            let first = task * rows_per_task;
            for (i, o) in out.chunks_exact_mut(width).enumerate() {
                let row = first + i;
                f(row, &input[row * width..(row + 1) * width], o);
            }
        });
    } else {
        for (row, (x, o)) in input.chunks_exact(width).zip(output.chunks_exact_mut(width)).enumerate() {
            f(row, x, o);
        }
    }
}

/// The activation [`BiasGelu`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Activation {
    /// Exact GELU, `x·Φ(x)` with `erf` (BERT's `"gelu"`).
    GeluErf,
    /// `max(x, 0)`.
    Relu,
}

/// The fitted coefficients, written with the precision they were fitted at.
const fn to_f32(c: [f64; 6]) -> [f32; 6] {
    [c[0] as f32, c[1] as f32, c[2] as f32, c[3] as f32, c[4] as f32, c[5] as f32]
}

/// `erf(x)`, branch-free: a rational minimax fit `x·P(x²)/Q(x²)` on [-4, 4] (outside it erf is
/// ±1 within 2e-8). Absolute error ≤ 1e-7 in f64, ≤ 4e-7 in f32 arithmetic. Coefficients fitted
/// for this crate by weighted least squares against `math.erf`.
#[inline(always)]
pub(crate) fn erf(x: f32) -> f32 {
    const P: [f32; 6] = to_f32([
        1.128_379_046_2,
        1.923_061_854_4e-1,
        5.298_153_525_8e-2,
        3.844_629_907_5e-3,
        2.861_879_992e-4,
        2.027_325_119_1e-6,
    ]);
    const Q: [f32; 6] = to_f32([
        1.0,
        5.037_588_190_2e-1,
        1.148_787_399_5e-1,
        1.512_427_536_6e-2,
        1.181_042_046_1e-3,
        3.792_895_409_4e-5,
    ]);
    let x = x.clamp(-4.0, 4.0);
    let z = x * x;
    let p = ((((P[5] * z + P[4]) * z + P[3]) * z + P[2]) * z + P[1]) * z + P[0];
    let q = ((((Q[5] * z + Q[4]) * z + Q[3]) * z + Q[2]) * z + Q[1]) * z + Q[0];
    x * p / q
}

/// `activation(x + bias)` over the rows of `x` (`bias` as long as a row).
pub(crate) struct BiasGelu<'a> {
    pub bias: &'a [f32],
    pub activation: Activation,
}

impl CustomOp1 for BiasGelu<'_> {
    fn name(&self) -> &'static str {
        "kefu-bias-activation"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let input = contiguous(storage, layout, self.name())?;
        let (_, width) = rows_of(layout, self.name())?;
        if width != self.bias.len() {
            candle_core::bail!("{}: rows of {width} against a bias of {}", self.name(), self.bias.len());
        }
        let mut output = vec![0f32; input.len()];
        let bias = self.bias;
        match self.activation {
            Activation::GeluErf => for_rows(input, &mut output, width, |_, x, o| {
                for ((o, &x), &b) in o.iter_mut().zip(x).zip(bias) {
                    let v = x + b;
                    *o = 0.5 * v * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2));
                }
            }),
            Activation::Relu => for_rows(input, &mut output, width, |_, x, o| {
                for ((o, &x), &b) in o.iter_mut().zip(x).zip(bias) {
                    *o = (x + b).max(0.0);
                }
            }),
        }
        Ok((CpuStorage::F32(output), layout.shape().clone()))
    }
}

/// Sum with eight independent accumulators, so the loop vectorises.
#[inline(always)]
fn sum(xs: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let mut chunks = xs.chunks_exact(8);
    for c in &mut chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            *l += v;
        }
    }
    let tail: f32 = chunks.remainder().iter().sum();
    lanes.iter().sum::<f32>() + tail
}

/// `layer_norm(x + bias + residual)` over the rows of `x`: bias and residual optional (the
/// residual is the op's second input), mean and variance over the row as BERT's LayerNorm.
pub(crate) struct BiasResidualNorm<'a> {
    pub bias: Option<&'a [f32]>,
    pub gamma: &'a [f32],
    pub beta: &'a [f32],
    pub eps: f32,
}

impl BiasResidualNorm<'_> {
    fn run(
        &self,
        input: &[f32],
        residual: Option<&[f32]>,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (_, width) = rows_of(layout, "kefu-layer-norm")?;
        let sizes_agree = self.gamma.len() == width
            && self.beta.len() == width
            && self.bias.is_none_or(|b| b.len() == width)
            && residual.is_none_or(|r| r.len() == input.len());
        if !sizes_agree {
            candle_core::bail!("kefu-layer-norm: rows of {width} against parameters of another size");
        }
        let mut output = vec![0f32; input.len()];
        for_rows(input, &mut output, width, |row, x, o| {
            o.copy_from_slice(x);
            if let Some(bias) = self.bias {
                for (o, &b) in o.iter_mut().zip(bias) {
                    *o += b;
                }
            }
            if let Some(residual) = residual {
                for (o, &r) in o.iter_mut().zip(&residual[row * width..(row + 1) * width]) {
                    *o += r;
                }
            }
            let mean = sum(o) / width as f32;
            for v in o.iter_mut() {
                *v -= mean;
            }
            let squares: f32 = {
                let mut lanes = [0f32; 8];
                let mut chunks = o.chunks_exact(8);
                for c in &mut chunks {
                    for (l, &v) in lanes.iter_mut().zip(c) {
                        *l += v * v;
                    }
                }
                lanes.iter().sum::<f32>() + chunks.remainder().iter().map(|v| v * v).sum::<f32>()
            };
            let inverse = 1.0 / (squares / width as f32 + self.eps).sqrt();
            for ((v, &g), &b) in o.iter_mut().zip(self.gamma).zip(self.beta) {
                *v = *v * inverse * g + b;
            }
        });
        Ok((CpuStorage::F32(output), layout.shape().clone()))
    }
}

impl CustomOp1 for BiasResidualNorm<'_> {
    fn name(&self) -> &'static str {
        "kefu-layer-norm"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        self.run(contiguous(storage, layout, "kefu-layer-norm")?, None, layout)
    }
}

impl CustomOp2 for BiasResidualNorm<'_> {
    fn name(&self) -> &'static str {
        "kefu-residual-layer-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        const NAME: &str = "kefu-residual-layer-norm";
        if l1.dims() != l2.dims() {
            candle_core::bail!("{NAME}: shapes {:?} and {:?} differ", l1.dims(), l2.dims());
        }
        self.run(contiguous(s1, l1, NAME)?, Some(contiguous(s2, l2, NAME)?), l1)
    }
}

/// Self-attention from the `(n·len) × 3·hidden` query/key/value projection (bias not yet
/// added, queries already scaled by 1/√head_dim) to the `rows × hidden` context, heads merged.
///
/// Sentence `b` attends over its first `lengths[b]` tokens only, so no mask is needed; the
/// rows of padding tokens are left at zero (nothing reads them: real tokens never attend to
/// them, and pooling skips them). With `first_only` only each sentence's first token is a
/// query and the output has one row per sentence.
///
/// For the short texts of customer service (tens of tokens), these plain loops beat two
/// batched matmuls per layer, whose per-call thread hand-off costs more than the arithmetic.
pub(crate) struct Attention<'a> {
    pub bias: &'a [f32],
    pub lengths: &'a [usize],
    pub len: usize,
    pub heads: usize,
    pub first_only: bool,
}

impl Attention<'_> {
    /// One sentence: `rows` is its part of the projection (`len × 3·hidden`), `out` its
    /// output rows.
    fn sentence(&self, rows: &[f32], length: usize, out: &mut [f32]) {
        let width = self.bias.len();
        let hidden = width / 3;
        let head_dim = hidden / self.heads;
        let length = length.min(self.len);
        let queries = if self.first_only { length.min(1) } else { length };
        let mut keys_t = vec![0f32; head_dim * length]; // head_dim × length
        let mut values = vec![0f32; length * head_dim];
        let mut query = vec![0f32; head_dim];
        let mut scores = vec![0f32; length];
        for head in 0..self.heads {
            let (q_at, k_at, v_at) = (head * head_dim, hidden + head * head_dim, 2 * hidden + head * head_dim);
            for s in 0..length {
                let row = &rows[s * width..(s + 1) * width];
                for d in 0..head_dim {
                    keys_t[d * length + s] = row[k_at + d] + self.bias[k_at + d];
                }
                for ((v, &x), &b) in values[s * head_dim..(s + 1) * head_dim]
                    .iter_mut()
                    .zip(&row[v_at..v_at + head_dim])
                    .zip(&self.bias[v_at..v_at + head_dim])
                {
                    *v = x + b;
                }
            }
            for t in 0..queries {
                let row = &rows[t * width..(t + 1) * width];
                for ((q, &x), &b) in
                    query.iter_mut().zip(&row[q_at..q_at + head_dim]).zip(&self.bias[q_at..q_at + head_dim])
                {
                    *q = x + b;
                }
                scores.fill(0.0);
                for (d, &q) in query.iter().enumerate() {
                    for (score, &k) in scores.iter_mut().zip(&keys_t[d * length..(d + 1) * length]) {
                        *score += q * k;
                    }
                }
                let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut total = 0.0;
                for score in scores.iter_mut() {
                    *score = (*score - max).exp();
                    total += *score;
                }
                let context = &mut out[t * hidden + q_at..t * hidden + q_at + head_dim];
                context.fill(0.0);
                for (s, &p) in scores.iter().enumerate() {
                    let weight = p / total;
                    for (c, &v) in context.iter_mut().zip(&values[s * head_dim..(s + 1) * head_dim]) {
                        *c += weight * v;
                    }
                }
            }
        }
    }
}

impl CustomOp1 for Attention<'_> {
    fn name(&self) -> &'static str {
        "kefu-attention"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let input = contiguous(storage, layout, self.name())?;
        let (rows, width) = rows_of(layout, self.name())?;
        let (n, len) = (self.lengths.len(), self.len);
        if rows != n * len || width != self.bias.len() || width % (3 * self.heads) != 0 || len == 0 {
            candle_core::bail!(
                "{}: a {rows}×{width} input does not split into {n}×{len} tokens, {} heads",
                self.name(),
                self.heads
            );
        }
        let hidden = width / 3;
        let out_rows = if self.first_only { 1 } else { len };
        let mut output = vec![0f32; n * out_rows * hidden];
        let run = |b: usize, out: &mut [f32]| {
            self.sentence(&input[b * len * width..(b + 1) * len * width], self.lengths[b], out);
        };
        if n > 1 && input.len() >= PARALLEL_MIN_ELEMENTS && rayon::current_num_threads() > 1 {
            output.par_chunks_mut(out_rows * hidden).enumerate().for_each(|(b, out)| run(b, out));
        } else {
            output.chunks_mut(out_rows * hidden).enumerate().for_each(|(b, out)| run(b, out));
        }
        Ok((CpuStorage::F32(output), Shape::from((n * out_rows, hidden))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_reference_values() {
        // erf at a few points (Abramowitz & Stegun table 7.1), and its limits.
        for (x, want) in [
            (0.0f32, 0.0f64),
            (0.5, 0.520_499_877_8),
            (1.0, 0.842_700_792_9),
            (2.0, 0.995_322_265),
            (3.5, 0.999_999_256_9),
        ] {
            assert!((f64::from(erf(x)) - want).abs() < 1e-6, "erf({x}) = {} want {want}", erf(x));
            assert!((f64::from(erf(-x)) + want).abs() < 1e-6);
        }
        assert_eq!(erf(100.0), erf(4.0));
        assert!((erf(4.0) - 1.0).abs() < 1e-6);
    }
}
