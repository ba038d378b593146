//! Chatwoot's agent-bot contract. The tenant's bot is a Chatwoot agent bot whose
//! `outgoing_url` is `POST /v1/channels/chatwoot?api_key=<an agent key of the tenant>`:
//!
//! - an incoming customer message in a conversation the bot holds (`pending`) runs a turn; the
//!   reply goes back through Chatwoot's API (buttons as an `input_select`), and a hand-off
//!   opens the conversation for the human agents;
//! - agents' messages are recorded in the conversation while it is handed off;
//! - an agent setting the conversation back to `pending` returns it to the bot; `resolved`
//!   ends it.
//!
//! Chatwoot's message id is the turn's idempotency key, so a redelivered webhook does not run
//! the turn twice (its reply is posted again).

use crate::auth::Caller;
use crate::config::{ChatwootConfig, ConfigError, Role};
use crate::error::ApiError;
use crate::routes::json_body;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::Json;
use kefu::{ErrorCode, Reply, Turn};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// A tenant's connection to its Chatwoot account.
pub struct ChatwootClient {
    api_root: String,
    account_id: u64,
    token: String,
    http: reqwest::Client,
}

impl ChatwootClient {
    /// Resolves the token and prepares the HTTP client.
    pub fn new(tenant: &str, config: &ChatwootConfig) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::Secret { tenant: tenant.to_string(), message };
        let base = config.base_url.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(invalid(format!("chatwoot.base_url `{base}` must start with http:// or https://")));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| invalid(format!("chatwoot client: {e}")))?;
        Ok(Self {
            api_root: format!("{base}/api/v1/accounts/{}", config.account_id),
            account_id: config.account_id,
            token: config.api_token.resolve(tenant, 8)?,
            http,
        })
    }

    async fn post(&self, path: &str, body: Value) -> Result<(), ApiError> {
        let url = format!("{}/{path}", self.api_root);
        let unavailable = |message: String| ApiError::new(ErrorCode::Unavailable, message);
        let response = self
            .http
            .post(&url)
            .header("api_access_token", &self.token)
            .json(&body)
            .send()
            .await
            .map_err(|e| unavailable(format!("chatwoot api: {e}")))?;
        if !response.status().is_success() {
            return Err(unavailable(format!("chatwoot api answered {} for {path}", response.status())));
        }
        Ok(())
    }

    /// Posts the reply's messages, then opens the conversation to agents on a hand-off.
    async fn deliver(&self, conversation: u64, reply: &Reply) -> Result<(), ApiError> {
        for message in &reply.messages {
            let mut body = json!({"content": message.text, "message_type": "outgoing"});
            if !message.buttons.is_empty() {
                let items: Vec<Value> =
                    message.buttons.iter().map(|b| json!({"title": b.title, "value": b.payload})).collect();
                body["content_type"] = json!("input_select");
                body["content_attributes"] = json!({ "items": items });
            }
            self.post(&format!("conversations/{conversation}/messages"), body).await?;
        }
        if reply.handoff {
            self.post(&format!("conversations/{conversation}/toggle_status"), json!({"status": "open"})).await?;
        }
        Ok(())
    }
}

