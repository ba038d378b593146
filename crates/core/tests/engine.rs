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
    let too_long = e.handle(Turn::new("c", "x".repeat(20_000))).await.unwrap_err();
    assert!(matches!(too_long, Error::InputTooLarge(_)));
    assert_eq!(too_long.code(), ErrorCode::InputTooLarge);
    assert!(matches!(e.handle(Turn::new("c\n", "hi")).await, Err(Error::InvalidInput(_))));
    let long_key = Turn::new("c", "hi").idempotency_key("k".repeat(300));
    assert_eq!(e.handle(long_key).await.unwrap_err().code(), ErrorCode::InputTooLarge);
    let mut big_meta = Turn::new("c", "hi");
    for i in 0..100 {
        big_meta = big_meta.meta(format!("k{i}"), serde_json::json!(i));
    }
    assert_eq!(e.handle(big_meta).await.unwrap_err().code(), ErrorCode::InputTooLarge);
    assert_eq!(e.handle(Turn::new("", "hi")).await.unwrap_err().code(), ErrorCode::InvalidInput);
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

#[tokio::test]
async fn a_retried_idempotency_key_returns_the_first_reply_without_running_the_turn() {
    let (e, sink) = engine();
    let first = e.handle(Turn::new("idem", "加一").idempotency_key("m-1")).await.unwrap();
    assert_eq!(first.slots["counter"], 1);
    assert!(!first.replayed);
    let events_after_first = sink.events().len();
    let again = e.handle(Turn::new("idem", "加一").idempotency_key("m-1")).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.slots["counter"], 1, "the action ran twice");
    assert_eq!(again.turn, first.turn);
    assert_eq!(again.messages, first.messages);
    assert_eq!(sink.events().len(), events_after_first, "a replay publishes no events");
    // a new key is a new turn
    let next = e.handle(Turn::new("idem", "加一").idempotency_key("m-2")).await.unwrap();
    assert_eq!(next.slots["counter"], 2);
    // only the latest keys are remembered
    for i in 3..20 {
        e.handle(Turn::new("idem", "加一").idempotency_key(format!("m-{i}"))).await.unwrap();
    }
    let s = e.session("default", "idem").await.unwrap().unwrap();
    assert_eq!(s.idempotent_replies.len(), 8);
    let forgotten = e.handle(Turn::new("idem", "加一").idempotency_key("m-1")).await.unwrap();
    assert!(!forgotten.replayed);
}

#[tokio::test]
async fn replies_name_their_responses_faq_entries_and_flow_events() {
    let (e, _) = engine();
    let r = say(&e, "ids", "我要退货").await;
    assert_eq!(r.messages[0].response.as_deref(), Some("returns.ask_order_id"));
    assert!(r.events.contains(&Event::FlowStarted { flow: "returns".into() }), "{:?}", r.events);
    let r = say(&e, "ids", "多久发货？").await;
    assert_eq!(r.messages[0].faq_id.as_deref(), Some("shipping"));
    assert_eq!(r.messages[0].response, None);
    assert!(r.events.iter().any(|ev| matches!(ev, Event::KbAnswer { entry_id, .. } if entry_id == "shipping")));
    let r = say(&e, "ids", "SO123456").await;
    assert!(r.events.iter().any(|ev| matches!(ev, Event::SlotSet { slot, .. } if slot == "order_id")));
    assert!(r.events.iter().all(Event::belongs_in_reply));
    let r = say(&e, "ids2", "你好").await;
    assert_eq!(r.messages[0].response.as_deref(), Some("greet"));
}

#[tokio::test]
async fn metadata_reaches_actions() {
    let seen = Arc::new(std::sync::Mutex::new(None));
    let seen2 = seen.clone();
    let probe = FnAction::new(move |call: &ActionCall| {
        *seen2.lock().unwrap() = call.metadata.get("page").cloned();
        Ok(ActionOutcome::default())
    });
    let e = Engine::builder(bot())
        .classifier(Arc::new(Keywords(vec![("加一", "count")])))
        .action("increment", Arc::new(probe))
        .build()
        .unwrap();
    e.handle(Turn::new("m", "加一").meta("page", serde_json::json!("/cart"))).await.unwrap();
    assert_eq!(*seen.lock().unwrap(), Some(serde_json::json!("/cart")));
}

