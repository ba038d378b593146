//! What every request shares: the bot registry, keys, metrics, live streams, the hand-off queue.

use crate::auth::Keys;
use crate::config::Config;
use crate::hub::{Hub, StreamError, StreamEvent, StreamPayload};
use crate::metrics::Metrics;
use kefu::{Registry, Reply, ReplyPart, Turn};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A conversation waiting for (or held by) a human agent.
#[derive(Clone, Debug, Serialize)]
pub struct Waiting {
    /// The conversation.
    pub conversation_id: String,
    /// The customer.
    pub user_id: String,
    /// When it was handed off.
    pub since: chrono::DateTime<chrono::Utc>,
    /// The customer's latest message.
    pub last_message: String,
}

/// Shared server state.
pub struct AppState {
    /// The configuration in force.
    pub config: Config,
    /// Bots of every tenant.
    pub registry: Arc<Registry>,
    /// API keys.
    pub keys: Keys,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Live SSE/WebSocket subscriptions.
    pub hub: Hub,
    /// Turn rate limits.
    pub limiter: crate::ratelimit::RateLimiter,
    /// Hand-off queue per tenant (this replica's view).
    pub waiting: Mutex<BTreeMap<String, BTreeMap<String, Waiting>>>,
    /// Folder under which admins may load bot versions by path (none: loading by path is off).
    pub bot_root: Option<PathBuf>,
    /// Set once every configured bot is loaded.
    pub ready: AtomicBool,
    /// Set on SIGTERM: `/readyz` fails so the load balancer stops sending traffic.
    pub draining: AtomicBool,
    /// Process start, for the cold-start figure in the logs.
    pub started: Instant,
    /// Turns being computed: shutdown waits for them.
    pub in_flight: Arc<InFlight>,
    /// Tenants whose FAQ answers an LLM writes.
    pub answer_writers: BTreeMap<String, Arc<dyn kefu::AnswerWriter>>,
    /// Tenants serving a Chatwoot desk as its agent bot.
    pub chatwoot: BTreeMap<String, crate::chatwoot::ChatwootClient>,
}

/// Counts turns in progress, so that shutdown can wait for them.
#[derive(Default)]
pub struct InFlight {
    count: std::sync::atomic::AtomicUsize,
    idle: tokio::sync::Notify,
}

/// Held while a turn runs.
pub struct InFlightGuard(Arc<InFlight>);

impl InFlight {
    /// A turn starts.
    pub fn enter(self: &Arc<Self>) -> InFlightGuard {
        self.count.fetch_add(1, Ordering::AcqRel);
        InFlightGuard(self.clone())
    }

    /// Resolves when no turn is running.
    pub async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.count.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// What the bookkeeping of a turn needs to know about it, taken before the turn runs.
pub struct TurnStart {
    tenant: String,
    conversation_id: String,
    user_id: String,
    text: String,
    started: Instant,
    /// The turn's trace span; its fields are filled in when the reply is known.
    span: tracing::Span,
}

impl TurnStart {
    /// Notes a turn about to run.
    pub fn of(turn: &Turn) -> Self {
        let user_id = if turn.user_id.is_empty() { turn.conversation_id.clone() } else { turn.user_id.clone() };
        Self {
            tenant: turn.tenant.clone(),
            conversation_id: turn.conversation_id.clone(),
            user_id,
            text: turn.text.chars().take(500).collect(),
            started: Instant::now(),
            span: tracing::info_span!(
                "turn",
                tenant = %turn.tenant,
                channel = %turn.channel,
                bot_version = tracing::field::Empty,
                intent = tracing::field::Empty,
                handoff = tracing::field::Empty,
                nlu_ms = tracing::field::Empty,
                kb_ms = tracing::field::Empty,
                llm_ms = tracing::field::Empty,
                actions_ms = tracing::field::Empty,
                store_ms = tracing::field::Empty,
                error = tracing::field::Empty
            ),
        }
    }
}

impl AppState {
    /// Runs a turn (REST): the reply, with the same bookkeeping and live publishing as a
    /// streamed turn.
    pub async fn run_turn(&self, turn: Turn) -> Result<Reply, kefu::Error> {
        let _running = self.in_flight.enter();
        let start = TurnStart::of(&turn);
        let span = start.span.clone();
        match tracing::Instrument::instrument(self.registry.handle(turn), span).await {
            Ok(reply) => {
                for (index, message) in reply.messages.iter().enumerate() {
                    self.part_event(&start, Ok(ReplyPart::Message { index, message: message.clone() }));
                }
                self.part_event(&start, Ok(ReplyPart::Done { reply: Box::new(reply.clone()) }));
                Ok(reply)
            }
            Err(e) => {
                self.count_error(&start, e.code());
                Err(e)
            }
        }
    }

