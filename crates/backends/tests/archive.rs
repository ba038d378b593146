//! Transcript archive: local folder for everything, plus a real S3-compatible server (moto).
#![cfg(feature = "archive")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/s3.rs"]
mod s3;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use kefu_backends::archive::{ArchiveConfig, ArchiveError, ArchiveKey, StoreConfig, TranscriptArchive};
use kefu_core::{Event, EventEnvelope, Language};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// base64 of the bytes 0..32.
const KEY_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// base64 of 32 bytes 0xff.
const KEY_B: &str = "//////////////////////////////////////////8=";
/// A valid ID number (check character X).
const ID: &str = "11010519491231002X";

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "kefu-archive-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |k| map.get(k).cloned()
}

fn ts(day: u32, hour: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, min, 0).unwrap()
}

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
}

/// A conversation: per turn a user message, a slot set and a bot message.
fn conversation(
    tenant: &str,
    conv: &str,
    user: &str,
    day: u32,
    turns: std::ops::RangeInclusive<u64>,
) -> Vec<EventEnvelope> {
    let mut out = Vec::new();
    for turn in turns {
        let t = ts(day, 10, turn as u32);
        let texts = [
            Event::UserMessage {
                text: format!("我的手机是13800138000，地址上海市浦东新区张江路123号3栋502室，身份证{ID}，订单SO123456"),
                language: Language::Zh,
            },
            Event::SlotSet {
                slot: "phone".into(),
                value: serde_json::json!({"value": "+86 138 0013 8000"}),
                previous: None,
            },
            Event::BotMessage { text: "Card 4111 1111 1111 1111 noted; mail li@example.com".into(), buttons: vec![] },
        ];
        for (seq, event) in texts.into_iter().enumerate() {
            out.push(EventEnvelope {
                id: format!("{tenant}/{conv}/{turn}/{seq}"),
                tenant: tenant.into(),
                conversation_id: conv.into(),
                user_id: user.into(),
                channel: "web".into(),
                turn,
                timestamp: t,
                event,
            });
        }
    }
    out
}

fn local(dir: &Path, redact: bool) -> TranscriptArchive {
    let mut c = ArchiveConfig::local(dir);
    c.redact = redact;
    TranscriptArchive::open_with_env(&c, env(&[])).unwrap()
}

fn local_encrypted(dir: &Path, key: &str) -> TranscriptArchive {
    let mut c = ArchiveConfig::local(dir);
    c.encryption_key_env = Some("KEFU_TEST_ARCHIVE_KEY".into());
    TranscriptArchive::open_with_env(&c, env(&[("KEFU_TEST_ARCHIVE_KEY", key)])).unwrap()
}

fn gunzip(bytes: &[u8]) -> String {
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(bytes).read_to_string(&mut s).unwrap();
    s
}

#[tokio::test]
async fn local_round_trip_is_redacted_gzip_jsonl_under_partitioned_keys() {
    let dir = TempDir::new();
    let archive = local(&dir.0, true);
    let events = conversation("shop", "conv-1", "user-1", 26, 1..=3);
    let key = archive.archive(&events).await.unwrap();
    assert_eq!(key.path(), "tenant=shop/date=2026-11-26/conv-1-1-3.jsonl.gz");
    let file = dir.0.join("tenant=shop/date=2026-11-26/conv-1-1-3.jsonl.gz");
    let raw = std::fs::read(&file).unwrap();
    assert_eq!(&raw[..2], &[0x1f, 0x8b], "gzip");

    let text = gunzip(&raw);
    assert_eq!(text.lines().count(), 9, "one line per event");
    for pii in ["13800138000", "138 0013 8000", "张江路", ID, "4111", "li@example.com"] {
        assert!(!text.contains(pii), "{pii} leaked: {text}");
    }

    let t = archive.read(&key).await.unwrap();
    assert_eq!(t.events.len(), 9);
    assert_eq!(t.user_ids().into_iter().collect::<Vec<_>>(), ["user-1"]);
    let Event::UserMessage { text, .. } = &t.events[0].event else { panic!() };
    assert_eq!(text, "我的手机是[PHONE]，地址[ADDRESS]，身份证[ID_CARD]，订单SO123456");
    let Event::SlotSet { value, slot, .. } = &t.events[1].event else { panic!() };
    assert_eq!((slot.as_str(), value), ("phone", &serde_json::json!({"value": "[PHONE]"})));
    let Event::BotMessage { text, .. } = &t.events[2].event else { panic!() };
    assert_eq!(text, "Card [BANK_CARD] noted; mail [EMAIL]");
    // Everything but the free text is as emitted.
    for (a, b) in t.events.iter().zip(&events) {
        assert_eq!(
            (&a.id, &a.tenant, &a.conversation_id, &a.user_id, a.turn, a.timestamp),
            (&b.id, &b.tenant, &b.conversation_id, &b.user_id, b.turn, b.timestamp)
        );
    }
}

