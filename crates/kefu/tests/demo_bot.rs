//! The demo assistant's conversation tests (examples/bots/shop/tests/conversations), run
//! with the real lexical model, built-in entities and FAQ index.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kefu::testing::{load_tests, run_test};
use std::path::PathBuf;

fn shop() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/bots/shop")
}

#[tokio::test]
async fn demo_conversations_pass() {
    let engine = kefu::Assistant::builder(shop()).no_model_cache().build().expect("demo bot builds");
    let tests = load_tests(&shop().join("tests/conversations")).expect("conversation tests load");
    assert!(tests.len() >= 8, "expected the demo's conversation tests, found {}", tests.len());
    let mut report = String::new();
    for (i, (file, test)) in tests.iter().enumerate() {
        let outcome = run_test(&engine, test, &format!("demo-{i}")).await.unwrap();
        for f in &outcome.failures {
            report.push_str(&format!("{file} — {} — step {} {:?}: {}\n", outcome.name, f.step, f.user, f.message));
        }
    }
    assert!(report.is_empty(), "conversation test failures:\n{report}");
}

#[test]
fn blocking_facade_answers_in_both_languages() {
    let engine = kefu::Assistant::builder(shop()).no_model_cache().build().unwrap();
    let blocking = kefu::blocking::BlockingEngine::new(engine).unwrap();
    let zh = blocking.handle(kefu::Turn::new("b1", "我要退货")).unwrap();
    assert_eq!(zh.language, kefu::Language::Zh);
    assert!(zh.flow.is_some(), "{zh:?}");
    let en = blocking.handle(kefu::Turn::new("b2", "I want to return my shoes")).unwrap();
    assert_eq!(en.language, kefu::Language::En);
    assert!(en.flow.is_some(), "{en:?}");
}

#[test]
fn training_is_deterministic_and_cached_models_are_reused() {
    let bot = kefu::core::load_bot_dir(&shop()).unwrap();
    let dir = std::env::temp_dir().join(format!("kefu-cache-{}", std::process::id()));
    let path = dir.join("model.bin");
    let a = kefu::load_or_train(&bot, Some(&path), &mut |_| {}).unwrap();
    let mut epochs = 0;
    let b = kefu::load_or_train(&bot, Some(&path), &mut |_| epochs += 1).unwrap();
    assert_eq!(epochs, 0, "the cached model should be reused, not retrained");
    let c = kefu::train(&bot, &mut |_| {}).unwrap();
    for text in ["我要退货", "where is my parcel", "你好"] {
        assert_eq!(a.rank(text, 3), b.rank(text, 3));
        assert_eq!(a.rank(text, 3), c.rank(text, 3));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
