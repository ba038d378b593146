//! Snapshots of every serialised type that crosses a process or binding boundary: a change of
//! format breaks this test and must come with a migration note. Regenerate a snapshot by
//! deleting its file and running the test once (it writes the file and fails, to be reviewed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::TimeZone;
use kefu_core::event::{Event, EventEnvelope};
use kefu_core::session::{ActiveFlow, HistoryEntry, Session, SessionKey, Speaker};
use kefu_core::*;
use std::path::PathBuf;

fn check(name: &str, value: &serde_json::Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(format!("{name}.json"));
    let actual = serde_json::to_string_pretty(value).unwrap() + "\n";
    match std::fs::read_to_string(&path) {
        Ok(expected) => assert_eq!(actual, expected, "the serialised form of {name} changed (see {})", path.display()),
        Err(_) => {
            std::fs::write(&path, &actual).unwrap();
            panic!("wrote a new snapshot {}; review it and run again", path.display());
        }
    }
}

fn t0() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap()
}

#[test]
fn session_format() {
    let mut s = Session::new(SessionKey::new("acme", "conv-1"), "user-9", t0());
    s.language = Some(Language::Zh);
    s.slots.insert("order_id".into(), serde_json::json!("SO123456"));
    s.slots.insert("refund_amount".into(), serde_json::json!({"value": 350, "currency": "CNY"}));
    s.flow = Some(ActiveFlow {
        name: "returns".into(),
        requested_slot: Some("reason".into()),
        attempts: 1,
        confirming: false,
    });
    s.remember(
        HistoryEntry {
            at: t0(),
            speaker: Speaker::User,
            text: "我要退货".into(),
            intent: Some("request_return".into()),
        },
        50,
    );
    s.turns = 2;
    s.version = 3;
    let json = serde_json::to_value(&s).unwrap();
    check("session", &json);
    assert_eq!(serde_json::from_value::<Session>(json).unwrap(), s);
}

#[test]
fn event_envelope_format() {
    let e = EventEnvelope {
        id: "acme/conv-1/2/3".into(),
        tenant: "acme".into(),
        conversation_id: "conv-1".into(),
        user_id: "user-9".into(),
        channel: "web".into(),
        turn: 2,
        timestamp: t0(),
        event: Event::SlotSet {
            slot: "order_id".into(),
            value: serde_json::json!("SO654321"),
            previous: Some(serde_json::json!("SO123456")),
        },
    };
    let json = serde_json::to_value(&e).unwrap();
    check("event_envelope", &json);
    assert_eq!(serde_json::from_value::<EventEnvelope>(json).unwrap(), e);
}

#[test]
fn reply_and_turn_format() {
    let reply = Reply {
        tenant: "acme".into(),
        conversation_id: "conv-1".into(),
        turn: 2,
        language: Language::En,
        messages: vec![ReplyMessage {
            text: "Which order?".into(),
            buttons: vec![kefu_core::response::RenderedButton {
                title: "Track".into(),
                payload: "/order_status".into(),
            }],
            response: Some("returns.ask_order_id".into()),
            faq_id: None,
        }],
        intent: Some(IntentScore { name: "request_return".into(), confidence: 0.875 }),
        entities: vec![Entity {
            kind: "amount".into(),
            start: 10,
            end: 16,
            text: "$12.50".into(),
            value: serde_json::json!({"value": 12.5, "currency": "USD"}),
            role: None,
            group: None,
        }],
        slots: [("order_id".to_string(), serde_json::json!("SO123456"))].into(),
        flow: Some("returns".into()),
        handoff: false,
        events: vec![
            Event::FlowStarted { flow: "returns".into() },
            Event::SlotSet { slot: "order_id".into(), value: serde_json::json!("SO123456"), previous: None },
        ],
        bot_version: Some("v2".into()),
        replayed: false,
        silent: false,
        timings: kefu_core::TurnTimings { nlu: std::time::Duration::from_millis(3), ..Default::default() },
    };
    check("reply", &serde_json::to_value(&reply).unwrap());
    let turn: Turn = serde_json::from_str(r#"{"conversation_id": "c", "text": "hi"}"#).unwrap();
    assert_eq!(turn.tenant, "default");
    assert_eq!(turn.channel, "default");
    check(
        "turn",
        &serde_json::to_value(
            Turn::new("conv-1", "我要退货")
                .tenant("acme")
                .channel("web")
                .user("user-9")
                .at(t0())
                .meta("page", serde_json::json!("/orders/SO123456"))
                .idempotency_key("msg-7f3a"),
        )
        .unwrap(),
    );
    let part = ReplyPart::Message { index: 0, message: ReplyMessage::text("您好") };
    check("reply_part", &serde_json::to_value(&part).unwrap());
}
