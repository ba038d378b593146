//! `ChatClient`: an OpenAI-compatible `POST {base_url}/chat/completions` client with timeouts,
//! retries (exponential backoff, seeded jitter) and a circuit breaker shared by its clones.

use crate::breaker::{Breaker, BreakerConfig, BreakerState, Permit};
use crate::error::{excerpt, LlmError};
use crate::sse::{Delta, SseParser};
use futures::stream::{BoxStream, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How much of an error body is kept in [`LlmError::Status`].
const BODY_EXCERPT_CHARS: usize = 300;

/// An API key. Its `Debug` output is masked and it is never serialised, so configs and errors
/// can be logged freely.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// Configuration of a [`ChatClient`]. Deserialisable (durations in milliseconds) so it can sit
/// in a bot's or service's YAML; every field has a default.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChatConfig {
    /// API root; requests go to `{base_url}/chat/completions` (e.g. `https://api.openai.com/v1`
    /// or a local vLLM/Ollama server's `/v1`).
    pub base_url: String,
    /// Model name sent with every request.
    pub model: String,
    /// The API key. Prefer `api_key_env`: a key in a config file ends up in backups.
    #[serde(skip_serializing)]
    pub api_key: Option<ApiKey>,
    /// Environment variables to read the key from, first set one wins, when `api_key` is unset.
    /// No key at all is fine for local servers: no `Authorization` header is sent.
    pub api_key_env: Vec<String>,
    /// Limit for one attempt: the whole answer for [`ChatClient::complete`], the response
    /// headers for [`ChatClient::stream`].
    pub request_timeout_ms: u64,
    /// Limit for establishing the TCP/TLS connection.
    pub connect_timeout_ms: u64,
    /// Longest silence between two streamed chunks before the stream is abandoned.
    pub stream_idle_timeout_ms: u64,
    /// Extra attempts after a connect error, 429 or 5xx (0 = try once).
    pub max_retries: u32,
    /// Backoff before retry `n` (from 0) is about `backoff_base_ms * 2^n`, half of it jittered.
    pub backoff_base_ms: u64,
    /// Cap on one backoff (also on a server's `Retry-After`).
    pub backoff_max_ms: u64,
    /// Seed of the jitter, so retry timing is reproducible in tests and replays.
    pub jitter_seed: u64,
    /// When to stop calling a failing endpoint.
    pub breaker: BreakerConfig,
    /// Default sampling temperature (`None`: the server's default).
    pub temperature: Option<f32>,
    /// Default cap on generated tokens (`None`: the server's default).
    pub max_tokens: Option<u32>,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            base_url: "https://api.openai.com/v1".into(),
            model: "gpt-4o-mini".into(),
            api_key: None,
            api_key_env: vec!["KEFU_LLM_API_KEY".into(), "OPENAI_API_KEY".into()],
            request_timeout_ms: 30_000,
            connect_timeout_ms: 5_000,
            stream_idle_timeout_ms: 30_000,
            max_retries: 2,
            backoff_base_ms: 250,
            backoff_max_ms: 5_000,
            jitter_seed: 0x6b65_6675,
            breaker: BreakerConfig::default(),
            temperature: None,
            max_tokens: None,
        }
    }
}

/// Who speaks a [`ChatMessage`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions.
    System,
    /// The end user (or the text under analysis).
    User,
    /// The model.
    Assistant,
}

/// One message of a chat-completions request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Speaker.
    pub role: Role,
    /// Text.
    pub content: String,
}

impl ChatMessage {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self { role: Role::System, content: content.into() }
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self { role: Role::User, content: content.into() }
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self { role: Role::Assistant, content: content.into() }
    }
}

/// Per-call overrides of the config's sampling defaults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallOptions {
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Cap on generated tokens.
    pub max_tokens: Option<u32>,
}

/// A chat-completions client. Cheap to clone; clones share the connection pool, the circuit
/// breaker and the jitter sequence.
#[derive(Clone)]
pub struct ChatClient {
    shared: Arc<Shared>,
}

struct Shared {
    config: ChatConfig,
    url: String,
    key: Option<ApiKey>,
    http: reqwest::Client,
    breaker: Breaker,
    jitter_draws: AtomicU64,
}

impl fmt::Debug for ChatClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatClient")
            .field("url", &self.shared.url)
            .field("model", &self.shared.config.model)
            .field("has_key", &self.shared.key.is_some())
            .finish()
    }
}

/// A failed attempt, with the server's `Retry-After` when it sent one.
struct Failed {
    error: LlmError,
    retry_after: Option<Duration>,
}

impl From<LlmError> for Failed {
    fn from(error: LlmError) -> Self {
        Self { error, retry_after: None }
    }
}