    /// The stream event of one part of a turn, also published to the conversation's live
    /// watchers; the final part records the turn (metrics, hand-off queue).
    pub fn part_event(&self, start: &TurnStart, part: Result<ReplyPart, kefu::core::Error>) -> StreamEvent {
        let payload = match part {
            Ok(part) => {
                if let ReplyPart::Done { reply } = &part {
                    self.after_turn(start, reply);
                }
                StreamPayload::Part(part)
            }
            Err(e) => {
                let code = e.code();
                self.count_error(start, code);
                StreamPayload::Error(StreamError { kind: "error", code, message: e.to_string() })
            }
        };
        let event =
            StreamEvent { conversation_id: start.conversation_id.clone(), user_id: start.user_id.clone(), payload };
        self.hub.publish(&start.tenant, event.clone());
        event
    }

    /// Runs a turn in its own task and streams its events. The task finishes the turn and its
    /// bookkeeping even if the caller stops listening.
    pub async fn stream_turn(
        self: &Arc<Self>,
        turn: Turn,
    ) -> Result<tokio::sync::mpsc::Receiver<StreamEvent>, kefu::Error> {
        let running = self.in_flight.enter();
        let start = TurnStart::of(&turn);
        let mut parts = self.registry.handle_stream(turn).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let state = self.clone();
        tokio::spawn(async move {
            let _running = running;
            while let Some(part) = parts.next().await {
                let event = state.part_event(&start, part);
                let _ = tx.send(event).await;
            }
        });
        Ok(rx)
    }

    fn count_error(&self, start: &TurnStart, code: kefu::ErrorCode) {
        start.span.record("error", code.to_string());
        self.metrics.inc(
            "kefu_turn_errors_total",
            vec![("tenant", start.tenant.clone()), ("code", code.to_string())],
            1,
        );
    }

    /// Metrics and the hand-off queue after a turn.
    fn after_turn(&self, start: &TurnStart, reply: &Reply) {
        if reply.replayed {
            return;
        }
        let tenant = reply.tenant.clone();
        let version = reply.bot_version.clone().unwrap_or_default();
        let intent = reply.intent.as_ref().map_or_else(|| "none".to_string(), |i| i.name.clone());
        self.metrics.inc(
            "kefu_turns_total",
            vec![("tenant", tenant.clone()), ("bot_version", version.clone()), ("intent", intent)],
            1,
        );
        self.metrics.observe(
            "kefu_turn_duration_seconds",
            vec![("tenant", tenant.clone()), ("bot_version", version)],
            start.started.elapsed().as_secs_f64(),
        );
        let t = &reply.timings;
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        let span = &start.span;
        span.record("bot_version", reply.bot_version.as_deref().unwrap_or(""));
        span.record("intent", reply.intent.as_ref().map_or("none", |i| i.name.as_str()));
        span.record("handoff", reply.handoff);
        span.record("nlu_ms", ms(t.nlu));
        span.record("kb_ms", ms(t.kb));
        span.record("llm_ms", ms(t.answer_writer));
        span.record("actions_ms", ms(t.actions));
        span.record("store_ms", ms(t.store));
        for (name, spent) in [
            ("kefu_nlu_duration_seconds", t.nlu),
            ("kefu_kb_duration_seconds", t.kb),
            ("kefu_llm_answer_duration_seconds", t.answer_writer),
            ("kefu_action_duration_seconds", t.actions),
            ("kefu_store_duration_seconds", t.store),
        ] {
            if !spent.is_zero() {
                self.metrics.observe(name, vec![("tenant", tenant.clone())], spent.as_secs_f64());
            }
        }
        let new_conversation = reply.turn == 1 || reply.events.iter().any(|e| matches!(e, kefu::Event::SessionExpired));
        if new_conversation {
            self.metrics.inc("kefu_conversations_started_total", vec![("tenant", tenant.clone())], 1);
        }
        for event in &reply.events {
            let name = match event {
                kefu::Event::Fallback { .. } => "kefu_fallbacks_total",
                kefu::Event::Handoff { .. } => "kefu_handoffs_total",
                kefu::Event::KbAnswer { .. } => "kefu_kb_answers_total",
                kefu::Event::FlowCompleted { .. } => "kefu_flows_completed_total",
                _ => continue,
            };
            self.metrics.inc(name, vec![("tenant", tenant.clone())], 1);
        }
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        let queue = waiting.entry(tenant).or_default();
        if reply.handoff {
            let entry = queue.entry(reply.conversation_id.clone()).or_insert_with(|| Waiting {
                conversation_id: reply.conversation_id.clone(),
                user_id: start.user_id.clone(),
                since: chrono::Utc::now(),
                last_message: String::new(),
            });
            entry.last_message = start.text.clone();
        } else {
            queue.remove(&reply.conversation_id);
        }
    }

