//! Webhook actions against a real local HTTP server (run with `--features webhook`).
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "webhook")]

use kefu_core::action::{ActionCall, ActionError, ActionHandler, WebhookHandler};
use kefu_core::bot::WebhookAction;
use kefu_core::Language;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A one-route HTTP/1.1 server on 127.0.0.1:0 that answers every request with `body` after
/// `delay`, and reports the request bodies it received. Stopped when the test ends.
async fn server(
    status: &'static str,
    body: &'static str,
    delay: Duration,
) -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(i) = text.find("\r\n\r\n") {
                        let len = text[..i]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buf.len() >= i + 4 + len {
                            let _ = tx.send(text[i + 4..].to_string());
                            break;
                        }
                    }
                }
                tokio::time::sleep(delay).await;
                let resp = format!("HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                let _ = sock.write_all(resp.as_bytes()).await;
            });
        }
    });
    (url, rx)
}

fn call() -> ActionCall {
    ActionCall {
        action: "create_return".into(),
        tenant: "t".into(),
        conversation_id: "c".into(),
        user_id: "u".into(),
        channel: "web".into(),
        language: Language::Zh,
        text: "是的".into(),
        intent: Some("affirm".into()),
        entities: vec![],
        slots: [("order_id".to_string(), serde_json::json!("SO123456"))].into(),
        metadata: Default::default(),
    }
}

fn spec(url: String, timeout_ms: u64) -> WebhookAction {
    WebhookAction { url, timeout_ms, headers: [("x-api-key".to_string(), "secret".to_string())].into() }
}

#[tokio::test]
async fn posts_the_call_and_reads_the_outcome() {
    let (url, mut requests) =
        server("200 OK", r#"{"slots": {"return_id": "R-1"}, "texts": ["已创建退货单 R-1"]}"#, Duration::ZERO).await;
    let h = WebhookHandler::new("create_return".into(), spec(url, 2000)).unwrap();
    let out = h.run(&call()).await.unwrap();
    assert_eq!(out.slots["return_id"], "R-1");
    assert_eq!(out.texts, vec!["已创建退货单 R-1"]);
    let sent: serde_json::Value = serde_json::from_str(&requests.recv().await.unwrap()).unwrap();
    assert_eq!(sent["slots"]["order_id"], "SO123456");
    assert_eq!(sent["action"], "create_return");
}

#[tokio::test]
async fn times_out() {
    let (url, _rx) = server("200 OK", "{}", Duration::from_secs(3)).await;
    let h = WebhookHandler::new("slow".into(), spec(url, 200)).unwrap();
    assert!(matches!(h.run(&call()).await, Err(ActionError::Timeout { millis: 200, .. })));
}

#[tokio::test]
async fn http_errors_and_bad_bodies_are_failures() {
    let (url, _rx) = server("500 Internal Server Error", "{}", Duration::ZERO).await;
    let h = WebhookHandler::new("broken".into(), spec(url, 2000)).unwrap();
    assert!(matches!(h.run(&call()).await, Err(ActionError::Failed { .. })));
    let (url, _rx) = server("200 OK", "not json", Duration::ZERO).await;
    let h = WebhookHandler::new("garbled".into(), spec(url, 2000)).unwrap();
    let err = h.run(&call()).await.unwrap_err();
    assert!(err.to_string().contains("bad response body"), "{err}");
}
