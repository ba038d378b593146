//! How long candle's CPU matmuls alone take for all-MiniLM-L6-v2's linear layers.
//!
//! A forward pass of a 6-layer, 384-wide BERT runs, per layer, four 384×384 projections
//! (query, key, value, output) and the two feed-forward ones (384→1536, 1536→384) over every
//! token. This times those shapes with random weights for one 16-token sentence (m = 16) and a
//! batch of 32 such sentences (m = 512), and adds them up: a floor under the encoder's time per
//! sentence that no change outside the matmul kernels can go below.
//!
//! ```sh
//! cargo run --release -p kefu-nlu --features neural --example encoder_matmuls
//! RAYON_NUM_THREADS=1 cargo run --release -p kefu-nlu --features neural --example encoder_matmuls
//! cargo run --release -p kefu-nlu --features neural --example encoder_matmuls -- --threads-from-candle
//! ```
//!
//! `RAYON_NUM_THREADS` is set to the available cores unless already set; `--threads-from-candle`
//! leaves it unset, so candle counts the cores again on every matmul.

use std::time::Instant;

use candle_core::{Device, Tensor};

const LAYERS: usize = 6;
const HIDDEN: usize = 384;
const INTERMEDIATE: usize = 1536;
const TOKENS_PER_SENTENCE: usize = 16;

/// Median seconds of one `(m × k) · (k × n)` product over `rounds` runs.
fn time_matmul(m: usize, k: usize, n: usize, rounds: usize) -> candle_core::Result<f64> {
    let device = Device::Cpu;
    let activations = Tensor::randn(0f32, 1.0, (1, m, k), &device)?;
    // Stored as a linear layer stores it, (out, in), and used transposed, as candle-nn does.
    let weight = Tensor::randn(0f32, 0.05, (n, k), &device)?.t()?;
    activations.broadcast_matmul(&weight)?; // warm-up: thread pool, page faults
    let mut seconds = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        let product = activations.broadcast_matmul(&weight)?;
        seconds.push(start.elapsed().as_secs_f64());
        drop(product);
    }
    seconds.sort_by(f64::total_cmp);
    Ok(seconds[seconds.len() / 2])
}

fn main() -> candle_core::Result<()> {
    // Unless the caller set RAYON_NUM_THREADS (or asked for candle's own per-call detection
    // with --threads-from-candle): see kefu_nlu::neural::threads.
    if !std::env::args().any(|a| a == "--threads-from-candle") {
        kefu_nlu::neural::init_cpu_threads();
    }
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "unset".to_string());
    println!("candle CPU matmul, RAYON_NUM_THREADS={threads}");
    for sentences in [1usize, 32] {
        let m = sentences * TOKENS_PER_SENTENCE;
        let rounds = if sentences == 1 { 400 } else { 30 };
        let shapes = [
            ("query/key/value/output 384→384", HIDDEN, HIDDEN, 4),
            ("feed-forward up 384→1536", HIDDEN, INTERMEDIATE, 1),
            ("feed-forward down 1536→384", INTERMEDIATE, HIDDEN, 1),
        ];
        let mut per_layer = 0.0;
        println!("\n{sentences} sentence(s) of {TOKENS_PER_SENTENCE} tokens (m = {m}):");
        for (name, k, n, count) in shapes {
            let seconds = time_matmul(m, k, n, rounds)?;
            let gflops = 2.0 * (m * k * n) as f64 / seconds / 1e9;
            println!("  {name:<32} {:>8.1} µs  {gflops:>6.1} GFLOP/s  ×{count} per layer", seconds * 1e6);
            per_layer += seconds * count as f64;
        }
        let forward_ms = per_layer * LAYERS as f64 * 1e3;
        println!(
            "  matmuls of one forward pass: {forward_ms:.2} ms = {:.2} ms per sentence ({:.0} sentences/s at most)",
            forward_ms / sentences as f64,
            sentences as f64 / (forward_ms / 1e3)
        );
    }
    Ok(())
}