    /// Rate limits, then the conversation's ownership: a caller speaking for an end user
    /// (a token's `sub`) may only touch that user's conversations, and speaks as that user.
    pub async fn admit_turn(
        &self,
        caller: &crate::auth::Caller,
        turn: &mut Turn,
    ) -> Result<(), crate::error::ApiError> {
        if let Some(user) = &caller.user {
            turn.user_id = user.clone();
            // The engine checks ownership again under the conversation lock (two first turns
            // of one new id cannot both win).
            turn.owner_only = caller.role == crate::config::Role::Client;
        }
        let who = if turn.user_id.is_empty() { turn.conversation_id.as_str() } else { turn.user_id.as_str() };
        self.limiter.check(&turn.tenant, who)?;
        self.check_owner(caller, &turn.conversation_id).await
    }

    /// Fails with `conversation_not_found` when an end user's caller names someone else's
    /// conversation (not `forbidden`: its existence is not revealed).
    pub async fn check_owner(
        &self,
        caller: &crate::auth::Caller,
        conversation_id: &str,
    ) -> Result<(), crate::error::ApiError> {
        let Some(user) = caller.user.as_deref().filter(|_| caller.role == crate::config::Role::Client) else {
            return Ok(());
        };
        match self.registry.session(&caller.tenant, conversation_id).await? {
            Some(s) if s.user_id != user => Err(crate::error::ApiError::new(
                kefu::ErrorCode::ConversationNotFound,
                format!("no conversation `{conversation_id}`"),
            )),
            _ => Ok(()),
        }
    }

    /// Where this tenant's admins may load bots from.
    pub fn bot_root_of(&self, tenant: &str) -> Option<PathBuf> {
        let configured = self.config.tenants.get(tenant).and_then(|t| t.bot_root.clone());
        configured.or_else(|| self.bot_root.as_ref().map(|root| root.join(tenant)))
    }

    /// How a tenant's bot versions are built: its webhook policy and answer writer.
    pub fn bot_builder(&self, tenant: &str, dir: &std::path::Path) -> kefu::AssistantBuilder {
        let policy = crate::config::webhook_policy(tenant, self.config.tenants.get(tenant));
        let builder = self.registry.builder(dir).webhook_policy(policy);
        match self.answer_writers.get(tenant) {
            Some(writer) => builder.answer_writer(writer.clone()),
            None => builder,
        }
    }

    /// Forgets queued hand-offs of a conversation (`None`: of every conversation of `user`).
    pub fn forget_waiting(&self, tenant: &str, conversation_id: Option<&str>, user: Option<&str>) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = waiting.get_mut(tenant) {
            q.retain(|id, w| Some(id.as_str()) != conversation_id && Some(w.user_id.as_str()) != user);
        }
    }

    /// Whether the server takes traffic.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire) && !self.draining.load(Ordering::Acquire)
    }
}
