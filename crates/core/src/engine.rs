//! The engine: one call per user message, `handle(turn) -> Reply`.

use crate::action::{ActionCall, ActionHandler, ActionOutcome, LookupHandler};
use crate::answer::{AnswerRequest, AnswerWriter};
use crate::bot::{BotDefinition, FAQ_INTENT, OUT_OF_SCOPE_INTENT};
use crate::bot_entities::BotEntityExtractor;
use crate::error::Error;
use crate::event::{Event, EventEnvelope, EventSink, MemoryEventSink};
use crate::kb::{KbHit, KbQuery, KnowledgeBase};
use crate::language::{detect_language, Language};
use crate::lock::{ConversationLock, LocalConversationLock, LockError, LockLease};
use crate::nlu::{ChainedExtractor, Entity, EntityExtractor, ExtractionContext, IntentClassifier, IntentScore};
use crate::policy::{builtin_text, interpret, is_affirm, is_deny, yes_no_buttons, Interpretation};
use crate::response::{interpolate, pick_text, RenderedButton};
use crate::session::{HistoryEntry, MemorySessionStore, Session, SessionKey, SessionStore, Speaker, StoreError};
use crate::text::normalize;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// Longest user message accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Longest id (tenant, conversation, user, channel) accepted, in bytes.
pub const MAX_ID_BYTES: usize = 256;
/// Most metadata entries per turn, and longest serialised metadata in bytes.
pub const MAX_METADATA_ENTRIES: usize = 64;
/// Longest serialised `metadata` of a turn, in bytes.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;
/// Replies remembered per conversation for idempotent retries.
pub const IDEMPOTENT_REPLIES_KEPT: usize = 8;
const MAX_OPTIMISTIC_RETRIES: usize = 8;
/// Default lease of the per-conversation lock (a turn normally takes milliseconds).
pub const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(30);

/// One user message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// Tenant (default `"default"`).
    #[serde(default = "default_tenant")]
    pub tenant: String,
    /// Conversation id.
    pub conversation_id: String,
    /// Customer id (default: the conversation id).
    #[serde(default)]
    pub user_id: String,
    /// Channel (`web`, `sms`, `wechat`, …; default `"default"`).
    #[serde(default = "default_channel")]
    pub channel: String,
    /// The message.
    pub text: String,
    /// Language when the channel knows it; detected otherwise.
    #[serde(default)]
    pub language: Option<Language>,
    /// When the message was sent (default: now).
    #[serde(default)]
    pub timestamp: Option<DateTime<Utc>>,
    /// Free data from the channel (page URL, order id, app version…): passed to actions and
    /// kept on the turn's events, never interpreted by the engine.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// A client-chosen key: a retry of the same turn with the same key returns the first
    /// reply and does not run the turn again (remembered in the session, so across replicas
    /// that share a session store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// Only the conversation's own user may speak in it: a live conversation of another
    /// `user_id` fails with [`Error::ConversationNotFound`] (checked under the conversation
    /// lock). Set by doors that authenticate end users; never read from the wire.
    #[serde(skip)]
    pub owner_only: bool,
}

fn default_tenant() -> String {
    "default".into()
}
fn default_channel() -> String {
    "default".into()
}

impl Turn {
    /// A turn in the default tenant and channel, the user being the conversation.
    pub fn new(conversation_id: impl Into<String>, text: impl Into<String>) -> Self {
        let conversation_id = conversation_id.into();
        Self {
            tenant: default_tenant(),
            user_id: conversation_id.clone(),
            conversation_id,
            channel: default_channel(),
            text: text.into(),
            language: None,
            timestamp: None,
            metadata: BTreeMap::new(),
            idempotency_key: None,
            owner_only: false,
        }
    }

    /// Sets the customer id.
    pub fn user(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = user_id.into();
        self
    }

    /// Sets the idempotency key.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Adds one metadata entry.
    pub fn meta(mut self, key: impl Into<String>, value: serde_json::Value) -> Self {
        self.metadata.insert(key.into(), value);
        self
    }

    /// Sets the tenant.
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = tenant.into();
        self
    }

    /// Sets the channel.
    pub fn channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = channel.into();
        self
    }

    /// Sets the language.
    pub fn language(mut self, language: Language) -> Self {
        self.language = Some(language);
        self
    }

    /// Sets the timestamp.
    pub fn at(mut self, timestamp: DateTime<Utc>) -> Self {
        self.timestamp = Some(timestamp);
        self
    }
}

/// One message of the reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyMessage {
    /// Text.
    pub text: String,
    /// Quick replies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<RenderedButton>,
    /// The bot response this message renders (`responses.yaml` name, or a built-in name such
    /// as `fallback`); absent for FAQ answers and action texts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// The FAQ entry this message answers from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faq_id: Option<String>,
}

impl ReplyMessage {
    /// A plain text message.
    pub fn text(text: impl Into<String>) -> Self {
        Self { text: text.into(), buttons: Vec::new(), response: None, faq_id: None }
    }
}

/// The assistant's answer to a turn, with the state a channel may want to show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// Tenant.
    pub tenant: String,
    /// Conversation.
    pub conversation_id: String,
    /// Turn number (1-based).
    pub turn: u64,
    /// Language of the reply.
    pub language: Language,
    /// Messages to show, in order (empty while an agent owns the conversation).
    pub messages: Vec<ReplyMessage>,
    /// Top intent, if any.
    pub intent: Option<IntentScore>,
    /// Entities of the message with resolved values.
    pub entities: Vec<Entity>,
    /// Slot values after the turn.
    pub slots: BTreeMap<String, serde_json::Value>,
    /// The form in progress after the turn.
    pub flow: Option<String>,
    /// A human agent owns the conversation.
    pub handoff: bool,
    /// What the turn did besides saying things: flows started/completed/cancelled, slots
    /// set, actions run, FAQ answers, fallbacks, hand-offs (the same events the event sink
    /// receives, without the message/NLU ones already in this reply).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event>,
    /// The bot version that answered (set when the engine was built with a version label,
    /// as a [`crate`] registry does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_version: Option<String>,
    /// True when this reply was returned again for a retried idempotency key.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replayed: bool,
    /// No message, on purpose: a human agent owns the conversation and the user's message
    /// was routed to them. Otherwise every reply has at least one message.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub silent: bool,
    /// Where the turn's time went, for metrics and traces (not part of the wire shape).
    #[serde(skip)]
    pub timings: TurnTimings,
}

