//! Kafka transport against a real Apache Kafka broker (KRaft, started per test; run with
//! `--features kafka` and `KEFU_KAFKA_CLASSPATH`, see `common/kafka.rs`).
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/kafka.rs"]
mod kafka_broker;

use kafka_broker::KafkaBroker;
use kefu_backends::transport::kafka::{
    ensure_topic, KafkaDelivery, KafkaEventConsumer, KafkaEventSink, KafkaSettings, MemoryProcessedIds, ProcessedIds,
    HEADER_DEAD_ATTEMPTS, HEADER_DEAD_REASON, HEADER_DEAD_SOURCE, HEADER_EVENT_ID,
};
use kefu_backends::transport::TransportError;
use kefu_core::event::{Event, EventEnvelope, EventSink};
use rskafka::client::partition::{Compression, UnknownTopicHandling};
use rskafka::client::ClientBuilder;
use rskafka::record::{Record, RecordAndOffset};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn envelope(conversation: &str, turn: u64, seq: usize) -> EventEnvelope {
    EventEnvelope {
        id: format!("t/{conversation}/{turn}/{seq}"),
        tenant: "t".into(),
        conversation_id: conversation.into(),
        user_id: "u".into(),
        channel: "web".into(),
        turn,
        timestamp: chrono::Utc::now(),
        event: Event::UserMessage { text: format!("消息 {turn}"), language: kefu_core::Language::Zh },
    }
}

/// A broker, settings for it, and `topic` created with `partitions`.
async fn setup(topic: &str, partitions: i32) -> (KafkaBroker, KafkaSettings) {
    let broker = KafkaBroker::start();
    let settings = KafkaSettings::new(&broker.bootstrap());
    let client = settings.client().await.unwrap();
    assert_eq!(ensure_topic(&settings, &client, topic, partitions).await.unwrap(), partitions);
    (broker, settings)
}

fn ids() -> Arc<dyn ProcessedIds> {
    Arc::new(MemoryProcessedIds::new(100_000))
}

/// Every record of every partition of `topic`, read with the raw client.
async fn read_topic(settings: &KafkaSettings, topic: &str) -> Vec<(i32, RecordAndOffset)> {
    let client = ClientBuilder::new(settings.brokers.clone()).build().await.unwrap();
    let partitions = client.list_topics().await.unwrap().into_iter().find(|t| t.name == topic).unwrap().partitions;
    let mut out = Vec::new();
    for p in partitions {
        let pc = client.partition_client(topic, p, UnknownTopicHandling::Retry).await.unwrap();
        let mut at = 0;
        loop {
            let (records, high_watermark) = pc.fetch_records(at, 1..1_000_000, 100).await.unwrap();
            if let Some(last) = records.last() {
                at = last.offset + 1;
            }
            out.extend(records.into_iter().map(|r| (p, r)));
            if at >= high_watermark {
                break;
            }
        }
    }
    out
}

/// Polls until `n` deliveries arrived (or 10 s passed), acknowledging and committing them.
async fn drain(consumer: &mut KafkaEventConsumer, n: usize) -> Vec<KafkaDelivery> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    while got.len() < n && Instant::now() < deadline {
        let batch = consumer.poll(1000, Duration::from_millis(200)).await.unwrap();
        for d in &batch {
            consumer.ack(d);
        }
        consumer.commit().await.unwrap();
        got.extend(batch);
    }
    got
}