#[tokio::test]
async fn without_redaction_events_come_back_identical_and_sorted_by_turn() {
    let dir = TempDir::new();
    let archive = local(&dir.0, false);
    let events = conversation("shop", "c", "u", 26, 1..=4);
    let mut shuffled = events.clone();
    shuffled.reverse();
    shuffled.sort_by_key(|e| std::cmp::Reverse(e.turn)); // turns reversed, emission order kept within a turn
    let key = archive.archive(&shuffled).await.unwrap();
    assert_eq!((key.first_turn, key.last_turn), (1, 4));
    assert_eq!(archive.read(&key).await.unwrap().events.len(), events.len());
    let back = archive.read(&key).await.unwrap().events;
    let turns: Vec<u64> = back.iter().map(|e| e.turn).collect();
    assert!(turns.windows(2).all(|w| w[0] <= w[1]));
    // Idempotent: archiving the same turns again overwrites the same object.
    assert_eq!(archive.archive(&events).await.unwrap(), key);
    assert_eq!(archive.read(&key).await.unwrap().events, events);
    assert_eq!(archive.list("shop", ..).await.unwrap().len(), 1);
}

#[tokio::test]
async fn invalid_input_is_rejected() {
    let dir = TempDir::new();
    let archive = local(&dir.0, true);
    assert!(matches!(archive.archive(&[]).await, Err(ArchiveError::InvalidEvents(_))));
    let mut mixed = conversation("shop", "a", "u", 26, 1..=1);
    mixed.extend(conversation("shop", "b", "u", 26, 2..=2));
    assert!(matches!(archive.archive(&mixed).await, Err(ArchiveError::InvalidEvents(_))));
}

#[tokio::test]
async fn list_read_conversation_and_unsafe_ids() {
    let dir = TempDir::new();
    let archive = local(&dir.0, true);
    archive.archive(&conversation("shop", "c1", "u1", 25, 1..=2)).await.unwrap();
    archive.archive(&conversation("shop", "c1", "u1", 26, 3..=5)).await.unwrap();
    archive.archive(&conversation("shop", "c1", "u1", 26, 6..=6)).await.unwrap();
    archive.archive(&conversation("shop", "c2", "u2", 27, 1..=1)).await.unwrap();
    archive.archive(&conversation("other", "c9", "u1", 26, 1..=1)).await.unwrap();
    let weird = archive.archive(&conversation("商城/a b", "../会话 #1?", "u3", 26, 1..=2)).await.unwrap();
    assert_eq!(
        weird.path(),
        format!(
            "tenant={}/date=2026-11-26/{}-1-2.jsonl.gz",
            "!E5!95!86!E5!9F!8E!2Fa!20b", "..!2F!E4!BC!9A!E8!AF!9D!20!231!3F"
        )
    );
    assert!(dir.0.join(weird.path()).is_file(), "stored under its escaped key");

    let all = archive.list("shop", ..).await.unwrap();
    assert_eq!(all.len(), 4);
    assert!(all.iter().all(|o| o.size > 0));
    let day26 = archive.list("shop", date(26)..=date(26)).await.unwrap();
    let names: Vec<String> = day26.iter().map(|o| o.key.file_name()).collect();
    assert_eq!(names, ["c1-3-5.jsonl.gz", "c1-6-6.jsonl.gz"]);
    assert_eq!(archive.list("shop", date(26)..).await.unwrap().len(), 3);
    assert_eq!(archive.list("shop", ..date(26)).await.unwrap().len(), 1);
    assert!(archive.list("nobody", ..).await.unwrap().is_empty());

    let parts = archive.read_conversation("shop", date(26), "c1").await.unwrap();
    assert_eq!(parts.iter().map(|p| (p.key.first_turn, p.key.last_turn)).collect::<Vec<_>>(), [(3, 5), (6, 6)]);
    assert_eq!(parts.iter().map(|p| p.events.len()).sum::<usize>(), 12);
    assert!(archive.read_conversation("shop", date(24), "c1").await.unwrap().is_empty());

    let w = archive.read_conversation("商城/a b", date(26), "../会话 #1?").await.unwrap();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].events[0].tenant, "商城/a b");

    // A foreign file among the objects is skipped by list; a missing key is NotFound.
    std::fs::write(dir.0.join("tenant=shop/date=2026-11-26/README.txt"), "hi").unwrap();
    assert_eq!(archive.list("shop", ..).await.unwrap().len(), 4);
    let missing =
        ArchiveKey { tenant: "shop".into(), date: date(26), conversation_id: "zz".into(), first_turn: 1, last_turn: 1 };
    assert!(matches!(archive.read(&missing).await, Err(ArchiveError::NotFound(_))));
}

