//! Tenants and security on the real binary: API keys and roles, JSON Web Tokens (HS256 and
//! RS256) bound to their user, a key of one tenant never reaching another's conversations on
//! any endpoint, rate limits, and graceful shutdown with a turn in flight.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use futures_util::{SinkExt, StreamExt};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::{repo, ServerProcess};
use tokio_tungstenite::tungstenite::Message;

const ACME_CLIENT: &str = "acme-client-key-0123456789";
const ACME_ADMIN: &str = "acme-admin-key-0123456789";
const GLOBEX_ADMIN: &str = "globex-admin-key-0123456789";
const GLOBEX_AGENT: &str = "globex-agent-key-0123456789";
const ACME_JWT_SECRET: &str = "acme-jwt-secret-0123456789-0123456789";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kefu-server").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn two_tenants(name: &str, extra: &str) -> ServerProcess {
    let dir = scratch(name);
    let shop = repo().join("examples/bots/shop");
    let config = format!(
        r#"
json_logs: false
{extra}
tenants:
  acme:
    bot: {shop}
    keys:
      - {{env: ACME_CLIENT, role: client}}
      - {{env: ACME_ADMIN, role: admin}}
    jwt:
      hs256_secret: {{env: ACME_JWT}}
      rs256_public_key: {{file: {pem}}}
      issuer: acme-auth
  globex:
    bot: {shop}
    keys:
      - {{env: GLOBEX_ADMIN, role: admin}}
      - {{env: GLOBEX_AGENT, role: agent}}
"#,
        shop = shop.display(),
        pem = fixtures().join("jwt-test-rsa.pub.pem").display()
    );
    let path = dir.join("config.yaml");
    std::fs::write(&path, config).unwrap();
    ServerProcess::start(
        &["--config", path.to_str().unwrap()],
        &[
            ("ACME_CLIENT", ACME_CLIENT),
            ("ACME_ADMIN", ACME_ADMIN),
            ("GLOBEX_ADMIN", GLOBEX_ADMIN),
            ("GLOBEX_AGENT", GLOBEX_AGENT),
            ("ACME_JWT", ACME_JWT_SECRET),
        ],
    )
    .await
}