#[tokio::test]
async fn a_streamed_turn_sends_each_message_then_the_whole_reply() {
    let (e, _) = engine();
    let mut stream = e.handle_stream(Turn::new("st", "我要退货"));
    let mut parts = Vec::new();
    while let Some(p) = stream.next().await {
        parts.push(p.unwrap());
    }
    let Some(ReplyPart::Done { reply }) = parts.last() else { panic!("no done part: {parts:?}") };
    assert_eq!(parts.len(), reply.messages.len() + 1);
    for (i, m) in reply.messages.iter().enumerate() {
        assert_eq!(parts[i], ReplyPart::Message { index: i, message: m.clone() });
    }
    let mut bad = e.handle_stream(Turn::new("", "x"));
    assert_eq!(bad.next().await.unwrap().unwrap_err().code(), ErrorCode::InvalidInput);
    assert!(bad.next().await.is_none());
}

#[tokio::test]
async fn a_versioned_engine_stamps_sessions_and_replies() {
    let e = Engine::builder(bot())
        .classifier(Arc::new(Keywords(vec![])))
        .action("increment", Arc::new(FnAction::new(|_: &ActionCall| Ok(ActionOutcome::default()))))
        .version("v7")
        .build()
        .unwrap();
    let r = say(&e, "v", "hello").await;
    assert_eq!(r.bot_version.as_deref(), Some("v7"));
    assert_eq!(e.session("default", "v").await.unwrap().unwrap().bot_version.as_deref(), Some("v7"));
}

#[tokio::test]
async fn an_agent_writes_only_in_handed_off_conversations() {
    let (e, sink) = engine();
    say(&e, "ag", "hello").await;
    assert!(!e.agent_message("default", "ag", "hi from Anna").await.unwrap(), "not handed off");
    assert!(!e.agent_message("default", "nobody", "hi").await.unwrap(), "no such conversation");
    let r = say(&e, "ag", "我要投诉").await;
    assert!(r.handoff);
    assert!(e.agent_message("default", "ag", "您好，我是客服小王").await.unwrap());
    let s = e.session("default", "ag").await.unwrap().unwrap();
    let last = s.history.back().unwrap();
    assert_eq!((last.speaker, last.text.as_str()), (session::Speaker::Agent, "您好，我是客服小王"));
    assert!(sink.events().iter().any(|ev| matches!(&ev.event, Event::AgentMessage { text } if text.contains("小王"))));
    assert!(e.release_handoff("default", "ag").await.unwrap());
    assert!(!e.agent_message("default", "ag", "still there?").await.unwrap());
}

#[tokio::test]
async fn owner_only_turns_cannot_enter_another_users_live_conversation() {
    let (e, _) = engine();
    let as_user = |user: &str, text: &str| {
        let mut t = Turn::new("shared", text).user(user);
        t.owner_only = true;
        t
    };
    e.handle(as_user("alice", "我要退货")).await.unwrap();
    let err = e.handle(as_user("bob", "SO123456")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConversationNotFound);
    let r = e.handle(as_user("alice", "SO123456")).await.unwrap();
    assert_eq!(r.slots["order_id"], "SO123456", "bob's message did not reach the form");
    // once the conversation has expired, its id may start over for someone else
    let mut later = as_user("bob", "你好");
    later.timestamp = Some(chrono::Utc::now() + chrono::Duration::hours(2));
    e.handle(later).await.unwrap();
}

/// Writes answers by echoing the entries it was given, a piece per word; or fails after
/// `fail_after` pieces.
struct EchoWriter {
    fail_after: Option<usize>,
}

#[async_trait]
impl AnswerWriter for EchoWriter {
    async fn write(&self, request: &AnswerRequest) -> Result<AnswerPieces, AnswerError> {
        let words: Vec<String> =
            format!("Per [1]: {}", request.hits[0].answer).split_inclusive(' ').map(str::to_string).collect();
        let fail_after = self.fail_after;
        let items: Vec<Result<String, AnswerError>> = words
            .into_iter()
            .enumerate()
            .map(|(i, w)| match fail_after {
                Some(n) if i >= n => Err(AnswerError::Failed("connection reset".into())),
                _ => Ok(w),
            })
            .collect();
        Ok(Box::pin(stream_of(items)))
    }
}