impl ChatClient {
    /// Builds a client; resolves the API key (config, then the `api_key_env` variables) now.
    pub fn new(config: ChatConfig) -> Result<Self, LlmError> {
        let base = config.base_url.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(LlmError::Config(format!("base_url must start with http:// or https://, got `{base}`")));
        }
        let url = format!("{base}/chat/completions");
        let key = config.api_key.clone().or_else(|| {
            config
                .api_key_env
                .iter()
                .find_map(|var| std::env::var(var).ok().filter(|v| !v.trim().is_empty()).map(ApiKey))
        });
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
            .build()
            .map_err(|e| LlmError::Config(e.to_string()))?;
        tracing::debug!(url = %url, model = %config.model, has_key = key.is_some(), "LLM client ready");
        let breaker = Breaker::new(config.breaker.clone());
        Ok(Self { shared: Arc::new(Shared { config, url, key, http, breaker, jitter_draws: AtomicU64::new(0) }) })
    }

    /// The configuration the client was built with.
    pub fn config(&self) -> &ChatConfig {
        &self.shared.config
    }

    /// Current state of the shared circuit breaker.
    pub fn breaker_state(&self) -> BreakerState {
        self.shared.breaker.state()
    }

    /// Asks for a complete answer with the config's sampling defaults.
    pub async fn complete(&self, messages: &[ChatMessage]) -> Result<String, LlmError> {
        self.complete_with(messages, &CallOptions::default()).await
    }

    /// Asks for a complete answer (`choices[0].message.content`).
    pub async fn complete_with(&self, messages: &[ChatMessage], options: &CallOptions) -> Result<String, LlmError> {
        let body = self.body(messages, options, false);
        let timeout = Duration::from_millis(self.shared.config.request_timeout_ms);
        self.with_retries("complete", || async {
            match tokio::time::timeout(timeout, self.attempt_complete(&body)).await {
                Ok(result) => result,
                Err(_) => Err(Failed::from(timeout_error(timeout, "response"))),
            }
        })
        .await
        .map(|(text, permit)| {
            permit.record(true);
            text
        })
    }

    /// Streams the answer's text pieces in order, with the config's sampling defaults.
    pub fn stream(&self, messages: &[ChatMessage]) -> impl Stream<Item = Result<String, LlmError>> + Send + 'static {
        self.stream_with(messages, &CallOptions::default())
    }

    /// Streams the answer's text pieces (`choices[0].delta.content`) in order.
    ///
    /// Connecting is retried like [`ChatClient::complete`]; once text has been yielded a failure
    /// is not retried (the caller already showed those words) but ends the stream with
    /// [`LlmError::StreamCut`] or an idle [`LlmError::Timeout`]. After an `Err` item the stream
    /// ends. Dropping the stream closes the connection.
    pub fn stream_with(
        &self,
        messages: &[ChatMessage],
        options: &CallOptions,
    ) -> impl Stream<Item = Result<String, LlmError>> + Send + 'static {
        let start = StreamState::Start { client: self.clone(), body: self.body(messages, options, true) };
        futures::stream::unfold(start, StreamState::next)
    }

    fn body(&self, messages: &[ChatMessage], options: &CallOptions, stream: bool) -> serde_json::Value {
        let c = &self.shared.config;
        let mut body = serde_json::json!({ "model": c.model, "messages": messages, "stream": stream });
        if let Some(t) = options.temperature.or(c.temperature) {
            body["temperature"] = serde_json::json!(t);
        }
        if let Some(m) = options.max_tokens.or(c.max_tokens) {
            body["max_tokens"] = serde_json::json!(m);
        }
        body
    }

    /// Runs `attempt` under the breaker, retrying retryable failures with backoff. On success
    /// returns the permit still open, so a stream can settle it when it ends.
    async fn with_retries<T, F, Fut>(&self, what: &'static str, mut attempt: F) -> Result<(T, Permit), LlmError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, Failed>>,
    {
        let max_retries = self.shared.config.max_retries;
        let mut last: Option<LlmError> = None;
        for n in 0..=max_retries {
            let permit = match self.shared.breaker.acquire() {
                Ok(p) => p,
                Err(wait) => {
                    // If our own failures just opened it, the real cause is more useful.
                    let refused = LlmError::BreakerOpen { retry_in_ms: wait.as_millis() as u64 };
                    tracing::debug!(what, "LLM call short-circuited by the open breaker");
                    return Err(last.unwrap_or(refused));
                }
            };
            match attempt().await {
                Ok(value) => return Ok((value, permit)),
                Err(Failed { error, retry_after }) => {
                    settle(permit, &error);
                    if !error.is_retryable() || n == max_retries {
                        tracing::warn!(what, attempt = n + 1, error = %error, "LLM call failed");
                        return Err(error);
                    }
                    let delay = self.backoff(n, retry_after);
                    tracing::warn!(what, attempt = n + 1, error = %error, retry_in_ms = delay.as_millis() as u64, "LLM call failed, retrying");
                    tokio::time::sleep(delay).await;
                    last = Some(error);
                }
            }
        }
        // The loop always returns; this keeps the types honest without a panic.
        Err(last.unwrap_or(LlmError::Config("max_retries loop ended without an attempt".into())))
    }

    /// `base * 2^n` capped, the upper half jittered ("equal jitter"), never below `Retry-After`.
    fn backoff(&self, n: u32, retry_after: Option<Duration>) -> Duration {
        let c = &self.shared.config;
        let exp = c.backoff_base_ms.saturating_mul(1u64 << n.min(20)).min(c.backoff_max_ms);
        let draw = self.shared.jitter_draws.fetch_add(1, Ordering::Relaxed);
        let unit = (splitmix64(c.jitter_seed.wrapping_add(draw)) >> 11) as f64 / (1u64 << 53) as f64;
        let jittered = exp / 2 + ((exp - exp / 2) as f64 * unit) as u64;
        let floor = retry_after.map_or(0, |d| (d.as_millis() as u64).min(c.backoff_max_ms));
        Duration::from_millis(jittered.max(floor))
    }

    async fn send(&self, body: &serde_json::Value) -> Result<reqwest::Response, Failed> {
        let mut req = self.shared.http.post(&self.shared.url).json(body);
        if let Some(key) = &self.shared.key {
            // bearer_auth marks the header sensitive, so reqwest's Debug output hides it too.
            req = req.bearer_auth(key.expose());
        }
        let resp = req.send().await.map_err(|e| Failed::from(transport_error(&e)))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = resp.text().await.unwrap_or_default();
        let secret = self.shared.key.as_ref().map(ApiKey::expose);
        Err(Failed {
            error: LlmError::Status { status: status.as_u16(), body: excerpt(&text, BODY_EXCERPT_CHARS, secret) },
            retry_after,
        })
    }

    async fn attempt_complete(&self, body: &serde_json::Value) -> Result<String, Failed> {
        let resp = self.send(body).await?;
        let bytes = resp.bytes().await.map_err(|e| Failed::from(transport_error(&e)))?;
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| Failed::from(LlmError::BadJson(e.to_string())))?;
        v.pointer("/choices/0/message/content")
            .and_then(|c| c.as_str())
            .map(str::to_string)
            .ok_or_else(|| Failed::from(LlmError::BadJson("no choices[0].message.content in the answer".into())))
    }
}

