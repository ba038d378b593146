//! The Redis session store against a real redis-server (run with `--features redis`).
#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::RedisServer;
use kefu_backends::store::redis::RedisSessionStore;
use kefu_core::session::{Session, SessionKey, SessionStore, StoreError};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let server = RedisServer::start();
    let store = RedisSessionStore::connect(&server.url(), "kefu-test").await.unwrap();
    kefu_core::testing::session_store_conformance(Arc::new(store), "redis").await;
}

#[tokio::test]
async fn unreachable_server_is_a_typed_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    match RedisSessionStore::connect(&format!("redis://127.0.0.1:{port}/0"), "x").await {
        Err(StoreError::Unavailable { .. }) => {}
        Ok(_) => panic!("connecting to a closed port must fail"),
        Err(e) => panic!("unexpected error {e}"),
    }
    assert!(matches!(RedisSessionStore::connect("not a url", "x").await, Err(StoreError::Unavailable { .. })));
}

/// Saves under load while the server is killed and restarted: every acknowledged save is
/// still there afterwards, and the store reconnects without a new client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_a_restart_mid_load_without_losing_acknowledged_turns() {
    let mut server = RedisServer::start();
    let store = RedisSessionStore::connect(&server.url(), "kefu-test").await.unwrap();
    let mut acknowledged: Vec<(SessionKey, u64)> = Vec::new();
    let mut failed = 0;
    for i in 0..300u64 {
        if i == 150 {
            server.restart();
        }
        let key = SessionKey::new("t", format!("c{}", i % 30));
        let current = match store.load(&key).await {
            Ok(c) => c,
            Err(_) => {
                failed += 1;
                continue;
            }
        };
        let expected = current.as_ref().map_or(0, |s| s.version);
        let mut s = current.unwrap_or_else(|| Session::new(key.clone(), "u", chrono::Utc::now()));
        s.version = expected + 1;
        s.turns += 1;
        match store.save(&s, expected, Duration::from_secs(600)).await {
            Ok(()) => acknowledged.push((key, s.version)),
            Err(StoreError::Unavailable { .. }) => failed += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert!(acknowledged.len() >= 280, "the store should reconnect quickly ({failed} failed)");
    let mut latest = std::collections::HashMap::new();
    for (k, v) in acknowledged {
        latest.insert(k, v);
    }
    for (k, v) in latest {
        let s = store.load(&k).await.unwrap().expect("an acknowledged session survives the restart");
        assert_eq!(s.version, v, "{k:?} lost an acknowledged update");
    }
}

struct Always;
#[async_trait::async_trait]
impl kefu_core::nlu::IntentClassifier for Always {
    async fn classify(
        &self,
        _t: &str,
        _l: kefu_core::Language,
        _k: usize,
    ) -> Result<Vec<kefu_core::IntentScore>, kefu_core::NluError> {
        Ok(vec![kefu_core::IntentScore { name: "count".into(), confidence: 0.99 }])
    }
}

fn counting_bot() -> kefu_core::BotDefinition {
    let bot_yaml = "bot: {name: t, languages: [en]}\nintents:\n  count:\n    examples: {en: [add one]}\n    action: increment\nslots:\n  counter: {type: number}\nactions:\n  increment: {code: true}\n";
    kefu_core::bot::load_bot_files(std::path::Path::new("."), &[("bot.yaml".into(), bot_yaml.to_string())]).unwrap()
}

/// An engine ("replica") whose `increment` action adds one to the `counter` slot after `work`.
fn replica(
    store: Arc<dyn SessionStore>,
    lock: Option<Arc<dyn kefu_core::ConversationLock>>,
    lock_ttl: Duration,
    work: impl Fn() -> Duration + Send + Sync + 'static,
) -> kefu_core::Engine {
    use kefu_core::{ActionCall, ActionError, ActionHandler, ActionOutcome};
    struct Inc<F>(F);
    #[async_trait::async_trait]
    impl<F: Fn() -> Duration + Send + Sync> ActionHandler for Inc<F> {
        async fn run(&self, call: &ActionCall) -> Result<ActionOutcome, ActionError> {
            tokio::time::sleep((self.0)()).await;
            let n = call.slots.get("counter").and_then(|v| v.as_i64()).unwrap_or(0);
            let mut out = ActionOutcome::default();
            out.slots.insert("counter".into(), (n + 1).into());
            Ok(out)
        }
    }
    let mut b = kefu_core::Engine::builder(counting_bot())
        .classifier(Arc::new(Always))
        .session_store(store)
        .lock_ttl(lock_ttl)
        .action("increment", Arc::new(Inc(work)));
    if let Some(l) = lock {
        b = b.conversation_lock(l);
    }
    b.build().unwrap()
}

/// Two engines (two replicas) over one Redis, optimistic concurrency only: 40 concurrent
/// turns on one conversation, no lost slot update.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_sharing_redis_lose_no_update() {
    let server = RedisServer::start();
    let mut engines = Vec::new();
    for _ in 0..2 {
        let store = RedisSessionStore::connect(&server.url(), "kefu-test").await.unwrap();
        engines.push(replica(Arc::new(store), None, Duration::from_secs(30), || Duration::ZERO));
    }
    let mut tasks = Vec::new();
    for i in 0..40 {
        let e = engines[i % 2].clone();
        tasks.push(tokio::spawn(async move { e.handle(kefu_core::Turn::new("shared", "add one")).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let s = engines[0].session("default", "shared").await.unwrap().unwrap();
    assert_eq!(s.slots["counter"], 40);
}

/// Two replicas, each with its own connection, store and Redis lock, hammer one conversation:
/// the lock admits one turn at a time across both, and no slot update is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_with_the_redis_lock_take_turns_and_lose_no_update() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static IN_TURN: AtomicUsize = AtomicUsize::new(0);
    static MAX_IN_TURN: AtomicUsize = AtomicUsize::new(0);
    let server = RedisServer::start();
    let mut engines = Vec::new();
    for _ in 0..2 {
        let store = RedisSessionStore::connect(&server.url(), "kefu-test").await.unwrap();
        let lock = Arc::new(store.conversation_lock());
        engines.push(replica(Arc::new(store), Some(lock), Duration::from_secs(30), || {
            let now = IN_TURN.fetch_add(1, Ordering::SeqCst) + 1;
            MAX_IN_TURN.fetch_max(now, Ordering::SeqCst);
            IN_TURN.fetch_sub(1, Ordering::SeqCst);
            Duration::from_millis(1)
        }));
    }
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for i in 0..60 {
        let e = engines[i % 2].clone();
        tasks.push(tokio::spawn(async move { e.handle(kefu_core::Turn::new("hammered", "add one")).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let s = engines[1].session("default", "hammered").await.unwrap().unwrap();
    assert_eq!(s.slots["counter"], 60, "every turn's increment survives");
    assert_eq!(s.turns, 60);
    assert_eq!(MAX_IN_TURN.load(Ordering::SeqCst), 1, "never two turns of one conversation at once");
    eprintln!("60 locked turns over 2 replicas: {:?}", started.elapsed());
}

/// A holder whose lease expired writes late: the fencing token rejects the write, whether or
/// not the next holder has saved yet; its release does not free the next holder's lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_holders_late_write_is_fenced() {
    use kefu_core::{ConversationLock, LockError};
    let server = RedisServer::start();
    let store = RedisSessionStore::connect(&server.url(), "kefu-test").await.unwrap();
    let lock_a = store.conversation_lock();
    let lock_b = RedisSessionStore::connect(&server.url(), "kefu-test")
        .await
        .unwrap()
        .conversation_lock()
        .max_wait(Duration::from_millis(300));
    let key = SessionKey::new("t", "fenced");
    let ttl = Duration::from_secs(600);

    let a = lock_a.acquire(&key, Duration::from_millis(100)).await.unwrap();
    assert!(store.load(&key).await.unwrap().is_none());
    tokio::time::sleep(Duration::from_millis(250)).await; // A stalls past its lease
    let b = lock_b.acquire(&key, Duration::from_secs(10)).await.unwrap();
    assert!(b.fencing_token > a.fencing_token, "tokens grow: {} then {}", a.fencing_token, b.fencing_token);

    let mut late = Session::new(key.clone(), "u", chrono::Utc::now());
    late.version = 1;
    late.turns = 99;
    match store.save_fenced(&late, 0, ttl, Some(a.fencing_token)).await {
        Err(StoreError::Fenced { token, current }) => assert_eq!((token, current), (a.fencing_token, b.fencing_token)),
        other => panic!("a late write before the new holder saved must be fenced, got {other:?}"),
    }
    let mut fresh = Session::new(key.clone(), "u", chrono::Utc::now());
    fresh.version = 1;
    fresh.turns = 1;
    store.save_fenced(&fresh, 0, ttl, Some(b.fencing_token)).await.unwrap();
    late.version = 2;
    assert!(
        matches!(store.save_fenced(&late, 1, ttl, Some(a.fencing_token)).await, Err(StoreError::Fenced { .. })),
        "a late write after the new holder saved is fenced even with the right version"
    );
    assert_eq!(store.load(&key).await.unwrap().unwrap().turns, 1, "the new holder's turn is kept");

    lock_a.release(a).await.unwrap(); // expired: must not free B's lease
    match lock_b.acquire(&key, Duration::from_secs(10)).await {
        Err(LockError::Timeout { .. }) => {}
        other => panic!("B still holds the lock, got {other:?}"),
    }
    assert!(lock_b.extend(&b, Duration::from_secs(10)).await.unwrap());
    lock_b.release(b).await.unwrap();
    let c = lock_b.acquire(&key, Duration::from_secs(10)).await.unwrap();

    // Tokens stay above the stored one even when the counter is lost (evicted, flushed).
    let mut conn = redis::Client::open(server.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let fence_key = "kefu-test:{t|fenced}:fence";
    let _: i64 = redis::cmd("DEL").arg(fence_key).query_async(&mut conn).await.unwrap();
    lock_b.release(c).await.unwrap();
    let d = lock_b.acquire(&key, Duration::from_secs(10)).await.unwrap();
    assert!(d.fencing_token > 1, "a lost counter restarts above the stored token");
    lock_b.release(d).await.unwrap();
}

/// Through the engine: replica 1's turn stalls past its lease, replica 2 takes the lock and
/// saves; replica 1's late save is fenced and its turn recomputed on the fresh state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_replicas_turn_is_fenced_and_recomputed() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let server = RedisServer::start();
    let mut engines = Vec::new();
    for _ in 0..2 {
        let store = RedisSessionStore::connect(&server.url(), "kefu-test").await.unwrap();
        let lock = Arc::new(store.conversation_lock());
        engines.push(replica(Arc::new(store), Some(lock), Duration::from_millis(150), || {
            // the very first turn stalls for 600 ms (a GC pause, a slow backend call)
            if CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
                Duration::from_millis(600)
            } else {
                Duration::ZERO
            }
        }));
    }
    let slow = engines[0].clone();
    let stalled = tokio::spawn(async move { slow.handle(kefu_core::Turn::new("stall", "add one")).await });
    tokio::time::sleep(Duration::from_millis(300)).await; // replica 1's lease has expired
    engines[1].handle(kefu_core::Turn::new("stall", "add one")).await.unwrap();
    stalled.await.unwrap().unwrap();
    let s = engines[0].session("default", "stall").await.unwrap().unwrap();
    assert_eq!(s.slots["counter"], 2, "both increments survive");
    assert_eq!(CALLS.load(Ordering::SeqCst), 3, "the fenced turn ran again");
}
