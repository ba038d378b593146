//! The HTTP API under `/v1`, the operations endpoints and the request plumbing (JSON bodies with
//! typed errors, metrics per route). Each handler is a few lines over the registry.

use crate::auth::Caller;
use crate::config::Role;
use crate::error::ApiError;
use crate::hub::{AgentMessage, StreamEvent, StreamPayload};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use kefu::{ErrorCode, Language, Turn};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

type Shared = Arc<AppState>;

/// The whole application.
pub fn router(state: Shared) -> Router {
    let max_body = state.config.limits.max_body_bytes;
    Router::new()
        .route("/v1/conversations/{id}/messages", post(post_message))
        .route("/v1/conversations/{id}", get(get_conversation).delete(delete_conversation))
        .route("/v1/conversations/{id}/stream", get(stream_conversation))
        .route("/v1/ws", get(crate::ws::upgrade))
        .route("/v1/agent/conversations", get(agent_queue))
        .route("/v1/agent/conversations/{id}/messages", post(agent_post))
        .route("/v1/agent/conversations/{id}/release", post(agent_release))
        .route("/v1/channels/chatwoot", post(crate::chatwoot::webhook))
        .route("/v1/admin/bots", get(admin_versions).post(admin_load))
        .route("/v1/admin/bots/{version}", axum::routing::delete(admin_remove))
        .route("/v1/admin/bots/{version}/activate", post(admin_activate))
        .route("/v1/admin/split", put(admin_split).delete(admin_unsplit))
        .route("/v1/admin/users/{user_id}", get(admin_export_user).delete(admin_delete_user))
        .route("/", get(|| async { static_file("text/html; charset=utf-8", crate::WIDGET_PAGE) }))
        .route("/widget.js", get(|| async { static_file("text/javascript; charset=utf-8", crate::WIDGET_JS) }))
        .route("/healthz", get(|| async { Json(serde_json::json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .fallback(|| async { ApiError::new(ErrorCode::NotFound, "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            (StatusCode::METHOD_NOT_ALLOWED, Json(ApiError::invalid("method not allowed on this endpoint").body()))
        })
        .layer(axum::middleware::from_fn_with_state(max_body, refuse_oversized))
        .layer(axum::middleware::from_fn_with_state(state.clone(), track))
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// Counts and times every request by route template and status; `/v1` answers 503 until the
/// configured bots are loaded.
async fn track(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_string();
    let started = Instant::now();
    let span = tracing::info_span!(
        "http_request",
        http.method = %request.method(),
        http.route = %route,
        http.status_code = tracing::field::Empty
    );
    let response = if route.starts_with("/v1/") && !state.ready.load(Ordering::Acquire) {
        ApiError::new(ErrorCode::Unavailable, "still loading bots").into_response()
    } else {
        tracing::Instrument::instrument(next.run(request), span.clone()).await
    };
    span.record("http.status_code", i64::from(response.status().as_u16()));
    let status = response.status().as_u16().to_string();
    state.metrics.inc("kefu_http_requests_total", vec![("route", route.clone()), ("status", status)], 1);
    state.metrics.observe(
        "kefu_http_request_duration_seconds",
        vec![("route", route)],
        started.elapsed().as_secs_f64(),
    );
    response
}

/// Most bodies this much over the limit are still read (and dropped) before the 413 goes out.
const DRAIN_CAP_BYTES: usize = 4 << 20;
/// How long a client may take to send the rest of an oversized body.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Answers 413 to a body whose declared length is over the limit. Replying while the client
/// is still sending and then closing makes the kernel reset the connection, which can destroy
/// the 413 in flight, so a body of moderate size is read to the end and dropped first.
async fn refuse_oversized(State(max_body): State<usize>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let Some(declared) = declared.filter(|&len| len > max_body) else {
        return next.run(request).await;
    };
    if declared <= max_body.saturating_add(DRAIN_CAP_BYTES) {
        use futures_util::StreamExt;
        let mut body = request.into_body().into_data_stream();
        let drain = async { while let Some(Ok(_)) = body.next().await {} };
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, drain).await;
    }
    let mut response =
        ApiError::new(ErrorCode::InputTooLarge, "the request body is over the size limit").into_response();
    response.headers_mut().insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
    response
}

/// One path parameter, with a typed 400 (not axum's plain text) when it is not valid UTF-8.
pub struct PathParam(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PathParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(PathParam(v)),
            Err(e) => Err(ApiError::invalid(format!("bad path parameter: {e}"))),
        }
    }
}

/// Parses a JSON body, turning every failure into a typed 4xx.
pub fn json_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::InputTooLarge, "the request body is over the size limit")
        } else {
            ApiError::invalid(format!("cannot read the request body: {rejection}"))
        }
    })?;
    if std::str::from_utf8(&bytes).is_err() {
        return Err(ApiError::invalid("the request body is not valid UTF-8"));
    }
    serde_json::from_slice(&bytes).map_err(|e| ApiError::invalid(format!("invalid JSON body: {e}")))
}

