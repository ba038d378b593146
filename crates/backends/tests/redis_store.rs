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

/// Two engines (two replicas) over one Redis: 40 concurrent turns on one conversation,
/// no lost slot update.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_sharing_redis_lose_no_update() {
    use kefu_core::nlu::{IntentClassifier, IntentScore, NluError};
    use kefu_core::{ActionCall, ActionOutcome, Engine, FnAction, Language, Turn};
    struct Always;
    #[async_trait::async_trait]
    impl IntentClassifier for Always {
        async fn classify(&self, _t: &str, _l: Language, _k: usize) -> Result<Vec<IntentScore>, NluError> {
            Ok(vec![IntentScore { name: "count".into(), confidence: 0.99 }])
        }
    }
    let server = RedisServer::start();
    let bot_yaml = "bot: {name: t, languages: [en]}\nintents:\n  count:\n    examples: {en: [add one]}\n    action: increment\nslots:\n  counter: {type: number}\nactions:\n  increment: {code: true}\n";
    let bot = kefu_core::bot::load_bot_files(std::path::Path::new("."), &[("bot.yaml".into(), bot_yaml.to_string())])
        .unwrap();
    let mut engines = Vec::new();
    for _ in 0..2 {
        let store = RedisSessionStore::connect(&server.url(), "kefu-test").await.unwrap();
        let inc = FnAction::new(|call: &ActionCall| {
            let n = call.slots.get("counter").and_then(|v| v.as_i64()).unwrap_or(0);
            let mut out = ActionOutcome::default();
            out.slots.insert("counter".into(), (n + 1).into());
            Ok(out)
        });
        engines.push(
            Engine::builder(bot.clone())
                .classifier(Arc::new(Always))
                .session_store(Arc::new(store))
                .action("increment", Arc::new(inc))
                .build()
                .unwrap(),
        );
    }
    let mut tasks = Vec::new();
    for i in 0..40 {
        let e = engines[i % 2].clone();
        tasks.push(tokio::spawn(async move { e.handle(Turn::new("shared", "add one")).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let s = engines[0].session("default", "shared").await.unwrap().unwrap();
    assert_eq!(s.slots["counter"], 40);
}
