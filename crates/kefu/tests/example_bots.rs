//! The example assistants beyond the demo shop (examples/bots/airline, telecom, clinic, bank):
//! learned entities with roles, optional slots with defaults, per-language currency,
//! corrections of any slot, off-topic messages without an `out_of_scope` intent — their
//! conversation tests in Chinese, English and mixed, plus the learned-entity
//! cross-validation `kefu test` reports.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kefu::testing::{load_tests, run_test};
use kefu::{Assistant, Turn};
use std::path::PathBuf;

fn airline() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/bots/airline")
}

async fn conversations_pass(dir: PathBuf, at_least: usize) {
    let engine = Assistant::builder(&dir).no_model_cache().build().expect("the bot builds");
    let tests = load_tests(&dir.join("tests/conversations")).expect("conversation tests load");
    assert!(tests.len() >= at_least, "expected the bot's conversation tests, found {}", tests.len());
    let mut report = String::new();
    for (i, (file, test)) in tests.iter().enumerate() {
        let outcome = run_test(&engine, test, &format!("example-{i}")).await.unwrap();
        for f in &outcome.failures {
            report.push_str(&format!("{file} — {} — step {} {:?}: {}\n", outcome.name, f.step, f.user, f.message));
        }
    }
    assert!(report.is_empty(), "conversation test failures:\n{report}");
}

#[tokio::test]
async fn airline_conversations_pass() {
    conversations_pass(airline(), 20).await;
}

#[tokio::test]
async fn telecom_conversations_pass() {
    conversations_pass(airline().with_file_name("telecom"), 20).await;
}

#[tokio::test]
async fn clinic_conversations_pass() {
    conversations_pass(airline().with_file_name("clinic"), 20).await;
}

#[tokio::test]
async fn bank_conversations_pass() {
    conversations_pass(airline().with_file_name("bank"), 20).await;
}

#[tokio::test]
async fn learned_entities_fill_slots_from_the_first_message_with_names_never_seen() {
    let engine = Assistant::builder(airline()).no_model_cache().build().unwrap();
    let mut turn = Turn::new("first-zh", "后天帮周八订两张从广州到西安的票");
    turn.timestamp = Some("2026-12-07T02:00:00Z".parse().unwrap());
    let reply = engine.handle(turn).await.unwrap();
    let slot = |name: &str| reply.slots.get(name).map(kefu::core::response::value_text).unwrap_or_default();
    assert_eq!(slot("passenger"), "周八", "{reply:?}");
    assert_eq!(slot("from_city"), "广州", "{reply:?}");
    assert_eq!(slot("to_city"), "西安", "{reply:?}");
    assert_eq!(reply.slots.get("tickets"), Some(&serde_json::json!(2)), "{reply:?}");
    assert!(reply.slots.get("travel_date").is_some_and(|d| d.to_string().contains("2026-12-09")), "{reply:?}");
}

#[test]
fn entity_cross_validation_reports_every_learned_entity() {
    let bot = kefu::core::load_bot_dir(&airline()).unwrap();
    let scores = kefu::nlu::learned::entity_cross_validation(&bot, 5);
    for name in ["passenger", "city#from", "city#to"] {
        let s = scores.get(name).unwrap_or_else(|| panic!("{name} missing from {scores:?}"));
        assert!(s.support >= 10, "{name}: {s:?}");
        assert!((0.0..=1.0).contains(&s.f1), "{name}: {s:?}");
    }
}
