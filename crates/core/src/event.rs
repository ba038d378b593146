//! Typed events emitted by every turn, and the `EventSink` trait with in-process sinks.

use crate::nlu::{Entity, IntentScore};
use crate::response::Button;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Mutex;

/// What happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The customer said something.
    UserMessage {
        /// Normalised text.
        text: String,
        /// Detected or given language.
        language: crate::Language,
    },
    /// NLU result for the message.
    IntentRecognized {
        /// Top intent (after thresholds: may be below the confidence threshold).
        intent: String,
        /// Its confidence.
        confidence: f32,
        /// The ranking the decision was made on.
        ranking: Vec<IntentScore>,
    },
    /// Entities found in the message, with resolved values.
    EntitiesExtracted {
        /// The entities.
        entities: Vec<Entity>,
    },
    /// A slot received a value.
    SlotSet {
        /// Slot name.
        slot: String,
        /// New value.
        value: serde_json::Value,
        /// Value it replaced (a correction), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous: Option<serde_json::Value>,
    },
    /// A form started.
    FlowStarted {
        /// Flow name.
        flow: String,
    },
    /// A form was put aside for another one.
    FlowSuspended {
        /// Flow name.
        flow: String,
    },
    /// A suspended form continues.
    FlowResumed {
        /// Flow name.
        flow: String,
    },
    /// A form finished.
    FlowCompleted {
        /// Flow name.
        flow: String,
    },
    /// The customer cancelled a form, or it gave up after too many invalid answers.
    FlowCancelled {
        /// Flow name.
        flow: String,
    },
    /// An action ran.
    ActionExecuted {
        /// Action name.
        action: String,
        /// Whether it succeeded.
        ok: bool,
        /// Error message when it failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// The knowledge base answered.
    KbAnswer {
        /// FAQ entry id.
        entry_id: String,
        /// Retrieval score.
        score: f32,
    },
    /// The assistant did not understand.
    Fallback {
        /// Fallbacks in a row, this one included.
        consecutive: u32,
    },
    /// The assistant offered a human agent.
    HandoffOffered,
    /// The conversation was handed to a human agent.
    Handoff {
        /// Why (intent, repeated fallbacks, user request).
        reason: String,
    },
    /// A message arrived while an agent owns the conversation; it is routed to the agent.
    RoutedToAgent {
        /// The message.
        text: String,
    },
    /// A human agent wrote to the customer (after hand-off).
    AgentMessage {
        /// What the agent wrote.
        text: String,
    },
    /// The agent handed the conversation back to the assistant.
    HandoffReleased,
    /// The previous session expired after being idle; a new one started.
    SessionExpired,
    /// The turn is done (last event of every turn).
    TurnCompleted {
        /// Time the engine spent on the turn, in milliseconds (NLU, policy, actions, store).
        latency_ms: f64,
    },
    /// The assistant replied.
    BotMessage {
        /// Reply text.
        text: String,
        /// Quick-reply buttons.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        buttons: Vec<Button>,
    },
}

impl Event {
    /// Whether a [`crate::Reply`] lists this event: what the turn *did* (flows, slots,
    /// actions, FAQ answers, fallbacks, hand-offs), not what the reply already holds
    /// (messages, intent, entities) nor bookkeeping.
    pub fn belongs_in_reply(&self) -> bool {
        !matches!(
            self,
            Event::UserMessage { .. }
                | Event::BotMessage { .. }
                | Event::IntentRecognized { .. }
                | Event::EntitiesExtracted { .. }
                | Event::TurnCompleted { .. }
        )
    }
}

/// An event with where and when it happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    /// Unique and stable: `tenant/conversation/turn/sequence`, so consumers can deduplicate.
    pub id: String,
    /// Tenant.
    pub tenant: String,
    /// Conversation.
    pub conversation_id: String,
    /// Customer.
    pub user_id: String,
    /// Channel the turn came from.
    pub channel: String,
    /// Turn number within the conversation (1-based).
    pub turn: u64,
    /// When it happened.
    pub timestamp: DateTime<Utc>,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

/// Errors of an event sink.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The transport did not accept the events.
    #[error("event transport unavailable: {0}")]
    Unavailable(String),
}

/// Receives the events of each turn, in order, after the session has been saved.
#[async_trait]
pub trait EventSink: Send + Sync {
    /// Publishes one turn's events.
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), SinkError>;
}

/// Drops every event (for embedders that need none).
pub struct NullEventSink;

#[async_trait]
impl EventSink for NullEventSink {
    async fn publish(&self, _events: &[EventEnvelope]) -> Result<(), SinkError> {
        Ok(())
    }
}

/// Keeps the most recent events in memory (bounded), for tests, the CLI and debugging.
pub struct MemoryEventSink {
    capacity: usize,
    events: Mutex<VecDeque<EventEnvelope>>,
}

impl MemoryEventSink {
    /// A sink that keeps at most `capacity` events.
    pub fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), events: Mutex::new(VecDeque::new()) }
    }

    /// A copy of the kept events, oldest first.
    pub fn events(&self) -> Vec<EventEnvelope> {
        self.events.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
    }

    /// Removes and returns the kept events.
    pub fn drain(&self) -> Vec<EventEnvelope> {
        self.events.lock().unwrap_or_else(|p| p.into_inner()).drain(..).collect()
    }
}

#[async_trait]
impl EventSink for MemoryEventSink {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), SinkError> {
        let mut q = self.events.lock().unwrap_or_else(|p| p.into_inner());
        for e in events {
            if q.len() == self.capacity {
                q.pop_front();
            }
            q.push_back(e.clone());
        }
        Ok(())
    }
}

/// Appends events as JSON lines to a file (one object per line), for the CLI, debugging and
/// offline analytics. Writes are flushed per turn.
pub struct JsonlEventSink {
    file: Mutex<std::io::BufWriter<std::fs::File>>,
}

impl JsonlEventSink {
    /// Opens (creating, appending) the file.
    pub fn open(path: &std::path::Path) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self { file: Mutex::new(std::io::BufWriter::new(file)) })
    }
}

#[async_trait]
impl EventSink for JsonlEventSink {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), SinkError> {
        use std::io::Write;
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        for e in events {
            let line = serde_json::to_string(e).map_err(|err| SinkError::Unavailable(err.to_string()))?;
            writeln!(f, "{line}").map_err(|err| SinkError::Unavailable(err.to_string()))?;
        }
        f.flush().map_err(|err| SinkError::Unavailable(err.to_string()))
    }
}

/// Fans events out to in-process subscribers (a tokio broadcast channel).
pub struct BroadcastEventSink {
    sender: tokio::sync::broadcast::Sender<EventEnvelope>,
}

impl BroadcastEventSink {
    /// A channel buffering `capacity` events per slow subscriber.
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = tokio::sync::broadcast::channel(capacity.max(1));
        Self { sender }
    }

    /// Subscribes to events published from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<EventEnvelope> {
        self.sender.subscribe()
    }
}

#[async_trait]
impl EventSink for BroadcastEventSink {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), SinkError> {
        for e in events {
            // No subscriber is not an error: events are fire-and-forget in-process.
            let _ = self.sender.send(e.clone());
        }
        Ok(())
    }
}

/// Publishes to several sinks in order; fails if any fails (after trying all).
pub struct FanoutEventSink(pub Vec<std::sync::Arc<dyn EventSink>>);

#[async_trait]
impl EventSink for FanoutEventSink {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), SinkError> {
        let mut first_err = None;
        for sink in &self.0 {
            if let Err(e) = sink.publish(events).await {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}
