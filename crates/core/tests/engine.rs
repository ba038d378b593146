//! Engine behaviour with a small fixture bot and a keyword classifier (a test double for
//! the classifier trait; the real models are exercised by the facade's conversation tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use async_trait::async_trait;
use kefu_core::kb::{KbError, KbHit, KbQuery, KnowledgeBase};
use kefu_core::nlu::{IntentClassifier, IntentScore, NluError};
use kefu_core::*;
use std::sync::Arc;
use std::time::Duration;

struct Keywords(Vec<(&'static str, &'static str)>);

#[async_trait]
impl IntentClassifier for Keywords {
    async fn classify(&self, text: &str, _l: Language, _k: usize) -> Result<Vec<IntentScore>, NluError> {
        let lower = text.to_lowercase();
        Ok(self
            .0
            .iter()
            .find(|(kw, _)| lower.contains(kw))
            .map(|(_, intent)| vec![IntentScore { name: intent.to_string(), confidence: 0.95 }])
            .unwrap_or_else(|| vec![IntentScore { name: "greet".into(), confidence: 0.1 }]))
    }
}

struct Faq;

#[async_trait]
impl KnowledgeBase for Faq {
    async fn search(&self, q: &KbQuery) -> Result<Vec<KbHit>, KbError> {
        let hit = q.text.contains("发货") || q.text.contains("shipping");
        Ok(hit
            .then(|| KbHit {
                id: "shipping".into(),
                question: "q".into(),
                answer: if q.language == Language::Zh { "48小时内发货。" } else { "We ship within 48 hours." }.into(),
                score: 0.9,
            })
            .into_iter()
            .collect())
    }
}

fn bot() -> BotDefinition {
    load_bot_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mini"))
        .expect("fixture bot loads")
}

fn engine_with(sink: Arc<MemoryEventSink>, store: Arc<dyn SessionStore>) -> Engine {
    let counter = FnAction::new(|call: &ActionCall| {
        let n = call.slots.get("counter").and_then(|v| v.as_i64()).unwrap_or(0);
        let mut out = ActionOutcome::default();
        out.slots.insert("counter".into(), (n + 1).into());
        Ok(out)
    });
    let classifier = Keywords(vec![
        ("你好", "greet"),
        ("hello", "greet"),
        ("退货", "request_return"),
        ("return", "request_return"),
        ("投诉", "complaint"),
        ("complain", "complaint"),
        ("加一", "count"),
        ("add one", "count"),
    ]);
    Engine::builder(bot())
        .classifier(Arc::new(classifier))
        .knowledge_base(Arc::new(Faq))
        .session_store(store)
        .event_sink(sink)
        .action("increment", Arc::new(counter))
        .build()
        .unwrap()
}

fn engine() -> (Engine, Arc<MemoryEventSink>) {
    let sink = Arc::new(MemoryEventSink::new(10_000));
    (engine_with(sink.clone(), Arc::new(MemorySessionStore::new())), sink)
}

async fn say(e: &Engine, conv: &str, text: &str) -> Reply {
    e.handle(Turn::new(conv, text)).await.unwrap()
}

#[tokio::test]
async fn returns_flow_in_chinese_with_digression_correction_and_confirmation() {
    let (e, sink) = engine();
    let r = say(&e, "c1", "我要退货").await;
    assert_eq!(r.flow.as_deref(), Some("returns"));
    assert!(r.text().contains("订单号"), "{}", r.text());
    // numbered re-prompt on an answer that fills nothing
    let r = say(&e, "c1", "嗯……我找找").await;
    assert!(r.text().contains("SO 开头"), "{}", r.text());
    // digression: FAQ answered, prompt repeated
    let r = say(&e, "c1", "多久发货？").await;
    assert!(r.text().contains("48小时"), "{}", r.text());
    assert!(r.text().contains("订单号"), "{}", r.text());
    let r = say(&e, "c1", "ＳＯ１２３４５６").await; // full-width is normalised
    assert_eq!(r.slots["order_id"], "SO123456");
    assert!(r.text().contains("原因"), "{}", r.text());
    let r = say(&e, "c1", "尺码不合适").await;
    assert_eq!(r.slots["reason"], "尺码不合适");
    assert!(r.text().contains("确认退货 SO123456"), "{}", r.text());
    // correction during confirmation
    let r = say(&e, "c1", "不对，订单号是SO654321").await;
    assert_eq!(r.slots["order_id"], "SO654321");
    assert!(r.text().contains("确认退货 SO654321"), "{}", r.text());
    let r = say(&e, "c1", "是的").await;
    assert_eq!(r.text(), "退货已提交：SO654321");
    assert_eq!(r.flow, None);
    let kinds: Vec<String> = sink
        .events()
        .iter()
        .map(|e| serde_json::to_value(&e.event).unwrap()["type"].as_str().unwrap().to_string())
        .collect();
    for k in
        ["flow_started", "slot_set", "kb_answer", "flow_completed", "bot_message", "user_message", "intent_recognized"]
    {
        assert!(kinds.iter().any(|x| x == k), "missing event {k} in {kinds:?}");
    }
}