#[tokio::test]
async fn delete_user_removes_every_object_of_that_user_only() {
    let dir = TempDir::new();
    let archive = local_encrypted(&dir.0, KEY_A);
    archive.archive(&conversation("shop", "c1", "alice", 25, 1..=2)).await.unwrap();
    archive.archive(&conversation("shop", "c1", "alice", 26, 3..=3)).await.unwrap();
    archive.archive(&conversation("shop", "c2", "alice", 27, 1..=1)).await.unwrap();
    archive.archive(&conversation("shop", "c3", "bob", 26, 1..=1)).await.unwrap();
    archive.archive(&conversation("other", "c1", "alice", 26, 1..=1)).await.unwrap();

    assert_eq!(archive.delete_user("shop", "alice").await.unwrap(), 3);
    let left = archive.list("shop", ..).await.unwrap();
    assert_eq!(left.iter().map(|o| o.key.conversation_id.as_str()).collect::<Vec<_>>(), ["c3"]);
    assert_eq!(archive.delete_user("shop", "alice").await.unwrap(), 0, "idempotent");
    assert_eq!(archive.list("other", ..).await.unwrap().len(), 1, "other tenants untouched");
    assert!(!dir.0.join("tenant=shop/date=2026-11-25").exists(), "empty folders are cleaned up");

    // An unreadable object stops the scan with an error rather than being skipped.
    let k = archive.list("shop", ..).await.unwrap()[0].key.clone();
    std::fs::write(dir.0.join(k.path()), b"garbage").unwrap();
    assert!(matches!(archive.delete_user("shop", "bob").await, Err(ArchiveError::Corrupt { .. })));
}