/// Time a turn spent in each component (zero for what it did not use; all zero for a
/// replayed reply).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TurnTimings {
    /// Intent classification and entity extraction.
    pub nlu: Duration,
    /// Knowledge-base retrieval.
    pub kb: Duration,
    /// Writing answers ([`AnswerWriter`], an LLM).
    pub answer_writer: Duration,
    /// Actions (webhooks, lookups, code).
    pub actions: Duration,
    /// Loading and saving the session.
    pub store: Duration,
}

impl Reply {
    /// All message texts joined by newlines.
    pub fn text(&self) -> String {
        self.messages.iter().map(|m| m.text.as_str()).collect::<Vec<_>>().join("\n")
    }
}

/// Builds an [`Engine`] from a bot definition and its components.
pub struct EngineBuilder {
    bot: BotDefinition,
    classifier: Option<Arc<dyn IntentClassifier>>,
    extractors: Vec<Arc<dyn EntityExtractor>>,
    kb: Option<Arc<dyn KnowledgeBase>>,
    answer_writer: Option<Arc<dyn AnswerWriter>>,
    store: Arc<dyn SessionStore>,
    sink: Arc<dyn EventSink>,
    actions: HashMap<String, Arc<dyn ActionHandler>>,
    lock: Arc<dyn ConversationLock>,
    lock_ttl: Duration,
    version: Option<String>,
    webhook_policy: crate::action::WebhookPolicy,
}

impl EngineBuilder {
    /// Where the bot's webhook actions may connect (default: public addresses only; see
    /// [`crate::action::WebhookPolicy`]).
    pub fn webhook_policy(mut self, policy: crate::action::WebhookPolicy) -> Self {
        self.webhook_policy = policy;
        self
    }

    /// A label for this build of the bot (`"v2"`, a git sha…): written into every session it
    /// serves (so a registry can pin conversations to it) and into every reply.
    pub fn version(mut self, label: impl Into<String>) -> Self {
        self.version = Some(label.into());
        self
    }

    /// The intent classifier (required).
    pub fn classifier(mut self, c: Arc<dyn IntentClassifier>) -> Self {
        self.classifier = Some(c);
        self
    }

    /// Adds an entity extractor (built-in entities, for instance); the bot's regex and
    /// lookup entities are always extracted.
    pub fn extractor(mut self, e: Arc<dyn EntityExtractor>) -> Self {
        self.extractors.push(e);
        self
    }

    /// The knowledge base consulted on unsure turns.
    pub fn knowledge_base(mut self, kb: Arc<dyn KnowledgeBase>) -> Self {
        self.kb = Some(kb);
        self
    }

    /// Writes knowledge-base answers at turn time (an LLM grounded in the retrieved entries,
    /// `kefu_llm::GroundedAnswerer`) instead of the entries' stored text; streaming clients
    /// get the text as it is written. Without one, the stored answer is the reply.
    pub fn answer_writer(mut self, writer: Arc<dyn AnswerWriter>) -> Self {
        self.answer_writer = Some(writer);
        self
    }

    /// The session store (default: in memory).
    pub fn session_store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.store = store;
        self
    }

    /// The per-conversation lock held while a turn is computed and saved (default: in-process,
    /// [`LocalConversationLock`]). Replicas sharing a store use a distributed lock with fencing
    /// tokens (`kefu_backends::lock::RedisConversationLock`).
    pub fn conversation_lock(mut self, lock: Arc<dyn ConversationLock>) -> Self {
        self.lock = lock;
        self
    }

    /// The lease of the conversation lock (default [`DEFAULT_LOCK_TTL`], 30 s): longer than
    /// any turn (NLU, actions, knowledge base), or a slow turn's save is fenced off and redone.
    pub fn lock_ttl(mut self, ttl: Duration) -> Self {
        self.lock_ttl = ttl;
        self
    }

    /// The event sink (default: the last 10,000 events in memory).
    pub fn event_sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.sink = sink;
        self
    }

    /// Registers the handler of a `code: true` action (or overrides a built-in one).
    pub fn action(mut self, name: impl Into<String>, handler: Arc<dyn ActionHandler>) -> Self {
        self.actions.insert(name.into(), handler);
        self
    }

    /// Checks that every action has a handler and builds the engine.
    pub fn build(mut self) -> Result<Engine, Error> {
        let classifier = self.classifier.ok_or_else(|| Error::Config("no intent classifier was given".into()))?;
        for (name, def) in &self.bot.actions {
            if self.actions.contains_key(name) {
                continue;
            }
            if let Some(spec) = &def.lookup {
                let rows = self.bot.tables.get(&spec.table).cloned().unwrap_or_default();
                self.actions.insert(name.clone(), Arc::new(LookupHandler::new(spec.clone(), rows)));
            } else if let Some(_spec) = &def.webhook {
                #[cfg(feature = "webhook")]
                {
                    let h = crate::action::WebhookHandler::with_policy(
                        name.clone(),
                        _spec.clone(),
                        self.webhook_policy.clone(),
                    )?;
                    self.actions.insert(name.clone(), Arc::new(h));
                }
                #[cfg(not(feature = "webhook"))]
                return Err(Error::Config(format!("action `{name}` is a webhook: enable the `webhook` feature")));
            } else {
                return Err(Error::Config(format!(
                    "action `{name}` is `code: true` but no handler was registered for it"
                )));
            }
        }
        let tz = self
            .bot
            .bot
            .timezone
            .parse::<chrono_tz::Tz>()
            .map_err(|_| Error::Config(format!("unknown time zone `{}`", self.bot.bot.timezone)))?;
        let mut extractors: Vec<Arc<dyn EntityExtractor>> = vec![Arc::new(BotEntityExtractor::new(&self.bot))];
        extractors.extend(self.extractors);
        Ok(Engine {
            inner: Arc::new(Inner {
                bot: self.bot,
                tz,
                classifier,
                extractor: ChainedExtractor(extractors),
                kb: self.kb,
                answer_writer: self.answer_writer,
                store: self.store,
                sink: self.sink,
                actions: self.actions,
                lock: self.lock,
                lock_ttl: self.lock_ttl,
                version: self.version,
            }),
        })
    }
}

