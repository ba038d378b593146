//! CPU-versus-CUDA check of the sentence encoder on a randomly initialised BERT of
//! all-MiniLM-L6-v2's shape (6 layers, hidden 384, 12 heads, intermediate 1536, vocabulary
//! 30 522, 512 positions), so that it needs no model download.
//!
//! ```sh
//! cargo run --release -p kefu-nlu --features cuda --example cuda_check -- [--n 1000] [--device cuda:0]
//! ```
//!
//! Writes the model folder (config.json, a WordPiece tokenizer.json, model.safetensors) to a
//! temporary folder, generates `--n` customer-service sentences (deterministic, 3–40 words),
//! embeds them on the CPU and on `--device` at batch 1 and batch 32 (cache off, one warm-up
//! pass of 32 sentences first), and prints one JSON object on stdout: throughput per device and
//! batch size, and the agreement of the GPU's vectors with the CPU's (lowest cosine over the
//! sentences, lowest cosine after centring on each side's mean vector, largest element-wise
//! difference). The check passes when every cosine is at least 0.999.
//!
//! Exit status: 0 check passed; 1 a vector disagreed (or anything else failed); 2 the device
//! could not be opened (for instance no GPU, or a build without feature `cuda`) — then the
//! JSON holds the CPU figures and the typed error.

use std::path::{Path, PathBuf};
use std::time::Instant;

use kefu_nlu::neural::{device_from_name, Device, EncoderOptions, SentenceEncoder};
use serde_json::{json, Value};
use tiny_bert::{BertShape, SPECIALS};

#[path = "../tests/support/tiny_bert.rs"]
mod tiny_bert;

const VOCAB_SIZE: usize = 30_522;
const MIN_COSINE: f32 = 0.999;

/// The vocabulary the sentences are made of (split on whitespace).
const WORDS: &str = "where is my order i want to return the shoes refund how long does it take hello cancel please \
     agent human a for ship can you card account transfer money payment pending declined why was \
     charged twice fee exchange rate top up failed still not arrived delivery address change password \
     pin locked app verify identity cash withdrawal atm wrong amount balance statement yesterday \
     today week days help me with this that need new lost stolen contactless working abroad currency \
     euro dollar pound salary direct debit in on of and or do have get be been when will should there \
     an your shop online store package tracking number size color broken damaged item replace voucher \
     discount coupon invoice receipt ? . , ! ##s ##ing ##ed 我 要 退 货 的 快 递 订 单 在 哪 里";

/// Everything this check can fail on, as a message.
type Failure = Box<dyn std::error::Error>;

fn words() -> Vec<&'static str> {
    WORDS.split_whitespace().collect()
}

/// Writes the model folder: all-MiniLM-L6-v2's shape with random weights, and a WordPiece
/// vocabulary of the special tokens, [`WORDS`], then `[unused…]` fillers up to [`VOCAB_SIZE`].
fn write_model(dir: &Path) -> Result<(), Failure> {
    let shape = BertShape { hidden: 384, intermediate: 1536, heads: 12, layers: 6, max_positions: 512 };
    let config = tiny_bert::config_json(&shape, VOCAB_SIZE);
    let words = words();
    let fillers: Vec<String> = (0..VOCAB_SIZE - SPECIALS.len() - words.len()).map(|i| format!("[unused{i}]")).collect();
    let tokens: Vec<&str> = words.iter().copied().chain(fillers.iter().map(String::as_str)).collect();
    tiny_bert::write_json(&dir.join("config.json"), &config)?;
    tiny_bert::write_json(&dir.join("tokenizer.json"), &tiny_bert::tokenizer_json(&tokens, None))?;
    tiny_bert::write_random_weights(&dir.join("model.safetensors"), &config)?;
    Ok(())
}