#[tokio::test]
async fn publishes_consumes_in_order_and_commits() {
    let (_broker, settings) = setup("events", 1).await;
    let sink = KafkaEventSink::connect(&settings, "events").await.unwrap();
    let events: Vec<EventEnvelope> = (1..=10).map(|t| envelope("c", t, 0)).collect();
    sink.publish(&events[..5]).await.unwrap();
    sink.publish(&events[5..]).await.unwrap();
    sink.publish(&[]).await.unwrap();

    // The value is the event's JSON, the key its conversation, the id in a header.
    let raw = read_topic(&settings, "events").await;
    assert_eq!(raw.len(), 10);
    assert_eq!(raw[0].1.record.key.as_deref(), Some(&b"c"[..]));
    assert_eq!(raw[0].1.record.headers.get(HEADER_EVENT_ID).map(Vec::as_slice), Some(events[0].id.as_bytes()));
    let decoded: EventEnvelope = serde_json::from_slice(raw[0].1.record.value.as_deref().unwrap()).unwrap();
    assert_eq!(decoded, events[0]);

    let mut consumer = KafkaEventConsumer::connect(&settings, "events", "analytics", ids()).await.unwrap();
    let got = drain(&mut consumer, 10).await;
    assert_eq!(
        got.iter().map(|d| d.envelope.id.clone()).collect::<Vec<_>>(),
        events.iter().map(|e| e.id.clone()).collect::<Vec<_>>()
    );
    assert!(got.windows(2).all(|w| w[0].offset < w[1].offset));
    assert!(consumer.poll(100, Duration::from_millis(100)).await.unwrap().is_empty(), "nothing new");
    drop(consumer);

    // A restarted member resumes after the commit; another group starts from the beginning.
    let mut again = KafkaEventConsumer::connect(&settings, "events", "analytics", ids()).await.unwrap();
    assert!(again.poll(100, Duration::from_millis(200)).await.unwrap().is_empty(), "committed events stay done");
    let mut other = KafkaEventConsumer::connect(&settings, "events", "billing", ids()).await.unwrap();
    assert_eq!(drain(&mut other, 10).await.len(), 10);
}

#[tokio::test]
async fn one_conversation_stays_in_one_partition_in_order() {
    let (_broker, settings) = setup("events", 4).await;
    let sink = KafkaEventSink::connect(&settings, "events").await.unwrap();
    let conversations: Vec<String> = (0..12).map(|i| format!("conv-{i}")).collect();
    // Turns of all conversations interleaved, two events per turn, as concurrent chats produce.
    let mut published = 0;
    for turn in 1..=8 {
        for c in &conversations {
            sink.publish(&[envelope(c, turn, 0), envelope(c, turn, 1)]).await.unwrap();
            published += 2;
        }
    }
    let mut consumer = KafkaEventConsumer::connect(&settings, "events", "g", ids()).await.unwrap();
    assert_eq!(consumer.partitions(), [0, 1, 2, 3]);
    let got = drain(&mut consumer, published).await;
    assert_eq!(got.len(), published);
    let mut by_conversation: HashMap<String, Vec<&KafkaDelivery>> = HashMap::new();
    for d in &got {
        by_conversation.entry(d.envelope.conversation_id.clone()).or_default().push(d);
    }
    let mut used = HashSet::new();
    for (c, deliveries) in &by_conversation {
        let partition = sink.partition_of(c);
        used.insert(partition);
        assert!(deliveries.iter().all(|d| d.partition == partition), "{c} spread over partitions");
        let order: Vec<(u64, String)> = deliveries.iter().map(|d| (d.envelope.turn, d.envelope.id.clone())).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "{c} out of order");
    }
    assert!(used.len() > 1, "12 conversations should use several of 4 partitions: {used:?}");
}

