//! Two replicas of the real binary over one real `redis-server` (started by the test on a free
//! port): a conversation moves between them, a retried POST with the same idempotency key runs
//! once whichever replica gets it, and events reach the Redis stream (`--events redis://…`) and
//! a JSON Lines file (`--events jsonl:PATH`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

#[path = "../../../crates/backends/tests/common/mod.rs"]
mod redis_server;

use redis_server::RedisServer;
use serde_json::{json, Value};
use support::ServerProcess;

async fn post(c: &reqwest::Client, s: &ServerProcess, conv: &str, body: Value, key: Option<&str>) -> Value {
    let mut r = c.post(s.url(&format!("/v1/conversations/{conv}/messages"))).json(&body);
    if let Some(k) = key {
        r = r.header("idempotency-key", k);
    }
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn xlen(redis: &RedisServer, stream: &str) -> u64 {
    let out = std::process::Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &redis.port.to_string(), "XLEN", stream])
        .output()
        .expect("redis-cli comes with redis-server");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or_else(|_| panic!("{out:?}"))
}

#[tokio::test]
async fn replicas_share_conversations_idempotency_and_the_event_stream() {
    let redis = RedisServer::start();
    let url = redis.url();
    let args = ["--demo", "--store", url.as_str(), "--events", url.as_str()];
    let a = ServerProcess::start(&args, &[]).await;
    let b = ServerProcess::start(&args, &[]).await;
    let c = reqwest::Client::new();

    // The form starts on A and goes on on B.
    let r = post(&c, &a, "moving", json!({"text": "我要退货"}), None).await;
    assert_eq!(r["flow"], "returns", "{r}");
    let r = post(&c, &b, "moving", json!({"text": "SO123456"}), None).await;
    assert_eq!(r["slots"]["order_id"], "SO123456", "{r}");

    // A retry on the other replica gets the first reply and runs nothing.
    let first = post(&c, &a, "retried", json!({"text": "I want to return my shoes"}), Some("k-1")).await;
    let again = post(&c, &b, "retried", json!({"text": "I want to return my shoes"}), Some("k-1")).await;
    assert_eq!(again["replayed"], true, "{again}");
    assert_eq!(again["messages"], first["messages"]);
    let state: Value = c.get(b.url("/v1/conversations/retried")).send().await.unwrap().json().await.unwrap();
    assert_eq!(state["turns"], 1, "{state}");

    // Every turn's events are in the stream: at least a user message and a bot message each.
    assert!(xlen(&redis, kefu_server::EVENTS_STREAM) >= 6, "events in {}", kefu_server::EVENTS_STREAM);
}

#[tokio::test]
async fn events_can_go_to_a_json_lines_file() {
    let path = std::env::temp_dir().join(format!("kefu-events-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let spec = format!("jsonl:{}", path.display());
    let s = ServerProcess::start(&["--demo", "--events", &spec], &[]).await;
    post(&reqwest::Client::new(), &s, "logged", json!({"text": "hello"}), None).await;
    let text = std::fs::read_to_string(&path).unwrap();
    let events: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(events.iter().all(|e| e["conversation_id"] == "logged"), "{text}");
    assert!(events.iter().any(|e| e["type"] == "user_message"), "{text}");
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn an_unknown_event_transport_stops_the_server_with_a_clear_error() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kefu-server"))
        .args(["--demo", "--port", "0", "--events", "carrier-pigeon://coop"])
        .env("KEFU_LOG", "off")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("events `carrier-pigeon://coop`") && err.contains("jsonl:PATH"), "{err}");
}