/// `n` deterministic sentences of 3 to 40 words (most of them short, like chat messages).
fn sentences(n: usize) -> Vec<String> {
    let words = words();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    (0..n)
        .map(|_| {
            let r = next() % 100;
            let len = if r < 70 {
                3 + next() % 13
            } else if r < 95 {
                16 + next() % 15
            } else {
                31 + next() % 10
            };
            let words: Vec<&str> = (0..len).map(|_| words[(next() % words.len() as u64) as usize]).collect();
            words.join(" ")
        })
        .collect()
}

/// The vectors and timings of one device.
struct Run {
    batch1: Vec<Vec<f32>>,
    batch32: Vec<Vec<f32>>,
    figures: Value,
}

/// Embeds `texts` at batch 1 and batch 32, after a warm-up pass over the first 32.
fn run(encoder: &mut SentenceEncoder, texts: &[&str]) -> Result<Run, Failure> {
    encoder.set_batch_size(32);
    encoder.embed(&texts[..texts.len().min(32)])?;
    let mut figures = serde_json::Map::new();
    let mut out = Vec::new();
    for batch in [1usize, 32] {
        encoder.set_batch_size(batch);
        let t = Instant::now();
        let vectors = encoder.embed(texts)?;
        let s = t.elapsed().as_secs_f64();
        eprintln!("  batch {batch:>2}: {:.1} sentences/s ({s:.2} s)", texts.len() as f64 / s);
        figures.insert(
            format!("batch_{batch}"),
            json!({"sentences_per_s": round1(texts.len() as f64 / s), "seconds": round3(s)}),
        );
        out.push(vectors);
    }
    let batch32 = out.pop().ok_or("no batch-32 vectors")?;
    let batch1 = out.pop().ok_or("no batch-1 vectors")?;
    Ok(Run { batch1, batch32, figures: Value::Object(figures) })
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    dot(a, b) / (dot(a, a).sqrt() * dot(b, b).sqrt()).max(1e-12)
}

fn mean(vectors: &[Vec<f32>]) -> Vec<f32> {
    let mut m = vec![0f32; vectors.first().map_or(0, Vec::len)];
    for v in vectors {
        for (s, x) in m.iter_mut().zip(v) {
            *s += x;
        }
    }
    let n = vectors.len().max(1) as f32;
    m.iter_mut().for_each(|s| *s /= n);
    m
}

/// Agreement of `gpu` with `cpu`: lowest cosine, lowest cosine after centring each side on its
/// own mean vector (random models give vectors that all point roughly the same way, so the
/// centred cosine is the stricter figure), largest element-wise difference.
fn agreement(cpu: &[Vec<f32>], gpu: &[Vec<f32>]) -> (f32, f32, f32) {
    let (mc, mg) = (mean(cpu), mean(gpu));
    let mut min_cos = f32::INFINITY;
    let mut min_centred = f32::INFINITY;
    let mut max_diff = 0f32;
    for (c, g) in cpu.iter().zip(gpu) {
        min_cos = min_cos.min(cosine(c, g));
        let cc: Vec<f32> = c.iter().zip(&mc).map(|(x, m)| x - m).collect();
        let gc: Vec<f32> = g.iter().zip(&mg).map(|(x, m)| x - m).collect();
        min_centred = min_centred.min(cosine(&cc, &gc));
        max_diff = c.iter().zip(g).map(|(x, y)| (x - y).abs()).fold(max_diff, f32::max);
    }
    (min_cos, min_centred, max_diff)
}

/// Mean cosine between consecutive sentences' CPU vectors: how alike unrelated sentences look
/// to this random model, the scale against which the agreement figures are read.
fn neighbour_cosine(cpu: &[Vec<f32>]) -> f32 {
    let pairs: Vec<f32> = cpu.windows(2).map(|w| cosine(&w[0], &w[1])).collect();
    pairs.iter().sum::<f32>() / pairs.len().max(1) as f32
}

fn main() {
    // Unless the caller set RAYON_NUM_THREADS: see kefu_nlu::neural::threads.
    kefu_nlu::neural::init_cpu_threads();
    match check() {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("cuda_check failed: {e}");
            std::process::exit(1);
        }
    }
}