#[tokio::test]
async fn encryption_at_rest_wrong_key_and_tampering() {
    let dir = TempDir::new();
    let archive = local_encrypted(&dir.0, KEY_A);
    let events = conversation("shop", "c1", "u1", 26, 1..=2);
    let key = archive.archive(&events).await.unwrap();
    let file = dir.0.join(key.path());
    let raw = std::fs::read(&file).unwrap();
    assert_eq!(&raw[..5], b"KFAR\x01", "magic and version");
    assert!(!String::from_utf8_lossy(&raw).contains("user_message"));
    assert_eq!(archive.read(&key).await.unwrap().events.len(), 6);
    // Two writes of the same content use different nonces.
    archive.archive(&events).await.unwrap();
    assert_ne!(std::fs::read(&file).unwrap()[5..17], raw[5..17]);

    let wrong = local_encrypted(&dir.0, KEY_B);
    assert!(matches!(wrong.read(&key).await, Err(ArchiveError::Decrypt { .. })));
    let plain = local(&dir.0, true);
    assert!(matches!(plain.read(&key).await, Err(ArchiveError::KeyRequired { .. })));

    // A flipped bit anywhere (nonce, ciphertext, tag) fails authentication.
    let good = std::fs::read(&file).unwrap();
    for i in [7, 40, good.len() - 1] {
        let mut t = good.clone();
        t[i] ^= 0x01;
        std::fs::write(&file, &t).unwrap();
        assert!(matches!(archive.read(&key).await, Err(ArchiveError::Decrypt { .. })), "byte {i}");
    }
    // An object moved to another key fails too (the key is authenticated).
    std::fs::write(&file, &good).unwrap();
    let other = ArchiveKey { conversation_id: "c2".into(), ..key.clone() };
    std::fs::copy(&file, dir.0.join(other.path())).unwrap();
    assert!(matches!(archive.read(&other).await, Err(ArchiveError::Decrypt { .. })));
    // A plaintext object where an encrypted one is expected is refused.
    let plain_key = plain.archive(&conversation("shop", "c3", "u1", 26, 1..=1)).await.unwrap();
    assert!(matches!(archive.read(&plain_key).await, Err(ArchiveError::Corrupt { .. })));
    // Truncated and garbage objects are corrupt.
    std::fs::write(&file, &good[..10]).unwrap();
    assert!(matches!(archive.read(&key).await, Err(ArchiveError::Corrupt { .. })));
    std::fs::write(dir.0.join(plain_key.path()), b"\x1f\x8bnot really gzip").unwrap();
    assert!(matches!(plain.read(&plain_key).await, Err(ArchiveError::Corrupt { .. })));
    std::fs::write(dir.0.join(plain_key.path()), b"{\"json\": true}").unwrap();
    assert!(matches!(plain.read(&plain_key).await, Err(ArchiveError::Corrupt { .. })));
}

#[test]
fn configuration_and_key_errors_are_typed() {
    let dir = TempDir::new();
    let yaml = format!("store: {{kind: local, path: '{}'}}\nencryption_key_env: MY_KEY\n", dir.0.display());
    let c = ArchiveConfig::from_yaml(&yaml).unwrap();
    assert!(c.redact, "redaction is on by default");
    let err = TranscriptArchive::open_with_env(&c, env(&[])).unwrap_err();
    assert!(matches!(&err, ArchiveError::MissingKey { var } if var == "MY_KEY"), "{err}");
    let err = TranscriptArchive::open_with_env(&c, env(&[("MY_KEY", "AAECAwQFBgcICQoLDA0ODw==")])).unwrap_err();
    assert!(matches!(err, ArchiveError::KeyLength { len: 16, .. }), "{err}");
    let err = TranscriptArchive::open_with_env(&c, env(&[("MY_KEY", "%%%")])).unwrap_err();
    assert!(matches!(err, ArchiveError::KeyEncoding { .. }));
    // The key never appears in messages or Debug output.
    let a = TranscriptArchive::open_with_env(&c, env(&[("MY_KEY", KEY_A)])).unwrap();
    assert!(!format!("{a:?}").contains(KEY_A));
    let err = TranscriptArchive::open_with_env(&c, env(&[("MY_KEY", "AAECAwQFBgcICQoLDA0ODw==")])).unwrap_err();
    assert!(!err.to_string().contains("AAECAw"));

    assert!(matches!(ArchiveConfig::from_yaml("store: {kind: local}"), Err(ArchiveError::Config(_))));
    // A local path that is a file: the store is unavailable.
    let file = dir.0.join("file");
    std::fs::write(&file, "x").unwrap();
    let err = TranscriptArchive::open_with_env(&ArchiveConfig::local(&file), env(&[])).unwrap_err();
    assert!(matches!(err, ArchiveError::Unavailable(_)), "{err}");
    // S3 credentials named but not set.
    let c = ArchiveConfig {
        store: StoreConfig::S3 {
            endpoint: Some("http://127.0.0.1:1".into()),
            bucket: "b".into(),
            region: "us-east-1".into(),
            access_key_id: Some("id".into()),
            secret_access_key_env: Some("NO_SUCH_SECRET".into()),
            allow_http: true,
            max_retries: 0,
        },
        redact: true,
        encryption_key_env: None,
    };
    assert!(matches!(TranscriptArchive::open_with_env(&c, env(&[])), Err(ArchiveError::MissingKey { .. })));
}