/// A consumer handles half of the events and dies before committing: a restarted member gets
/// every uncommitted event again and, deduplicating by event id, handles each exactly once.
#[tokio::test]
async fn crash_before_commit_redelivers_and_each_event_is_processed_once() {
    let (_broker, settings) = setup("events", 2).await;
    let sink = KafkaEventSink::connect(&settings, "events").await.unwrap();
    let events: Vec<EventEnvelope> = (1..=20).map(|t| envelope(&format!("c{}", t % 3), t, 0)).collect();
    for e in &events {
        sink.publish(std::slice::from_ref(e)).await.unwrap();
    }
    let processed_ids = ids();
    let handled: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    // Counts each event it handles; with `crash`, the eleventh event never finishes.
    let handler = |crash: bool| {
        let handled = Arc::clone(&handled);
        move |e: EventEnvelope| {
            let handled = Arc::clone(&handled);
            async move {
                let hang = {
                    let mut h = handled.lock().unwrap();
                    let hang = crash && h.len() == 10;
                    if !hang {
                        *h.entry(e.id.clone()).or_default() += 1;
                    }
                    hang
                };
                if hang {
                    std::future::pending::<()>().await;
                }
                Ok::<(), String>(())
            }
        }
    };
    {
        let mut crashing =
            KafkaEventConsumer::connect(&settings, "events", "g", Arc::clone(&processed_ids)).await.unwrap();
        let run = crashing.process(100, Duration::from_millis(200), handler(true));
        assert!(tokio::time::timeout(Duration::from_secs(3), run).await.is_err(), "the handler hangs");
        // dropped here without a commit
    }
    assert_eq!(handled.lock().unwrap().len(), 10);

    let mut survivor = KafkaEventConsumer::connect(&settings, "events", "g", Arc::clone(&processed_ids)).await.unwrap();
    let mut total = kefu_backends::transport::kafka::ProcessReport::default();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut survivor_handler = handler(false);
    while total.handled + total.duplicates < 20 && Instant::now() < deadline {
        let r = survivor.process(100, Duration::from_millis(200), &mut survivor_handler).await.unwrap();
        total.handled += r.handled;
        total.duplicates += r.duplicates;
    }
    assert_eq!(total.duplicates, 10, "the events handled before the crash are delivered again and skipped");
    assert_eq!(total.handled, 10);
    let handled = handled.lock().unwrap().clone();
    assert_eq!(handled.len(), 20);
    assert!(handled.values().all(|n| *n == 1), "each event processed exactly once: {handled:?}");
    drop(survivor);
    let mut after = KafkaEventConsumer::connect(&settings, "events", "g", processed_ids).await.unwrap();
    assert!(after.poll(100, Duration::from_millis(200)).await.unwrap().is_empty(), "all committed");
}