pub(crate) struct Inner {
    pub(crate) bot: BotDefinition,
    tz: chrono_tz::Tz,
    classifier: Arc<dyn IntentClassifier>,
    extractor: ChainedExtractor,
    kb: Option<Arc<dyn KnowledgeBase>>,
    answer_writer: Option<Arc<dyn AnswerWriter>>,
    store: Arc<dyn SessionStore>,
    sink: Arc<dyn EventSink>,
    actions: HashMap<String, Arc<dyn ActionHandler>>,
    lock: Arc<dyn ConversationLock>,
    lock_ttl: Duration,
    version: Option<String>,
}

/// The dialogue engine. Cheap to clone; share one per bot across tasks.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl Engine {
    /// Starts building an engine for `bot`.
    pub fn builder(bot: BotDefinition) -> EngineBuilder {
        EngineBuilder {
            bot,
            classifier: None,
            extractors: Vec::new(),
            kb: None,
            answer_writer: None,
            store: Arc::new(MemorySessionStore::new()),
            sink: Arc::new(MemoryEventSink::new(10_000)),
            actions: HashMap::new(),
            lock: Arc::new(LocalConversationLock::new()),
            lock_ttl: DEFAULT_LOCK_TTL,
            version: None,
            webhook_policy: Default::default(),
        }
    }

    /// The version label given to the builder, if any.
    pub fn version(&self) -> Option<&str> {
        self.inner.version.as_deref()
    }

    /// Handles one user message and streams the reply in parts: deltas of generated text
    /// while it is produced (answers of an [`AnswerWriter`]), each complete message, then
    /// [`ReplyPart::Done`] with the whole [`Reply`]. A message part is authoritative: it
    /// replaces the deltas of the same index (a writer failing midway leaves the stored
    /// answer). The turn runs to completion (and is saved) even if the stream is dropped.
    /// Needs a tokio runtime.
    pub fn handle_stream(&self, turn: Turn) -> ReplyStream {
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let engine = self.clone();
        tokio::spawn(async move {
            match engine.handle_sending_deltas(turn, Some(&tx)).await {
                Ok(reply) => {
                    for (index, message) in reply.messages.iter().enumerate() {
                        if tx.send(Ok(ReplyPart::Message { index, message: message.clone() })).await.is_err() {
                            return;
                        }
                    }
                    let _ = tx.send(Ok(ReplyPart::Done { reply: Box::new(reply) })).await;
                }
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                }
            }
        });
        ReplyStream { rx }
    }

    /// The bot definition.
    pub fn bot(&self) -> &BotDefinition {
        &self.inner.bot
    }

    /// Handles one user message. Turns of the same conversation are serialised by the
    /// conversation lock (in this process by default; across replicas with a distributed
    /// lock), and the session is saved with a version check — and the lock's fencing token
    /// when the lock is shared — so that replicas sharing a store never lose an update (a
    /// conflicting or fenced turn is recomputed on the fresh state).
    pub async fn handle(&self, turn: Turn) -> Result<Reply, Error> {
        self.handle_sending_deltas(turn, None).await
    }

    async fn handle_sending_deltas(&self, turn: Turn, deltas: Option<&PartSender>) -> Result<Reply, Error> {
        validate_turn(&turn, &self.inner.bot)?;
        let key = SessionKey::new(turn.tenant.clone(), turn.conversation_id.clone());
        let ttl = Duration::from_secs(self.inner.bot.policy.session_idle_timeout_secs);
        for attempt in 0..MAX_OPTIMISTIC_RETRIES {
            let lease = self.acquire(&key).await?;
            let fence = self.inner.lock.shared_fencing().then_some(lease.fencing_token);
            let outcome = self.turn_once(&turn, &key, ttl, fence, deltas).await;
            self.release(lease).await;
            match outcome {
                Ok(reply) => return Ok(reply),
                Err(Error::Store(e @ (StoreError::Conflict { .. } | StoreError::Fenced { .. }))) => {
                    tracing::debug!(attempt, conversation = %key.conversation_id, error = %e, "session changed concurrently; recomputing the turn");
                    tokio::time::sleep(Duration::from_millis(1 << attempt.min(6))).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::Busy(format!("conversation {} kept changing concurrently", key.conversation_id)))
    }

    /// One attempt at a turn, under the conversation lock: load, compute, save, publish.
    async fn turn_once(
        &self,
        turn: &Turn,
        key: &SessionKey,
        ttl: Duration,
        fence: Option<u64>,
        deltas: Option<&PartSender>,
    ) -> Result<Reply, Error> {
        let started = std::time::Instant::now();
        let stored = self.inner.store.load(key).await?;
        let mut store_time = started.elapsed();
        if turn.owner_only {
            let now = turn.timestamp.unwrap_or_else(Utc::now);
            let idle = chrono::Duration::seconds(self.inner.bot.policy.session_idle_timeout_secs as i64);
            let user = if turn.user_id.is_empty() { &turn.conversation_id } else { &turn.user_id };
            if stored.as_ref().is_some_and(|s| now - s.last_active_at <= idle && s.user_id != *user) {
                return Err(Error::ConversationNotFound(turn.conversation_id.clone()));
            }
        }
        if let Some(reply) = stored.as_ref().and_then(|s| s.replay(turn.idempotency_key.as_deref())) {
            return Ok(reply);
        }
        let expected = stored.as_ref().map_or(0, |s| s.version);
        let mut run = TurnRun::start(&self.inner, turn, stored);
        run.deltas = deltas;
        run.process().await?;
        let (mut session, events, mut reply) = run.finish();
        if let Some(k) = &turn.idempotency_key {
            session.remember_reply(k, &reply, IDEMPOTENT_REPLIES_KEPT);
        }
        session.version = expected + 1;
        let started = std::time::Instant::now();
        self.inner.store.save_fenced(&session, expected, ttl, fence).await?;
        store_time += started.elapsed();
        reply.timings.store = store_time;
        if let Err(e) = self.inner.sink.publish(&events).await {
            tracing::error!(error = %e, conversation = %key.conversation_id, "events of a saved turn were not published");
        }
        Ok(reply)
    }

    async fn acquire(&self, key: &SessionKey) -> Result<LockLease, Error> {
        self.inner.lock.acquire(key, self.inner.lock_ttl).await.map_err(|e| match &e {
            LockError::Timeout { .. } => Error::Busy(e.to_string()),
            LockError::Unavailable { retryable, .. } => {
                Error::Store(StoreError::Unavailable { message: e.to_string(), retryable: *retryable })
            }
        })
    }

    async fn release(&self, lease: LockLease) {
        if let Err(e) = self.inner.lock.release(lease).await {
            // The lease expires by itself; the next holder waits at most its time to live.
            tracing::warn!(error = %e, "conversation lock not released");
        }
    }

    /// Returns a conversation from a human agent to the assistant.
    pub async fn release_handoff(&self, tenant: &str, conversation_id: &str) -> Result<bool, Error> {
        self.change_handed_off(tenant, conversation_id, |session, _| {
            session.handoff = false;
            session.consecutive_fallbacks = 0;
            (Event::HandoffReleased, "release".to_string())
        })
        .await
    }

    /// Records a human agent's message in a handed-off conversation's history (and the
    /// event stream). Returns `false` when the conversation does not exist or no agent owns it.
    pub async fn agent_message(&self, tenant: &str, conversation_id: &str, text: &str) -> Result<bool, Error> {
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(Error::InputTooLarge(format!("`text` is longer than {MAX_TEXT_CHARS} characters")));
        }
        let max = self.inner.bot.policy.max_history;
        self.change_handed_off(tenant, conversation_id, |session, now| {
            let entry = HistoryEntry { at: now, speaker: Speaker::Agent, text: text.to_string(), intent: None };
            session.remember(entry, max);
            (Event::AgentMessage { text: text.to_string() }, format!("agent-{}", session.version + 1))
        })
        .await
    }

    /// Under the conversation lock: loads a handed-off session, applies `change`, saves it and
    /// publishes the event `change` returns (with its id suffix). `false` when there is no
    /// such session or no agent owns it.
    async fn change_handed_off(
        &self,
        tenant: &str,
        conversation_id: &str,
        change: impl FnOnce(&mut Session, DateTime<Utc>) -> (Event, String),
    ) -> Result<bool, Error> {
        let key = SessionKey::new(tenant, conversation_id);
        let lease = self.acquire(&key).await?;
        let fence = self.inner.lock.shared_fencing().then_some(lease.fencing_token);
        let outcome = self.change_handed_off_locked(&key, fence, change).await;
        self.release(lease).await;
        outcome
    }

    async fn change_handed_off_locked(
        &self,
        key: &SessionKey,
        fence: Option<u64>,
        change: impl FnOnce(&mut Session, DateTime<Utc>) -> (Event, String),
    ) -> Result<bool, Error> {
        let ttl = Duration::from_secs(self.inner.bot.policy.session_idle_timeout_secs);
        let Some(mut session) = self.inner.store.load(key).await? else {
            return Ok(false);
        };
        if !session.handoff {
            return Ok(false);
        }
        let expected = session.version;
        let now = Utc::now();
        let (event, suffix) = change(&mut session, now);
        session.version = expected + 1;
        self.inner.store.save_fenced(&session, expected, ttl, fence).await?;
        let env = EventEnvelope {
            id: format!("{}/{}/{}/{suffix}", key.tenant, key.conversation_id, session.turns),
            tenant: key.tenant.clone(),
            conversation_id: key.conversation_id.clone(),
            user_id: session.user_id.clone(),
            channel: String::new(),
            turn: session.turns,
            timestamp: now,
            event,
        };
        if let Err(e) = self.inner.sink.publish(&[env]).await {
            tracing::error!(error = %e, "hand-off event not published");
        }
        Ok(true)
    }

    /// The stored session of a conversation.
    pub async fn session(&self, tenant: &str, conversation_id: &str) -> Result<Option<Session>, Error> {
        Ok(self.inner.store.load(&SessionKey::new(tenant, conversation_id)).await?)
    }
}

