//! Where a CPU forward pass of all-MiniLM-L6-v2 spends its time, op by op, on candle.
//!
//! A 6-layer, 384-wide BERT runs, per layer and over every token:
//! * six matmuls: query, key, value and output projections (384→384), then the feed-forward
//!   layers (384→1536, 1536→384);
//! * a bias add after each of them;
//! * attention over 12 heads of 32 dimensions (scores, softmax, weighted sum);
//! * exact GELU (`erf`) on the 1536-wide activations;
//! * two residual adds and two layer norms.
//!
//! This times each op with random values, for one 16-token sentence (m = 16) and for a batch of
//! 32 such sentences (m = 512), and adds them up per forward pass. Everything the encoder does
//! beyond this sum is tokenising, embeddings, pooling, copies and allocation.
//!
//! ```sh
//! cargo run --release -p kefu-nlu --features neural --example encoder_ops
//! RAYON_NUM_THREADS=1 cargo run --release -p kefu-nlu --features neural --example encoder_ops
//! cargo run --release -p kefu-nlu --features neural --example encoder_ops -- --threads-from-candle
//! ```
//!
//! `RAYON_NUM_THREADS` is set to the available cores unless already set; `--threads-from-candle`
//! leaves it unset, so candle counts the cores again on every matmul.

use std::time::Instant;

use candle_core::{DType, Device, Module, Tensor, D};

const LAYERS: usize = 6;
const HIDDEN: usize = 384;
const INTERMEDIATE: usize = 1536;
const HEADS: usize = 12;
const TOKENS_PER_SENTENCE: usize = 16;

/// Median seconds of `op` over `rounds` runs, after one warm-up run.
fn median_seconds(rounds: usize, mut op: impl FnMut() -> candle_core::Result<Tensor>) -> candle_core::Result<f64> {
    op()?; // warm-up: thread pool, page faults
    let mut seconds = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        let out = op()?;
        seconds.push(start.elapsed().as_secs_f64());
        drop(out);
    }
    seconds.sort_by(f64::total_cmp);
    Ok(seconds[seconds.len() / 2])
}

/// One timed op: its name, median seconds and how many times a layer runs it.
struct Timed {
    name: String,
    seconds: f64,
    per_layer: usize,
    gflops: Option<f64>,
}

fn time_ops(sentences: usize, rounds: usize) -> candle_core::Result<Vec<Timed>> {
    let device = Device::Cpu;
    let m = sentences * TOKENS_PER_SENTENCE;
    let mut timed = Vec::new();
    for (name, k, n, per_layer) in [
        ("matmul 384→384 (q, k, v, output)", HIDDEN, HIDDEN, 4),
        ("matmul 384→1536 (feed-forward up)", HIDDEN, INTERMEDIATE, 1),
        ("matmul 1536→384 (feed-forward down)", INTERMEDIATE, HIDDEN, 1),
    ] {
        let activations = Tensor::randn(0f32, 1.0, (1, m, k), &device)?;
        // Stored as a linear layer stores it, (out, in), and used transposed, as candle-nn does.
        let weight = Tensor::randn(0f32, 0.05, (n, k), &device)?.t()?;
        let seconds = median_seconds(rounds, || activations.broadcast_matmul(&weight))?;
        let gflops = Some(2.0 * (m * k * n) as f64 / seconds / 1e9);
        timed.push(Timed { name: name.to_string(), seconds, per_layer, gflops });
    }

    let wide = Tensor::randn(0f32, 1.0, (sentences, TOKENS_PER_SENTENCE, INTERMEDIATE), &device)?;
    let narrow = Tensor::randn(0f32, 1.0, (sentences, TOKENS_PER_SENTENCE, HIDDEN), &device)?;
    let narrow_other = Tensor::randn(0f32, 1.0, (sentences, TOKENS_PER_SENTENCE, HIDDEN), &device)?;
    let bias_wide = Tensor::randn(0f32, 0.05, INTERMEDIATE, &device)?;
    let bias_narrow = Tensor::randn(0f32, 0.05, HIDDEN, &device)?;
    let head = (sentences, HEADS, TOKENS_PER_SENTENCE, HIDDEN / HEADS);
    let (q, k, v) = (
        Tensor::randn(0f32, 1.0, head, &device)?,
        Tensor::randn(0f32, 1.0, head, &device)?,
        Tensor::randn(0f32, 1.0, head, &device)?,
    );
    let norm = candle_nn::LayerNorm::new(
        Tensor::ones(HIDDEN, DType::F32, &device)?,
        Tensor::zeros(HIDDEN, DType::F32, &device)?,
        1e-12,
    );
    let mut other = |name: &str, per_layer: usize, op: &mut dyn FnMut() -> candle_core::Result<Tensor>| {
        median_seconds(rounds, op)
            .map(|seconds| timed.push(Timed { name: name.to_string(), seconds, per_layer, gflops: None }))
    };
    other("bias add, 384 wide", 5, &mut || narrow.broadcast_add(&bias_narrow))?;
    other("bias add, 1536 wide", 1, &mut || wide.broadcast_add(&bias_wide))?;
    other("attention: q·kᵀ, softmax, ·v (12 heads)", 1, &mut || {
        candle_nn::ops::softmax(&q.matmul(&k.t()?)?, D::Minus1)?.matmul(&v)
    })?;
    other("heads split (reshape + transpose + copy)", 3, &mut || {
        narrow.reshape((sentences, TOKENS_PER_SENTENCE, HEADS, HIDDEN / HEADS))?.transpose(1, 2)?.contiguous()
    })?;
    other("GELU, exact (erf), 1536 wide", 1, &mut || wide.gelu_erf())?;
    other("residual add", 2, &mut || &narrow + &narrow_other)?;
    other("layer norm", 2, &mut || norm.forward(&narrow))?;
    Ok(timed)
}

