//! Actions: code the assistant runs (look up an order, create a return). Built-in kinds are
//! table lookups and HTTP webhooks; anything else is a Rust closure or type registered with
//! the engine builder.

use crate::bot::LookupAction;
use crate::language::Language;
use crate::nlu::Entity;
use crate::response::value_text;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What an action is told about the turn. Webhooks receive it as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionCall {
    /// Action name.
    pub action: String,
    /// Tenant.
    pub tenant: String,
    /// Conversation.
    pub conversation_id: String,
    /// Customer.
    pub user_id: String,
    /// Channel.
    pub channel: String,
    /// Conversation language.
    pub language: Language,
    /// The user's (normalised) message.
    pub text: String,
    /// Top intent of the turn.
    pub intent: Option<String>,
    /// Entities of the turn.
    pub entities: Vec<Entity>,
    /// Current slot values.
    pub slots: BTreeMap<String, serde_json::Value>,
    /// The turn's metadata, as the channel sent it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, serde_json::Value>,
}

/// What an action asks the engine to do.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionOutcome {
    /// Slots to set (`null` clears one).
    #[serde(default)]
    pub slots: BTreeMap<String, serde_json::Value>,
    /// A named response to send.
    #[serde(default)]
    pub response: Option<String>,
    /// Literal messages to send.
    #[serde(default)]
    pub texts: Vec<String>,
    /// For validation actions: the value is not acceptable.
    #[serde(default)]
    pub reject: bool,
    /// Hand the conversation to a human.
    #[serde(default)]
    pub handoff: bool,
}

/// Why an action failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ActionError {
    /// No handler was registered for a `code: true` action.
    #[error("action `{0}` has no registered handler")]
    NotRegistered(String),
    /// The action did not answer in time.
    #[error("action `{action}` timed out after {millis} ms")]
    Timeout {
        /// Action name.
        action: String,
        /// The limit.
        millis: u64,
    },
    /// The action failed.
    #[error("action `{action}` failed: {message}")]
    Failed {
        /// Action name.
        action: String,
        /// What went wrong.
        message: String,
    },
}

/// Runs an action.
#[async_trait]
pub trait ActionHandler: Send + Sync {
    /// Runs the action for one turn.
    async fn run(&self, call: &ActionCall) -> Result<ActionOutcome, ActionError>;
}

/// An action from a closure.
///
/// ```
/// use kefu_core::{ActionOutcome, FnAction};
/// let greet = FnAction::new(|call| {
///     let mut out = ActionOutcome::default();
///     out.texts.push(format!("hello {}", call.user_id));
///     Ok(out)
/// });
/// # let _ = greet;
/// ```
pub struct FnAction<F>(F);

impl<F> FnAction<F>
where
    F: Fn(&ActionCall) -> Result<ActionOutcome, ActionError> + Send + Sync,
{
    /// Wraps a closure.
    pub fn new(f: F) -> Self {
        Self(f)
    }
}

#[async_trait]
impl<F> ActionHandler for FnAction<F>
where
    F: Fn(&ActionCall) -> Result<ActionOutcome, ActionError> + Send + Sync,
{
    async fn run(&self, call: &ActionCall) -> Result<ActionOutcome, ActionError> {
        (self.0)(call)
    }
}

/// A `lookup:` action over a table shipped with the bot.
pub struct LookupHandler {
    spec: LookupAction,
    rows: Vec<BTreeMap<String, serde_json::Value>>,
}

impl LookupHandler {
    /// Builds the handler from its spec and the loaded table.
    pub fn new(spec: LookupAction, rows: Vec<BTreeMap<String, serde_json::Value>>) -> Self {
        Self { spec, rows }
    }
}

#[async_trait]
impl ActionHandler for LookupHandler {
    async fn run(&self, call: &ActionCall) -> Result<ActionOutcome, ActionError> {
        let mut out = ActionOutcome::default();
        let wanted = call.slots.get(&self.spec.key).map(value_text).unwrap_or_default();
        let row = self
            .rows
            .iter()
            .find(|r| r.get(&self.spec.key).is_some_and(|v| value_text(v).eq_ignore_ascii_case(wanted.trim())));
        match row {
            Some(row) => {
                for (slot, column) in &self.spec.set {
                    out.slots.insert(slot.clone(), row.get(column).cloned().unwrap_or(serde_json::Value::Null));
                }
                out.response = self.spec.found.clone();
            }
            None => {
                out.reject = true;
                out.response = self.spec.not_found.clone();
            }
        }
        Ok(out)
    }
}

/// A `webhook:` action: POSTs the [`ActionCall`] as JSON and reads an [`ActionOutcome`].
#[cfg(feature = "webhook")]
pub struct WebhookHandler {
    name: String,
    spec: crate::bot::WebhookAction,
    client: reqwest::Client,
}

#[cfg(feature = "webhook")]
impl WebhookHandler {
    /// Builds the handler; header values starting with `$` are read from the environment now.
    pub fn new(name: String, spec: crate::bot::WebhookAction) -> Result<Self, ActionError> {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_millis(spec.timeout_ms))
            .build()
            .map_err(|e| ActionError::Failed { action: name.clone(), message: e.to_string() })?;
        Ok(Self { name, spec, client })
    }
}

#[cfg(feature = "webhook")]
#[async_trait]
impl ActionHandler for WebhookHandler {
    async fn run(&self, call: &ActionCall) -> Result<ActionOutcome, ActionError> {
        let mut req = self.client.post(&self.spec.url).json(call);
        for (k, v) in &self.spec.headers {
            let value = match v.strip_prefix('$') {
                Some(var) => std::env::var(var).map_err(|_| ActionError::Failed {
                    action: self.name.clone(),
                    message: format!("environment variable `{var}` for header `{k}` is not set"),
                })?,
                None => v.clone(),
            };
            req = req.header(k, value);
        }
        let fail = |message: String| ActionError::Failed { action: self.name.clone(), message };
        let resp = req.send().await.map_err(|e| {
            if e.is_timeout() {
                ActionError::Timeout { action: self.name.clone(), millis: self.spec.timeout_ms }
            } else {
                fail(e.to_string())
            }
        })?;
        let status = resp.status();
        if !status.is_success() {
            return Err(fail(format!("HTTP {status}")));
        }
        resp.json::<ActionOutcome>().await.map_err(|e| fail(format!("bad response body: {e}")))
    }
}
