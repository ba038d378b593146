//! Conversation tests: YAML files of user messages with the expected intent, slots, flow and
//! reply, run against an engine (`kefu test`, `cargo test`, and every binding).

use crate::engine::{Engine, Reply, Turn};
use crate::error::Error;
use crate::language::Language;
use crate::response::value_text;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// One conversation test file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationTest {
    /// What the test shows.
    pub name: String,
    /// Language of every turn (detected when absent).
    #[serde(default)]
    pub language: Option<Language>,
    /// Channel of every turn.
    #[serde(default)]
    pub channel: Option<String>,
    /// Time of every turn (RFC 3339), so that relative dates resolve to fixed values.
    #[serde(default)]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// The turns, in order.
    pub steps: Vec<Step>,
}

/// One user message and what must follow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// What the user says.
    pub user: String,
    /// Expected top intent.
    #[serde(default)]
    pub intent: Option<String>,
    /// Regular expression the reply text must match (all messages joined by newlines).
    #[serde(default)]
    pub reply: Option<String>,
    /// Expected slot values (compared as text; `null` = must be unset).
    #[serde(default)]
    pub slots: BTreeMap<String, serde_json::Value>,
    /// Expected active flow after the turn (`none` = no flow).
    #[serde(default)]
    pub flow: Option<String>,
    /// Expected hand-off state after the turn.
    #[serde(default)]
    pub handoff: Option<bool>,
}

/// A failed expectation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Step number (1-based).
    pub step: usize,
    /// What the user said.
    pub user: String,
    /// What differed.
    pub message: String,
}

/// The outcome of one conversation test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestOutcome {
    /// Test name.
    pub name: String,
    /// Failed expectations (empty = passed).
    pub failures: Vec<Failure>,
}

/// Reads every `*.yaml` test in a folder, sorted by file name.
pub fn load_tests(dir: &Path) -> Result<Vec<(String, ConversationTest)>, Error> {
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::InvalidInput(format!("cannot read {}: {e}", dir.display())))?;
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    paths.sort();
    for p in paths {
        let text = std::fs::read_to_string(&p)
            .map_err(|e| Error::InvalidInput(format!("cannot read {}: {e}", p.display())))?;
        let test: ConversationTest =
            serde_yaml::from_str(&text).map_err(|e| Error::InvalidInput(format!("{}: {e}", p.display())))?;
        out.push((p.display().to_string(), test));
    }
    Ok(out)
}

/// Runs one test in a fresh conversation.
pub async fn run_test(engine: &Engine, test: &ConversationTest, conversation_id: &str) -> Result<TestOutcome, Error> {
    let mut failures = Vec::new();
    for (i, step) in test.steps.iter().enumerate() {
        let reply = engine.handle(step_turn(test, step, conversation_id)).await?;
        failures.extend(check_step(step, &reply).into_iter().map(|message| Failure {
            step: i + 1,
            user: step.user.clone(),
            message,
        }));
    }
    Ok(TestOutcome { name: test.name.clone(), failures })
}

/// The turn a step sends: its text with the test's language, channel and time. Doors other
/// than Rust (the server, bindings) send the same turn their own way and check the reply with
/// [`check_step`].
pub fn step_turn(test: &ConversationTest, step: &Step, conversation_id: &str) -> Turn {
    let mut turn = Turn::new(conversation_id, step.user.clone());
    turn.language = test.language;
    if let Some(c) = &test.channel {
        turn.channel = c.clone();
    }
    turn.timestamp = test.now;
    turn
}

/// What in `reply` differs from the step's expectations (empty = the step passed).
pub fn check_step(step: &Step, reply: &Reply) -> Vec<String> {
    let mut failures = Vec::new();
    let mut fail = |message: String| failures.push(message);
    if let Some(want) = &step.intent {
        let got = reply.intent.as_ref().map(|s| s.name.as_str()).unwrap_or("");
        if got != want {
            fail(format!("intent: expected `{want}`, got `{got}`"));
        }
    }
    if let Some(pattern) = &step.reply {
        match regex::Regex::new(pattern) {
            Ok(re) if re.is_match(&reply.text()) => {}
            Ok(_) => fail(format!("reply {:?} does not match /{pattern}/", reply.text())),
            Err(e) => fail(format!("bad reply pattern /{pattern}/: {e}")),
        }
    }
    for (slot, want) in &step.slots {
        let got = reply.slots.get(slot);
        let ok = match (want, got) {
            (serde_json::Value::Null, None) => true,
            (w, Some(g)) => w == g || value_text(w) == value_text(g),
            _ => false,
        };
        if !ok {
            fail(format!("slot `{slot}`: expected {want}, got {}", got.map_or("unset".into(), |g| g.to_string())));
        }
    }
    if let Some(want) = &step.flow {
        let got = reply.flow.as_deref().unwrap_or("none");
        if got != want {
            fail(format!("flow: expected `{want}`, got `{got}`"));
        }
    }
    if let Some(want) = step.handoff {
        if reply.handoff != want {
            fail(format!("handoff: expected {want}, got {}", reply.handoff));
        }
    }
    failures
}