fn check() -> Result<i32, Failure> {
    let mut n = 1000usize;
    let mut device_name = "cuda:0".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--n" => n = args.next().ok_or("--n needs a value")?.parse()?,
            "--device" => device_name = args.next().ok_or("--device needs a value")?,
            _ => return Err(format!("unknown argument {a:?} (usage: cuda_check [--n N] [--device cuda:0])").into()),
        }
    }
    if n == 0 {
        return Err("--n must be at least 1".into());
    }

    let dir: PathBuf = std::env::temp_dir().join(format!("kefu-cuda-check-{}", std::process::id()));
    let t = Instant::now();
    write_model(&dir)?;
    eprintln!("random MiniLM-shaped model written to {} in {:.1} s", dir.display(), t.elapsed().as_secs_f64());
    let result = compare(&dir, n, &device_name);
    let _ = std::fs::remove_dir_all(&dir);
    let (report, code) = result?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(code)
}

fn compare(dir: &Path, n: usize, device_name: &str) -> Result<(Value, i32), Failure> {
    let lines = sentences(n);
    let texts: Vec<&str> = lines.iter().map(String::as_str).collect();
    let options =
        EncoderOptions { cache_capacity: 0, name: Some("random-minilm-l6-shape".into()), ..Default::default() };

    let mut cpu = SentenceEncoder::load_with(dir, Device::Cpu, options.clone())?;
    let tokens: usize = texts.iter().map(|t| cpu.token_count(t)).sum::<Result<usize, _>>()?;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    eprintln!("{n} sentences, {:.1} tokens on average; CPU ({threads} threads):", tokens as f64 / n as f64);
    let Run { batch1: cpu_b1, batch32: cpu_b32, figures: cpu_figures } = run(&mut cpu, &texts)?;
    let (b1_vs_b32, _, _) = agreement(&cpu_b32, &cpu_b1);
    let mut report = json!({
        "model": "random BERT, MiniLM-L6 shape (6 layers, hidden 384, 12 heads, vocab 30522)",
        "model_id": cpu.model_id(),
        "sentences": n,
        "mean_tokens": round1(tokens as f64 / n as f64),
        "cpu": {"threads": threads, "throughput": cpu_figures, "min_cosine_batch1_vs_batch32": b1_vs_b32},
        "mean_cosine_between_neighbouring_sentences_cpu": neighbour_cosine(&cpu_b32),
        "device": device_name,
    });
    drop(cpu);

    let device = match device_from_name(device_name) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("device {device_name} unavailable: {e}");
            report["device_error"] = json!(e.to_string());
            report["device_error_debug"] = json!(format!("{e:?}"));
            report["pass"] = json!(false);
            return Ok((report, 2));
        }
    };
    eprintln!("{device_name} ({:?}):", device.location());
    let t = Instant::now();
    let mut gpu = SentenceEncoder::load_with(dir, device, options)?;
    let load_s = t.elapsed().as_secs_f64();
    let Run { batch1: gpu_b1, batch32: gpu_b32, figures: gpu_figures } = run(&mut gpu, &texts)?;
    let (cos32, centred32, diff32) = agreement(&cpu_b32, &gpu_b32);
    let (cos1, centred1, diff1) = agreement(&cpu_b1, &gpu_b1);
    let pass = [cos32, centred32, cos1, centred1].iter().all(|&c| c >= MIN_COSINE);
    report["gpu"] = json!({
        "load_seconds": round3(load_s),
        "throughput": gpu_figures,
        "vs_cpu_batch32": {"min_cosine": cos32, "min_centred_cosine": centred32, "max_abs_diff": diff32},
        "vs_cpu_batch1": {"min_cosine": cos1, "min_centred_cosine": centred1, "max_abs_diff": diff1},
    });
    report["threshold"] = json!(MIN_COSINE);
    report["pass"] = json!(pass);
    Ok((report, if pass { 0 } else { 1 }))
}