#[tokio::test]
async fn unreachable_s3_is_reported_unavailable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port(); // closed once dropped
    let c = ArchiveConfig {
        store: StoreConfig::S3 {
            endpoint: Some(format!("http://127.0.0.1:{port}")),
            bucket: "b".into(),
            region: "us-east-1".into(),
            access_key_id: Some("id".into()),
            secret_access_key_env: Some("S".into()),
            allow_http: true,
            max_retries: 0,
        },
        redact: true,
        encryption_key_env: None,
    };
    let archive = TranscriptArchive::open_with_env(&c, env(&[("S", "secret")])).unwrap();
    let err = archive.archive(&conversation("shop", "c", "u", 26, 1..=1)).await.unwrap_err();
    assert!(matches!(err, ArchiveError::Unavailable(_)), "{err}");
    assert!(!err.to_string().contains("secret"));
    assert!(matches!(archive.list("shop", ..).await, Err(ArchiveError::Unavailable(_))));
}

#[tokio::test]
async fn a_real_engine_conversation_is_archived() {
    use kefu_core::nlu::{IntentClassifier, IntentScore, NluError};
    use kefu_core::{Engine, MemoryEventSink, Turn};
    use std::sync::Arc;
    struct Greet;
    #[async_trait::async_trait]
    impl IntentClassifier for Greet {
        async fn classify(&self, _t: &str, _l: Language, _k: usize) -> Result<Vec<IntentScore>, NluError> {
            Ok(vec![IntentScore { name: "greet".into(), confidence: 0.99 }])
        }
    }
    let yaml = "bot: {name: t, languages: [en, zh]}\nintents:\n  greet:\n    examples: {en: [hi], zh: [你好]}\n    response: hi\nresponses:\n  hi:\n    text: {en: Hello, zh: 你好}\n";
    let bot = kefu_core::bot::load_bot_files(Path::new("."), &[("b.yaml".into(), yaml.to_string())]).unwrap();
    let sink = Arc::new(MemoryEventSink::new(1000));
    let engine = Engine::builder(bot).classifier(Arc::new(Greet)).event_sink(sink.clone()).build().unwrap();
    let mut turn = Turn::new("web-42", "hi, call me at +1 415-555-2671 or write to a.b@example.org").tenant("acme");
    turn.user_id = "cust-7".into();
    engine.handle(turn).await.unwrap();
    let mut turn = Turn::new("web-42", "你好，我住北京市朝阳区建国路88号").tenant("acme");
    turn.user_id = "cust-7".into();
    engine.handle(turn).await.unwrap();
    let events = sink.drain();

    let dir = TempDir::new();
    let archive = local(&dir.0, true);
    let key = archive.archive(&events).await.unwrap();
    assert_eq!(
        (key.tenant.as_str(), key.conversation_id.as_str(), key.first_turn, key.last_turn),
        ("acme", "web-42", 1, 2)
    );
    let back = archive.read(&key).await.unwrap();
    assert_eq!(back.events.len(), events.len());
    let users: Vec<&str> = back
        .events
        .iter()
        .filter_map(|e| match &e.event {
            Event::UserMessage { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        users,
        ["hi, call me at [PHONE] or write to [EMAIL]", "你好,我住[ADDRESS]"],
        "the engine normalises full-width punctuation"
    );
    assert_eq!(archive.delete_user("acme", "cust-7").await.unwrap(), 1);
}

/// The full flow against a real S3-compatible server (moto_server), with encryption.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_compatible_store_round_trip_with_moto() {
    let moto = s3::MotoServer::start();
    moto.create_bucket("kefu-archive");
    let yaml = format!(
        "store:\n  kind: s3\n  endpoint: {}\n  bucket: kefu-archive\n  region: us-east-1\n  access_key_id: testing\n  secret_access_key_env: TEST_S3_SECRET\n  allow_http: true\n  max_retries: 1\nencryption_key_env: TEST_ARCHIVE_KEY\n",
        moto.endpoint()
    );
    let config = ArchiveConfig::from_yaml(&yaml).unwrap();
    let archive =
        TranscriptArchive::open_with_env(&config, env(&[("TEST_S3_SECRET", "testing"), ("TEST_ARCHIVE_KEY", KEY_A)]))
            .unwrap();

    let k1 = archive.archive(&conversation("shop", "c1", "alice", 25, 1..=2)).await.unwrap();
    let k2 = archive.archive(&conversation("shop", "c1", "alice", 26, 3..=4)).await.unwrap();
    archive.archive(&conversation("shop", "c2", "bob", 26, 1..=1)).await.unwrap();
    let kw = archive.archive(&conversation("商城", "会话/1", "carol", 26, 1..=1)).await.unwrap();

    // Listing and reading back (decrypting).
    let all = archive.list("shop", ..).await.unwrap();
    assert_eq!(
        all.iter().map(|o| o.key.path()).collect::<Vec<_>>(),
        [
            "tenant=shop/date=2026-11-25/c1-1-2.jsonl.gz",
            "tenant=shop/date=2026-11-26/c1-3-4.jsonl.gz",
            "tenant=shop/date=2026-11-26/c2-1-1.jsonl.gz",
        ]
    );
    assert_eq!(archive.list("shop", date(26)..=date(26)).await.unwrap().len(), 2);
    let t = archive.read(&k1).await.unwrap();
    assert_eq!(t.events.len(), 6);
    let Event::UserMessage { text, .. } = &t.events[0].event else { panic!() };
    assert!(text.starts_with("我的手机是[PHONE]"), "{text}");
    assert_eq!(archive.read_conversation("shop", date(26), "c1").await.unwrap()[0].key, k2);
    assert_eq!(archive.read_conversation("商城", date(26), "会话/1").await.unwrap()[0].key, kw);

    // Stored encrypted; the wrong key and a tampered object fail with typed errors.
    use object_store::{ObjectStoreExt, PutPayload};
    let path = object_store::path::Path::from(k2.path());
    let raw = archive.store().get(&path).await.unwrap().bytes().await.unwrap().to_vec();
    assert_eq!(&raw[..4], b"KFAR");
    let wrong =
        TranscriptArchive::open_with_env(&config, env(&[("TEST_S3_SECRET", "testing"), ("TEST_ARCHIVE_KEY", KEY_B)]))
            .unwrap();
    assert!(matches!(wrong.read(&k1).await, Err(ArchiveError::Decrypt { .. })));
    let mut tampered = raw.clone();
    tampered[30] ^= 0x80;
    archive.store().put(&path, PutPayload::from(tampered)).await.unwrap();
    assert!(matches!(archive.read(&k2).await, Err(ArchiveError::Decrypt { .. })));
    archive.store().put(&path, PutPayload::from(raw)).await.unwrap();

    // Right to erasure.
    assert_eq!(archive.delete_user("shop", "alice").await.unwrap(), 2);
    let left: Vec<String> =
        archive.list("shop", ..).await.unwrap().iter().map(|o| o.key.conversation_id.clone()).collect();
    assert_eq!(left, ["c2"]);
    assert_eq!(archive.delete_user("shop", "alice").await.unwrap(), 0);
    assert!(matches!(archive.read(&k1).await, Err(ArchiveError::NotFound(_))));
    assert_eq!(archive.list("商城", ..).await.unwrap().len(), 1);

    // A bucket that does not exist is reported, not hidden.
    let missing = ArchiveConfig::from_yaml(&yaml.replace("bucket: kefu-archive", "bucket: no-such-bucket")).unwrap();
    let m =
        TranscriptArchive::open_with_env(&missing, env(&[("TEST_S3_SECRET", "testing"), ("TEST_ARCHIVE_KEY", KEY_A)]))
            .unwrap();
    let err = m.archive(&conversation("shop", "c", "u", 26, 1..=1)).await.unwrap_err();
    assert!(matches!(err, ArchiveError::Unavailable(_)), "{err}");
}
