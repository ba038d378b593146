//! Data-subject export and erasure across memory, embedded, Redis and an S3 archive (moto),
//! and the archiver that moves idle conversations from the hot store to the archive.
//! Run with `--features embedded,redis,archive` (and KEFU_MOTO_SERVER, see scripts/test).
#![cfg(all(feature = "embedded", feature = "redis", feature = "archive"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/s3.rs"]
mod s3;

use chrono::{DateTime, TimeZone, Utc};
use kefu_backends::archive::{ArchiveConfig, Archiver, StoreConfig, TranscriptArchive};
use kefu_backends::gdpr::DataSubjectRequests;
use kefu_backends::store::embedded::EmbeddedSessionStore;
use kefu_backends::store::redis::RedisSessionStore;
use kefu_core::nlu::{IntentClassifier, IntentScore, NluError};
use kefu_core::{
    ConversationLock, Engine, Event, EventEnvelope, EventSink, Language, LocalConversationLock, MemorySessionStore,
    Session, SessionKey, SessionStore, Turn,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kefu-gdpr-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn events(tenant: &str, conv: &str, user: &str, turns: std::ops::RangeInclusive<u64>) -> Vec<EventEnvelope> {
    turns
        .map(|turn| EventEnvelope {
            id: format!("{tenant}/{conv}/{turn}/0"),
            tenant: tenant.into(),
            conversation_id: conv.into(),
            user_id: user.into(),
            channel: "web".into(),
            turn,
            timestamp: t0() + chrono::Duration::minutes(turn as i64),
            event: Event::UserMessage { text: format!("message {turn} from {user}"), language: Language::En },
        })
        .collect()
}

async fn save(store: &Arc<dyn SessionStore>, tenant: &str, conv: &str, user: &str) -> Session {
    let mut s = Session::new(SessionKey::new(tenant, conv), user, Utc::now());
    s.slots.insert("email".into(), serde_json::json!(format!("{user}@example.com")));
    s.version = 1;
    store.save(&s, 0, Duration::from_secs(600)).await.unwrap();
    s
}

/// Export gathers a user's sessions from every store and their archived transcripts; erasure
/// then leaves nothing of the user in memory, embedded, Redis, the S3 archive or the archiver,
/// and leaves other users and other tenants alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_and_erasure_reach_every_backend() {
    let redis_server = common::RedisServer::start();
    let moto = s3::MotoServer::start();
    moto.create_bucket("kefu-gdpr");
    let dir = temp_dir("stores");
    let memory = Arc::new(MemorySessionStore::new());
    let stores: Vec<(&str, Arc<dyn SessionStore>)> = vec![
        ("memory", memory.clone()),
        ("embedded", Arc::new(EmbeddedSessionStore::open(&dir.join("sessions.redb")).unwrap())),
        ("redis", Arc::new(RedisSessionStore::connect(&redis_server.url(), "kefu").await.unwrap())),
    ];
    for (_, store) in &stores {
        save(store, "shop", "a1", "alice").await;
        save(store, "shop", "a2", "alice").await;
        save(store, "shop", "b1", "bob").await;
        save(store, "other", "a1", "alice").await;
    }
    let config = ArchiveConfig {
        store: StoreConfig::S3 {
            endpoint: Some(moto.endpoint()),
            bucket: "kefu-gdpr".into(),
            region: "us-east-1".into(),
            access_key_id: Some("testing".into()),
            secret_access_key_env: Some("S3_SECRET".into()),
            allow_http: true,
            max_retries: 1,
        },
        redact: true,
        encryption_key_env: None,
    };
    let archive =
        Arc::new(TranscriptArchive::open_with_env(&config, |k| (k == "S3_SECRET").then(|| "testing".into())).unwrap());
    archive.archive(&events("shop", "a1", "alice", 1..=2)).await.unwrap();
    archive.archive(&events("shop", "a2", "alice", 1..=1)).await.unwrap();
    archive.archive(&events("shop", "b1", "bob", 1..=3)).await.unwrap();
    archive.archive(&events("other", "a1", "alice", 1..=1)).await.unwrap();
    let archiver = Arc::new(Archiver::new(
        archive.clone(),
        memory.clone(),
        Arc::new(LocalConversationLock::new()),
        Duration::from_secs(300),
    ));
    archiver.publish(&events("shop", "a3", "alice", 1..=1)).await.unwrap();
    archiver.publish(&events("shop", "b2", "bob", 1..=1)).await.unwrap();

    let mut requests = DataSubjectRequests::new();
    for (name, store) in &stores {
        requests = requests.session_store(*name, store.clone());
    }
    let requests = requests.archive(archive.clone()).archiver(archiver.clone());

    let export = requests.export_user("shop", "alice").await.unwrap();
    for s in &export.sessions {
        let convs: Vec<&str> = s.sessions.iter().map(|x| x.key.conversation_id.as_str()).collect();
        assert_eq!(convs, ["a1", "a2"], "store {}", s.store);
    }
    let keys: Vec<&str> = export.archive.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(keys, ["tenant=shop/date=2026-11-26/a1-1-2.jsonl.gz", "tenant=shop/date=2026-11-26/a2-1-1.jsonl.gz"]);
    assert_eq!(export.pending_events.len(), 1);
    let json = serde_json::to_value(&export).unwrap();
    assert_eq!(json["user_id"], "alice");
    assert_eq!(json["sessions"][2]["sessions"][0]["slots"]["email"], "alice@example.com");
    assert!(json["analytics"].as_str().unwrap().contains("no personal data"));

    let report = requests.delete_user("shop", "alice").await.unwrap();
    assert_eq!(
        report.sessions_deleted,
        [("memory".to_string(), 2), ("embedded".to_string(), 2), ("redis".to_string(), 2)]
    );
    assert_eq!((report.archive_objects_deleted, report.pending_conversations_dropped), (2, 1));

    // Nothing of alice in tenant `shop` remains anywhere.
    for (name, store) in &stores {
        assert!(store.sessions_of_user("shop", "alice").await.unwrap().is_empty(), "{name}");
        for conv in ["a1", "a2"] {
            assert!(store.load(&SessionKey::new("shop", conv)).await.unwrap().is_none(), "{name} {conv}");
        }
        assert_eq!(store.sessions_of_user("shop", "bob").await.unwrap().len(), 1, "{name}: bob is kept");
        assert_eq!(store.sessions_of_user("other", "alice").await.unwrap().len(), 1, "{name}: other tenant kept");
    }
    assert_eq!(memory.len(), 2, "memory holds bob's and the other tenant's session only");
    let mut conn = redis::Client::open(redis_server.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query_async(&mut conn).await.unwrap();
    let mut keys = keys;
    keys.sort();
    assert_eq!(
        keys,
        [
            "kefu:{other|a1}:session",
            "kefu:{shop|b1}:session",
            "kefu:{u|other|alice}:sessions",
            "kefu:{u|shop|bob}:sessions"
        ],
        "Redis keeps no key of alice in shop"
    );
    let bob_members: Vec<String> =
        redis::cmd("SMEMBERS").arg("kefu:{u|shop|bob}:sessions").query_async(&mut conn).await.unwrap();
    assert_eq!(bob_members, ["b1"]);
    let left = archive.list("shop", ..).await.unwrap();
    assert_eq!(left.iter().map(|o| o.key.conversation_id.as_str()).collect::<Vec<_>>(), ["b1"]);
    use futures_util::StreamExt;
    let raw: Vec<String> = archive.store().list(None).map(|m| m.unwrap().location.to_string()).collect().await;
    assert!(raw.iter().all(|p| !p.contains("shop/date=2026-11-26/a")), "no object of alice in S3: {raw:?}");
    assert_eq!(archive.list("other", ..).await.unwrap().len(), 1, "the other tenant's archive is kept");
    assert!(archiver.buffered_events_of_user("shop", "alice").is_empty());
    assert_eq!(archiver.buffered(), 1, "bob's pending conversation is kept");
    let again = requests.export_user("shop", "alice").await.unwrap();
    assert!(again.sessions.iter().all(|s| s.sessions.is_empty()) && again.archive.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

struct Greet;
#[async_trait::async_trait]
impl IntentClassifier for Greet {
    async fn classify(&self, _t: &str, _l: Language, _k: usize) -> Result<Vec<IntentScore>, NluError> {
        Ok(vec![IntentScore { name: "greet".into(), confidence: 0.99 }])
    }
}

fn engine(store: Arc<dyn SessionStore>, lock: Arc<dyn ConversationLock>, sink: Option<Arc<dyn EventSink>>) -> Engine {
    let yaml = "bot: {name: t, languages: [en]}\npolicy: {session_idle_timeout_secs: 86400}\nintents:\n  greet:\n    examples: {en: [hi]}\n    response: hi\nresponses:\n  hi:\n    text: {en: Hello}\n";
    let bot =
        kefu_core::bot::load_bot_files(std::path::Path::new("."), &[("b.yaml".into(), yaml.to_string())]).unwrap();
    let mut b = Engine::builder(bot).classifier(Arc::new(Greet)).session_store(store).conversation_lock(lock);
    if let Some(s) = sink {
        b = b.event_sink(s);
    }
    b.build().unwrap()
}

async fn say(e: &Engine, conv: &str, at: DateTime<Utc>) {
    e.handle(Turn::new(conv, "hi").at(at)).await.unwrap();
}

/// The engine's events feed the archiver; sweeps move conversations idle in the store to the
/// archive and delete their sessions, leave conversations another replica moved on, and keep
/// everything when the archive cannot be written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archiver_moves_idle_conversations_from_the_store_to_the_archive() {
    let dir = temp_dir("archiver");
    let archive = Arc::new(
        TranscriptArchive::open(&ArchiveConfig {
            store: StoreConfig::Local { path: dir.clone() },
            redact: false,
            encryption_key_env: None,
        })
        .unwrap(),
    );
    let store = Arc::new(MemorySessionStore::new());
    let lock: Arc<dyn ConversationLock> = Arc::new(LocalConversationLock::new());
    let archiver = Arc::new(Archiver::new(archive.clone(), store.clone(), lock.clone(), Duration::from_secs(300)));
    let replica1 = engine(store.clone(), lock.clone(), Some(archiver.clone()));
    let replica2 = engine(store.clone(), lock.clone(), None); // another replica: its events go elsewhere
    let min = |m: i64| t0() + chrono::Duration::minutes(m);

    say(&replica1, "c1", min(0)).await;
    say(&replica1, "c1", min(1)).await;
    say(&replica1, "c3", min(0)).await;
    say(&replica2, "c3", min(9)).await;
    say(&replica1, "c2", min(20)).await;

    let r = archiver.sweep(min(10)).await;
    assert_eq!(
        r.archived.iter().map(|k| k.path()).collect::<Vec<_>>(),
        ["tenant=default/date=2026-11-26/c1-1-2.jsonl.gz"]
    );
    assert_eq!((r.sessions_removed, r.still_active, r.failed.len()), (1, 1, 0), "c3 is active on replica 2");
    assert!(store.load(&SessionKey::new("default", "c1")).await.unwrap().is_none(), "c1 left the hot store");
    assert!(store.load(&SessionKey::new("default", "c2")).await.unwrap().is_some());
    let back = archive.read(&r.archived[0]).await.unwrap();
    assert_eq!(back.events.iter().filter(|e| matches!(e.event, Event::UserMessage { .. })).count(), 2);
    assert_eq!(back.events.last().map(|e| e.turn), Some(2));

    let r = archiver.sweep(min(40)).await;
    let mut convs: Vec<&str> = r.archived.iter().map(|k| k.conversation_id.as_str()).collect();
    convs.sort();
    assert_eq!((convs, r.sessions_removed), (vec!["c2", "c3"], 2));
    assert!(store.is_empty() && archiver.buffered() == 0);

    // A conversation the channel closes is archived at once.
    say(&replica1, "c4", min(50)).await;
    let k = archiver.finish(&SessionKey::new("default", "c4")).await.unwrap().unwrap();
    assert_eq!(k.conversation_id, "c4");
    assert!(store.is_empty());
    assert!(archiver.finish(&SessionKey::new("default", "c4")).await.unwrap().is_none());

    // An unreachable archive: nothing is lost, the next sweep retries.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let down = Arc::new(
        TranscriptArchive::open_with_env(
            &ArchiveConfig {
                store: StoreConfig::S3 {
                    endpoint: Some(format!("http://127.0.0.1:{port}")),
                    bucket: "b".into(),
                    region: "us-east-1".into(),
                    access_key_id: Some("x".into()),
                    secret_access_key_env: Some("S".into()),
                    allow_http: true,
                    max_retries: 0,
                },
                redact: true,
                encryption_key_env: None,
            },
            |_| Some("x".into()),
        )
        .unwrap(),
    );
    let failing = Arc::new(Archiver::new(down, store.clone(), lock.clone(), Duration::from_secs(300)));
    let replica3 = engine(store.clone(), lock.clone(), Some(failing.clone()));
    say(&replica3, "c5", min(60)).await;
    let r = failing.sweep(min(90)).await;
    assert_eq!((r.archived.len(), r.failed.len()), (0, 1));
    assert_eq!(failing.buffered(), 1, "the events are kept");
    assert!(store.load(&SessionKey::new("default", "c5")).await.unwrap().is_some(), "the session is kept");
    let _ = std::fs::remove_dir_all(&dir);
}