/// The body of `POST /v1/conversations/{id}/messages` (and of WebSocket `message` frames).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    /// The user's message.
    pub text: String,
    /// The customer (default: the conversation id).
    #[serde(default)]
    pub user_id: Option<String>,
    /// Channel name (default `web`).
    #[serde(default)]
    pub channel: Option<String>,
    /// Language, when the channel knows it.
    #[serde(default)]
    pub language: Option<Language>,
    /// Free channel data, passed to actions.
    #[serde(default)]
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// Retry key (the `Idempotency-Key` header works too).
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// When the user sent it (default: now); relative dates ("tomorrow") resolve against it.
    #[serde(default)]
    pub timestamp: Option<chrono::DateTime<chrono::Utc>>,
}

impl MessageBody {
    /// The engine's turn.
    pub fn into_turn(self, tenant: &str, conversation_id: &str, header_key: Option<String>) -> Turn {
        let mut turn =
            Turn::new(conversation_id, self.text).tenant(tenant).channel(self.channel.unwrap_or("web".into()));
        if let Some(user) = self.user_id {
            turn.user_id = user;
        }
        turn.language = self.language;
        turn.metadata = self.metadata;
        turn.idempotency_key = self.idempotency_key.or(header_key);
        turn.timestamp = self.timestamp;
        turn
    }
}

fn wants_event_stream(headers: &HeaderMap) -> bool {
    headers.get("accept").and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/event-stream"))
}

async fn post_message(
    State(state): State<Shared>,
    caller: Caller,
    PathParam(id): PathParam,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    if state.draining.load(Ordering::Acquire) {
        return Err(ApiError::new(ErrorCode::Unavailable, "the server is shutting down"));
    }
    let body: MessageBody = json_body(body)?;
    let header_key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut turn = body.into_turn(&caller.tenant, &id, header_key);
    state.admit_turn(&caller, &mut turn).await?;
    if wants_event_stream(&headers) {
        return Ok(sse_turn(state, turn).await?.into_response());
    }
    let reply = state.run_turn(turn).await?;
    Ok(Json(reply).into_response())
}

/// One turn as Server-Sent Events: its reply parts, ending with `done` (or `error`).
async fn sse_turn(
    state: Shared,
    turn: Turn,
) -> Result<Sse<impl futures_util::Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let rx = state.stream_turn(turn).await?;
    let events = futures_util::stream::unfold(rx, |mut rx| async move {
        let event = rx.recv().await?;
        Some((Ok(sse_event(&event)), rx))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

fn sse_event(event: &StreamEvent) -> SseEvent {
    let data = serde_json::to_string(event).unwrap_or_else(|e| format!("{{\"type\":\"error\",\"message\":\"{e}\"}}"));
    SseEvent::default().event(event.name()).data(data)
}

#[derive(Deserialize)]
struct HistoryQuery {
    #[serde(default)]
    history: Option<usize>,
}

async fn get_conversation(
    State(state): State<Shared>,
    caller: Caller,
    PathParam(id): PathParam,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::invalid(e.to_string()))?;
    state.check_owner(&caller, &id).await?;
    let session = state
        .registry
        .session(&caller.tenant, &id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::ConversationNotFound, format!("no conversation `{id}`")))?;
    let limit = q.history.unwrap_or(state.config.limits.max_history).min(state.config.limits.max_history);
    let skip = session.history.len().saturating_sub(limit);
    let history: Vec<_> = session.history.iter().skip(skip).collect();
    Ok(Json(serde_json::json!({
        "tenant": session.key.tenant,
        "conversation_id": session.key.conversation_id,
        "user_id": session.user_id,
        "language": session.language,
        "slots": session.slots,
        "flow": session.flow.as_ref().map(|f| &f.name),
        "handoff": session.handoff,
        "turns": session.turns,
        "bot_version": session.bot_version,
        "created_at": session.created_at,
        "last_active_at": session.last_active_at,
        "history": history,
    })))
}

async fn delete_conversation(
    State(state): State<Shared>,
    caller: Caller,
    PathParam(id): PathParam,
) -> Result<StatusCode, ApiError> {
    state.check_owner(&caller, &id).await?;
    if state.registry.end_conversation(&caller.tenant, &id).await? {
        state.forget_waiting(&caller.tenant, Some(&id), None);
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(ErrorCode::ConversationNotFound, format!("no conversation `{id}`")))
    }
}