/// The conformance suite every [`crate::SessionStore`] must pass: the same checks run against
/// the in-memory store, the embedded store and Redis. Panics with a description of the first
/// violated property. Keys are prefixed with `namespace` so runs do not interfere.
pub async fn session_store_conformance(store: std::sync::Arc<dyn crate::SessionStore>, namespace: &str) {
    use crate::session::{HistoryEntry, Session, SessionKey, Speaker, StoreError};
    use std::time::Duration;
    let long = Duration::from_secs(600);
    let key = SessionKey::new(format!("{namespace}-tenant"), "conversation:1/ü");
    let now = chrono::Utc::now();

    assert!(store.load(&key).await.expect("load").is_none(), "a missing session loads as None");

    let mut s = Session::new(key.clone(), "user-1", now);
    s.slots.insert("order_id".into(), serde_json::json!("SO123456"));
    s.slots.insert("amount".into(), serde_json::json!({"value": 350, "currency": "CNY"}));
    for i in 0..50 {
        s.remember(HistoryEntry { at: now, speaker: Speaker::User, text: format!("第{i}条消息 ✓"), intent: None }, 50);
    }
    s.version = 1;
    store.save(&s, 0, long).await.expect("first save");
    assert_eq!(store.load(&key).await.expect("load").as_ref(), Some(&s), "a saved session round-trips unchanged");

    match store.save(&s, 0, long).await {
        Err(StoreError::Conflict { expected: 0, found: 1 }) => {}
        other => panic!("saving over version 1 while expecting 0 must conflict, got {other:?}"),
    }
    let mut s2 = s.clone();
    s2.version = 2;
    s2.turns = 7;
    store.save(&s2, 1, long).await.expect("second save");
    match store.save(&s, 1, long).await {
        Err(StoreError::Conflict { expected: 1, found: 2 }) => {}
        other => panic!("a stale writer must conflict, got {other:?}"),
    }
    assert_eq!(store.load(&key).await.expect("load").map(|x| x.turns), Some(7), "the winning write is kept");

    let other_tenant = SessionKey::new(format!("{namespace}-other"), key.conversation_id.clone());
    assert!(store.load(&other_tenant).await.expect("load").is_none(), "tenants never see each other's sessions");

    let short = SessionKey::new(format!("{namespace}-tenant"), "expiring");
    let mut e = Session::new(short.clone(), "u", now);
    e.version = 1;
    store.save(&e, 0, Duration::from_millis(150)).await.expect("save with ttl");
    assert!(store.load(&short).await.expect("load").is_some());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(store.load(&short).await.expect("load").is_none(), "a session expires after its ttl");
    store.save(&e, 0, long).await.expect("an expired session counts as absent");

    assert!(store.delete(&key).await.expect("delete"), "delete reports an existing session");
    assert!(store.load(&key).await.expect("load").is_none(), "a deleted session is gone");
    assert!(!store.delete(&key).await.expect("delete"), "deleting twice reports nothing deleted");

    // Concurrent read-modify-write loops: optimistic concurrency loses no increment.
    let counter = SessionKey::new(format!("{namespace}-tenant"), "counter");
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let store = store.clone();
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let current = store.load(&counter).await.expect("load");
                let expected = current.as_ref().map_or(0, |s| s.version);
                let mut s = current.unwrap_or_else(|| Session::new(counter.clone(), "u", chrono::Utc::now()));
                let n = s.slots.get("n").and_then(|v| v.as_u64()).unwrap_or(0);
                s.slots.insert("n".into(), serde_json::json!(n + 1));
                s.version = expected + 1;
                match store.save(&s, expected, long).await {
                    Ok(()) => break,
                    Err(StoreError::Conflict { .. }) => tokio::task::yield_now().await,
                    Err(e) => panic!("save failed: {e}"),
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let n = store.load(&counter).await.expect("load").and_then(|s| s.slots.get("n").and_then(|v| v.as_u64()));
    assert_eq!(n, Some(20), "20 concurrent increments must all survive");

    // A data subject's sessions: listed by user within a tenant, and erased.
    let tenant = format!("{namespace}-gdpr");
    let save_as = |tenant: String, conv: &'static str, user: &'static str, ttl: Duration| {
        let store = store.clone();
        async move {
            let mut s = Session::new(SessionKey::new(tenant, conv), user, chrono::Utc::now());
            s.version = 1;
            store.save(&s, 0, ttl).await.expect("save");
            s
        }
    };
    let a = save_as(tenant.clone(), "conv-a", "alice", long).await;
    let b = save_as(tenant.clone(), "conv-b", "alice", long).await;
    let c = save_as(tenant.clone(), "conv-c", "bob", long).await;
    let elsewhere = save_as(format!("{namespace}-gdpr-other"), "conv-a", "alice", long).await;
    save_as(tenant.clone(), "conv-short", "alice", Duration::from_millis(100)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let listed = store.sessions_of_user(&tenant, "alice").await.expect("sessions_of_user");
    assert_eq!(
        listed,
        vec![a.clone(), b.clone()],
        "a user's live sessions in the tenant, sorted, expired ones left out"
    );
    assert_eq!(store.sessions_of_user(&tenant, "bob").await.expect("list"), vec![c.clone()]);
    assert!(store.sessions_of_user(&tenant, "nobody").await.expect("list").is_empty());
    assert_eq!(store.delete_user(&tenant, "alice").await.expect("delete_user"), 2, "both sessions deleted");
    assert!(store.sessions_of_user(&tenant, "alice").await.expect("list").is_empty(), "nothing listed after erasure");
    assert!(store.load(&a.key).await.expect("load").is_none() && store.load(&b.key).await.expect("load").is_none());
    assert_eq!(store.load(&c.key).await.expect("load"), Some(c), "other users are untouched");
    assert_eq!(store.load(&elsewhere.key).await.expect("load"), Some(elsewhere), "other tenants are untouched");
    assert_eq!(store.delete_user(&tenant, "alice").await.expect("delete_user"), 0, "erasing twice finds nothing");
}
