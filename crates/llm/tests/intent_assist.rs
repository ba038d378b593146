//! LlmIntentAssist over a fixed local ranking and the chat-completions test double.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use async_trait::async_trait;
use common::{completion, status, MockLlm, Reply};
use kefu_core::{IntentClassifier, IntentScore, Language, NluError};
use kefu_llm::{BreakerConfig, IntentAssistConfig, IntentHint, LlmIntentAssist};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The "local model": always the same ranking.
struct Fixed(Vec<IntentScore>);

#[async_trait]
impl IntentClassifier for Fixed {
    async fn classify(&self, _: &str, _: Language, top_k: usize) -> Result<Vec<IntentScore>, NluError> {
        Ok(self.0.iter().take(top_k).cloned().collect())
    }
}

fn ranking(top: f32) -> Vec<IntentScore> {
    let s = |name: &str, confidence: f32| IntentScore { name: name.into(), confidence };
    vec![s("track_order", top), s("refund", top - 0.05), s("cancel_order", 0.05), s("greet", 0.01)]
}

fn config() -> IntentAssistConfig {
    let mut c = IntentAssistConfig::default();
    c.intents.insert(
        "refund".into(),
        IntentHint {
            description: Some("The customer wants money back for an order.".into()),
            examples: vec!["我要退款".into(), "give me my money back".into(), "refund please".into(), "4th".into()],
        },
    );
    c.intents.insert(
        "track_order".into(),
        IntentHint { description: Some("Where is my parcel".into()), examples: vec!["快递到哪了".into()] },
    );
    c
}

fn assist(llm: &MockLlm, top: f32) -> LlmIntentAssist {
    LlmIntentAssist::new(Arc::new(Fixed(ranking(top))), llm.client(|c| c.max_retries = 1), config())
}

const TEXT: &str = "the parcel came broken, what now?";

#[tokio::test]
async fn in_the_band_the_llm_choice_wins() {
    let llm = MockLlm::start(|_, _| completion("refund")).await;
    let got = assist(&llm, 0.5).classify(TEXT, Language::En, 3).await.unwrap();
    assert_eq!(got.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["refund", "track_order", "cancel_order"]);
    assert_eq!(got[0].confidence, 0.9);
    assert_eq!(got[1].confidence, 0.5, "the others keep their local scores");

    let seen = &llm.requests()[0];
    assert_eq!(seen.body["temperature"], 0.0);
    assert_eq!(seen.body["stream"], false);
    let (role, system) = seen.message(0);
    assert_eq!(role, "system");
    assert!(system.contains("- track_order: Where is my parcel\n  example: 快递到哪了"), "{system}");
    assert!(system.contains("- refund: The customer wants money back for an order."), "{system}");
    assert!(system.contains("example: refund please") && !system.contains("4th"), "max 3 examples: {system}");
    assert!(system.contains("- cancel_order\n"), "{system}");
    assert!(!system.contains("greet"), "only the top 3 candidates: {system}");
    assert_eq!(seen.message(1), ("user", TEXT));
}

#[tokio::test]
async fn outside_the_band_the_local_ranking_stands_and_no_request_is_made() {
    let llm = MockLlm::start(|_, _| completion("refund")).await;
    for top in [0.9, 0.75, 0.3] {
        let got = assist(&llm, top).classify(TEXT, Language::En, 3).await.unwrap();
        assert_eq!(got, ranking(top)[..3].to_vec(), "top {top}");
    }
    assert_eq!(llm.count(), 0);
    // The band's lower edge is inclusive.
    assist(&llm, 0.35).classify(TEXT, Language::En, 3).await.unwrap();
    assert_eq!(llm.count(), 1);
}

#[tokio::test]
async fn an_llm_failure_keeps_the_local_ranking() {
    let llm = MockLlm::start(|_, _| status(500)).await;
    let got = assist(&llm, 0.5).classify(TEXT, Language::En, 3).await.unwrap();
    assert_eq!(got, ranking(0.5)[..3].to_vec());
    assert_eq!(llm.count(), 2, "one retry, then the local ranking");
}

#[tokio::test]
async fn an_unparseable_or_foreign_answer_keeps_the_local_ranking() {
    for answer in ["I think it is refund.", "greet", "Refund", ""] {
        let llm = MockLlm::start(move |_, _| completion(answer)).await;
        let got = assist(&llm, 0.5).classify(TEXT, Language::En, 3).await.unwrap();
        assert_eq!(got, ranking(0.5)[..3].to_vec(), "answer {answer:?}");
    }
}

#[tokio::test]
async fn none_demotes_the_candidates() {
    let llm = MockLlm::start(|_, _| completion("none")).await;
    let got = assist(&llm, 0.6).classify(TEXT, Language::En, 2).await.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].name, "track_order");
    assert!((got[0].confidence - 0.3).abs() < 1e-6, "{got:?}");
}

#[tokio::test]
async fn a_slow_llm_is_abandoned_at_the_deadline() {
    let llm = MockLlm::start(|_, _| Reply::Hang).await;
    let mut cfg = config();
    cfg.deadline_ms = 200;
    let a = LlmIntentAssist::new(Arc::new(Fixed(ranking(0.5))), llm.client(|c| c.request_timeout_ms = 10_000), cfg);
    let started = Instant::now();
    let got = a.classify(TEXT, Language::En, 3).await.unwrap();
    assert_eq!(got, ranking(0.5)[..3].to_vec());
    assert!(started.elapsed() < Duration::from_millis(800), "{:?}", started.elapsed());
}

#[tokio::test]
async fn with_the_breaker_open_no_request_is_made() {
    let llm = MockLlm::start(|_, _| status(503)).await;
    let client = llm.client(|c| {
        c.max_retries = 0;
        c.breaker = BreakerConfig { failure_threshold: 2, cool_down_ms: 60_000 };
    });
    let a = LlmIntentAssist::new(Arc::new(Fixed(ranking(0.5))), client, config());
    for _ in 0..5 {
        assert_eq!(a.classify(TEXT, Language::En, 3).await.unwrap(), ranking(0.5)[..3].to_vec());
    }
    assert_eq!(llm.count(), 2);
}

#[tokio::test]
async fn asks_the_inner_classifier_for_enough_candidates() {
    let llm = MockLlm::start(|_, _| completion("cancel_order")).await;
    // top_k 1 from the engine, but the LLM still chooses among 3.
    let got = assist(&llm, 0.5).classify(TEXT, Language::En, 1).await.unwrap();
    assert_eq!(got, vec![IntentScore { name: "cancel_order".into(), confidence: 0.9 }]);
}