/// Median milliseconds of all 36 matmuls of a forward pass, each with its own weights (42 MB
/// of f32 in all, as in the real model), against the sum of the per-shape timings above, which
/// reuse one weight matrix that stays in the CPU caches.
fn forward_matmuls_with_distinct_weights(sentences: usize, rounds: usize) -> candle_core::Result<f64> {
    let device = Device::Cpu;
    let m = sentences * TOKENS_PER_SENTENCE;
    let narrow = Tensor::randn(0f32, 1.0, (1, m, HIDDEN), &device)?;
    let wide = Tensor::randn(0f32, 1.0, (1, m, INTERMEDIATE), &device)?;
    let mut layers = Vec::with_capacity(LAYERS);
    for _ in 0..LAYERS {
        let mut weights = Vec::with_capacity(6);
        for (k, n) in [(HIDDEN, HIDDEN); 4].into_iter().chain([(HIDDEN, INTERMEDIATE), (INTERMEDIATE, HIDDEN)]) {
            weights.push((k, Tensor::randn(0f32, 0.05, (n, k), &device)?.t()?));
        }
        layers.push(weights);
    }
    let seconds = median_seconds(rounds, || {
        let mut last = None;
        for (k, weight) in layers.iter().flatten() {
            let input = if *k == HIDDEN { &narrow } else { &wide };
            last = Some(input.broadcast_matmul(weight)?);
        }
        last.ok_or_else(|| candle_core::Error::Msg("no layers".into()))
    })?;
    Ok(seconds * 1e3)
}

fn main() -> candle_core::Result<()> {
    // Unless the caller set RAYON_NUM_THREADS (or asked for candle's own per-call detection
    // with --threads-from-candle): see kefu_nlu::neural::threads.
    if !std::env::args().any(|a| a == "--threads-from-candle") {
        kefu_nlu::neural::init_cpu_threads();
    }
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "unset".to_string());
    println!("candle CPU ops, RAYON_NUM_THREADS={threads}");
    for sentences in [1usize, 32] {
        let rounds = if sentences == 1 { 400 } else { 30 };
        let timed = time_ops(sentences, rounds)?;
        println!("\n{sentences} sentence(s) of {TOKENS_PER_SENTENCE} tokens:");
        let (mut matmul_ms, mut other_ms) = (0.0, 0.0);
        for t in &timed {
            let forward_ms = t.seconds * (t.per_layer * LAYERS) as f64 * 1e3;
            let rate = t.gflops.map(|g| format!("{g:>6.1} GFLOP/s")).unwrap_or_default();
            println!(
                "  {:<44} {:>9.1} µs ×{:<2} per layer = {:>6.2} ms per forward pass  {rate}",
                t.name,
                t.seconds * 1e6,
                t.per_layer,
                forward_ms
            );
            if t.gflops.is_some() {
                matmul_ms += forward_ms;
            } else {
                other_ms += forward_ms;
            }
        }
        let per_sentence = |ms: f64| ms / sentences as f64;
        println!(
            "  per sentence: matmuls {:.2} ms + other ops {:.2} ms = {:.2} ms ({:.0} sentences/s at most)",
            per_sentence(matmul_ms),
            per_sentence(other_ms),
            per_sentence(matmul_ms + other_ms),
            1e3 / per_sentence(matmul_ms + other_ms)
        );
        let distinct_ms = forward_matmuls_with_distinct_weights(sentences, rounds / 4)?;
        println!(
            "  the 36 matmuls with each layer's own weights (42 MB, not cache-resident): {:.2} ms per sentence \
             ({:.2}× the cache-resident sum)",
            per_sentence(distinct_ms),
            distinct_ms / matmul_ms
        );
    }
    Ok(())
}
