//! A test double of a paid chat-completions API: a real HTTP/1.1 server (hyper) on
//! 127.0.0.1:0 that speaks the protocol (JSON answers and SSE streams), answers each request as
//! the test's script says, and records what it received. No test ever reaches a real API.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use kefu_llm::{BreakerConfig, ChatClient, ChatConfig};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// How the double answers one request.
pub enum Reply {
    /// A status and a body (`content-type: application/json`).
    Json(u16, String),
    /// `200` with `text/event-stream`: each piece is written as its own chunk, `gap` apart.
    Sse { pieces: Vec<String>, gap: Duration },
    /// Like `Sse` with raw byte pieces (to split UTF-8 characters across writes).
    SseBytes { pieces: Vec<Vec<u8>>, gap: Duration },
    /// Like `Sse`, then the connection is aborted mid-body.
    SseCut { pieces: Vec<String> },
    /// Headers never come.
    Hang,
    /// Waits, then answers as the inner reply.
    Delayed(Duration, Box<Reply>),
}

/// One request as the double saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub authorization: Option<String>,
    pub body: serde_json::Value,
}

impl Seen {
    pub fn message(&self, i: usize) -> (&str, &str) {
        let m = &self.body["messages"][i];
        (m["role"].as_str().unwrap(), m["content"].as_str().unwrap())
    }
}

type Handler = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

pub struct MockLlm {
    pub base_url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl MockLlm {
    /// Starts the double; `handler(n, request)` decides the answer to the `n`-th request (from 0).
    pub async fn start(handler: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let handler = handler.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| serve(req, handler.clone(), log.clone()));
                    let _ =
                        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(sock), service).await;
                });
            }
        });
        Self { base_url, seen }
    }

    /// Requests received so far.
    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// A client for this double with fast test timings; adjust with `tweak`.
    pub fn client(&self, tweak: impl FnOnce(&mut ChatConfig)) -> ChatClient {
        let mut config = ChatConfig {
            base_url: self.base_url.clone(),
            model: "test-model".into(),
            api_key: Some(kefu_llm::ApiKey::new("sk-test-123")),
            api_key_env: vec![],
            request_timeout_ms: 2_000,
            connect_timeout_ms: 1_000,
            stream_idle_timeout_ms: 2_000,
            max_retries: 2,
            backoff_base_ms: 10,
            backoff_max_ms: 50,
            jitter_seed: 42,
            breaker: BreakerConfig { failure_threshold: 100, cool_down_ms: 1_000 },
            temperature: None,
            max_tokens: None,
        };
        tweak(&mut config);
        ChatClient::new(config).unwrap()
    }
}

async fn serve(
    req: Request<Incoming>,
    handler: Arc<Handler>,
    log: Arc<Mutex<Vec<Seen>>>,
) -> Result<Response<BoxBody<Bytes, std::io::Error>>, Infallible> {
    let path = req.uri().path().to_string();
    let authorization = req.headers().get("authorization").map(|v| v.to_str().unwrap().to_string());
    let raw = req.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&raw).unwrap_or(serde_json::Value::Null);
    let seen = Seen { path, authorization, body };
    let n = {
        let mut log = log.lock().unwrap();
        log.push(seen.clone());
        log.len() - 1
    };
    let mut reply = handler(n, &seen);
    loop {
        match reply {
            Reply::Delayed(d, inner) => {
                tokio::time::sleep(d).await;
                reply = *inner;
            }
            Reply::Hang => {
                tokio::time::sleep(Duration::from_secs(120)).await;
                reply = Reply::Json(200, "{}".into());
            }
            other => return Ok(respond(other)),
        }
    }
}

fn respond(reply: Reply) -> Response<BoxBody<Bytes, std::io::Error>> {
    let sse = |pieces: Vec<Vec<u8>>, gap: Duration, cut: bool| {
        let frames = futures::stream::unfold((pieces.into_iter(), true, cut), move |(mut it, first, cut)| async move {
            match it.next() {
                Some(piece) => {
                    if !first {
                        tokio::time::sleep(gap).await;
                    }
                    Some((Ok(Frame::data(Bytes::from(piece))), (it, false, cut)))
                }
                None if cut => {
                    // Let the last piece reach the client before the abort.
                    tokio::time::sleep(gap.max(Duration::from_millis(30))).await;
                    Some((Err(std::io::Error::other("cut")), (it, false, false)))
                }
                None => None,
            }
        });
        Response::builder()
            .header("content-type", "text/event-stream")
            .header("cache-control", "no-cache")
            .body(BodyExt::boxed(StreamBody::new(frames)))
            .unwrap()
    };
    match reply {
        Reply::Json(status, body) => Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)).map_err(|never| match never {}).boxed())
            .unwrap(),
        Reply::Sse { pieces, gap } => sse(pieces.into_iter().map(String::into_bytes).collect(), gap, false),
        Reply::SseBytes { pieces, gap } => sse(pieces, gap, false),
        Reply::SseCut { pieces } => {
            sse(pieces.into_iter().map(String::into_bytes).collect(), Duration::from_millis(10), true)
        }
        Reply::Hang | Reply::Delayed(..) => unreachable!("resolved in serve"),
    }
}

/// A non-streamed chat-completions answer.
pub fn completion(text: &str) -> Reply {
    Reply::Json(
        200,
        serde_json::json!({
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        })
        .to_string(),
    )
}

/// One SSE event carrying a content delta.
pub fn sse_delta(text: &str) -> String {
    let chunk = serde_json::json!({
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}],
    });
    format!("data: {chunk}\n\n")
}

/// The SSE events of a whole streamed answer: role chunk, one chunk per token, the finish
/// chunk and `[DONE]`, each written separately.
pub fn sse_pieces(tokens: &[&str]) -> Vec<String> {
    let mut pieces =
        vec![format!("data: {}\n\n", serde_json::json!({"choices": [{"index": 0, "delta": {"role": "assistant"}}]}))];
    pieces.extend(tokens.iter().map(|t| sse_delta(t)));
    pieces.push(format!(
        "data: {}\n\n",
        serde_json::json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    ));
    pieces.push("data: [DONE]\n\n".into());
    pieces
}

pub fn sse(tokens: &[&str]) -> Reply {
    Reply::Sse { pieces: sse_pieces(tokens), gap: Duration::from_millis(5) }
}

pub fn status(code: u16) -> Reply {
    Reply::Json(code, format!("{{\"error\": {{\"message\": \"test double says {code}\"}}}}"))
}
