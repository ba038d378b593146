//! `/v1/ws`: one WebSocket, many conversations. The client sends
//! `{"conversation_id": …, "text": …}` frames (plus any field of the REST message body); the
//! server answers each with the turn's reply parts (`message`…, `done`, or `error`) and forwards
//! human agents' messages (`agent_message`) for every conversation the socket has spoken in.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::hub::{StreamError, StreamEvent, StreamPayload};
use crate::routes::MessageBody;
use crate::state::AppState;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Accepts the upgrade (authenticated like any request; browsers pass `?api_key=`).
pub async fn upgrade(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(e) => return ApiError::invalid(format!("not a WebSocket upgrade: {e}")).into_response(),
    };
    if let Err(e) = state.registry.versions(&caller.tenant) {
        return ApiError::from(e).into_response();
    }
    let max = state.config.limits.max_body_bytes;
    ws.max_message_size(max).max_frame_size(max).on_upgrade(move |socket| serve(socket, state, caller))
}

fn error_event(conversation_id: &str, code: kefu::ErrorCode, message: String) -> StreamEvent {
    StreamEvent {
        conversation_id: conversation_id.to_string(),
        user_id: String::new(),
        payload: StreamPayload::Error(StreamError { kind: "error", code, message }),
    }
}

async fn send(socket: &mut WebSocket, event: &StreamEvent) -> bool {
    match serde_json::to_string(event) {
        Ok(text) => socket.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => true,
    }
}

/// Conversations one socket may speak in (each keeps a subscription for agent messages).
const MAX_CONVERSATIONS_PER_SOCKET: usize = 64;

async fn serve(mut socket: WebSocket, state: Arc<AppState>, caller: Caller) {
    let (agent_tx, mut agent_rx) = mpsc::channel::<StreamEvent>(64);
    let mut watched: HashSet<String> = HashSet::new();
    let mut forwarders = Vec::new();
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let Some(Ok(frame)) = incoming else { break };
                let text = match frame {
                    Message::Text(t) => t,
                    Message::Close(_) => break,
                    Message::Binary(_) => {
                        let e = error_event("", kefu::ErrorCode::InvalidInput, "send JSON text frames".into());
                        if !send(&mut socket, &e).await { break }
                        continue;
                    }
                    _ => continue,
                };
                let admitted = admit(&state, &caller, text.as_str(), &watched).await;
                let (conversation_id, turn) = match admitted {
                    Ok(x) => x,
                    Err((conversation_id, e)) => {
                        if !send(&mut socket, &error_event(&conversation_id, e.code, e.message)).await { break }
                        continue;
                    }
                };
                if watched.insert(conversation_id.clone()) {
                    forwarders.push(forward_agent_messages(&state, &caller, &conversation_id, agent_tx.clone()));
                }
                if !run_turn(&mut socket, &state, turn).await { break }
            }
            Some(event) = agent_rx.recv() => {
                if !send(&mut socket, &event).await { break }
            }
        }
    }
    for f in forwarders {
        f.abort();
    }
}

/// Parses a frame and admits its turn (draining, rate limits, ownership, the socket's
/// conversation cap) before anything is subscribed.
async fn admit(
    state: &AppState,
    caller: &Caller,
    text: &str,
    watched: &HashSet<String>,
) -> Result<(String, kefu::Turn), (String, ApiError)> {
    let (conversation_id, body) = parse_frame(text).map_err(|e| (String::new(), e))?;
    let fail = |e: ApiError| (conversation_id.clone(), e);
    if state.draining.load(std::sync::atomic::Ordering::Acquire) {
        return Err(fail(ApiError::new(kefu::ErrorCode::Unavailable, "the server is shutting down")));
    }
    if !watched.contains(&conversation_id) && watched.len() >= MAX_CONVERSATIONS_PER_SOCKET {
        return Err(fail(ApiError::invalid(format!(
            "one socket speaks in at most {MAX_CONVERSATIONS_PER_SOCKET} conversations: open another"
        ))));
    }
    let mut turn = body.into_turn(&caller.tenant, &conversation_id, None);
    state.admit_turn(caller, &mut turn).await.map_err(fail)?;
    Ok((conversation_id, turn))
}

fn parse_frame(text: &str) -> Result<(String, MessageBody), ApiError> {
    let mut value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ApiError::invalid(format!("invalid JSON frame: {e}")))?;
    let conversation_id = value
        .as_object_mut()
        .and_then(|o| o.remove("conversation_id"))
        .and_then(|v| v.as_str().map(str::to_string))
        .ok_or_else(|| ApiError::invalid("a frame needs a string `conversation_id`"))?;
    if conversation_id.is_empty() || conversation_id.len() > kefu::core::engine::MAX_ID_BYTES {
        return Err(ApiError::new(kefu::ErrorCode::InputTooLarge, "`conversation_id` must be 1-256 bytes"));
    }
    let body = serde_json::from_value(value).map_err(|e| ApiError::invalid(format!("invalid message frame: {e}")))?;
    Ok((conversation_id, body))
}

/// Streams one turn's parts to the socket; `false` when the socket is gone.
async fn run_turn(socket: &mut WebSocket, state: &Arc<AppState>, turn: kefu::Turn) -> bool {
    let conversation_id = turn.conversation_id.clone();
    let mut events = match state.stream_turn(turn).await {
        Ok(rx) => rx,
        Err(e) => return send(socket, &error_event(&conversation_id, e.code(), e.to_string())).await,
    };
    while let Some(event) = events.recv().await {
        if !send(socket, &event).await {
            return false;
        }
    }
    true
}

/// Forwards a conversation's agent messages from the hub to this socket.
fn forward_agent_messages(
    state: &AppState,
    caller: &Caller,
    conversation_id: &str,
    tx: mpsc::Sender<StreamEvent>,
) -> tokio::task::JoinHandle<()> {
    let mut rx = state.hub.subscribe(&caller.tenant, conversation_id);
    let caller = caller.clone();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(event) if matches!(event.payload, StreamPayload::Agent(_)) && event.visible_to(&caller) => {
                    if tx.send(event).await.is_err() {
                        return;
                    }
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    })
}