fn validate_turn(turn: &Turn, bot: &BotDefinition) -> Result<(), Error> {
    for (what, v) in [("tenant", &turn.tenant), ("conversation_id", &turn.conversation_id), ("channel", &turn.channel)]
    {
        if v.trim().is_empty() {
            return Err(Error::InvalidInput(format!("`{what}` must not be empty")));
        }
    }
    for (what, v) in [
        ("tenant", turn.tenant.as_str()),
        ("conversation_id", turn.conversation_id.as_str()),
        ("user_id", turn.user_id.as_str()),
        ("channel", turn.channel.as_str()),
        ("idempotency_key", turn.idempotency_key.as_deref().unwrap_or_default()),
    ] {
        if v.len() > MAX_ID_BYTES {
            return Err(Error::InputTooLarge(format!("`{what}` is longer than {MAX_ID_BYTES} bytes")));
        }
        if v.chars().any(char::is_control) {
            return Err(Error::InvalidInput(format!("`{what}` must not contain control characters")));
        }
    }
    if turn.text.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::InputTooLarge(format!("`text` is longer than {MAX_TEXT_CHARS} characters")));
    }
    if !turn.metadata.is_empty() {
        let bytes = serde_json::to_vec(&turn.metadata).map_or(usize::MAX, |v| v.len());
        if turn.metadata.len() > MAX_METADATA_ENTRIES || bytes > MAX_METADATA_BYTES {
            return Err(Error::InputTooLarge(format!(
                "`metadata` must have at most {MAX_METADATA_ENTRIES} entries and {MAX_METADATA_BYTES} bytes as JSON"
            )));
        }
    }
    if let Some(l) = turn.language {
        if !bot.bot.languages.contains(&l) {
            return Err(Error::InvalidInput(format!("language {l} is not one of this bot's languages")));
        }
    }
    Ok(())
}