#[tokio::test]
async fn poison_and_undecodable_records_go_to_the_dead_letter_topic() {
    let (_broker, settings) = setup("events", 1).await;
    let sink = KafkaEventSink::connect(&settings, "events").await.unwrap();
    let events: Vec<EventEnvelope> = (1..=5).map(|t| envelope("c", t, 0)).collect();
    sink.publish(&events[..2]).await.unwrap();
    // A record that is not an event, between valid ones.
    let raw = ClientBuilder::new(settings.brokers.clone()).build().await.unwrap();
    let pc = raw.partition_client("events", 0, UnknownTopicHandling::Retry).await.unwrap();
    let junk = Record {
        key: Some(b"c".to_vec()),
        value: Some(b"{not json".to_vec()),
        headers: BTreeMap::new(),
        timestamp: chrono::Utc::now(),
    };
    pc.produce(vec![junk], Compression::NoCompression).await.unwrap();
    sink.publish(&events[2..]).await.unwrap();

    let mut consumer = KafkaEventConsumer::connect(&settings, "events", "g", ids()).await.unwrap();
    consumer.max_attempts = 3;
    consumer.retry_backoff = Duration::from_millis(10);
    let attempts: Arc<Mutex<HashMap<u64, u32>>> = Arc::default();
    let order: Arc<Mutex<Vec<u64>>> = Arc::default();
    let handler = |e: EventEnvelope| {
        let (attempts, order) = (Arc::clone(&attempts), Arc::clone(&order));
        async move {
            *attempts.lock().unwrap().entry(e.turn).or_default() += 1;
            if e.turn == 3 {
                return Err(format!("cannot handle turn {}", e.turn));
            }
            order.lock().unwrap().push(e.turn);
            Ok(())
        }
    };
    let report = consumer.process(100, Duration::from_millis(200), handler).await.unwrap();
    assert_eq!((report.handled, report.dead_lettered, report.duplicates), (4, 1, 0));
    assert_eq!(attempts.lock().unwrap()[&3], 3, "retried up to max_attempts");
    assert_eq!(*order.lock().unwrap(), [1, 2, 4, 5], "the poison event does not block the others");

    let dead = read_topic(&settings, &consumer.dead_letter_topic()).await;
    assert_eq!(dead.len(), 2);
    let header = |r: &RecordAndOffset, h: &str| String::from_utf8(r.record.headers[h].clone()).unwrap();
    let (undecodable, poison) = (&dead[0].1, &dead[1].1);
    assert_eq!(undecodable.record.value.as_deref(), Some(&b"{not json"[..]));
    assert!(header(undecodable, HEADER_DEAD_REASON).starts_with("undecodable"));
    assert_eq!(header(undecodable, HEADER_DEAD_SOURCE), "events/0/2");
    assert_eq!(header(undecodable, HEADER_DEAD_ATTEMPTS), "0");
    let poisoned: EventEnvelope = serde_json::from_slice(poison.record.value.as_deref().unwrap()).unwrap();
    assert_eq!(poisoned, events[2]);
    assert!(
        header(poison, HEADER_DEAD_REASON).contains("cannot handle turn 3"),
        "{}",
        header(poison, HEADER_DEAD_REASON)
    );
    assert_eq!(header(poison, HEADER_DEAD_ATTEMPTS), "3");
    assert_eq!(poison.record.key.as_deref(), Some(&b"c"[..]));

    // Dead-lettered records are committed past: a restart does not see them again.
    drop(consumer);
    let mut again = KafkaEventConsumer::connect(&settings, "events", "g", ids()).await.unwrap();
    assert!(again.poll(100, Duration::from_millis(200)).await.unwrap().is_empty());
}

/// Static membership: two members of one group own disjoint partitions, so no event is handed
/// to both (each has its own dedup store here, so an overlap could not be hidden).
#[tokio::test]
async fn two_members_of_a_group_never_process_the_same_event() {
    let (_broker, settings) = setup("events", 4).await;
    let sink = KafkaEventSink::connect(&settings, "events").await.unwrap();
    let mut all = HashSet::new();
    for turn in 1..=5 {
        for c in 0..20 {
            let e = envelope(&format!("conv-{c}"), turn, 0);
            all.insert(e.id.clone());
            sink.publish(&[e]).await.unwrap();
        }
    }
    let mut a = KafkaEventConsumer::connect_member(&settings, "events", "g", 0, 2, ids()).await.unwrap();
    let mut b = KafkaEventConsumer::connect_member(&settings, "events", "g", 1, 2, ids()).await.unwrap();
    assert_eq!((a.partitions(), b.partitions()), (vec![0, 2], vec![1, 3]));
    let seen_a: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen_b: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = |seen: &Arc<Mutex<Vec<String>>>| {
        let seen = Arc::clone(seen);
        move |e: EventEnvelope| {
            let seen = Arc::clone(&seen);
            async move {
                seen.lock().unwrap().push(e.id);
                Ok::<(), String>(())
            }
        }
    };
    let (mut handler_a, mut handler_b) = (record(&seen_a), record(&seen_b));
    let deadline = Instant::now() + Duration::from_secs(15);
    while seen_a.lock().unwrap().len() + seen_b.lock().unwrap().len() < all.len() && Instant::now() < deadline {
        let (ra, rb) = tokio::join!(
            a.process(7, Duration::from_millis(100), &mut handler_a),
            b.process(7, Duration::from_millis(100), &mut handler_b)
        );
        ra.unwrap();
        rb.unwrap();
    }
    let (seen_a, seen_b) = (seen_a.lock().unwrap().clone(), seen_b.lock().unwrap().clone());
    let set_a: HashSet<String> = seen_a.iter().cloned().collect();
    let set_b: HashSet<String> = seen_b.iter().cloned().collect();
    assert_eq!(set_a.len(), seen_a.len(), "no event twice within a member");
    assert_eq!(set_b.len(), seen_b.len());
    assert!(set_a.is_disjoint(&set_b), "an event went to both members");
    assert_eq!(set_a.union(&set_b).cloned().collect::<HashSet<_>>(), all);
    assert!(!set_a.is_empty() && !set_b.is_empty(), "both members got work: {} / {}", set_a.len(), set_b.len());
    let dead = read_topic(&settings, &a.dead_letter_topic()).await;
    assert!(dead.is_empty());
}

