//! The bot registry: tenants, versions side by side, conversations pinned to their version,
//! A/B splits, dropping retired versions, and a version swap under load that drops no turn.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kefu::{ErrorCode, Registry, Split, Turn};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn shop() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/bots/shop")
}

fn load(reg: &Registry, tenant: &str, version: &str) {
    reg.load_with(tenant, version, reg.builder(shop()).no_model_cache()).expect("demo bot loads");
}

/// conversation -> (start of its first turn, bot version of each of its turns)
type Seen = HashMap<String, (Instant, Vec<String>)>;

const SCRIPT: [&str; 4] = ["我要退货", "SO123456", "多久发货？", "尺码不合适"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_swap_under_load_drops_no_turn_and_keeps_conversations_pinned() {
    let reg = Arc::new(Registry::new());
    load(&reg, "acme", "v1");
    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut workers = Vec::new();
    for w in 0..8 {
        let (reg, stop, seen, errors) = (reg.clone(), stop.clone(), seen.clone(), errors.clone());
        workers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let conv = format!("w{w}-{n}");
                n += 1;
                let started = Instant::now();
                for text in SCRIPT {
                    match reg.handle(Turn::new(conv.clone(), text).tenant("acme")).await {
                        Ok(r) => {
                            if r.messages.is_empty() {
                                errors.lock().unwrap().push(format!("{conv}: empty reply to {text}"));
                            }
                            let v = r.bot_version.unwrap_or_default();
                            seen.lock().unwrap().entry(conv.clone()).or_insert((started, Vec::new())).1.push(v);
                        }
                        Err(e) => errors.lock().unwrap().push(format!("{conv}: {e}")),
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let reg2 = reg.clone();
    tokio::task::spawn_blocking(move || load(&reg2, "acme", "v2")).await.unwrap();
    reg.activate("acme", "v2").unwrap();
    let activated = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let errors = errors.lock().unwrap();
    assert!(errors.is_empty(), "{} failed turns, first: {:?}", errors.len(), errors.first());
    let seen = seen.lock().unwrap();
    let (mut on_v1, mut on_v2) = (0, 0);
    for (conv, (started, versions)) in seen.iter() {
        assert!(versions.iter().all(|v| *v == versions[0]), "{conv} changed version mid-conversation: {versions:?}");
        if *started > activated {
            assert_eq!(versions[0], "v2", "{conv} started after the swap on {}", versions[0]);
        }
        match versions[0].as_str() {
            "v1" => on_v1 += 1,
            "v2" => on_v2 += 1,
            other => panic!("unexpected version {other:?}"),
        }
    }
    assert!(on_v1 > 0 && on_v2 > 0, "v1 {on_v1}, v2 {on_v2}");
    let turns: usize = seen.values().map(|(_, v)| v.len()).sum();
    assert!(turns >= on_v1 + on_v2, "{turns}");
}

#[tokio::test]
async fn conversations_stay_on_their_version_and_retired_versions_are_dropped() {
    let reg = Registry::new();
    load(&reg, "acme", "v1");
    let r = reg.handle(Turn::new("old", "我要退货").tenant("acme")).await.unwrap();
    assert_eq!(r.bot_version.as_deref(), Some("v1"));
    load(&reg, "acme", "v2");
    // loading does not activate
    assert_eq!(reg.handle(Turn::new("new-0", "你好").tenant("acme")).await.unwrap().bot_version.as_deref(), Some("v1"));
    reg.activate("acme", "v2").unwrap();
    let r = reg.handle(Turn::new("old", "SO123456").tenant("acme")).await.unwrap();
    assert_eq!(r.bot_version.as_deref(), Some("v1"));
    assert_eq!(r.flow.as_deref(), Some("returns"), "the form continues on its version");
    assert_eq!(reg.handle(Turn::new("new-1", "你好").tenant("acme")).await.unwrap().bot_version.as_deref(), Some("v2"));

    // v1 still has conversations: the sweep keeps it
    assert!(reg.sweep().is_empty());
    // a version loaded but never activated is never swept away
    load(&reg, "acme", "v3-staged");
    assert!(reg.sweep().is_empty(), "a staged version has no conversation yet, and stays");
    assert!(reg.versions("acme").unwrap().iter().any(|v| v.version == "v3-staged"));
    reg.remove_version("acme", "v3-staged").unwrap();
    load(&reg, "acme", "v1b");
    reg.remove_version("acme", "v1b").unwrap();
    let info = reg.versions("acme").unwrap();
    assert_eq!(info.iter().map(|v| (v.version.as_str(), v.active)).collect::<Vec<_>>(), [("v1", false), ("v2", true)]);
    assert_eq!(info[0].conversations, 2);

    // another process sharing the store sees the session's version (pinning survives a restart)
    let engine = reg.route("acme", "old").await.unwrap();
    assert_eq!(engine.version(), Some("v1"));

    // conversations end or expire: v1 goes
    assert!(reg.end_conversation("acme", "old").await.unwrap());
    assert!(reg.sweep().is_empty(), "new-0 is still on v1");
    let later = Instant::now() + Duration::from_secs(2 * 3600);
    assert_eq!(reg.sweep_at(later), vec![("acme".to_string(), "v1".to_string())]);
    assert_eq!(reg.versions("acme").unwrap().len(), 1);
    // an expired conversation starts again on the active version
    let r = reg.handle(Turn::new("new-0", "你好").tenant("acme")).await.unwrap();
    assert_eq!(r.bot_version.as_deref(), Some("v2"));
}

#[tokio::test]
async fn a_split_sends_a_share_of_new_conversations_to_the_other_version() {
    let reg = Registry::new();
    load(&reg, "acme", "a");
    load(&reg, "acme", "b");
    reg.set_split("acme", Some(Split { version: "b".into(), percent: 30 })).unwrap();
    let mut on_b = 0;
    for i in 0..200 {
        let r = reg.handle(Turn::new(format!("ab-{i}"), "hello").tenant("acme")).await.unwrap();
        if r.bot_version.as_deref() == Some("b") {
            on_b += 1;
        }
        // and each stays where it went
        let again = reg.handle(Turn::new(format!("ab-{i}"), "thanks").tenant("acme")).await.unwrap();
        assert_eq!(again.bot_version, r.bot_version);
    }
    assert!((35..=85).contains(&on_b), "{on_b} of 200 on b with a 30 % split");
    assert_eq!(reg.versions("acme").unwrap()[1].split_percent, Some(30));
    let err = reg.set_split("acme", Some(Split { version: "b".into(), percent: 101 })).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
}

#[tokio::test]
async fn tenants_are_separate_and_mistakes_have_codes() {
    let reg = Registry::new();
    load(&reg, "acme", "v1");
    load(&reg, "globex", "v1");
    assert_eq!(reg.tenants(), ["acme", "globex"]);
    reg.handle(Turn::new("c1", "我要退货").tenant("acme")).await.unwrap();
    assert!(reg.session("acme", "c1").await.unwrap().is_some());
    assert!(reg.session("globex", "c1").await.unwrap().is_none(), "tenants share no conversation");
    let err = reg.handle(Turn::new("c1", "hi").tenant("initech")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnknownTenant);
    assert_eq!(reg.activate("acme", "v9").unwrap_err().code(), ErrorCode::UnknownBotVersion);
    assert_eq!(
        reg.load_with("acme", "v1", reg.builder(shop()).no_model_cache()).unwrap_err().code(),
        ErrorCode::InvalidInput
    );
    assert_eq!(reg.load_dir("acme", "../v2", shop()).unwrap_err().code(), ErrorCode::InvalidInput);
    assert_eq!(reg.route("acme", &"x".repeat(300)).await.err().map(|e| e.code()), Some(ErrorCode::InputTooLarge));
    assert_eq!(reg.route("acme", " ").await.err().map(|e| e.code()), Some(ErrorCode::InvalidInput));
    assert_eq!(reg.remove_version("acme", "v1").unwrap_err().code(), ErrorCode::InvalidInput);
    let broken = tempfile::tempdir().unwrap();
    std::fs::write(broken.path().join("bot.yaml"), "bot: [").unwrap();
    assert_eq!(reg.load_dir("acme", "v3", broken.path()).unwrap_err().code(), ErrorCode::BotInvalid);
}