async fn call(
    c: &Client,
    s: &ServerProcess,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = c.request(method, s.url(path)).bearer_auth(key);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn token(claims: Value, alg: Algorithm) -> String {
    let key = match alg {
        Algorithm::HS256 => EncodingKey::from_secret(ACME_JWT_SECRET.as_bytes()).unwrap(),
        _ => EncodingKey::from_rsa_pem(&std::fs::read(fixtures().join("jwt-test-rsa.pem")).unwrap()).unwrap(),
    };
    encode(&Header::new(alg), &claims, &key).unwrap()
}

fn exp(in_secs: i64) -> i64 {
    chrono::Utc::now().timestamp() + in_secs
}

#[tokio::test]
async fn a_tenants_key_never_reaches_another_tenants_conversations_on_any_endpoint() {
    let s = two_tenants("isolation", "").await;
    let c = Client::new();
    // Globex has a conversation in a form and one handed off to an agent.
    let (st, r) = call(
        &c,
        &s,
        GLOBEX_ADMIN,
        Method::POST,
        "/v1/conversations/g-1/messages",
        Some(json!({"text": "我要退货", "user_id": "gu"})),
    )
    .await;
    assert_eq!(st, 200, "{r}");
    call(
        &c,
        &s,
        GLOBEX_ADMIN,
        Method::POST,
        "/v1/conversations/g-1/messages",
        Some(json!({"text": "SO123456", "user_id": "gu"})),
    )
    .await;
    let (_, r) = call(
        &c,
        &s,
        GLOBEX_ADMIN,
        Method::POST,
        "/v1/conversations/g-2/messages",
        Some(json!({"text": "转人工", "user_id": "gu"})),
    )
    .await;
    assert_eq!(r["handoff"], true, "{r}");
    let globex_state = || async {
        let (st, v) = call(&c, &s, GLOBEX_ADMIN, Method::GET, "/v1/conversations/g-1", None).await;
        assert_eq!(st, 200);
        (v["turns"].clone(), v["slots"].clone())
    };
    let before = globex_state().await;

    // ACME's admin (every role) on every endpoint with Globex's ids: its own namespace only.
    for (method, path, body, ok) in [
        (Method::GET, "/v1/conversations/g-1", None, 404),
        (Method::GET, "/v1/conversations/g-2", None, 404),
        (Method::DELETE, "/v1/conversations/g-1", None, 404),
        (Method::POST, "/v1/agent/conversations/g-2/messages", Some(json!({"text": "hi from acme"})), 404),
        (Method::POST, "/v1/agent/conversations/g-2/release", None, 404),
        (Method::DELETE, "/v1/admin/bots/v1", None, 400),
        (Method::POST, "/v1/admin/bots/v9/activate", None, 404),
    ] {
        let (st, v) = call(&c, &s, ACME_ADMIN, method.clone(), path, body).await;
        assert_eq!(st, ok, "{method} {path}: {v}");
        assert!(v["code"].is_string(), "{method} {path}: {v}");
    }
    let (_, queue) = call(&c, &s, ACME_ADMIN, Method::GET, "/v1/agent/conversations", None).await;
    assert_eq!(queue["conversations"], json!([]), "ACME sees no Globex hand-off");
    let (_, export) = call(&c, &s, ACME_ADMIN, Method::GET, "/v1/admin/users/gu", None).await;
    assert_eq!(export["sessions"][0]["sessions"], json!([]), "{export}");
    let (st, _) = call(&c, &s, ACME_ADMIN, Method::DELETE, "/v1/admin/users/gu", None).await;
    assert_eq!(st, 200);
    // writing the same id creates ACME's own conversation
    let (_, r) =
        call(&c, &s, ACME_ADMIN, Method::POST, "/v1/conversations/g-1/messages", Some(json!({"text": "你好"}))).await;
    assert_eq!((r["tenant"].as_str(), r["turn"].as_u64()), (Some("acme"), Some(1)), "{r}");
    assert!(r["slots"].as_object().unwrap().is_empty());
    // streams: ACME watching g-2 sees nothing of Globex's agent writing there
    let watch = c.get(s.url("/v1/conversations/g-2/stream")).bearer_auth(ACME_ADMIN).send().await.unwrap();
    assert_eq!(watch.status(), 200);
    let mut acme_stream = watch.bytes_stream();
    let (st, _) = call(
        &c,
        &s,
        GLOBEX_AGENT,
        Method::POST,
        "/v1/agent/conversations/g-2/messages",
        Some(json!({"text": "Globex agent here"})),
    )
    .await;
    assert_eq!(st, 200);
    let leaked = tokio::time::timeout(Duration::from_millis(600), async {
        while let Some(Ok(chunk)) = acme_stream.next().await {
            if String::from_utf8_lossy(&chunk).contains("Globex agent") {
                return true;
            }
        }
        false
    })
    .await;
    assert!(!matches!(leaked, Ok(true)), "an ACME stream received Globex's agent message");
    // the WebSocket is scoped the same way
    let (mut ws, _) =
        tokio_tungstenite::connect_async(s.ws_url(&format!("/v1/ws?api_key={ACME_CLIENT}"))).await.unwrap();
    ws.send(Message::Text(json!({"conversation_id": "g-1", "text": "hello"}).to_string().into())).await.unwrap();
    loop {
        let v: Value = serde_json::from_str(ws.next().await.unwrap().unwrap().to_text().unwrap()).unwrap();
        if v["type"] == "done" {
            assert_eq!(v["reply"]["tenant"], "acme");
            break;
        }
    }
    // Globex's conversations are untouched.
    assert_eq!(globex_state().await, before);
    let (st, _) = call(&c, &s, GLOBEX_ADMIN, Method::GET, "/v1/conversations/g-2", None).await;
    assert_eq!(st, 200);
    let (_, versions) = call(&c, &s, ACME_ADMIN, Method::GET, "/v1/admin/bots", None).await;
    assert_eq!(versions["versions"].as_array().unwrap().len(), 1);

    // Naming the other tenant with one's key is refused everywhere.
    for (method, path) in [
        (Method::POST, "/v1/conversations/g-1/messages"),
        (Method::GET, "/v1/conversations/g-1"),
        (Method::DELETE, "/v1/conversations/g-1"),
        (Method::GET, "/v1/conversations/g-1/stream"),
        (Method::GET, "/v1/ws"),
        (Method::GET, "/v1/agent/conversations"),
        (Method::POST, "/v1/agent/conversations/g-2/messages"),
        (Method::POST, "/v1/agent/conversations/g-2/release"),
        (Method::GET, "/v1/admin/bots"),
        (Method::POST, "/v1/admin/bots"),
        (Method::DELETE, "/v1/admin/bots/v1"),
        (Method::POST, "/v1/admin/bots/v1/activate"),
        (Method::PUT, "/v1/admin/split"),
        (Method::DELETE, "/v1/admin/split"),
        (Method::GET, "/v1/admin/users/gu"),
        (Method::DELETE, "/v1/admin/users/gu"),
        (Method::POST, "/v1/channels/chatwoot"),
    ] {
        let r = c
            .request(method.clone(), s.url(path))
            .bearer_auth(ACME_ADMIN)
            .header("x-kefu-tenant", "globex")
            .json(&json!({"text": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{method} {path}");
        // no key, and a wrong key
        let r = c.request(method.clone(), s.url(path)).json(&json!({"text": "x"})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{method} {path} without a key");
        let r = c.request(method.clone(), s.url(path)).bearer_auth("wrong-key-0123456789").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{method} {path} with a wrong key");
    }
    assert_eq!(globex_state().await, before);

    // Roles: a client key cannot use agent or admin endpoints.
    for (method, path) in [
        (Method::GET, "/v1/agent/conversations"),
        (Method::POST, "/v1/agent/conversations/x/release"),
        (Method::GET, "/v1/admin/bots"),
        (Method::GET, "/v1/admin/users/u"),
    ] {
        let (st, v) = call(&c, &s, ACME_CLIENT, method.clone(), path, None).await;
        assert_eq!((st, v["code"].as_str()), (403, Some("forbidden")), "{method} {path}");
    }
    let (st, _) = call(&c, &s, GLOBEX_AGENT, Method::GET, "/v1/admin/bots", None).await;
    assert_eq!(st, 403, "an agent is not an admin");
    // health, readiness and metrics stay open for probes
    assert_eq!(c.get(s.url("/readyz")).send().await.unwrap().status(), 200);
    assert_eq!(c.get(s.url("/metrics")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn tokens_bind_a_caller_to_its_user_and_are_checked() {
    let s = two_tenants("tokens", "").await;
    let c = Client::new();
    let u1 = token(json!({"sub": "u1", "exp": exp(600), "iss": "acme-auth"}), Algorithm::HS256);
    let u2 = token(json!({"sub": "u2", "exp": exp(600), "iss": "acme-auth"}), Algorithm::RS256);
    let (st, r) = call(
        &c,
        &s,
        &u1,
        Method::POST,
        "/v1/conversations/mine/messages",
        Some(json!({"text": "我要退货", "user_id": "someone-else"})),
    )
    .await;
    assert_eq!(st, 200, "{r}");
    let (_, state) = call(&c, &s, ACME_ADMIN, Method::GET, "/v1/conversations/mine", None).await;
    assert_eq!(state["user_id"], "u1", "the token's subject, not the body's user_id");
    // u2 (an RS256 token) cannot see or speak in u1's conversation
    for (method, path, body) in [
        (Method::GET, "/v1/conversations/mine", None),
        (Method::DELETE, "/v1/conversations/mine", None),
        (Method::GET, "/v1/conversations/mine/stream", None),
        (Method::POST, "/v1/conversations/mine/messages", Some(json!({"text": "SO123456"}))),
    ] {
        let (st, v) = call(&c, &s, &u2, method.clone(), path, body).await;
        assert_eq!((st, v["code"].as_str()), (404, Some("conversation_not_found")), "{method} {path}");
    }
    let (st, _) =
        call(&c, &s, &u2, Method::POST, "/v1/conversations/theirs/messages", Some(json!({"text": "hello"}))).await;
    assert_eq!(st, 200, "an RS256 token works for its own conversations");
    let (st, v) = call(&c, &s, &u1, Method::GET, "/v1/conversations/mine", None).await;
    assert_eq!((st, v["turns"].as_u64()), (200, Some(1)));
    let (st, _) = call(&c, &s, &u1, Method::GET, "/v1/admin/bots", None).await;
    assert_eq!(st, 403, "tokens are clients unless they say otherwise");

    for (what, bad) in [
        ("expired", token(json!({"sub": "u1", "exp": exp(-3600), "iss": "acme-auth"}), Algorithm::HS256)),
        ("wrong issuer", token(json!({"sub": "u1", "exp": exp(600), "iss": "evil"}), Algorithm::HS256)),
        ("no issuer", token(json!({"sub": "u1", "exp": exp(600)}), Algorithm::HS256)),
        ("no expiry", token(json!({"sub": "u1", "iss": "acme-auth"}), Algorithm::HS256)),
        (
            "other tenant",
            token(json!({"sub": "u1", "exp": exp(600), "iss": "acme-auth", "tenant": "globex"}), Algorithm::HS256),
        ),
        (
            "wrong secret",
            encode(
                &Header::new(Algorithm::HS256),
                &json!({"sub": "u1", "exp": exp(600), "iss": "acme-auth"}),
                &EncodingKey::from_secret(b"not-the-secret-not-the-secret-0123").unwrap(),
            )
            .unwrap(),
        ),
        ("tampered", format!("{}x", &u1[..u1.len() - 1])),
    ] {
        let (st, v) = call(&c, &s, &bad, Method::GET, "/v1/conversations/mine", None).await;
        assert_eq!((st, v["code"].as_str()), (401, Some("unauthorized")), "{what}");
    }
}

#[tokio::test]
async fn customers_over_their_rate_get_429() {
    let s = two_tenants("rate", "rate_limits: {user_per_minute: 30}").await;
    let c = Client::new();
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let (st, v) =
            call(&c, &s, ACME_CLIENT, Method::POST, "/v1/conversations/fast/messages", Some(json!({"text": "hello"})))
                .await;
        if st == 429 {
            assert_eq!(v["code"], "rate_limited");
        }
        statuses.push(st);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 6, "a burst of 30/5: {statuses:?}");
    assert!(statuses[6..].iter().all(|s| *s == 429), "{statuses:?}");
    let (st, _) =
        call(&c, &s, ACME_CLIENT, Method::POST, "/v1/conversations/slow/messages", Some(json!({"text": "hello"})))
            .await;
    assert_eq!(st, 200, "another customer is not limited");
}

/// A one-route HTTP server that answers after `delay`: a slow webhook.
async fn slow_webhook(delay: Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 8192];
                let _ = sock.read(&mut buf).await;
                tokio::time::sleep(delay).await;
                let body = r#"{"texts": ["slow action done"]}"#;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
            });
        }
    });
    url
}

#[tokio::test]
async fn sigterm_finishes_the_turn_in_flight_then_exits() {
    let url = slow_webhook(Duration::from_millis(1500)).await;
    let dir = scratch("graceful");
    let bot = dir.join("bot");
    std::fs::create_dir_all(&bot).unwrap();
    let mini = std::fs::read_to_string(repo().join("crates/core/tests/fixtures/mini/bot.yaml")).unwrap();
    let with_webhook = mini.replace(
        "  increment:\n    code: true",
        &format!("  increment:\n    webhook: {{url: \"{url}\", timeout_ms: 5000}}"),
    );
    assert_ne!(mini, with_webhook, "the fixture's code action was replaced");
    std::fs::write(bot.join("bot.yaml"), with_webhook).unwrap();
    let config = dir.join("config.yaml");
    std::fs::write(
        &config,
        format!("json_logs: false\nshutdown_grace_secs: 10\ntenants:\n  default:\n    bot: {}\n    webhook_hosts: [127.0.0.1]\n", bot.display()),
    )
    .unwrap();
    let mut s = ServerProcess::start(&["--config", config.to_str().unwrap()], &[]).await;
    let c = Client::new();
    let in_flight = tokio::spawn({
        let (c, url) = (c.clone(), s.url("/v1/conversations/slow/messages"));
        async move { c.post(url).json(&json!({"text": "add one"})).send().await }
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let killed = std::process::Command::new("kill").args(["-TERM", &s.pid().to_string()]).status().unwrap();
    assert!(killed.success());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(c.get(s.url("/healthz")).send().await.is_err(), "no new connections while draining");
    let reply = in_flight.await.unwrap().expect("the in-flight turn got its answer");
    assert_eq!(reply.status(), 200);
    let reply: Value = reply.json().await.unwrap();
    assert!(reply["messages"].to_string().contains("slow action done"), "{reply}");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = s.child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the server did not exit within the grace period");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn https_with_a_configured_certificate() {
    let dir = scratch("tls");
    let config = dir.join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "json_logs: false\ntls: {{cert_file: {}, key_file: {}}}\ntenants:\n  default:\n    bot: {}\n",
            fixtures().join("tls-test-cert.pem").display(),
            fixtures().join("tls-test-key.pem").display(),
            repo().join("examples/bots/shop").display()
        ),
    )
    .unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kefu-server"))
        .args(["--config", config.to_str().unwrap(), "--port", "0"])
        .env("KEFU_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut server = support::ServerProcess { child, base: String::new() }; // stopped on drop
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(server.child.stdout.take().unwrap()), &mut line).unwrap();
    let base = line.trim().rsplit(' ').next().unwrap().to_string();
    server.base = base.clone();
    assert!(base.starts_with("https://127.0.0.1:"), "{line}");
    let cert = reqwest::Certificate::from_pem(&std::fs::read(fixtures().join("tls-test-cert.pem")).unwrap()).unwrap();
    let client = Client::builder().add_root_certificate(cert).build().unwrap();
    let mut ready = false;
    for _ in 0..500 {
        if client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ready, "the HTTPS server never became ready");
    let r = client
        .post(format!("{base}/v1/conversations/tls/messages"))
        .json(&json!({"text": "我要退货"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["flow"], "returns");
    // plain HTTP on the TLS port gets no answer, and an untrusting client refuses the certificate
    let plain = Client::new()
        .get(base.replacen("https://", "http://", 1) + "/readyz")
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(plain.map(|r| r.status() != 200).unwrap_or(true));
    assert!(Client::new().get(format!("{base}/readyz")).send().await.is_err());
    drop(server);
}