fn stream_of<T: Send + Unpin + 'static>(items: Vec<T>) -> impl futures_core::Stream<Item = T> + Send {
    struct Iter<T>(std::vec::IntoIter<T>);
    impl<T: Unpin> futures_core::Stream for Iter<T> {
        type Item = T;
        fn poll_next(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<Option<T>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    Iter(items.into_iter())
}

fn engine_writing_answers(fail_after: Option<usize>) -> Engine {
    Engine::builder(bot())
        .classifier(Arc::new(Keywords(vec![])))
        .knowledge_base(Arc::new(Faq))
        .answer_writer(Arc::new(EchoWriter { fail_after }))
        .action("increment", Arc::new(FnAction::new(|_: &ActionCall| Ok(ActionOutcome::default()))))
        .build()
        .unwrap()
}

#[tokio::test]
async fn written_answers_stream_as_deltas_and_name_their_entry() {
    let e = engine_writing_answers(None);
    let mut stream = e.handle_stream(Turn::new("w", "how fast is shipping?"));
    let mut parts = Vec::new();
    while let Some(p) = stream.next().await {
        parts.push(p.unwrap());
    }
    let deltas: Vec<&str> = parts
        .iter()
        .filter_map(|p| match p {
            ReplyPart::Delta { index: 0, text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert!(deltas.len() > 3, "{parts:?}");
    let Some(ReplyPart::Done { reply }) = parts.last() else { panic!("{parts:?}") };
    assert_eq!(reply.messages[0].text, "Per [1]: We ship within 48 hours.");
    assert_eq!(deltas.concat(), reply.messages[0].text);
    assert_eq!(reply.messages[0].faq_id.as_deref(), Some("shipping"));
    let first_message = parts.iter().position(|p| matches!(p, ReplyPart::Message { .. })).unwrap();
    assert!(parts[..first_message].iter().all(|p| matches!(p, ReplyPart::Delta { .. })));
    // Without streaming, the same written answer.
    assert_eq!(say(&e, "w2", "how fast is shipping?").await.messages[0].text, "Per [1]: We ship within 48 hours.");
}

#[tokio::test]
async fn a_writer_failing_midway_leaves_the_stored_answer() {
    let e = engine_writing_answers(Some(2));
    let mut stream = e.handle_stream(Turn::new("f", "多久发货？"));
    let mut parts = Vec::new();
    while let Some(p) = stream.next().await {
        parts.push(p.unwrap());
    }
    assert_eq!(parts.iter().filter(|p| matches!(p, ReplyPart::Delta { .. })).count(), 2);
    let Some(ReplyPart::Done { reply }) = parts.last() else { panic!("{parts:?}") };
    assert_eq!(reply.messages[0].text, "48小时内发货。");
    assert!(parts.contains(&ReplyPart::Message { index: 0, message: reply.messages[0].clone() }));
}

/// Always "greet" at 0.45, and a calibrated threshold of 0.6.
struct Calibrated;

#[async_trait]
impl IntentClassifier for Calibrated {
    async fn classify(&self, _text: &str, _l: Language, _k: usize) -> Result<Vec<IntentScore>, NluError> {
        Ok(vec![IntentScore { name: "greet".into(), confidence: 0.45 }])
    }

    fn calibrated_threshold(&self) -> Option<f32> {
        Some(0.6)
    }
}

#[tokio::test]
async fn intent_threshold_auto_uses_the_classifier_s_calibrated_one() {
    use kefu_core::bot::IntentThreshold;
    let with = |threshold| {
        let mut def = bot();
        def.policy.intent_threshold = threshold;
        let noop = FnAction::new(|_: &ActionCall| Ok(ActionOutcome::default()));
        Engine::builder(def).classifier(Arc::new(Calibrated)).action("increment", Arc::new(noop)).build().unwrap()
    };
    let responses = |r: &Reply| r.messages.iter().filter_map(|m| m.response.clone()).collect::<Vec<_>>();
    // auto: 0.45 is below the calibrated 0.6, so the greeting is not trusted.
    let r = say(&with(IntentThreshold::Auto), "t1", "hi there").await;
    assert!(r.events.iter().any(|e| matches!(e, Event::Fallback { .. })), "{r:?}");
    assert!(!responses(&r).contains(&"greet".to_string()), "{r:?}");
    // A fixed 0.4 trusts it.
    let r = say(&with(IntentThreshold::Fixed(0.4)), "t1", "hi there").await;
    assert_eq!(responses(&r), vec!["greet".to_string()], "{r:?}");
}