/// The state of one turn being processed: the session, the events and the messages so far.
pub(crate) struct TurnRun<'a> {
    pub(crate) inner: &'a Inner,
    pub(crate) turn: &'a Turn,
    pub(crate) session: Session,
    pub(crate) now: DateTime<Utc>,
    pub(crate) text: String,
    pub(crate) language: Language,
    pub(crate) ranking: Vec<IntentScore>,
    pub(crate) interpretation: Interpretation,
    pub(crate) entities: Vec<Entity>,
    pub(crate) messages: Vec<ReplyMessage>,
    events: Vec<Event>,
    started: std::time::Instant,
    /// Where written answers' pieces go while the turn runs (streaming turns only).
    deltas: Option<&'a PartSender>,
    timings: TurnTimings,
}

impl<'a> TurnRun<'a> {
    fn start(inner: &'a Inner, turn: &'a Turn, stored: Option<Session>) -> Self {
        let now = turn.timestamp.unwrap_or_else(Utc::now);
        let key = SessionKey::new(turn.tenant.clone(), turn.conversation_id.clone());
        let user = if turn.user_id.is_empty() { turn.conversation_id.clone() } else { turn.user_id.clone() };
        let mut events = Vec::new();
        let idle = chrono::Duration::seconds(inner.bot.policy.session_idle_timeout_secs as i64);
        let session = match stored {
            Some(s) if now - s.last_active_at <= idle => s,
            Some(s) => {
                events.push(Event::SessionExpired);
                let mut fresh = Session::new(key, user, now);
                fresh.turns = s.turns; // keep turn numbers (and event ids) unique
                fresh
            }
            None => Session::new(key, user, now),
        };
        let mut session = session;
        if let Some(v) = &inner.version {
            session.bot_version = Some(v.clone());
        }
        let text = normalize(&turn.text);
        let fallback_lang = session.language.unwrap_or_else(|| inner.bot.default_language());
        // A button payload ("/order_status") says nothing about the language: keep the conversation's.
        let language = turn.language.unwrap_or_else(|| {
            if text.starts_with('/') {
                fallback_lang
            } else {
                detect_language(&text, &inner.bot.bot.languages, fallback_lang)
            }
        });
        Self {
            inner,
            turn,
            session,
            now,
            text,
            language,
            ranking: Vec::new(),
            interpretation: Interpretation::Unsure,
            entities: Vec::new(),
            messages: Vec::new(),
            events,
            started: std::time::Instant::now(),
            deltas: None,
            timings: TurnTimings::default(),
        }
    }

