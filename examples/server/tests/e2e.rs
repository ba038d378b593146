//! End to end: the real `kefu-server` binary on a free port, driven over HTTP, SSE and
//! WebSocket like a client would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use futures_util::{SinkExt, StreamExt};
use kefu::testing::{check_step, load_tests, step_turn};
use kefu::Reply;
use serde_json::{json, Value};
use std::time::Duration;
use support::{repo, ServerProcess};
use tokio_tungstenite::tungstenite::Message;

async fn post(c: &reqwest::Client, s: &ServerProcess, conv: &str, body: Value) -> (u16, Value) {
    let r = c.post(s.url(&format!("/v1/conversations/{conv}/messages"))).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

async fn say(c: &reqwest::Client, s: &ServerProcess, conv: &str, text: &str) -> Reply {
    let (status, body) = post(c, s, conv, json!({"text": text})).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).unwrap()
}

/// Reads SSE `data:` payloads from a response until `stop` says so (or 10 s pass).
async fn read_sse(r: reqwest::Response, mut stop: impl FnMut(&Value) -> bool) -> Vec<Value> {
    let mut stream = r.bytes_stream();
    let mut buf = String::new();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let chunk = tokio::time::timeout_at(deadline, stream.next()).await.expect("SSE event in time");
        let Some(chunk) = chunk else { return out };
        buf.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            for line in frame.lines() {
                if let Some(data) = line.strip_prefix("data:") {
                    let v: Value = serde_json::from_str(data.trim()).unwrap();
                    let done = stop(&v);
                    out.push(v);
                    if done {
                        return out;
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn the_demo_conversation_files_pass_over_rest() {
    let s = ServerProcess::start(&["--demo"], &[]).await;
    let c = reqwest::Client::new();
    let tests = load_tests(&repo().join("examples/bots/shop/tests/conversations")).unwrap();
    assert!(tests.len() >= 20);
    let mut report = String::new();
    for (i, (file, test)) in tests.iter().enumerate() {
        let conv = format!("file-{i}");
        for (n, step) in test.steps.iter().enumerate() {
            let turn = step_turn(test, step, &conv);
            let body = json!({"text": turn.text, "language": turn.language, "channel": turn.channel, "timestamp": turn.timestamp});
            let (status, reply) = post(&c, &s, &conv, body).await;
            assert_eq!(status, 200, "{file} step {}: {reply}", n + 1);
            let reply: Reply = serde_json::from_value(reply).unwrap();
            for f in check_step(step, &reply) {
                report.push_str(&format!("{file} step {} {:?}: {f}\n", n + 1, step.user));
            }
        }
    }
    assert!(report.is_empty(), "conversation files over REST:\n{report}");
}

#[tokio::test]
async fn a_bilingual_conversation_over_rest_sse_and_websocket_with_a_handoff() {
    let s = ServerProcess::start(&["--demo"], &[]).await;
    let c = reqwest::Client::new();

    // Chinese over REST: a form with a FAQ digression in the middle.
    let r = say(&c, &s, "zh-1", "我要退货").await;
    assert_eq!(r.flow.as_deref(), Some("returns"));
    assert_eq!(r.messages[0].response.as_deref(), Some("returns.ask_order_id"));
    let r = say(&c, &s, "zh-1", "运费怎么算").await;
    assert!(r.messages.iter().any(|m| m.faq_id.is_some()), "FAQ digression answered from the KB: {:?}", r.messages);
    assert_eq!(r.flow.as_deref(), Some("returns"));
    let r = say(&c, &s, "zh-1", "SO123456").await;
    assert_eq!(r.slots["order_id"], "SO123456");
    assert!(r.text().contains("原因"), "{}", r.text());

    // The conversation's state.
    let state: Value = c.get(s.url("/v1/conversations/zh-1?history=2")).send().await.unwrap().json().await.unwrap();
    assert_eq!(state["flow"], "returns");
    assert_eq!(state["slots"]["order_id"], "SO123456");
    assert_eq!(state["history"].as_array().unwrap().len(), 2);

    // English over SSE (one turn streamed as its parts).
    let resp = c
        .post(s.url("/v1/conversations/en-1/messages"))
        .header("accept", "text/event-stream")
        .json(&json!({"text": "I want to return my shoes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let events = read_sse(resp, |v| v["type"] == "done").await;
    assert_eq!(events.first().unwrap()["type"], "message");
    let done = events.last().unwrap();
    assert_eq!(done["reply"]["flow"], "returns");
    assert!(done["reply"]["messages"][0]["text"].as_str().unwrap().to_lowercase().contains("order"));

    // The same conversation continues over WebSocket.
    let (mut ws, _) = tokio_tungstenite::connect_async(s.ws_url("/v1/ws")).await.unwrap();
    ws.send(Message::Text(json!({"conversation_id": "en-1", "text": "SO123456"}).to_string().into())).await.unwrap();
    let mut ws_parts = Vec::new();
    while let Some(Ok(Message::Text(t))) = ws.next().await {
        let v: Value = serde_json::from_str(t.as_str()).unwrap();
        let done = v["type"] == "done";
        ws_parts.push(v);
        if done {
            break;
        }
    }
    let done = ws_parts.last().unwrap();
    assert_eq!(done["reply"]["slots"]["order_id"], "SO123456", "{done}");
    assert!(ws_parts.iter().any(|p| p["type"] == "message"));
    ws.send(Message::Text("{not json".into())).await.unwrap();
    let Some(Ok(Message::Text(t))) = ws.next().await else { panic!("no error frame") };
    let err: Value = serde_json::from_str(t.as_str()).unwrap();
    assert_eq!((err["type"].as_str(), err["code"].as_str()), (Some("error"), Some("invalid_input")));

    // Hand-off: the customer asks for a human; an agent picks it up, writes, releases.
    let watch = c.get(s.url("/v1/conversations/en-1/stream")).send().await.unwrap();
    assert_eq!(watch.status(), 200);
    let watcher = tokio::spawn(read_sse(watch, |v| v["type"] == "agent_message"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let r = say(&c, &s, "en-1", "I want to talk to a human").await;
    assert!(r.handoff, "{r:?}");
    let queue: Value = c.get(s.url("/v1/agent/conversations")).send().await.unwrap().json().await.unwrap();
    let waiting = queue["conversations"].as_array().unwrap().iter().find(|w| w["conversation_id"] == "en-1").cloned();
    assert_eq!(waiting.expect("en-1 is waiting for an agent")["user_id"], "en-1", "{queue}");
    let r = say(&c, &s, "en-1", "hello? anyone?").await;
    assert!(r.messages.is_empty() && r.handoff, "while an agent owns it, the bot stays silent");
    let sent = c
        .post(s.url("/v1/agent/conversations/en-1/messages"))
        .json(&json!({"text": "Hi, this is Anna from support."}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    let seen = watcher.await.unwrap();
    assert!(seen.iter().any(|v| v["type"] == "message"), "the watcher saw the turns' parts: {seen:?}");
    assert_eq!(seen.last().unwrap()["text"], "Hi, this is Anna from support.");
    // the WebSocket that spoke in en-1 gets the agent's message too
    let frame = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.unwrap().unwrap().unwrap();
    let v: Value = serde_json::from_str(frame.to_text().unwrap()).unwrap();
    assert_eq!(v["type"], "agent_message");
    let history: Value = c.get(s.url("/v1/conversations/en-1")).send().await.unwrap().json().await.unwrap();
    assert!(history["history"].as_array().unwrap().iter().any(|h| h["speaker"] == "agent"));
    let released: Value =
        c.post(s.url("/v1/agent/conversations/en-1/release")).send().await.unwrap().json().await.unwrap();
    assert_eq!(released["released"], true);
    let queue: Value = c.get(s.url("/v1/agent/conversations")).send().await.unwrap().json().await.unwrap();
    assert!(queue["conversations"].as_array().unwrap().is_empty(), "{queue}");
    let r = say(&c, &s, "en-1", "where is my order?").await;
    assert!(!r.handoff && !r.messages.is_empty(), "the bot answers again: {r:?}");
    let no_agent =
        c.post(s.url("/v1/agent/conversations/en-1/messages")).json(&json!({"text": "late"})).send().await.unwrap();
    assert_eq!(no_agent.status(), 400);

    // Ending a conversation.
    assert_eq!(c.delete(s.url("/v1/conversations/zh-1")).send().await.unwrap().status(), 204);
    let gone = c.get(s.url("/v1/conversations/zh-1")).send().await.unwrap();
    assert_eq!(gone.status(), 404);
    assert_eq!(gone.json::<Value>().await.unwrap()["code"], "conversation_not_found");

    // Metrics saw it all.
    let metrics = c.get(s.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for series in [
        "kefu_turns_total{",
        "kefu_turn_duration_seconds_bucket{",
        "kefu_handoffs_total{",
        "kefu_kb_answers_total{",
        "kefu_nlu_duration_seconds_count{tenant=\"default\"}",
        "kefu_kb_duration_seconds_count{tenant=\"default\"}",
        "kefu_store_duration_seconds_count{tenant=\"default\"}",
        "kefu_conversations_started_total{tenant=\"default\"}",
    ] {
        assert!(metrics.contains(series), "{series} missing from /metrics");
    }
    let count = |name: &str| -> f64 {
        let line = metrics.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} missing"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    // Every turn loads and saves its session and classifies its text; zh-1 and en-1 started.
    assert_eq!(count("kefu_store_duration_seconds_count"), count("kefu_turn_duration_seconds_count"));
    assert!(count("kefu_conversations_started_total") >= 2.0);
}

#[tokio::test]
async fn bad_input_gets_a_typed_4xx_and_never_a_500() {
    let s = ServerProcess::start(&["--demo"], &[]).await;
    let c = reqwest::Client::new();
    let url = s.url("/v1/conversations/bad/messages");
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"{\"text\":".to_vec(), 400, "invalid_input"),
        (b"{\"txt\":\"hi\"}".to_vec(), 400, "invalid_input"),
        (b"[1,2]".to_vec(), 400, "invalid_input"),
        (b"{\"text\":\"\xff\xfe\"}".to_vec(), 400, "invalid_input"),
        (format!("{{\"text\":\"{}\"}}", "a".repeat(300_000)).into_bytes(), 413, "input_too_large"),
        (format!("{{\"text\":\"{}\"}}", "a".repeat(10_001)).into_bytes(), 413, "input_too_large"),
        (b"{\"text\":\"hi\",\"language\":\"fr\"}".to_vec(), 400, "invalid_input"),
    ];
    for (body, status, code) in cases {
        let r = c.post(&url).header("content-type", "application/json").body(body.clone()).send().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{}", String::from_utf8_lossy(&body[..body.len().min(40)]));
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["code"], code, "{v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let long_id = "x".repeat(300);
    let (status, v) = post(&c, &s, &long_id, json!({"text": "hi"})).await;
    assert_eq!((status, v["code"].as_str()), (413, Some("input_too_large")));
    let r = c.get(s.url("/v1/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "not_found");
    let r = c.put(s.url("/v1/conversations/x/messages")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalid_input");
    let r = c.post(&url).header("x-kefu-tenant", "initech").json(&json!({"text": "hi"})).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "unknown_tenant");
    let r = c.get(s.url("/v1/conversations/x?history=abc")).send().await.unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn a_retried_post_with_the_same_idempotency_key_runs_once() {
    let s = ServerProcess::start(&["--demo"], &[]).await;
    let c = reqwest::Client::new();
    let send = || {
        c.post(s.url("/v1/conversations/idem/messages"))
            .header("idempotency-key", "retry-1")
            .json(&json!({"text": "我要退货"}))
            .send()
    };
    let first: Reply = send().await.unwrap().json().await.unwrap();
    let again: Reply = send().await.unwrap().json().await.unwrap();
    assert!(!first.replayed && again.replayed);
    assert_eq!((first.turn, first.messages.clone()), (again.turn, again.messages));
    let state: Value = c.get(s.url("/v1/conversations/idem")).send().await.unwrap().json().await.unwrap();
    assert_eq!(state["turns"], 1, "the retry did not run a second turn");
}

#[tokio::test]
async fn a_new_bot_version_loads_and_activates_under_load_without_a_failed_turn() {
    let s = ServerProcess::start(&["--demo"], &[]).await;
    let c = reqwest::Client::new();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for w in 0..4 {
        let (c, url, stop) = (c.clone(), s.url(""), stop.clone());
        clients.push(tokio::spawn(async move {
            let (mut ok, mut versions) = (0, std::collections::BTreeSet::new());
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                for text in ["我要退货", "SO123456"] {
                    let r = c
                        .post(format!("{url}/v1/conversations/load-{w}-{n}/messages"))
                        .json(&json!({"text": text}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200, "a turn failed during the swap");
                    let reply: Reply = r.json().await.unwrap();
                    assert!(!reply.messages.is_empty());
                    versions.insert(reply.bot_version.unwrap());
                    ok += 1;
                }
            }
            (ok, versions)
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = c
        .post(s.url("/v1/admin/bots"))
        .json(&json!({"version": "v2", "path": "shop", "activate": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut all = std::collections::BTreeSet::new();
    let mut turns = 0;
    for client in clients {
        let (ok, versions) = client.await.unwrap();
        turns += ok;
        all.extend(versions);
    }
    assert!(turns > 20, "{turns}");
    assert_eq!(all.into_iter().collect::<Vec<_>>(), ["v1", "v2"]);
    let versions: Value = c.get(s.url("/v1/admin/bots")).send().await.unwrap().json().await.unwrap();
    assert_eq!(versions["versions"][1]["active"], true, "{versions}");
    // paths outside the bot root are refused
    let r = c.post(s.url("/v1/admin/bots")).json(&json!({"version": "v3", "path": "../../"})).send().await.unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn openapi_document_describes_the_real_responses() {
    let s = ServerProcess::start(&["--demo"], &[]).await;
    let c = reqwest::Client::new();
    let doc: Value = c.get(s.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let schema = |path: &str, method: &str, status: &str| -> Value {
        doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"].clone()
    };
    let reply = say(&c, &s, "oa", "我要退货").await;
    let reply = serde_json::to_value(reply).unwrap();
    openapi_check::validate(&doc, &schema("/v1/conversations/{id}/messages", "post", "200"), &reply, "$").unwrap();
    let state: Value = c.get(s.url("/v1/conversations/oa")).send().await.unwrap().json().await.unwrap();
    openapi_check::validate(&doc, &schema("/v1/conversations/{id}", "get", "200"), &state, "$").unwrap();
    let (_, err) = post(&c, &s, "oa", json!({"txt": 1})).await;
    openapi_check::validate(&doc, &schema("/v1/conversations/{id}/messages", "post", "400"), &err, "$").unwrap();
    let versions: Value = c.get(s.url("/v1/admin/bots")).send().await.unwrap().json().await.unwrap();
    openapi_check::validate(&doc, &schema("/v1/admin/bots", "get", "200"), &versions, "$").unwrap();
    let ready: Value = c.get(s.url("/readyz")).send().await.unwrap().json().await.unwrap();
    openapi_check::validate(&doc, &schema("/readyz", "get", "200"), &ready, "$").unwrap();
    // the checker does catch a mismatch
    let mut broken = reply.clone();
    broken["turn"] = json!("one");
    assert!(
        openapi_check::validate(&doc, &schema("/v1/conversations/{id}/messages", "post", "200"), &broken, "$").is_err()
    );
}

/// A small JSON Schema checker for the subset the OpenAPI document uses ($ref, type, enum,
/// const, required, properties, additionalProperties: false, items, oneOf, minimum, maximum).
mod openapi_check {
    use serde_json::Value;

    pub fn validate(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let mut target = doc;
            for part in r.trim_start_matches("#/").split('/') {
                target = &target[part];
            }
            return validate(doc, target, value, at);
        }
        if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
            let ok = options.iter().filter(|o| validate(doc, o, value, at).is_ok()).count();
            return if ok == 1 { Ok(()) } else { Err(format!("{at}: matches {ok} of oneOf")) };
        }
        if let Some(t) = schema.get("type") {
            let types: Vec<&str> = match t {
                Value::String(s) => vec![s.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            let actual = match value {
                Value::Null => "null",
                Value::Bool(_) => "boolean",
                Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
            };
            if !types.iter().any(|t| *t == actual || (*t == "number" && actual == "integer")) {
                return Err(format!("{at}: expected {types:?}, got {actual}"));
            }
        }
        if let Some(e) = schema.get("enum").and_then(Value::as_array) {
            if !e.contains(value) {
                return Err(format!("{at}: {value} not in {e:?}"));
            }
        }
        if let Some(c) = schema.get("const") {
            if c != value {
                return Err(format!("{at}: expected {c}, got {value}"));
            }
        }
        if let (Some(min), Some(n)) = (schema.get("minimum").and_then(Value::as_f64), value.as_f64()) {
            if n < min {
                return Err(format!("{at}: {n} < {min}"));
            }
        }
        if let Value::Object(obj) = value {
            for r in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
                let key = r.as_str().unwrap_or_default();
                if !obj.contains_key(key) {
                    return Err(format!("{at}: missing required `{key}`"));
                }
            }
            let props = schema.get("properties").and_then(Value::as_object);
            for (k, v) in obj {
                match props.and_then(|p| p.get(k)) {
                    Some(s) => validate(doc, s, v, &format!("{at}.{k}"))?,
                    None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                        return Err(format!("{at}: unexpected property `{k}`"));
                    }
                    None => {}
                }
            }
        }
        if let (Value::Array(items), Some(s)) = (value, schema.get("items")) {
            for (i, item) in items.iter().enumerate() {
                validate(doc, s, item, &format!("{at}[{i}]"))?;
            }
        }
        Ok(())
    }
}

#[tokio::test]
async fn the_probe_reports_readiness_for_container_health_checks() {
    let s = ServerProcess::start(&["--demo"], &[]).await;
    let port = s.base.rsplit(':').next().unwrap().to_string();
    let probe = |port: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_kefu-server"))
            .args(["--probe", "--port", port])
            .output()
            .unwrap()
    };
    assert!(probe(&port).status.success());
    drop(s);
    let closed = probe(&port);
    assert!(!closed.status.success(), "a stopped server is not ready");
}

/// A chat-completions endpoint (the OpenAI streaming protocol) on a free port that answers
/// every request with `pieces`, recording the requests' bodies and `Authorization` headers.
async fn start_fake_llm(
    pieces: &'static [&'static str],
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<(Value, String)>>>) {
    use axum::response::IntoResponse;
    let seen: std::sync::Arc<std::sync::Mutex<Vec<(Value, String)>>> = Default::default();
    let recorded = seen.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::Json<Value>| {
            let recorded = recorded.clone();
            async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                recorded.lock().unwrap().push((body.0, auth));
                let mut sse = String::new();
                for p in pieces {
                    let chunk = json!({"choices": [{"index": 0, "delta": {"content": p}}]});
                    sse.push_str(&format!("data: {chunk}\n\n"));
                }
                sse.push_str("data: [DONE]\n\n");
                ([("content-type", "text/event-stream")], sse).into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn faq_answers_written_by_an_llm_stream_as_deltas() {
    const PIECES: &[&str] = &["We accept ", "cards, ", "Alipay and ", "WeChat Pay [1]."];
    let (llm_url, seen) = start_fake_llm(PIECES).await;
    let config = std::env::temp_dir().join(format!("kefu-llm-{}.yaml", std::process::id()));
    let bot = repo().join("examples/bots/shop");
    std::fs::write(
        &config,
        format!(
            "tenants:\n  default:\n    bot: {}\n    llm:\n      chat: {{base_url: \"{llm_url}\", model: test-model, api_key_env: [KEFU_TEST_LLM_KEY], max_retries: 0}}\n      answers: {{instructions: Be warm.}}\n",
            bot.display()
        ),
    )
    .unwrap();
    let s =
        ServerProcess::start(&["--config", config.to_str().unwrap()], &[("KEFU_TEST_LLM_KEY", "sk-test-123")]).await;
    let c = reqwest::Client::new();
    let resp = c
        .post(s.url("/v1/conversations/llm-1/messages"))
        .header("accept", "text/event-stream")
        .json(&json!({"text": "what payment methods do you accept?"}))
        .send()
        .await
        .unwrap();
    let events = read_sse(resp, |v| v["type"] == "done").await;
    let deltas: Vec<&str> =
        events.iter().filter(|e| e["type"] == "delta").map(|e| e["text"].as_str().unwrap()).collect();
    assert_eq!(deltas, PIECES, "{events:?}");
    let first_message = events.iter().position(|e| e["type"] == "message").unwrap();
    assert!(first_message > deltas.len() - 1, "deltas come before the message: {events:?}");
    let done = events.last().unwrap();
    let message = &done["reply"]["messages"][0];
    assert_eq!(message["text"], PIECES.concat());
    assert!(message["faq_id"].as_str().is_some_and(|id| !id.is_empty()), "{message}");

    // The model saw the retrieved entry, the tenant's instructions and the key from the env.
    let (body, auth) = seen.lock().unwrap()[0].clone();
    assert_eq!((body["model"].as_str(), body["stream"].as_bool()), (Some("test-model"), Some(true)));
    assert!(body["messages"][0]["content"].as_str().unwrap().contains("Be warm."), "{body}");
    assert!(body["messages"][1]["content"].as_str().unwrap().contains("[1] Q:"), "{body}");
    assert_eq!(auth, "Bearer sk-test-123");

    // REST gets the same written answer in one piece; non-FAQ turns never call the model.
    let r = say(&c, &s, "llm-2", "what payment methods do you accept?").await;
    assert_eq!(r.messages[0].text, PIECES.concat());
    let calls = seen.lock().unwrap().len();
    let r = say(&c, &s, "llm-3", "I want to return my shoes").await;
    assert_eq!(r.flow.as_deref(), Some("returns"));
    assert_eq!(seen.lock().unwrap().len(), calls);
    let _ = std::fs::remove_file(&config);
}
