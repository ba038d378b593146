//! End-to-end engine throughput with each session store, and events/s through Redis Streams
//! (and Kafka, with the `kafka` feature).
//!
//! `cargo run --release -p kefu-backends --features embedded,redis --example backend_bench [-- --secs 10 --concurrency 8]`
//! Starts its own redis-server (127.0.0.1, free port, AOF with fsync every second) and stops it.
//! With `--features embedded,redis,kafka` and `KEFU_KAFKA_CLASSPATH` (see scripts/test) it also
//! starts a Kafka broker (KRaft, the tests' harness) and measures the Kafka transport.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[cfg(feature = "kafka")]
#[path = "../tests/common/kafka.rs"]
mod kafka_broker;

use kefu::{Engine, Turn};
use kefu_backends::store::embedded::EmbeddedSessionStore;
use kefu_backends::store::redis::RedisSessionStore;
use kefu_backends::transport::redis_streams::{RedisStreamConsumer, RedisStreamSink};
use kefu_core::event::{Event, EventEnvelope, EventSink};
use kefu_core::{MemorySessionStore, SessionStore};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SCRIPT: [&str; 5] = ["你好", "我要退货", "SO123456", "尺码不合适", "是的"];

struct Redis(std::process::Child, u16, std::path::PathBuf);
impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.2);
    }
}

fn start_redis() -> Redis {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = std::env::temp_dir().join(format!("kefu-bench-redis-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    let child = std::process::Command::new("redis-server")
        .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "yes"])
        .args(["--appendfsync", "everysec", "--daemonize", "no"])
        .arg("--dir")
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server");
    for _ in 0..500 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Redis(child, port, dir)
}

async fn run(engine: Engine, secs: u64, concurrency: usize) -> (f64, f64, f64, usize) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let conv = format!("w{worker}-{n}");
                for text in SCRIPT {
                    let t0 = Instant::now();
                    engine.handle(Turn::new(conv.clone(), text)).await.unwrap();
                    lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                }
                n += 1;
            }
            lat
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| all[((all.len() - 1) as f64 * p) as usize];
    (all.len() as f64 / elapsed, pct(0.5), pct(0.99), all.len())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let secs = arg("--secs", 10);
    let concurrency = arg("--concurrency", 8) as usize;
    let bot_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/bots/shop");
    let redis = start_redis();
    let url = format!("redis://127.0.0.1:{}/0", redis.1);
    let db = std::env::temp_dir().join(format!("kefu-bench-{}.redb", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let stores: Vec<(&str, Arc<dyn SessionStore>)> = vec![
        ("memory", Arc::new(MemorySessionStore::new())),
        ("embedded (redb)", Arc::new(EmbeddedSessionStore::open(&db).unwrap())),
        ("redis", Arc::new(RedisSessionStore::connect(&url, "bench").await.unwrap())),
    ];
    println!(
        "engine, lexical NLU, demo bot, {concurrency} concurrent conversations, {secs} s each, 5-turn returns flow"
    );
    println!("| store | turns/s | p50 ms | p99 ms | turns |");
    println!("|---|---|---|---|---|");
    for (name, store) in stores {
        let engine = kefu::Assistant::builder(&bot_dir).no_model_cache().session_store(store).build().unwrap();
        let (tps, p50, p99, n) = run(engine, secs, concurrency).await;
        println!("| {name} | {tps:.0} | {p50:.3} | {p99:.3} | {n} |");
    }
    let _ = std::fs::remove_file(&db);

    // Events through Redis Streams: 10 events per publish (one turn), then consumed and acked.
    let sink = RedisStreamSink::connect(&url, "bench-events", 10_000_000).await.unwrap();
    let turns = 5_000u64;
    let batch: Vec<Vec<EventEnvelope>> = (0..turns)
        .map(|t| {
            (0..10)
                .map(|s| EventEnvelope {
                    id: format!("t/c/{t}/{s}"),
                    tenant: "t".into(),
                    conversation_id: format!("c{}", t % 100),
                    user_id: "u".into(),
                    channel: "web".into(),
                    turn: t,
                    timestamp: chrono::Utc::now(),
                    event: Event::Fallback { consecutive: 1 },
                })
                .collect()
        })
        .collect();
    let t0 = Instant::now();
    for b in &batch {
        sink.publish(b).await.unwrap();
    }
    let publish = (turns * 10) as f64 / t0.elapsed().as_secs_f64();
    let consumer = RedisStreamConsumer::connect(&url, "bench-events", "g", "c").await.unwrap();
    let t0 = Instant::now();
    let mut consumed = 0u64;
    while consumed < turns * 10 {
        let got = consumer.poll(500, Duration::from_millis(100)).await.unwrap();
        for d in &got {
            consumer.ack(d).await.unwrap();
        }
        consumed += got.len() as u64;
    }
    let consume = consumed as f64 / t0.elapsed().as_secs_f64();
    println!();
    println!("| Redis Streams | events/s |");
    println!("|---|---|");
    println!("| publish (one pipeline of 10 events per turn) | {publish:.0} |");
    println!("| consume + ack (poll 500, one XACK per event) | {consume:.0} |");

    #[cfg(feature = "kafka")]
    kafka_events(&batch).await;
}

/// The same 50,000 events through Kafka: one produce per turn, then `process` (poll up to 500,
/// deduplicate by id in memory, no-op handler, one offset commit per batch).
#[cfg(feature = "kafka")]
async fn kafka_events(batch: &[Vec<EventEnvelope>]) {
    use kefu_backends::transport::kafka::{
        ensure_topic, KafkaEventConsumer, KafkaEventSink, KafkaSettings, MemoryProcessedIds,
    };
    let broker = kafka_broker::KafkaBroker::start();
    let settings = KafkaSettings::new(&broker.bootstrap());
    let client = settings.client().await.unwrap();
    ensure_topic(&settings, &client, "bench-events", 4).await.unwrap();
    let sink = KafkaEventSink::connect(&settings, "bench-events").await.unwrap();
    let total: usize = batch.iter().map(Vec::len).sum();
    let t0 = Instant::now();
    for b in batch {
        sink.publish(b).await.unwrap();
    }
    let publish = total as f64 / t0.elapsed().as_secs_f64();
    let ids = Arc::new(MemoryProcessedIds::new(total));
    let mut consumer = KafkaEventConsumer::connect(&settings, "bench-events", "g", ids).await.unwrap();
    let t0 = Instant::now();
    let mut consumed = 0;
    while consumed < total {
        let report =
            consumer.process(500, Duration::from_millis(100), |_e| async { Ok::<(), String>(()) }).await.unwrap();
        consumed += report.handled + report.duplicates;
    }
    let consume = consumed as f64 / t0.elapsed().as_secs_f64();
    println!();
    println!("| Kafka (one broker, 4 partitions) | events/s |");
    println!("|---|---|");
    println!("| publish (one produce of 10 events per turn, acks=all) | {publish:.0} |");
    println!("| consume (process: poll 500, dedup by id, commit per batch) | {consume:.0} |");
    drop(broker);
}