    pub(crate) fn bot(&self) -> &'a BotDefinition {
        &self.inner.bot
    }

    pub(crate) fn emit(&mut self, e: Event) {
        self.events.push(e);
    }

    async fn process(&mut self) -> Result<(), Error> {
        self.session.turns += 1;
        self.session.last_active_at = self.now;
        self.session.language = Some(self.language);
        self.emit(Event::UserMessage { text: self.text.clone(), language: self.language });
        self.understand().await?;
        let max = self.bot().policy.max_history;
        let intent = self.ranking.first().map(|s| s.name.clone());
        self.session
            .remember(HistoryEntry { at: self.now, speaker: Speaker::User, text: self.text.clone(), intent }, max);

        if self.session.handoff {
            self.emit(Event::RoutedToAgent { text: self.text.clone() });
            return Ok(());
        }
        if self.session.handoff_offered {
            self.session.handoff_offered = false;
            if is_affirm(&self.text) || self.interpretation.confident() == Some("affirm") {
                self.handoff("user accepted the offer of a human agent", true);
                return Ok(());
            }
            if is_deny(&self.text) || self.interpretation.confident() == Some("deny") {
                self.session.consecutive_fallbacks = 0;
                self.say_named("handoff_declined");
                return Ok(());
            }
        }
        if self.session.flow.is_some() {
            self.continue_flow().await?;
        } else {
            self.route_intent().await?;
        }
        self.never_silent();
        Ok(())
    }

    /// A turn the bot owns always says something: an intent with nothing to do ("yes" with
    /// no question pending), a response without a variant for this channel or language…
    /// gets the bot's `anything_else` response, or the built-in one.
    fn never_silent(&mut self) {
        if !self.messages.is_empty() || self.session.handoff {
            return;
        }
        self.say_named("anything_else");
        if self.messages.is_empty() {
            let text = builtin_text("anything_else", self.language).to_string();
            self.push_response("anything_else", text, Vec::new());
        }
    }

    /// The turn's wall-clock time in the bot's time zone.
    pub(crate) fn local_now(&self) -> chrono::NaiveDateTime {
        self.now.with_timezone(&self.inner.tz).naive_local()
    }

    async fn understand(&mut self) -> Result<(), Error> {
        if let Some(name) = self.text.strip_prefix('/').map(str::trim) {
            if self.bot().intents.contains_key(name) {
                self.ranking = vec![IntentScore { name: name.to_string(), confidence: 1.0 }];
            }
        }
        let started = std::time::Instant::now();
        if self.ranking.is_empty() && !self.text.is_empty() {
            self.ranking = self.inner.classifier.classify(&self.text, self.language, 5).await?;
        }
        let threshold = self.bot().policy.intent_threshold.resolve(self.inner.classifier.calibrated_threshold());
        self.interpretation = interpret(&self.ranking, &self.bot().policy, threshold);
        if let Some(top) = self.ranking.first() {
            self.emit(Event::IntentRecognized {
                intent: top.name.clone(),
                confidence: top.confidence,
                ranking: self.ranking.clone(),
            });
        }
        let past_leaning =
            self.interpretation.confident().and_then(|i| self.bot().intents.get(i)).is_some_and(|i| i.past_dates);
        let ctx = ExtractionContext { language: self.language, now: self.local_now(), past_leaning };
        self.entities = self.inner.extractor.extract(&self.text, &ctx);
        self.timings.nlu += started.elapsed();
        if !self.entities.is_empty() {
            self.emit(Event::EntitiesExtracted { entities: self.entities.clone() });
        }
        Ok(())
    }

    /// Outside a form: act on the intent, or ask the knowledge base, or fall back.
    pub(crate) async fn route_intent(&mut self) -> Result<(), Error> {
        match self.interpretation.clone() {
            Interpretation::Confident(top) if top.name == FAQ_INTENT => {
                if !self.answer_from_kb(0.0).await {
                    self.fallback();
                }
            }
            Interpretation::Confident(top) if top.name == OUT_OF_SCOPE_INTENT => self.fallback(),
            Interpretation::Confident(top) => {
                self.session.consecutive_fallbacks = 0;
                self.run_intent(&top.name).await?;
            }
            Interpretation::Ambiguous(a, b) => {
                if self.answer_from_kb(self.bot().policy.kb_threshold).await {
                    return Ok(());
                }
                if !self.disambiguate(&a.name, &b.name) {
                    self.fallback();
                }
            }
            Interpretation::Unsure => {
                if !self.answer_from_kb(self.bot().policy.kb_threshold).await {
                    self.fallback();
                }
            }
        }
        Ok(())
    }

    /// Does what an intent says: hand-off, flow, action, response.
    pub(crate) async fn run_intent(&mut self, name: &str) -> Result<(), Error> {
        let Some(intent) = self.bot().intents.get(name) else {
            self.fallback();
            return Ok(());
        };
        if let Some(action) = &intent.action {
            self.run_action(action).await;
        }
        if let Some(r) = &intent.response {
            self.say_named(r);
        }
        if intent.handoff {
            self.handoff(&format!("intent {name}"), intent.response.is_none());
            return Ok(());
        }
        if let Some(flow) = self.bot().flow_for_intent(name) {
            let flow = flow.to_string();
            self.start_flow(&flow).await?;
        }
        Ok(())
    }

    fn disambiguate(&mut self, a: &str, b: &str) -> bool {
        let lang = self.language;
        let title = |n: &str| {
            self.bot()
                .intents
                .get(n)
                .and_then(|i| i.title.as_ref())
                .and_then(|t| pick_text(t, lang, 0))
                .map(str::to_string)
        };
        let (Some(ta), Some(tb)) = (title(a), title(b)) else {
            return false;
        };
        let buttons = vec![
            RenderedButton { title: ta, payload: format!("/{a}") },
            RenderedButton { title: tb, payload: format!("/{b}") },
        ];
        self.push_response("disambiguate", builtin_text("disambiguate", lang).to_string(), buttons);
        true
    }

    /// Answers from the knowledge base when a hit reaches `min_score` (and the bot threshold):
    /// in the words of the answer writer when there is one, else with the stored answer.
    pub(crate) async fn answer_from_kb(&mut self, min_score: f32) -> bool {
        let Some(hits) = self.kb_hits(min_score).await else { return false };
        let Some(best) = hits.first().cloned() else { return false };
        self.session.consecutive_fallbacks = 0;
        self.emit(Event::KbAnswer { entry_id: best.id.clone(), score: best.score });
        let text = self.write_answer(hits).await.unwrap_or(best.answer);
        self.messages.push(ReplyMessage { text, buttons: Vec::new(), response: None, faq_id: Some(best.id) });
        true
    }

    /// The hits good enough to answer from, best first; `None` when the best one is not.
    async fn kb_hits(&mut self, min_score: f32) -> Option<Vec<KbHit>> {
        let kb = self.inner.kb.as_ref()?;
        // A writer can combine several entries; the stored answer is one entry's.
        let top_k = if self.inner.answer_writer.is_some() { 3 } else { 1 };
        let query =
            KbQuery { tenant: self.turn.tenant.clone(), text: self.text.clone(), language: self.language, top_k };
        // Even when the intent model calls it a FAQ question, the entry must be close: the model
        // is confident on off-topic questions too.
        let floor = min_score.max(self.bot().policy.kb_threshold * 0.75);
        let started = std::time::Instant::now();
        let found = kb.search(&query).await;
        self.timings.kb += started.elapsed();
        match found {
            Ok(hits) => {
                let relevant: Vec<KbHit> = hits.into_iter().take(top_k).filter(|h| h.score >= floor).collect();
                (!relevant.is_empty()).then_some(relevant)
            }
            Err(e) => {
                tracing::warn!(error = %e, "knowledge base failed; falling back");
                None
            }
        }
    }

    /// The answer writer's text, its pieces forwarded to a streaming client as they come;
    /// `None` (use the stored answer) without a writer or when it fails.
    async fn write_answer(&mut self, hits: Vec<KbHit>) -> Option<String> {
        let writer = self.inner.answer_writer.clone()?;
        let request = AnswerRequest {
            tenant: self.turn.tenant.clone(),
            question: self.text.clone(),
            language: self.language,
            hits,
        };
        let index = self.messages.len();
        let started = std::time::Instant::now();
        let text = self.stream_answer(writer.as_ref(), &request, index).await;
        self.timings.answer_writer += started.elapsed();
        text
    }

    async fn stream_answer(&self, writer: &dyn AnswerWriter, request: &AnswerRequest, index: usize) -> Option<String> {
        let mut pieces = match writer.write(request).await {
            Ok(pieces) => pieces,
            Err(e) => {
                tracing::warn!(error = %e, "answer writer failed; using the stored answer");
                return None;
            }
        };
        let mut text = String::new();
        while let Some(piece) = std::future::poll_fn(|cx| pieces.as_mut().poll_next(cx)).await {
            match piece {
                Ok(piece) => {
                    if let Some(tx) = self.deltas {
                        // A client that went away does not stop the turn.
                        let _ = tx.send(Ok(ReplyPart::Delta { index, text: piece.clone() })).await;
                    }
                    text.push_str(&piece);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "answer writer failed midway; using the stored answer");
                    return None;
                }
            }
        }
        (!text.trim().is_empty()).then_some(text)
    }

    /// Says the fallback; after N in a row, offers a human.
    pub(crate) fn fallback(&mut self) {
        self.session.consecutive_fallbacks += 1;
        let n = self.session.consecutive_fallbacks;
        self.emit(Event::Fallback { consecutive: n });
        let limit = self.bot().policy.fallbacks_before_handoff;
        if limit > 0 && n >= limit {
            self.offer_handoff();
        } else {
            self.say_fallback();
        }
    }

    /// The fallback text: the bot's `out_of_scope` response for messages the model
    /// recognised as out of scope, else its `fallback` response (or the built-in one).
    pub(crate) fn say_fallback(&mut self) {
        let oos = self.interpretation.confident() == Some(OUT_OF_SCOPE_INTENT)
            && self.bot().responses.contains_key(OUT_OF_SCOPE_INTENT);
        self.say_named(if oos { OUT_OF_SCOPE_INTENT } else { "fallback" });
    }

    /// Offers a human agent; the next yes/no answers it.
    pub(crate) fn offer_handoff(&mut self) {
        self.session.handoff_offered = true;
        self.emit(Event::HandoffOffered);
        if self.bot().responses.contains_key("handoff_offer") {
            self.say_named("handoff_offer");
        } else {
            let lang = self.language;
            self.push_response("handoff_offer", builtin_text("handoff_offer", lang).to_string(), yes_no_buttons(lang));
        }
    }

    /// Hands the conversation to a human agent.
    pub(crate) fn handoff(&mut self, reason: &str, announce: bool) {
        self.session.handoff = true;
        self.session.handoff_offered = false;
        self.session.consecutive_fallbacks = 0;
        self.emit(Event::Handoff { reason: reason.to_string() });
        if announce {
            self.say_named("handoff");
        }
    }

    /// Runs an action and applies its outcome; failures are reported, not fatal.
    pub(crate) async fn run_action(&mut self, name: &str) -> Option<ActionOutcome> {
        let outcome = self.call_action(name, &self.session.slots.clone()).await;
        match outcome {
            Some(o) => {
                self.apply_outcome(&o);
                Some(o)
            }
            None => {
                self.say_named("action_failed");
                None
            }
        }
    }

    /// Calls an action with the given slots, emitting `ActionExecuted`; `None` on failure.
    pub(crate) async fn call_action(
        &mut self,
        name: &str,
        slots: &BTreeMap<String, serde_json::Value>,
    ) -> Option<ActionOutcome> {
        let Some(handler) = self.inner.actions.get(name).cloned() else {
            self.emit(Event::ActionExecuted { action: name.into(), ok: false, error: Some("no handler".into()) });
            return None;
        };
        let call = ActionCall {
            action: name.to_string(),
            tenant: self.turn.tenant.clone(),
            conversation_id: self.turn.conversation_id.clone(),
            user_id: self.session.user_id.clone(),
            channel: self.turn.channel.clone(),
            language: self.language,
            text: self.text.clone(),
            intent: self.ranking.first().map(|s| s.name.clone()),
            entities: self.entities.clone(),
            slots: slots.clone(),
            metadata: self.turn.metadata.clone(),
        };
        let started = std::time::Instant::now();
        let outcome = handler.run(&call).await;
        self.timings.actions += started.elapsed();
        match outcome {
            Ok(o) => {
                self.emit(Event::ActionExecuted { action: name.into(), ok: true, error: None });
                Some(o)
            }
            Err(e) => {
                tracing::warn!(action = name, error = %e, "action failed");
                self.emit(Event::ActionExecuted { action: name.into(), ok: false, error: Some(e.to_string()) });
                None
            }
        }
    }

    pub(crate) fn apply_outcome(&mut self, o: &ActionOutcome) {
        for (slot, value) in &o.slots {
            self.set_slot(slot, value.clone());
        }
        for t in &o.texts {
            self.push_message(t.clone(), Vec::new());
        }
        if let Some(r) = &o.response {
            self.say_named(r);
        }
        if o.handoff {
            self.handoff("action", o.response.is_none() && o.texts.is_empty());
        }
    }

    /// Sets a slot and emits `SlotSet` when the value changed (`null` clears it).
    pub(crate) fn set_slot(&mut self, slot: &str, value: serde_json::Value) {
        let previous = self.session.slots.get(slot).cloned();
        if previous.as_ref() == Some(&value) {
            return;
        }
        if value.is_null() {
            self.session.slots.remove(slot);
        } else {
            self.session.slots.insert(slot.to_string(), value.clone());
        }
        self.emit(Event::SlotSet { slot: slot.to_string(), value, previous });
    }

    /// Sends a named response; a few names have built-in texts when the bot lacks them.
    pub(crate) fn say_named(&mut self, name: &str) {
        let lang = self.language;
        let Some(resp) = self.bot().responses.get(name) else {
            self.push_response(name, builtin_text(name, lang).to_string(), Vec::new());
            return;
        };
        let Some(variant) = resp.select(&self.turn.channel, &self.session.slots) else {
            return;
        };
        let pick = self.session.turns as usize;
        let Some(t) = pick_text(&variant.text, lang, pick) else {
            return;
        };
        let text = interpolate(t, &self.session.slots, lang);
        let buttons = variant
            .buttons
            .iter()
            .map(|b| RenderedButton { title: b.title.get(lang).to_string(), payload: b.payload.clone() })
            .collect();
        self.push_response(name, text, buttons);
    }

    /// A message without a response name (action texts).
    pub(crate) fn push_message(&mut self, text: String, buttons: Vec<RenderedButton>) {
        self.messages.push(ReplyMessage { text, buttons, response: None, faq_id: None });
    }

    /// A message rendering the response `name` (a bot response, a built-in one, or a flow's
    /// `<flow>.ask_<slot>` / `<flow>.confirm` / `<flow>.invalid_<slot>` prompt).
    pub(crate) fn push_response(&mut self, name: &str, text: String, buttons: Vec<RenderedButton>) {
        self.messages.push(ReplyMessage { text, buttons, response: Some(name.to_string()), faq_id: None });
    }

    fn finish(mut self) -> (Session, Vec<EventEnvelope>, Reply) {
        let max = self.bot().policy.max_history;
        for m in &self.messages {
            self.session.remember(
                HistoryEntry { at: self.now, speaker: Speaker::Bot, text: m.text.clone(), intent: None },
                max,
            );
        }
        let messages = std::mem::take(&mut self.messages);
        let silent = messages.is_empty();
        for m in &messages {
            self.events.push(Event::BotMessage {
                text: m.text.clone(),
                buttons: m
                    .buttons
                    .iter()
                    .map(|b| crate::response::Button {
                        title: crate::response::ButtonTitle::Plain(b.title.clone()),
                        payload: b.payload.clone(),
                    })
                    .collect(),
            });
        }
        self.events.push(Event::TurnCompleted { latency_ms: self.started.elapsed().as_secs_f64() * 1000.0 });
        let reply_events: Vec<Event> = self.events.iter().filter(|e| e.belongs_in_reply()).cloned().collect();
        let s = &self.session;
        let envelopes = self
            .events
            .into_iter()
            .enumerate()
            .map(|(i, event)| EventEnvelope {
                id: format!("{}/{}/{}/{}", s.key.tenant, s.key.conversation_id, s.turns, i),
                tenant: s.key.tenant.clone(),
                conversation_id: s.key.conversation_id.clone(),
                user_id: s.user_id.clone(),
                channel: self.turn.channel.clone(),
                turn: s.turns,
                timestamp: self.now,
                event,
            })
            .collect();
        let reply = Reply {
            tenant: s.key.tenant.clone(),
            conversation_id: s.key.conversation_id.clone(),
            turn: s.turns,
            language: self.language,
            messages,
            intent: self.ranking.first().cloned(),
            entities: self.entities,
            slots: s.slots.clone(),
            flow: s.flow.as_ref().map(|f| f.name.clone()),
            handoff: s.handoff,
            events: reply_events,
            bot_version: self.inner.version.clone(),
            replayed: false,
            silent,
            timings: self.timings,
        };
        (self.session, envelopes, reply)
    }
}

