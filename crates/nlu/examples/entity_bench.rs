//! Entity benchmark, Kefu side (the Duckling side is `benches/entities/duckling_bench.py`).
//!
//! Usage:
//! `cargo run --release -p kefu-nlu --example entity_bench -- OUT_DIR [--reps N] --set NAME=FILE ...`
//!
//! Each `--set` is a JSONL file of inputs `{"text", "lang", "now", ...}` (the Duckling corpus
//! files, or any file in that format). Every input is parsed with all kinds enabled
//! (`ParseContext::new(lang, now)`, `kinds: None`), as `kefu parse --json` does:
//!
//! 1. one pass whose results are written to `OUT_DIR/kefu.NAME.jsonl`, one line
//!    `{"id", "text", "entities": [{"kind", "start", "end", "text", "value"}]}` per input, in order
//!    (the format `shared/acceptance/entity_eval.py` scores);
//! 2. `N` timed passes (default 20) over the whole set, each parse timed on its own.
//!
//! Prints one JSON object: per set, the number of inputs and timed parses and the median, p99,
//! max and mean per-parse latency in microseconds, plus the latency of the very first parse
//! (cold: lazily built tables).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use chrono::NaiveDateTime;
use kefu_nlu::entities::{parse, Lang, ParseContext};
use serde_json::{json, Value};

struct Input {
    id: Value,
    text: String,
    ctx: ParseContext,
}

fn fail(msg: &str) -> ! {
    eprintln!("entity_bench: {msg}");
    std::process::exit(2)
}

fn load(path: &PathBuf) -> Vec<Input> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| fail(&format!("{}:{}: {e}", path.display(), n + 1)));
        let lang = match v["lang"].as_str() {
            Some("zh") => Lang::Zh,
            Some("en") => Lang::En,
            other => fail(&format!("{}:{}: lang {other:?} is not zh or en", path.display(), n + 1)),
        };
        let now_s = v["now"].as_str().unwrap_or("");
        let now = NaiveDateTime::parse_from_str(now_s, "%Y-%m-%dT%H:%M:%S")
            .unwrap_or_else(|e| fail(&format!("{}:{}: now {now_s:?}: {e}", path.display(), n + 1)));
        out.push(Input {
            id: v.get("id").cloned().unwrap_or(Value::Null),
            text: v["text"].as_str().unwrap_or("").to_string(),
            ctx: ParseContext::new(lang, now),
        });
    }
    out
}

/// Nearest-rank percentile of sorted samples.
fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut out_dir: Option<PathBuf> = None;
    let mut reps: usize = 20;
    let mut sets: Vec<(String, PathBuf)> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--reps" => {
                reps = it.next().and_then(|x| x.parse().ok()).unwrap_or_else(|| fail("--reps needs a number"));
            }
            "--set" => {
                let s = it.next().unwrap_or_else(|| fail("--set needs NAME=FILE"));
                let (name, file) = s.split_once('=').unwrap_or_else(|| fail("--set needs NAME=FILE"));
                sets.push((name.to_string(), PathBuf::from(file)));
            }
            "-h" | "--help" => {
                println!("usage: entity_bench OUT_DIR [--reps N] --set NAME=FILE [--set NAME=FILE ...]");
                return;
            }
            other if out_dir.is_none() && !other.starts_with('-') => out_dir = Some(PathBuf::from(other)),
            other => fail(&format!("unexpected argument {other:?}")),
        }
    }
    let out_dir = out_dir.unwrap_or_else(|| fail("usage: entity_bench OUT_DIR [--reps N] --set NAME=FILE ..."));
    if sets.is_empty() {
        fail("no --set NAME=FILE given");
    }
    std::fs::create_dir_all(&out_dir).unwrap_or_else(|e| fail(&format!("{}: {e}", out_dir.display())));

    let loaded: Vec<(String, Vec<Input>)> = sets.iter().map(|(n, p)| (n.clone(), load(p))).collect();

    // The very first parse pays for lazily built tables; report it apart.
    let first = loaded.iter().flat_map(|(_, v)| v.first()).next();
    let cold_us = first.map(|i| {
        let t = Instant::now();
        std::hint::black_box(parse(&i.text, &i.ctx));
        t.elapsed().as_secs_f64() * 1e6
    });

    let mut report = serde_json::Map::new();
    for (name, inputs) in &loaded {
        // Warm-up pass, whose results are the predictions.
        let path = out_dir.join(format!("kefu.{name}.jsonl"));
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(&path).unwrap_or_else(|e| fail(&format!("{}: {e}", path.display()))),
        );
        for i in inputs {
            let ents = parse(&i.text, &i.ctx);
            let line = json!({"id": i.id, "text": i.text, "entities": ents});
            writeln!(f, "{line}").unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
        }
        f.flush().unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));

        // Timed passes: every input once per pass, each parse timed on its own.
        let mut lat: Vec<f64> = Vec::with_capacity(inputs.len() * reps);
        for _ in 0..reps {
            for i in inputs {
                let t = Instant::now();
                let ents = parse(&i.text, &i.ctx);
                let us = t.elapsed().as_secs_f64() * 1e6;
                std::hint::black_box(ents);
                lat.push(us);
            }
        }
        let total: f64 = lat.iter().sum();
        lat.sort_by(|a, b| a.total_cmp(b));
        report.insert(
            name.clone(),
            json!({
                "inputs": inputs.len(),
                "parses": lat.len(),
                "median_us": round2(pct(&lat, 0.5)),
                "p99_us": round2(pct(&lat, 0.99)),
                "max_us": round2(pct(&lat, 1.0)),
                "mean_us": round2(if lat.is_empty() { 0.0 } else { total / lat.len() as f64 }),
                "predictions": path.display().to_string(),
            }),
        );
    }
    let out = json!({
        "parser": "kefu",
        "version": env!("CARGO_PKG_VERSION"),
        "kinds": "all (kinds: None)",
        "reps": reps,
        "cold_first_parse_us": cold_us.map(round2),
        "sets": report,
    });
    println!("{out}");
}
