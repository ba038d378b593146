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
    ws.max_message_size(max).on_upgrade(move |socket| serve(socket, state, caller))
}

fn error_event(conversation_id: &str, code: kefu::ErrorCode, message: String) -> StreamEvent {
    StreamEvent {
        conversation_id: conversation_id.to_string(),
        payload: StreamPayload::Error(StreamError { kind: "error", code, message }),
    }
}

async fn send(socket: &mut WebSocket, event: &StreamEvent) -> bool {
    match serde_json::to_string(event) {
        Ok(text) => socket.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => true,
    }
}

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
                let (conversation_id, body) = match parse_frame(text.as_str()) {
                    Ok(x) => x,
                    Err(e) => {
                        if !send(&mut socket, &error_event("", e.code, e.message)).await { break }
                        continue;
                    }
                };
                if let Err(e) = state.check_owner(&caller, &conversation_id).await {
                    if !send(&mut socket, &error_event(&conversation_id, e.code, e.message)).await { break }
                    continue;
                }
                if watched.insert(conversation_id.clone()) {
                    forwarders.push(forward_agent_messages(&state, &caller.tenant, &conversation_id, agent_tx.clone()));
                }
                if !run_turn(&mut socket, &state, &caller, &conversation_id, body).await { break }
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

fn parse_frame(text: &str) -> Result<(String, MessageBody), ApiError> {
    let mut value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ApiError::invalid(format!("invalid JSON frame: {e}")))?;
    let conversation_id = value
        .as_object_mut()
        .and_then(|o| o.remove("conversation_id"))
        .and_then(|v| v.as_str().map(str::to_string))
        .ok_or_else(|| ApiError::invalid("a frame needs a string `conversation_id`"))?;
    let body = serde_json::from_value(value).map_err(|e| ApiError::invalid(format!("invalid message frame: {e}")))?;
    Ok((conversation_id, body))
}

/// Streams one turn's parts to the socket; `false` when the socket is gone.
async fn run_turn(
    socket: &mut WebSocket,
    state: &AppState,
    caller: &Caller,
    conversation_id: &str,
    body: MessageBody,
) -> bool {
    let mut turn = body.into_turn(&caller.tenant, conversation_id, None);
    if let Err(e) = state.admit_turn(caller, &mut turn).await {
        return send(socket, &error_event(conversation_id, e.code, e.message)).await;
    }
    let start = crate::state::TurnStart::of(&turn);
    let mut parts = match state.registry.handle_stream(turn).await {
        Ok(p) => p,
        Err(e) => return send(socket, &error_event(conversation_id, e.code(), e.to_string())).await,
    };
    while let Some(part) = parts.next().await {
        if !send(socket, &state.part_event(&start, part)).await {
            return false;
        }
    }
    true
}

/// Forwards a conversation's agent messages from the hub to this socket.
fn forward_agent_messages(
    state: &AppState,
    tenant: &str,
    conversation_id: &str,
    tx: mpsc::Sender<StreamEvent>,
) -> tokio::task::JoinHandle<()> {
    let mut rx = state.hub.subscribe(tenant, conversation_id);
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(event) if matches!(event.payload, StreamPayload::Agent(_)) => {
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
