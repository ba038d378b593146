//! Micro-benchmarks of one intent parse: `cargo bench -p kefu-nlu --bench parse`
//! (add `--features neural` and `KEFU_MINILM_DIR=<all-MiniLM-L6-v2 folder>` for the encoder).
//!
//! The models train on BANKING77's training file when `KEFU_DATA` (default `../shared/data`
//! from the workspace root) has it, else on a small built-in bilingual set; the parsed texts
//! are BANKING77 test utterances (or the built-in set), cycled.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion};
use kefu_nlu::lexical::{LexicalConfig, LexicalModel, TrainingExample};

fn data_dir() -> PathBuf {
    match std::env::var_os("KEFU_DATA") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    }
}

fn read_csv(path: &Path) -> Option<Vec<TrainingExample>> {
    let mut rdr = csv::Reader::from_path(path).ok()?;
    let headers = rdr.headers().ok()?.clone();
    let text = headers.iter().position(|h| h == "text")?;
    let label = headers.iter().position(|h| h == "category")?;
    let rows: Vec<TrainingExample> = rdr
        .records()
        .filter_map(Result::ok)
        .filter_map(|r| Some(TrainingExample { text: r.get(text)?.to_string(), label: r.get(label)?.to_string() }))
        .collect();
    (!rows.is_empty()).then_some(rows)
}

/// (training examples, texts to parse, name of the data).
fn data() -> (Vec<TrainingExample>, Vec<String>, &'static str) {
    let dir = data_dir().join("banking77");
    if let (Some(train), Some(test)) = (read_csv(&dir.join("train.csv")), read_csv(&dir.join("test.csv"))) {
        let texts = test.into_iter().take(500).map(|e| e.text).collect();
        return (train, texts, "banking77");
    }
    let pairs = [
        ("where is my order", "order_status"),
        ("has my parcel shipped yet", "order_status"),
        ("track my package please", "order_status"),
        ("我的快递到哪了", "order_status"),
        ("订单什么时候发货", "order_status"),
        ("I want to return these shoes", "return"),
        ("how do I send this back", "return"),
        ("我要退货", "return"),
        ("这个怎么退", "return"),
        ("can I get a refund", "refund"),
        ("when will my money come back", "refund"),
        ("退款什么时候到账", "refund"),
        ("hello", "greet"),
        ("hi there", "greet"),
        ("你好", "greet"),
    ];
    let train: Vec<TrainingExample> =
        pairs.iter().map(|(t, l)| TrainingExample { text: (*t).into(), label: (*l).into() }).collect();
    let texts = train.iter().map(|e| e.text.clone()).collect();
    (train, texts, "built-in set")
}

fn lexical(c: &mut Criterion) {
    let (train, texts, name) = data();
    let model = match LexicalModel::train(&train, &LexicalConfig::default(), &mut |_| {}) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("lexical bench skipped: training failed: {e}");
            return;
        }
    };
    eprintln!("lexical model on {name}: {} labels, word vectors {}", model.labels().len(), model.uses_word_vectors());
    let mut i = 0usize;
    c.bench_function(&format!("lexical predict ({name})"), |b| {
        b.iter(|| {
            i = (i + 1) % texts.len();
            black_box(model.predict(black_box(&texts[i])))
        })
    });
    let plain = LexicalConfig { word_vectors: kefu_nlu::lexical::WordVectors::Off, ..LexicalConfig::default() };
    if let Ok(model) = LexicalModel::train(&train, &plain, &mut |_| {}) {
        c.bench_function(&format!("lexical predict, n-grams only ({name})"), |b| {
            b.iter(|| {
                i = (i + 1) % texts.len();
                black_box(model.predict(black_box(&texts[i])))
            })
        });
    }
}

#[cfg(feature = "neural")]
fn neural(c: &mut Criterion) {
    use std::sync::Arc;

    use kefu_nlu::neural::{Device, EncoderOptions, SentenceEncoder};
    use kefu_nlu::neural_intent::{tuned_dense_config, NeuralIntentModel};

    // No other thread is running here (criterion runs benches one by one on the main thread).
    kefu_nlu::neural::init_cpu_threads();
    let Some(dir) = std::env::var_os("KEFU_MINILM_DIR").map(PathBuf::from) else {
        eprintln!("neural bench skipped: set KEFU_MINILM_DIR to an all-MiniLM-L6-v2 folder");
        return;
    };
    let options = EncoderOptions { cache_capacity: 0, ..EncoderOptions::default() };
    let encoder = match SentenceEncoder::load_with(&dir, Device::Cpu, options) {
        Ok(e) => Arc::new(e),
        Err(e) => {
            eprintln!("neural bench skipped: {e}");
            return;
        }
    };
    let (train, texts, name) = data();
    // Two examples per intent keep the set-up short; the parse cost is the encoder's.
    let mut per_label = std::collections::HashMap::<String, usize>::new();
    let small: Vec<(String, String)> = train
        .into_iter()
        .filter(|e| {
            let n = per_label.entry(e.label.clone()).or_default();
            *n += 1;
            *n <= 2
        })
        .map(|e| (e.text, e.label))
        .collect();
    let model = match NeuralIntentModel::train(encoder, &small, &tuned_dense_config(), &mut |_, _, _| {}) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("neural bench skipped: training failed: {e}");
            return;
        }
    };
    let mut i = 0usize;
    c.bench_function(&format!("neural predict, MiniLM on CPU, cache off ({name})"), |b| {
        b.iter(|| {
            i = (i + 1) % texts.len();
            black_box(model.rank(black_box(&texts[i]), 5))
        })
    });
}

#[cfg(not(feature = "neural"))]
fn neural(_: &mut Criterion) {}

criterion_group!(benches, lexical, neural);
criterion_main!(benches);