/// Everything that happens in a conversation, live: reply parts of every turn and agent messages.
async fn stream_conversation(
    State(state): State<Shared>,
    caller: Caller,
    PathParam(id): PathParam,
) -> Result<Sse<impl futures_util::Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    // The tenant must exist: an unknown tenant gets its 404 before the stream opens.
    state.registry.versions(&caller.tenant)?;
    state.check_owner(&caller, &id).await?;
    let rx = state.hub.subscribe(&caller.tenant, &id);
    let events = futures_util::stream::unfold((rx, caller), |(mut rx, caller)| async move {
        loop {
            match rx.recv().await {
                Ok(event) if !event.visible_to(&caller) => {}
                Ok(event) => return Some((Ok(sse_event(&event)), (rx, caller))),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(skipped = n, "a slow SSE client missed events");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

// ---- agent hand-off -------------------------------------------------------------------------

async fn agent_queue(State(state): State<Shared>, caller: Caller) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Agent)?;
    state.registry.versions(&caller.tenant)?;
    let waiting = state.waiting.lock().unwrap_or_else(|p| p.into_inner());
    let list: Vec<_> = waiting.get(&caller.tenant).map(|q| q.values().cloned().collect()).unwrap_or_default();
    Ok(Json(serde_json::json!({ "conversations": list })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentBody {
    text: String,
}

async fn agent_post(
    State(state): State<Shared>,
    caller: Caller,
    PathParam(id): PathParam,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Agent)?;
    let body: AgentBody = json_body(body)?;
    let Some(session) = state.registry.session(&caller.tenant, &id).await? else {
        return Err(ApiError::new(ErrorCode::ConversationNotFound, format!("no conversation `{id}`")));
    };
    if !state.registry.agent_message(&caller.tenant, &id, &body.text).await? {
        return Err(ApiError::invalid(format!("conversation `{id}` is not handed off to an agent")));
    }
    let event = StreamEvent {
        conversation_id: id.clone(),
        user_id: session.user_id,
        payload: StreamPayload::Agent(AgentMessage { kind: "agent_message", text: body.text }),
    };
    state.hub.publish(&caller.tenant, event);
    Ok(Json(serde_json::json!({"delivered": true})))
}

async fn agent_release(
    State(state): State<Shared>,
    caller: Caller,
    PathParam(id): PathParam,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Agent)?;
    if state.registry.session(&caller.tenant, &id).await?.is_none() {
        return Err(ApiError::new(ErrorCode::ConversationNotFound, format!("no conversation `{id}`")));
    }
    let released = state.registry.release_handoff(&caller.tenant, &id).await?;
    if let Some(q) = state.waiting.lock().unwrap_or_else(|p| p.into_inner()).get_mut(&caller.tenant) {
        q.remove(&id);
    }
    Ok(Json(serde_json::json!({"released": released})))
}

// ---- admin ----------------------------------------------------------------------------------

async fn admin_versions(State(state): State<Shared>, caller: Caller) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Admin)?;
    Ok(Json(serde_json::json!({"versions": state.registry.versions(&caller.tenant)?})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoadBody {
    version: String,
    path: String,
    #[serde(default)]
    activate: bool,
}

async fn admin_load(
    State(state): State<Shared>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    caller.require(Role::Admin)?;
    let body: LoadBody = json_body(body)?;
    let root = state.bot_root_of(&caller.tenant).ok_or_else(|| {
        ApiError::new(ErrorCode::Forbidden, "loading bots by path is off for this tenant (set `bot_root`)")
    })?;
    let dir = resolve_under(&root, &body.path)?;
    let registry = state.registry.clone();
    let (tenant, version) = (caller.tenant.clone(), body.version.clone());
    let builder = state.bot_builder(&caller.tenant, &dir);
    // Training is CPU-bound: off the async workers, so turns keep flowing while it loads.
    let loaded = tokio::task::spawn_blocking(move || registry.load_with(&tenant, &version, builder))
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("loading task failed: {e}")))?;
    if let Err(e) = loaded {
        // Whatever fails while building a folder the admin named is a problem of that folder.
        let code = match e.code() {
            c @ (ErrorCode::InvalidInput | ErrorCode::UnknownTenant | ErrorCode::BotInvalid) => c,
            _ => ErrorCode::BotInvalid,
        };
        return Err(ApiError::new(code, e.to_string()));
    }
    if body.activate {
        state.registry.activate(&caller.tenant, &body.version)?;
    }
    Ok((StatusCode::CREATED, Json(serde_json::json!({"versions": state.registry.versions(&caller.tenant)?}))))
}

/// `path` relative to `root`, refusing anything that escapes it.
fn resolve_under(root: &std::path::Path, path: &str) -> Result<std::path::PathBuf, ApiError> {
    let bad = || ApiError::invalid(format!("bot path `{path}` must name a folder under the server's bot root"));
    let root = root.canonicalize().map_err(|_| bad())?;
    let dir = root.join(path).canonicalize().map_err(|_| bad())?;
    if dir.starts_with(&root) && dir.is_dir() {
        Ok(dir)
    } else {
        Err(bad())
    }
}

async fn admin_activate(
    State(state): State<Shared>,
    caller: Caller,
    PathParam(version): PathParam,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Admin)?;
    state.registry.activate(&caller.tenant, &version)?;
    Ok(Json(serde_json::json!({"versions": state.registry.versions(&caller.tenant)?})))
}

async fn admin_remove(
    State(state): State<Shared>,
    caller: Caller,
    PathParam(version): PathParam,
) -> Result<StatusCode, ApiError> {
    caller.require(Role::Admin)?;
    state.registry.remove_version(&caller.tenant, &version)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn admin_split(
    State(state): State<Shared>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Admin)?;
    let split: kefu::Split = json_body(body)?;
    state.registry.set_split(&caller.tenant, Some(split))?;
    Ok(Json(serde_json::json!({"versions": state.registry.versions(&caller.tenant)?})))
}

async fn admin_unsplit(State(state): State<Shared>, caller: Caller) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Admin)?;
    state.registry.set_split(&caller.tenant, None)?;
    Ok(Json(serde_json::json!({"versions": state.registry.versions(&caller.tenant)?})))
}