fn settle(permit: Permit, error: &LlmError) {
    if error.counts_against_endpoint() {
        permit.record(false);
    } else {
        permit.neutral();
    }
}

fn timeout_error(limit: Duration, stage: &'static str) -> LlmError {
    LlmError::Timeout { after_ms: limit.as_millis() as u64, stage }
}

fn transport_error(e: &reqwest::Error) -> LlmError {
    if e.is_connect() {
        LlmError::Connect(with_causes(e))
    } else if e.is_timeout() {
        LlmError::Timeout { after_ms: 0, stage: "response" }
    } else if e.is_body() || e.is_decode() {
        LlmError::StreamCut(with_causes(e))
    } else {
        LlmError::Transport(with_causes(e))
    }
}

/// reqwest's own message is generic ("error sending request"); the cause says what happened.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

/// SplitMix64: a tiny, well-mixed hash; enough for jitter, and keeps `rand` out of the tree.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

struct Reading {
    body: BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    parser: SseParser,
    permit: Option<Permit>,
    queue: VecDeque<String>,
    idle: Duration,
    /// `[DONE]` seen: nothing more to read.
    done: bool,
    /// A `finish_reason` seen: end of body is a clean end even without `[DONE]`.
    finished: bool,
}

enum StreamState {
    Start { client: ChatClient, body: serde_json::Value },
    Reading(Box<Reading>),
    Ended,
}

impl StreamState {
    async fn next(self) -> Option<(Result<String, LlmError>, StreamState)> {
        match self {
            StreamState::Ended => None,
            StreamState::Start { client, body } => {
                let timeout = Duration::from_millis(client.shared.config.request_timeout_ms);
                let opened = client
                    .with_retries("stream", || async {
                        match tokio::time::timeout(timeout, client.send(&body)).await {
                            Ok(result) => result,
                            Err(_) => Err(Failed::from(timeout_error(timeout, "response"))),
                        }
                    })
                    .await;
                match opened {
                    Err(e) => Some((Err(e), StreamState::Ended)),
                    Ok((resp, permit)) => {
                        let reading = Reading {
                            body: resp.bytes_stream().boxed(),
                            parser: SseParser::default(),
                            permit: Some(permit),
                            queue: VecDeque::new(),
                            idle: Duration::from_millis(client.shared.config.stream_idle_timeout_ms),
                            done: false,
                            finished: false,
                        };
                        Box::pin(StreamState::Reading(Box::new(reading)).next()).await
                    }
                }
            }
            StreamState::Reading(mut r) => match r.pump().await {
                Ok(Some(text)) => Some((Ok(text), StreamState::Reading(r))),
                Ok(None) => None,
                Err(e) => Some((Err(e), StreamState::Ended)),
            },
        }
    }
}