#[tokio::test]
async fn a_dead_broker_fails_fast_with_a_typed_error() {
    let (mut broker, mut settings) = setup("events", 1).await;
    settings.timeout = Duration::from_secs(2);
    let sink = KafkaEventSink::connect(&settings, "events").await.unwrap();
    sink.publish(&[envelope("c", 1, 0)]).await.unwrap();
    broker.kill();
    let started = Instant::now();
    let err = sink.send(&[envelope("c", 2, 0)]).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(6), "bounded by the timeout: {:?}", started.elapsed());
    assert!(matches!(err, TransportError::Timeout { .. } | TransportError::Unavailable(_)), "{err}");
    let err = sink.publish(&[envelope("c", 2, 0)]).await.unwrap_err();
    assert!(err.to_string().contains("kafka"), "{err}");
    let missing = KafkaEventSink::connect(&settings, "events").await;
    assert!(missing.is_err());
}

#[tokio::test]
async fn missing_topics_and_bad_names_are_configuration_errors() {
    let (_broker, settings) = setup("events", 1).await;
    let err = KafkaEventSink::connect(&settings, "nope").await.err().unwrap();
    assert!(matches!(err, TransportError::Config(_)), "{err}");
    let err = KafkaEventConsumer::connect(&settings, "events", "bad group", ids()).await.err().unwrap();
    assert!(matches!(err, TransportError::Config(_)), "{err}");
    let err = KafkaEventConsumer::connect_member(&settings, "events", "g", 2, 2, ids()).await.err().unwrap();
    assert!(matches!(err, TransportError::Config(_)), "{err}");
}

#[tokio::test]
async fn engine_events_flow_through_kafka() {
    use kefu_core::nlu::{IntentClassifier, IntentScore, NluError};
    use kefu_core::{Engine, Language, Turn};
    struct Greet;
    #[async_trait::async_trait]
    impl IntentClassifier for Greet {
        async fn classify(&self, _t: &str, _l: Language, _k: usize) -> Result<Vec<IntentScore>, NluError> {
            Ok(vec![IntentScore { name: "greet".into(), confidence: 0.99 }])
        }
    }
    let (_broker, settings) = setup("kefu-events", 3).await;
    let yaml = "bot: {name: t, languages: [en]}\nintents:\n  greet:\n    examples: {en: [hi]}\n    response: hi\nresponses:\n  hi:\n    text: {en: Hello}\n";
    let bot =
        kefu_core::bot::load_bot_files(std::path::Path::new("."), &[("b.yaml".into(), yaml.to_string())]).unwrap();
    let sink = KafkaEventSink::connect(&settings, "kefu-events").await.unwrap();
    let engine = Engine::builder(bot).classifier(Arc::new(Greet)).event_sink(Arc::new(sink)).build().unwrap();
    engine.handle(Turn::new("c1", "hi")).await.unwrap();
    let mut consumer = KafkaEventConsumer::connect(&settings, "kefu-events", "g", ids()).await.unwrap();
    let got = drain(&mut consumer, 4).await;
    let kinds: Vec<String> = got
        .iter()
        .map(|d| serde_json::to_value(&d.envelope.event).unwrap()["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["user_message", "intent_recognized", "bot_message", "turn_completed"]);
}