#[tokio::test]
async fn returns_flow_in_english_with_cancel_and_greeting_digression() {
    let (e, sink) = engine();
    let r = say(&e, "c2", "I want to return my shoes").await;
    assert_eq!(r.language, Language::En);
    assert!(r.text().contains("order number"));
    let r = say(&e, "c2", "hello").await;
    assert!(r.text().starts_with("Hi!"), "{}", r.text());
    assert!(r.text().contains("order number"));
    let r = say(&e, "c2", "so123456").await;
    assert_eq!(r.slots["order_id"], "so123456");
    let r = say(&e, "c2", "cancel").await;
    assert_eq!(r.flow, None);
    assert!(r.slots.is_empty());
    assert!(sink.events().iter().any(|e| matches!(e.event, Event::FlowCancelled { .. })));
}

#[tokio::test]
async fn chinese_cancel_words_end_the_form() {
    let (e, _) = engine();
    say(&e, "c3", "我要退货").await;
    let r = say(&e, "c3", "算了").await;
    assert_eq!(r.flow, None);
    assert!(r.text().contains("取消"), "{}", r.text());
}

#[tokio::test]
async fn fallbacks_lead_to_a_human() {
    let (e, sink) = engine();
    let r = say(&e, "c4", "asdfgh qwerty").await;
    assert!(r.text().contains("didn't understand"), "{}", r.text());
    let r = say(&e, "c4", "zxcvb poiuy").await;
    assert!(r.text().contains("human agent"), "{}", r.text());
    let r = say(&e, "c4", "yes").await;
    assert!(r.handoff);
    let r = say(&e, "c4", "hello?").await;
    assert!(r.messages.is_empty() && r.handoff);
    let evs = sink.events();
    assert!(evs.iter().any(|e| matches!(e.event, Event::Handoff { .. })));
    assert!(evs.iter().any(|e| matches!(e.event, Event::RoutedToAgent { .. })));
    assert!(e.release_handoff("default", "c4").await.unwrap());
    let r = say(&e, "c4", "hello").await;
    assert!(!r.handoff && r.text() == "Hi!");
}

#[tokio::test]
async fn handoff_intent_hands_over_at_once() {
    let (e, _) = engine();
    let r = say(&e, "c5", "我要投诉").await;
    assert!(r.handoff);
    assert_eq!(r.text(), "很抱歉给您带来不便。");
}

#[tokio::test]
async fn concurrent_turns_on_one_conversation_lose_no_update() {
    let (e, _) = engine();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let e = e.clone();
        tasks.push(tokio::spawn(async move { e.handle(Turn::new("shared", "加一")).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let s = e.session("default", "shared").await.unwrap().unwrap();
    assert_eq!(s.slots["counter"], 50);
    assert_eq!(s.turns, 50);
    assert!(s.history.len() <= 6, "history is bounded");
}

/// Two engines (two replicas) over one store: optimistic concurrency keeps every update.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_sharing_a_store_lose_no_update() {
    let store: Arc<dyn SessionStore> = Arc::new(MemorySessionStore::new());
    let a = engine_with(Arc::new(MemoryEventSink::new(100)), store.clone());
    let b = engine_with(Arc::new(MemoryEventSink::new(100)), store.clone());
    let mut tasks = Vec::new();
    for i in 0..50 {
        let e = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move { e.handle(Turn::new("shared", "add one")).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let s = store.load(&SessionKey::new("default", "shared")).await.unwrap().unwrap();
    assert_eq!(s.slots["counter"], 50);
}

#[tokio::test]
async fn idle_sessions_expire() {
    let (e, sink) = engine();
    let t0 = chrono::Utc::now();
    e.handle(Turn::new("c6", "我要退货").at(t0)).await.unwrap();
    let r = e.handle(Turn::new("c6", "SO123456").at(t0 + chrono::Duration::seconds(30))).await.unwrap();
    assert_eq!(r.flow.as_deref(), Some("returns"));
    let r = e.handle(Turn::new("c6", "你好").at(t0 + chrono::Duration::seconds(200))).await.unwrap();
    assert_eq!(r.flow, None);
    assert!(r.slots.is_empty());
    assert!(sink.events().iter().any(|e| matches!(e.event, Event::SessionExpired)));
    // the store forgets them too
    let store = MemorySessionStore::new();
    let mut s = Session::new(SessionKey::new("t", "x"), "u", t0);
    s.version = 1;
    store.save(&s, 0, Duration::from_millis(1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(store.load(&s.key).await.unwrap().is_none());
}

#[tokio::test]
async fn bad_input_is_a_typed_error() {
    let (e, _) = engine();
    assert!(matches!(e.handle(Turn::new("", "hi")).await, Err(Error::InvalidInput(_))));
    assert!(matches!(e.handle(Turn::new("c", "x".repeat(20_000))).await, Err(Error::InvalidInput(_))));
    assert!(matches!(e.handle(Turn::new("c\n", "hi")).await, Err(Error::InvalidInput(_))));
    let r = e.handle(Turn::new("c7", "")).await.unwrap();
    assert!(!r.messages.is_empty());
}

#[tokio::test]
async fn events_carry_ids_timestamps_and_order() {
    let (e, sink) = engine();
    say(&e, "c8", "hello").await;
    let evs = sink.events();
    assert!(matches!(evs[0].event, Event::UserMessage { .. }));
    assert!(matches!(evs[evs.len() - 2].event, Event::BotMessage { .. }));
    assert!(matches!(evs.last().unwrap().event, Event::TurnCompleted { .. }));
    assert_eq!(evs[0].id, "default/c8/1/0");
    let json = serde_json::to_value(&evs[0]).unwrap();
    assert_eq!(json["type"], "user_message");
    assert!(json["timestamp"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_passes_the_conformance_suite() {
    kefu_core::testing::session_store_conformance(Arc::new(MemorySessionStore::new()), "memory").await;
}