impl Reading {
    /// The next piece of text, `None` at a clean end, or the error that ends the stream; the
    /// breaker hears about the outcome exactly once.
    async fn pump(&mut self) -> Result<Option<String>, LlmError> {
        loop {
            if let Some(text) = self.queue.pop_front() {
                return Ok(Some(text));
            }
            if self.done {
                self.settle(None);
                return Ok(None);
            }
            let next = match tokio::time::timeout(self.idle, self.body.next()).await {
                Ok(next) => next,
                Err(_) => return Err(self.fail(timeout_error(self.idle, "stream idle"))),
            };
            let deltas = match next {
                Some(Ok(bytes)) => self.parser.push(&bytes),
                Some(Err(e)) => return Err(self.fail(LlmError::StreamCut(with_causes(&e)))),
                None => {
                    let deltas = self.parser.finish();
                    if let Ok(ds) = &deltas {
                        if !self.finished && !ds.iter().any(|d| matches!(d, Delta::Done | Delta::Finished)) {
                            return Err(self.fail(LlmError::StreamCut("body ended before data: [DONE]".into())));
                        }
                    }
                    self.done = true;
                    deltas
                }
            };
            for delta in deltas.map_err(|e| self.fail(e))? {
                match delta {
                    Delta::Text(t) => self.queue.push_back(t),
                    Delta::Finished => self.finished = true,
                    Delta::Done => self.done = true,
                }
            }
        }
    }

    fn fail(&mut self, error: LlmError) -> LlmError {
        self.settle(Some(&error));
        error
    }

    fn settle(&mut self, error: Option<&LlmError>) {
        if let Some(permit) = self.permit.take() {
            match error {
                None => permit.record(true),
                Some(e) => settle(permit, e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(seed: u64) -> ChatClient {
        let config = ChatConfig {
            base_url: "http://127.0.0.1:9/v1/".into(),
            api_key: Some(ApiKey::new("sk-secret")),
            backoff_base_ms: 100,
            backoff_max_ms: 1_000,
            jitter_seed: seed,
            ..ChatConfig::default()
        };
        ChatClient::new(config).unwrap()
    }

    #[test]
    fn backoff_grows_is_capped_jittered_and_seeded() {
        let a = client(7);
        let delays: Vec<u64> = (0..6).map(|n| a.backoff(n, None).as_millis() as u64).collect();
        for (n, d) in delays.iter().enumerate() {
            let exp = (100u64 << n).min(1_000);
            assert!(*d >= exp / 2 && *d <= exp, "retry {n}: {d} ms not in [{}, {exp}]", exp / 2);
        }
        let b = client(7);
        let again: Vec<u64> = (0..6).map(|n| b.backoff(n, None).as_millis() as u64).collect();
        assert_eq!(delays, again, "same seed, same delays");
        assert_eq!(a.backoff(0, Some(Duration::from_secs(60))), Duration::from_millis(1_000), "Retry-After, capped");
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let c = client(1);
        assert!(!format!("{c:?}").contains("sk-secret"));
        assert!(!format!("{:?}", c.config()).contains("sk-secret"));
        assert!(!serde_json::to_string(c.config()).unwrap().contains("sk-secret"));
        assert_eq!(c.shared.url, "http://127.0.0.1:9/v1/chat/completions");
    }

    #[test]
    fn rejects_a_url_without_scheme() {
        let err =
            ChatClient::new(ChatConfig { base_url: "localhost:8000".into(), ..ChatConfig::default() }).unwrap_err();
        assert!(matches!(err, LlmError::Config(_)));
    }

    #[test]
    fn call_options_override_config_defaults() {
        let c = ChatClient::new(ChatConfig { temperature: Some(0.7), max_tokens: Some(50), ..ChatConfig::default() })
            .unwrap();
        let body = c.body(&[ChatMessage::user("hi")], &CallOptions { temperature: Some(0.0), max_tokens: None }, true);
        assert_eq!(body["temperature"], 0.0);
        assert_eq!(body["max_tokens"], 50);
        assert_eq!(body["stream"], true);
        assert_eq!(body["messages"][0]["role"], "user");
    }
}