/// The parts of a Chatwoot webhook event Kefu reads (Chatwoot sends many more).
#[derive(Debug, Deserialize)]
struct WebhookEvent {
    event: String,
    /// Message id (message events) or conversation id (conversation events).
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    message_type: Option<String>,
    #[serde(default)]
    private: bool,
    #[serde(default)]
    content_attributes: Option<Value>,
    #[serde(default)]
    sender: Option<Sender>,
    #[serde(default)]
    conversation: Option<ConversationRef>,
    #[serde(default)]
    account: Option<AccountRef>,
    #[serde(default)]
    account_id: Option<u64>,
    /// Conversation status (conversation events).
    #[serde(default)]
    status: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Sender {
    #[serde(default)]
    id: Option<u64>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ConversationRef {
    id: u64,
    #[serde(default)]
    status: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AccountRef {
    id: u64,
}

impl WebhookEvent {
    fn account(&self) -> Option<u64> {
        self.account.as_ref().map(|a| a.id).or(self.account_id)
    }

    /// The value of a clicked `input_select` item, else the typed text.
    fn text(&self) -> Option<String> {
        let submitted = self
            .content_attributes
            .as_ref()
            .and_then(|a| a.pointer("/submitted_values/0/value"))
            .and_then(Value::as_str)
            .map(str::to_string);
        submitted.or_else(|| self.content.clone()).filter(|t| !t.trim().is_empty())
    }
}

/// Kefu's conversation id for a Chatwoot conversation.
fn conversation_id(account: u64, conversation: u64) -> String {
    format!("chatwoot-{account}-{conversation}")
}

/// `POST /v1/channels/chatwoot`: one Chatwoot webhook event.
pub async fn webhook(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Agent)?;
    let event: WebhookEvent = json_body(body)?;
    let client = state.chatwoot.get(&caller.tenant).ok_or_else(|| {
        ApiError::new(ErrorCode::NotFound, "this tenant has no `chatwoot` section in the server config")
    })?;
    if event.account().is_some_and(|a| a != client.account_id) {
        return Err(ApiError::new(ErrorCode::Forbidden, "event of another Chatwoot account"));
    }
    let ignored = |why: &str| Ok(Json(json!({"handled": false, "reason": why})));
    match event.event.as_str() {
        "message_created" => {
            let Some(conversation) = &event.conversation else {
                return Err(ApiError::invalid("message_created without `conversation`"));
            };
            let id = conversation_id(client.account_id, conversation.id);
            if event.private {
                return ignored("private note");
            }
            match event.message_type.as_deref() {
                Some("incoming") => {}
                Some("outgoing") if event.sender.as_ref().and_then(|s| s.kind.as_deref()) == Some("user") => {
                    // A human agent wrote: keep it in the transcript while the conversation is theirs.
                    let text = event.content.clone().unwrap_or_default();
                    let recorded = !text.trim().is_empty()
                        && state.registry.agent_message(&caller.tenant, &id, &text).await.unwrap_or(false);
                    return Ok(Json(json!({"handled": recorded})));
                }
                _ => return ignored("not a customer message"),
            }
            if conversation.status.as_deref().is_some_and(|s| s != "pending") {
                return ignored("the conversation is with the agents");
            }
            let Some(text) = event.text() else { return ignored("no text") };
            let contact = event
                .sender
                .as_ref()
                .and_then(|s| s.id)
                .map_or_else(|| id.clone(), |c| format!("chatwoot-contact-{c}"));
            let mut turn = Turn::new(id, text).tenant(caller.tenant.clone()).user(contact).channel("chatwoot");
            if let Some(message) = event.id {
                turn = turn.idempotency_key(format!("chatwoot-message-{message}"));
            }
            state.admit_turn(&caller, &mut turn).await?;
            let reply = state.run_turn(turn).await?;
            client.deliver(conversation.id, &reply).await?;
            Ok(Json(json!({"handled": true, "handoff": reply.handoff, "messages": reply.messages.len()})))
        }
        "conversation_status_changed" | "conversation_updated" => {
            let (Some(conversation), Some(status)) = (event.id, event.status.as_deref()) else {
                return Err(ApiError::invalid("conversation event without `id` and `status`"));
            };
            let id = conversation_id(client.account_id, conversation);
            match status {
                "pending" => {
                    let released = state.registry.release_handoff(&caller.tenant, &id).await.unwrap_or(false);
                    state.forget_waiting(&caller.tenant, Some(id.as_str()), None);
                    Ok(Json(json!({"handled": released})))
                }
                "resolved" => {
                    let ended = state.registry.end_conversation(&caller.tenant, &id).await?;
                    state.forget_waiting(&caller.tenant, Some(id.as_str()), None);
                    Ok(Json(json!({"handled": ended})))
                }
                _ => ignored("status needs nothing from the bot"),
            }
        }
        _ => ignored("event not used"),
    }
}
