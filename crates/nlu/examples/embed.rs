//! Embeds the lines of stdin with a sentence-encoder model folder and prints throughput.
//!
//! ```sh
//! cargo run --release -p kefu-nlu --features neural --example embed -- MODEL_DIR [--device cpu|cuda|metal|auto] [--print] [--engine kefu|candle-transformers] [--threads-from-candle] < sentences.txt
//! ```
//!
//! Each non-empty line is one sentence. The lines are embedded twice with the cache off:
//! batch size 1, then batch size 32 (sorted by length, each batch padded to its longest
//! member). `--print` writes each vector as a JSON array on stdout; figures go to stderr.
//! `RAYON_NUM_THREADS` is set to the available cores unless already set;
//! `--threads-from-candle` leaves it unset (candle then counts cores on every matmul).

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Instant;

use kefu_nlu::neural::{device_from_name, EncoderEngine, EncoderOptions, SentenceEncoder};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Unless the caller set RAYON_NUM_THREADS (or asked for candle's own per-call detection
    // with --threads-from-candle): see kefu_nlu::neural::threads.
    if !std::env::args().any(|a| a == "--threads-from-candle") {
        kefu_nlu::neural::init_cpu_threads();
    }
    let mut dir: Option<PathBuf> = None;
    let mut device = "cpu".to_string();
    let mut print = false;
    let mut engine = EncoderEngine::Kefu;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--device" => device = args.next().ok_or("--device needs a value")?,
            "--print" => print = true,
            "--engine" => {
                engine = match args.next().as_deref() {
                    Some("kefu") => EncoderEngine::Kefu,
                    Some("candle-transformers") => EncoderEngine::CandleTransformers,
                    other => return Err(format!("--engine kefu|candle-transformers, not {other:?}").into()),
                }
            }
            "--threads-from-candle" => {}
            "-h" | "--help" => {
                eprintln!("usage: embed MODEL_DIR [--device cpu|cuda|metal|auto] [--print] [--engine kefu|candle-transformers] [--threads-from-candle] < lines.txt");
                return Ok(());
            }
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let dir = dir
        .or_else(|| std::env::var_os("KEFU_MINILM_DIR").map(PathBuf::from))
        .ok_or("usage: embed MODEL_DIR [--device cpu|cuda|metal|auto] [--print] [--engine kefu|candle-transformers] [--threads-from-candle] < lines.txt")?;

    let lines: Vec<String> = std::io::stdin()
        .lock()
        .lines()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .collect();
    if lines.is_empty() {
        return Err("no input lines on stdin".into());
    }
    let texts: Vec<&str> = lines.iter().map(String::as_str).collect();

    let t = Instant::now();
    let options = EncoderOptions { cache_capacity: 0, engine, ..Default::default() };
    let mut encoder = SentenceEncoder::load_with(&dir, device_from_name(&device)?, options)?;
    eprintln!(
        "loaded {} (dim {}, max {} tokens) on {device} in {:.0} ms",
        encoder.model_id(),
        encoder.dim(),
        encoder.max_seq_length(),
        t.elapsed().as_secs_f64() * 1e3
    );
    let tokens: usize = texts.iter().map(|t| encoder.token_count(t)).sum::<Result<usize, _>>()?;
    eprintln!("{} sentences, {:.1} tokens on average", texts.len(), tokens as f64 / texts.len() as f64);
    encoder.embed(&texts[..1])?; // warm-up

    let mut vectors = Vec::new();
    for batch in [1usize, 32] {
        encoder.set_batch_size(batch);
        let t = Instant::now();
        vectors = encoder.embed(&texts)?;
        let s = t.elapsed().as_secs_f64();
        eprintln!(
            "batch {batch:>2}: {:>8.1} sentences/s  ({:.2} ms/sentence, {:.2} s total)",
            texts.len() as f64 / s,
            s * 1e3 / texts.len() as f64,
            s
        );
    }
    if print {
        let mut out = std::io::stdout().lock();
        for v in vectors {
            serde_json::to_writer(&mut out, &v)?;
            writeln!(out)?;
        }
    }
    Ok(())
}
