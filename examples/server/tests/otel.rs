//! Trace export (feature `otel`): the real binary sends its spans to an OTLP/HTTP collector —
//! here a server on a free port that keeps what it receives — and flushes them on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::ServerProcess;

/// Every span in the received OTLP/JSON bodies: its name and the span object.
fn spans(bodies: &[Value]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for body in bodies {
        for rs in body["resourceSpans"].as_array().into_iter().flatten() {
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for span in ss["spans"].as_array().into_iter().flatten() {
                    out.push((span["name"].as_str().unwrap_or("").to_string(), span.clone()));
                }
            }
        }
    }
    out
}

fn attribute<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["attributes"].as_array()?.iter().find(|a| a["key"] == key).map(|a| &a["value"])
}

#[tokio::test]
async fn turns_and_requests_are_exported_as_spans_without_message_text() {
    let received: Arc<Mutex<Vec<Value>>> = Default::default();
    let kept = received.clone();
    let collector = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| {
            let kept = kept.clone();
            async move {
                kept.lock().unwrap().push(serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null));
                axum::Json(json!({}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/v1/traces", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, collector).await.unwrap() });

    let mut s = ServerProcess::start(&["--demo", "--otel-endpoint", &endpoint], &[]).await;
    let c = reqwest::Client::new();
    let r = c
        .post(s.url("/v1/conversations/traced/messages"))
        .json(&json!({"text": "I want to return my shoes, my phone is 13800138000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let killed = std::process::Command::new("kill").args(["-TERM", &s.pid().to_string()]).status().unwrap();
    assert!(killed.success());
    let exited = tokio::task::spawn_blocking(move || s.child.wait()).await.unwrap().unwrap();
    assert!(exited.success(), "{exited:?}");
    tokio::time::sleep(Duration::from_millis(100)).await;

    let bodies = received.lock().unwrap().clone();
    let spans = spans(&bodies);
    let turn = spans.iter().find(|(name, _)| name == "turn").unwrap_or_else(|| panic!("no turn span in {bodies:?}"));
    assert_eq!(attribute(&turn.1, "tenant").unwrap()["stringValue"], "default");
    assert_eq!(attribute(&turn.1, "intent").unwrap()["stringValue"], "request_return");
    assert!(attribute(&turn.1, "nlu_ms").is_some() && attribute(&turn.1, "store_ms").is_some(), "{turn:?}");
    let request = spans
        .iter()
        .find(|(name, span)| {
            name == "http_request"
                && attribute(span, "http.route").is_some_and(|r| r["stringValue"] == "/v1/conversations/{id}/messages")
        })
        .unwrap_or_else(|| panic!("{spans:?}"));
    let status = attribute(&request.1, "http.status_code").unwrap();
    assert!(status["intValue"] == "200" || status["intValue"] == 200, "{status}");
    // The turn is a child of its request.
    assert_eq!(turn.1["traceId"], request.1["traceId"]);
    assert_eq!(turn.1["parentSpanId"], request.1["spanId"]);
    let all = serde_json::to_string(&bodies).unwrap();
    assert!(all.contains("kefu-server"), "service.name is set");
    assert!(!all.contains("13800138000") && !all.contains("return my shoes"), "message text leaked into traces");
}