async fn admin_export_user(
    State(state): State<Shared>,
    caller: Caller,
    PathParam(user_id): PathParam,
) -> Result<Json<serde_json::Value>, ApiError> {
    data_subject_request(&state, &caller, &user_id, false).await
}

async fn admin_delete_user(
    State(state): State<Shared>,
    caller: Caller,
    PathParam(user_id): PathParam,
) -> Result<Json<serde_json::Value>, ApiError> {
    data_subject_request(&state, &caller, &user_id, true).await
}

/// GDPR export (or erasure) of one user of the caller's tenant, across the session store.
async fn data_subject_request(
    state: &AppState,
    caller: &Caller,
    user_id: &str,
    erase: bool,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Role::Admin)?;
    state.registry.versions(&caller.tenant)?;
    let requests = kefu_backends::gdpr::DataSubjectRequests::new()
        .session_store("sessions", state.registry.session_store().clone());
    let unavailable = |e: kefu_backends::gdpr::GdprError| ApiError::new(ErrorCode::StoreUnavailable, e.to_string());
    let value = if erase {
        state.forget_waiting(&caller.tenant, None, Some(user_id));
        serde_json::to_value(requests.delete_user(&caller.tenant, user_id).await.map_err(unavailable)?)
    } else {
        serde_json::to_value(requests.export_user(&caller.tenant, user_id).await.map_err(unavailable)?)
    };
    Ok(Json(value.map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?))
}

// ---- operations -----------------------------------------------------------------------------

async fn readyz(State(state): State<Shared>) -> Response {
    if !state.is_ready() {
        let why = if state.draining.load(Ordering::Acquire) { "shutting down" } else { "loading bots" };
        return ApiError::new(ErrorCode::Unavailable, why).into_response();
    }
    let probe = kefu::core::SessionKey::new("_kefu", "_readyz");
    match state.registry.session_store().load(&probe).await {
        Ok(_) => Json(serde_json::json!({"status": "ready", "tenants": state.registry.tenants()})).into_response(),
        Err(e) => ApiError::new(ErrorCode::StoreUnavailable, e.to_string()).into_response(),
    }
}

async fn metrics(State(state): State<Shared>) -> Response {
    let mut gauges = Vec::new();
    for tenant in state.registry.tenants() {
        for v in state.registry.versions(&tenant).unwrap_or_default() {
            gauges.push((
                "kefu_active_conversations",
                "Conversations not idle, pinned to each bot version in this process.",
                vec![("tenant", tenant.clone()), ("bot_version", v.version.clone())],
                v.conversations as f64,
            ));
        }
    }
    gauges.push((
        "kefu_streams_open",
        "Conversations watched over SSE or WebSocket.",
        Vec::new(),
        state.hub.watched() as f64,
    ));
    let ready = if state.is_ready() { 1.0 } else { 0.0 };
    gauges.push(("kefu_ready", "1 when the server takes traffic.", Vec::new(), ready));
    ([("content-type", "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render(&gauges)).into_response()
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    ([("content-type", content_type), ("cache-control", "no-cache")], body).into_response()
}

async fn openapi() -> Response {
    ([("content-type", "application/json")], crate::OPENAPI).into_response()
}
