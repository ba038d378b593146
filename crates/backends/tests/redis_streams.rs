//! Redis Streams transport against a real redis-server (run with `--features redis`).
#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::RedisServer;
use kefu_backends::transport::redis_streams::{RedisStreamConsumer, RedisStreamSink};
use kefu_core::event::{Event, EventEnvelope, EventSink};
use std::collections::HashMap;
use std::time::Duration;

fn envelope(turn: u64, seq: usize) -> EventEnvelope {
    EventEnvelope {
        id: format!("t/c/{turn}/{seq}"),
        tenant: "t".into(),
        conversation_id: "c".into(),
        user_id: "u".into(),
        channel: "web".into(),
        turn,
        timestamp: chrono::Utc::now(),
        event: Event::UserMessage { text: format!("消息 {turn}"), language: kefu_core::Language::Zh },
    }
}

async fn xlen(url: &str, stream: &str) -> i64 {
    let client = redis::Client::open(url).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("XLEN").arg(stream).query_async(&mut c).await.unwrap()
}

#[tokio::test]
async fn delivers_in_order_and_acknowledges() {
    let server = RedisServer::start();
    let sink = RedisStreamSink::connect(&server.url(), "events", 10_000).await.unwrap();
    let events: Vec<EventEnvelope> = (1..=10).map(|t| envelope(t, 0)).collect();
    sink.publish(&events[..5]).await.unwrap();
    sink.publish(&events[5..]).await.unwrap();
    let consumer = RedisStreamConsumer::connect(&server.url(), "events", "analytics", "a").await.unwrap();
    let got = consumer.poll(100, Duration::from_millis(100)).await.unwrap();
    assert_eq!(
        got.iter().map(|d| d.envelope.id.clone()).collect::<Vec<_>>(),
        events.iter().map(|e| e.id.clone()).collect::<Vec<_>>()
    );
    assert!(got.iter().all(|d| d.deliveries == 1));
    for d in &got {
        consumer.ack(d).await.unwrap();
    }
    assert!(consumer.poll(100, Duration::from_millis(50)).await.unwrap().is_empty(), "nothing left after acks");
}

/// A consumer processes half of its messages and crashes before acknowledging any: another
/// member of the group reclaims all of them; with deduplication by event id every event is
/// processed exactly once.
#[tokio::test]
async fn crash_before_ack_redelivers_and_each_event_is_processed_once() {
    let server = RedisServer::start();
    let sink = RedisStreamSink::connect(&server.url(), "events", 10_000).await.unwrap();
    let events: Vec<EventEnvelope> = (1..=20).map(|t| envelope(t, 0)).collect();
    sink.publish(&events).await.unwrap();
    let mut processed: HashMap<String, u32> = HashMap::new();
    let remember = Duration::from_secs(3600);
    {
        let crashing = RedisStreamConsumer::connect(&server.url(), "events", "g", "crashing").await.unwrap();
        let got = crashing.poll(100, Duration::from_millis(100)).await.unwrap();
        assert_eq!(got.len(), 20);
        for d in got.iter().take(10) {
            if crashing.first_time(&d.envelope.id, remember).await.unwrap() {
                *processed.entry(d.envelope.id.clone()).or_default() += 1;
            }
        }
        // dropped here without a single ack: the crash
    }
    let mut survivor = RedisStreamConsumer::connect(&server.url(), "events", "g", "survivor").await.unwrap();
    survivor.claim_idle = Duration::from_millis(100);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let got = survivor.poll(100, Duration::from_millis(100)).await.unwrap();
    assert_eq!(got.len(), 20, "every unacknowledged message is redelivered");
    assert!(got.iter().all(|d| d.deliveries == 2));
    for d in &got {
        if survivor.first_time(&d.envelope.id, remember).await.unwrap() {
            *processed.entry(d.envelope.id.clone()).or_default() += 1;
        }
        survivor.ack(d).await.unwrap();
    }
    assert_eq!(processed.len(), 20);
    assert!(processed.values().all(|n| *n == 1), "each event processed exactly once: {processed:?}");
    assert!(survivor.poll(100, Duration::from_millis(50)).await.unwrap().is_empty());
}

#[tokio::test]
async fn poison_and_undecodable_messages_go_to_the_dead_letter_stream() {
    let server = RedisServer::start();
    let sink = RedisStreamSink::connect(&server.url(), "events", 10_000).await.unwrap();
    sink.publish(&[envelope(1, 0)]).await.unwrap();
    let client = redis::Client::open(server.url()).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let _: String =
        redis::cmd("XADD").arg("events").arg("*").arg("event").arg("{not json").query_async(&mut c).await.unwrap();
    let mut consumer = RedisStreamConsumer::connect(&server.url(), "events", "g", "c").await.unwrap();
    consumer.claim_idle = Duration::from_millis(0);
    consumer.max_deliveries = 2;
    let first = consumer.poll(10, Duration::from_millis(50)).await.unwrap();
    assert_eq!(first.len(), 1, "the undecodable message is not handed out");
    assert_eq!(xlen(&server.url(), "events:dead").await, 1);
    // never acknowledged: delivered again, then dead-lettered after max_deliveries
    let second = consumer.poll(10, Duration::from_millis(50)).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].deliveries, 2);
    let third = consumer.poll(10, Duration::from_millis(50)).await.unwrap();
    assert!(third.is_empty());
    assert_eq!(xlen(&server.url(), "events:dead").await, 2);
}

#[tokio::test]
async fn engine_events_flow_through_the_stream() {
    use kefu_core::nlu::{IntentClassifier, IntentScore, NluError};
    use kefu_core::{Engine, Language, Turn};
    use std::sync::Arc;
    struct Greet;
    #[async_trait::async_trait]
    impl IntentClassifier for Greet {
        async fn classify(&self, _t: &str, _l: Language, _k: usize) -> Result<Vec<IntentScore>, NluError> {
            Ok(vec![IntentScore { name: "greet".into(), confidence: 0.99 }])
        }
    }
    let server = RedisServer::start();
    let yaml = "bot: {name: t, languages: [en]}\nintents:\n  greet:\n    examples: {en: [hi]}\n    response: hi\nresponses:\n  hi:\n    text: {en: Hello}\n";
    let bot =
        kefu_core::bot::load_bot_files(std::path::Path::new("."), &[("b.yaml".into(), yaml.to_string())]).unwrap();
    let sink = RedisStreamSink::connect(&server.url(), "kefu-events", 1000).await.unwrap();
    let engine = Engine::builder(bot).classifier(Arc::new(Greet)).event_sink(Arc::new(sink)).build().unwrap();
    engine.handle(Turn::new("c1", "hi")).await.unwrap();
    let consumer = RedisStreamConsumer::connect(&server.url(), "kefu-events", "g", "c").await.unwrap();
    let got = consumer.poll(100, Duration::from_millis(100)).await.unwrap();
    let kinds: Vec<String> = got
        .iter()
        .map(|d| serde_json::to_value(&d.envelope.event).unwrap()["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["user_message", "intent_recognized", "bot_message", "turn_completed"]);
}
