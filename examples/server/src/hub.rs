//! Live subscriptions: SSE and WebSocket clients watching a conversation receive the reply
//! parts of its turns and the messages of a human agent, as [`StreamEvent`]s. In-process: with
//! several replicas, a client stays on the replica that holds its stream (sticky sessions at
//! the ingress), and agent messages reach it when the agent calls the same replica.

use kefu::ReplyPart;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::broadcast;

/// What a subscriber receives.
#[derive(Clone, Debug, Serialize)]
pub struct StreamEvent {
    /// The conversation.
    pub conversation_id: String,
    /// The customer of the conversation (not sent: it decides which end-user callers may see
    /// the event).
    #[serde(skip)]
    pub user_id: String,
    /// The payload.
    #[serde(flatten)]
    pub payload: StreamPayload,
}

/// The payload of a [`StreamEvent`], tagged by `type`.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum StreamPayload {
    /// A part of the assistant's reply (`delta`, `message`, `done`).
    Part(ReplyPart),
    /// A human agent wrote (`type: agent_message`).
    Agent(AgentMessage),
    /// A turn failed (`type: error`).
    Error(StreamError),
}

/// A human agent's message.
#[derive(Clone, Debug, Serialize)]
pub struct AgentMessage {
    /// Always `agent_message`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The text.
    pub text: String,
}

/// An error on a stream.
#[derive(Clone, Debug, Serialize)]
pub struct StreamError {
    /// Always `error`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Stable code.
    pub code: kefu::ErrorCode,
    /// Detail.
    pub message: String,
}

impl StreamEvent {
    /// Whether `caller` may receive this event: an end user's token sees only its own
    /// conversation's events, even on an id that another user took over after expiry.
    pub fn visible_to(&self, caller: &crate::auth::Caller) -> bool {
        match &caller.user {
            Some(user) if caller.role == crate::config::Role::Client => *user == self.user_id,
            _ => true,
        }
    }

    /// The SSE event name: the payload's `type`.
    pub fn name(&self) -> &'static str {
        match &self.payload {
            StreamPayload::Part(ReplyPart::Delta { .. }) => "delta",
            StreamPayload::Part(ReplyPart::Message { .. }) => "message",
            StreamPayload::Part(ReplyPart::Done { .. }) => "done",
            StreamPayload::Agent(_) => "agent_message",
            StreamPayload::Error(_) => "error",
        }
    }
}

/// Conversations being watched.
#[derive(Default)]
pub struct Hub {
    channels: Mutex<HashMap<(String, String), broadcast::Sender<StreamEvent>>>,
}

impl Hub {
    /// Watches a conversation.
    pub fn subscribe(&self, tenant: &str, conversation_id: &str) -> broadcast::Receiver<StreamEvent> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        channels.retain(|_, tx| tx.receiver_count() > 0);
        channels
            .entry((tenant.to_string(), conversation_id.to_string()))
            .or_insert_with(|| broadcast::channel(64).0)
            .subscribe()
    }

    /// Sends to the conversation's watchers, if any.
    pub fn publish(&self, tenant: &str, event: StreamEvent) {
        let channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = channels.get(&(tenant.to_string(), event.conversation_id.clone())) {
            let _ = tx.send(event);
        }
    }

    /// Conversations with at least one watcher.
    pub fn watched(&self) -> usize {
        let channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        channels.values().filter(|tx| tx.receiver_count() > 0).count()
    }
}
