//! Webhook actions against a real local HTTP server (run with `--features webhook`).
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "webhook")]

use kefu_core::action::{is_public_ip, ActionCall, ActionError, ActionHandler, WebhookHandler, WebhookPolicy};
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

/// The test servers listen on loopback, which webhooks may reach only when allow-listed.
fn local(name: &str, spec: WebhookAction) -> WebhookHandler {
    WebhookHandler::with_policy(name.into(), spec, WebhookPolicy::default().allow_host("127.0.0.1")).unwrap()
}

#[tokio::test]
async fn posts_the_call_and_reads_the_outcome() {
    let (url, mut requests) =
        server("200 OK", r#"{"slots": {"return_id": "R-1"}, "texts": ["已创建退货单 R-1"]}"#, Duration::ZERO).await;
    let h = local("create_return", spec(url, 2000));
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
    let h = local("slow", spec(url, 200));
    assert!(matches!(h.run(&call()).await, Err(ActionError::Timeout { millis: 200, .. })));
}

#[tokio::test]
async fn http_errors_and_bad_bodies_are_failures() {
    let (url, _rx) = server("500 Internal Server Error", "{}", Duration::ZERO).await;
    let h = local("broken", spec(url, 2000));
    assert!(matches!(h.run(&call()).await, Err(ActionError::Failed { .. })));
    let (url, _rx) = server("200 OK", "not json", Duration::ZERO).await;
    let h = local("garbled", spec(url, 2000));
    let err = h.run(&call()).await.unwrap_err();
    assert!(err.to_string().contains("bad response body"), "{err}");
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allow_listed() {
    let (url, mut requests) = server("200 OK", "{}", Duration::ZERO).await;
    let port = url.trim_start_matches("http://127.0.0.1:").trim_end_matches("/hook").to_string();
    for target in [
        url.clone(),
        format!("http://localhost:{port}/hook"),
        format!("http://[::1]:{port}/hook"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://10.1.2.3/hook".to_string(),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        "file:///etc/passwd".to_string(),
    ] {
        let h = WebhookHandler::new("guarded".into(), spec(target.clone(), 2000)).unwrap();
        let err = h.run(&call()).await.unwrap_err();
        assert!(matches!(err, ActionError::Failed { .. }), "{target}: {err}");
    }
    assert!(requests.try_recv().is_err(), "a refused webhook sent nothing");
    // allow-listed by name: `localhost` resolves to loopback and is let through
    let by_name = format!("http://localhost:{port}/hook");
    let h = WebhookHandler::with_policy(
        "listed".into(),
        spec(by_name, 2000),
        WebhookPolicy::default().allow_host("LOCALHOST"),
    )
    .unwrap();
    h.run(&call()).await.unwrap();
    assert!(requests.recv().await.is_some());
    let h = WebhookHandler::with_policy("open".into(), spec(url, 2000), WebhookPolicy::permissive()).unwrap();
    h.run(&call()).await.unwrap();
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (url, _rx) = server("302 Found\r\nlocation: http://169.254.169.254/", "{}", Duration::ZERO).await;
    let err = local("redirected", spec(url, 2000)).run(&call()).await.unwrap_err();
    assert!(err.to_string().contains("redirect"), "{err}");
}

#[test]
fn public_and_private_addresses() {
    for private in [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00:ec2::254",
        "::ffff:10.0.0.1",
    ] {
        assert!(!is_public_ip(private.parse().unwrap()), "{private}");
    }
    for public in [
        "1.1.1.1",
        "8.8.8.8",
        "192.0.78.9",
        "2606:4700:4700::1111",
        "::ffff:1.1.1.1",
        "64:ff9b::101:101",
        "2002:101:101::1",
    ] {
        assert!(is_public_ip(public.parse().unwrap()), "{public}");
    }
}

#[tokio::test]
async fn header_secrets_come_only_from_the_allowed_environment_prefix() {
    let (url, mut requests) = server("200 OK", "{}", Duration::ZERO).await;
    // Variable names unique to this test.
    std::env::set_var("KEFU_WEBHOOK_ACME_TOKEN", "acme-token");
    std::env::set_var("KEFU_TEST_SERVER_SECRET", "server-secret");
    let with_header = |var: &str| WebhookAction {
        url: url.clone(),
        timeout_ms: 2000,
        headers: [("authorization".to_string(), format!("${var}"))].into(),
    };
    let policy = WebhookPolicy { env_prefix: Some("KEFU_WEBHOOK_ACME_".into()), ..WebhookPolicy::default() }
        .allow_host("127.0.0.1");
    let h = WebhookHandler::with_policy("ok".into(), with_header("KEFU_WEBHOOK_ACME_TOKEN"), policy.clone()).unwrap();
    h.run(&call()).await.unwrap();
    assert!(requests.recv().await.is_some());
    let h = WebhookHandler::with_policy("steal".into(), with_header("KEFU_TEST_SERVER_SECRET"), policy).unwrap();
    let err = h.run(&call()).await.unwrap_err();
    assert!(err.to_string().contains("may read"), "{err}");
    assert!(requests.try_recv().is_err(), "nothing was sent");
}
