//! The Chatwoot agent-bot contract on the real binary: Chatwoot's webhook events in, Kefu's
//! replies, buttons and hand-offs out through a server speaking Chatwoot's API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{repo, ServerProcess};

const AGENT_KEY: &str = "shop-agent-key-0123456789";
const BOT_TOKEN: &str = "chatwoot-bot-token-42";

type Calls = Arc<Mutex<Vec<(String, String, Value)>>>;

/// Chatwoot's API on a free port: records each call's path, `api_access_token` and body.
async fn fake_chatwoot() -> (String, Calls) {
    let calls: Calls = Default::default();
    let recorded = calls.clone();
    let app = axum::Router::new().route(
        "/api/v1/accounts/{account}/conversations/{conversation}/{action}",
        axum::routing::post(move |uri: axum::http::Uri, headers: axum::http::HeaderMap, body: axum::Json<Value>| {
            let recorded = recorded.clone();
            async move {
                let token = headers.get("api_access_token").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                recorded.lock().unwrap().push((uri.path().to_string(), token, body.0));
                axum::Json(json!({"id": 1}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls)
}

fn incoming(message_id: u64, conversation: u64, status: &str, text: &str) -> Value {
    json!({
        "event": "message_created",
        "id": message_id,
        "content": text,
        "message_type": "incoming",
        "content_type": "text",
        "private": false,
        "sender": {"id": 501, "name": "Li Lei", "type": "contact"},
        "conversation": {"id": conversation, "status": status, "inbox_id": 3},
        "account": {"id": 7, "name": "Shop"}
    })
}

struct Desk {
    server: ServerProcess,
    calls: Calls,
    http: reqwest::Client,
}

impl Desk {
    async fn start() -> Self {
        let (chatwoot, calls) = fake_chatwoot().await;
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let config = std::env::temp_dir().join(format!("kefu-chatwoot-{}-{n}.yaml", std::process::id()));
        std::fs::write(
            &config,
            format!(
                "tenants:\n  shop:\n    bot: {}\n    keys: [{{env: KEFU_TEST_AGENT_KEY, role: agent}}]\n    chatwoot: {{base_url: \"{chatwoot}/\", account_id: 7, api_token: {{env: KEFU_TEST_CHATWOOT_TOKEN}}}}\n",
                repo().join("examples/bots/shop").display()
            ),
        )
        .unwrap();
        let server = ServerProcess::start(
            &["--config", config.to_str().unwrap()],
            &[("KEFU_TEST_AGENT_KEY", AGENT_KEY), ("KEFU_TEST_CHATWOOT_TOKEN", BOT_TOKEN)],
        )
        .await;
        let _ = std::fs::remove_file(&config);
        Self { server, calls, http: reqwest::Client::new() }
    }

    /// Delivers one event as Chatwoot does (the key in the `outgoing_url`'s query).
    async fn deliver(&self, event: &Value) -> (u16, Value) {
        let url = self.server.url(&format!("/v1/channels/chatwoot?api_key={AGENT_KEY}"));
        let r = self.http.post(url).json(event).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    /// The calls made to Chatwoot since the last look.
    fn new_calls(&self) -> Vec<(String, String, Value)> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }

    async fn turns(&self, conversation: &str) -> u64 {
        let url = self.server.url(&format!("/v1/conversations/{conversation}"));
        let v: Value = self.http.get(url).bearer_auth(AGENT_KEY).send().await.unwrap().json().await.unwrap();
        v["turns"].as_u64().unwrap_or_else(|| panic!("{v}"))
    }
}

#[tokio::test]
async fn a_chatwoot_conversation_with_buttons_a_handoff_and_its_release() {
    let desk = Desk::start().await;

    let (status, v) = desk.deliver(&incoming(1001, 42, "pending", "I want to return my shoes")).await;
    assert_eq!((status, v["handled"].as_bool()), (200, Some(true)), "{v}");
    let calls = desk.new_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let (path, token, body) = &calls[0];
    assert_eq!(path, "/api/v1/accounts/7/conversations/42/messages");
    assert_eq!(token, BOT_TOKEN);
    assert_eq!(body["message_type"], "outgoing");
    assert!(body["content"].as_str().unwrap().to_lowercase().contains("order"), "{body}");

    // A redelivered webhook posts the same answer again but does not run the turn twice.
    let turns = desk.turns("chatwoot-7-42").await;
    desk.deliver(&incoming(1001, 42, "pending", "I want to return my shoes")).await;
    assert_eq!(desk.turns("chatwoot-7-42").await, turns);
    assert_eq!(desk.new_calls()[0].2, calls[0].2);

    // The form goes on; its confirmation arrives as an input_select, and a click answers it.
    desk.deliver(&incoming(1002, 42, "pending", "SO123456")).await;
    desk.deliver(&incoming(1003, 42, "pending", "they do not fit")).await;
    let calls = desk.new_calls();
    let select =
        calls.iter().find(|(_, _, b)| b["content_type"] == "input_select").unwrap_or_else(|| panic!("{calls:?}"));
    let items = select.2["content_attributes"]["items"].as_array().unwrap();
    assert!(items.len() >= 2 && items.iter().all(|i| i["title"].is_string() && i["value"].is_string()), "{items:?}");
    let mut click = incoming(1004, 42, "pending", items[0]["title"].as_str().unwrap());
    click["content_attributes"] = json!({"submitted_values": [items[0].clone()]});
    desk.deliver(&click).await;
    let state: Value = desk
        .http
        .get(desk.server.url("/v1/conversations/chatwoot-7-42"))
        .bearer_auth(AGENT_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(state["flow"].is_null(), "the click confirmed the form: {state}");
    desk.new_calls();

    // A hand-off opens the conversation to Chatwoot's agents.
    let (_, v) = desk.deliver(&incoming(1005, 42, "pending", "我要投诉")).await;
    assert_eq!(v["handoff"], true, "{v}");
    let calls = desk.new_calls();
    let toggle = calls.last().unwrap();
    assert_eq!(toggle.0, "/api/v1/accounts/7/conversations/42/toggle_status");
    assert_eq!(toggle.2, json!({"status": "open"}));

    // While the agents have it: their messages are recorded, the customer's are not answered.
    let agent = json!({
        "event": "message_created", "id": 1006, "content": "您好，我是客服小王", "message_type": "outgoing",
        "private": false, "sender": {"id": 9, "type": "user"},
        "conversation": {"id": 42, "status": "open"}, "account": {"id": 7}
    });
    assert_eq!(desk.deliver(&agent).await.1["handled"], true);
    let (_, v) = desk.deliver(&incoming(1007, 42, "open", "好的，谢谢")).await;
    assert_eq!(v["handled"], false, "{v}");
    assert!(desk.new_calls().is_empty());

    // Set back to pending, the bot has it again.
    let back = json!({"event": "conversation_status_changed", "id": 42, "status": "pending", "account": {"id": 7}});
    assert_eq!(desk.deliver(&back).await.1["handled"], true);
    let (_, v) = desk.deliver(&incoming(1008, 42, "pending", "hello")).await;
    assert_eq!(v["handled"], true, "{v}");
    assert_eq!(desk.new_calls().len(), 1);

    // Resolved ends it.
    let resolved =
        json!({"event": "conversation_status_changed", "id": 42, "status": "resolved", "account": {"id": 7}});
    assert_eq!(desk.deliver(&resolved).await.1["handled"], true);
    let gone =
        desk.http.get(desk.server.url("/v1/conversations/chatwoot-7-42")).bearer_auth(AGENT_KEY).send().await.unwrap();
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn foreign_accounts_bad_events_and_missing_keys_are_refused() {
    let desk = Desk::start().await;
    let mut other = incoming(2001, 5, "pending", "hello");
    other["account"]["id"] = json!(8);
    let (status, v) = desk.deliver(&other).await;
    assert_eq!((status, v["code"].as_str()), (403, Some("forbidden")));
    let (status, v) = desk.deliver(&json!({"event": "message_created", "content": "hi"})).await;
    assert_eq!((status, v["code"].as_str()), (400, Some("invalid_input")));
    let (status, _) = desk.deliver(&json!({"no_event": true})).await;
    assert_eq!(status, 400);
    let (status, v) = desk.deliver(&json!({"event": "contact_created", "id": 3})).await;
    assert_eq!((status, v["handled"].as_bool()), (200, Some(false)));
    let r = desk
        .http
        .post(desk.server.url("/v1/channels/chatwoot"))
        .json(&incoming(2002, 5, "pending", "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(desk.new_calls().is_empty(), "nothing reached Chatwoot");
}