/// One piece of a streamed reply (see [`Engine::handle_stream`]). On the wire (SSE, WebSocket,
/// bindings' async iterators) it is an object tagged by `type`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReplyPart {
    /// More text of message `index` while it is being generated (LLM answers); the complete
    /// message follows as a `message` part.
    Delta {
        /// Position of the message in the reply.
        index: usize,
        /// The new text, to append.
        text: String,
    },
    /// Message `index` is complete.
    Message {
        /// Position of the message in the reply.
        index: usize,
        /// The message.
        message: ReplyMessage,
    },
    /// The turn is done and saved: the whole reply, as [`Engine::handle`] returns it.
    Done {
        /// The reply.
        reply: Box<Reply>,
    },
}

/// Where a streaming turn sends its parts.
type PartSender = tokio::sync::mpsc::Sender<Result<ReplyPart, Error>>;

/// The parts of one streamed turn, ending with [`ReplyPart::Done`] or an error.
pub struct ReplyStream {
    rx: tokio::sync::mpsc::Receiver<Result<ReplyPart, Error>>,
}

impl ReplyStream {
    /// The next part; `None` after the last one.
    pub async fn next(&mut self) -> Option<Result<ReplyPart, Error>> {
        self.rx.recv().await
    }
}

impl futures_core::Stream for ReplyStream {
    type Item = Result<ReplyPart, Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}
