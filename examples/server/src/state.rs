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
}

impl AppState {
    /// Runs a turn and does the bookkeeping every door shares: metrics, the hand-off queue and
    /// the conversation's live watchers.
    pub async fn run_turn(&self, turn: Turn) -> Result<Reply, kefu::Error> {
        let started = Instant::now();
        let tenant = turn.tenant.clone();
        let text = turn.text.clone();
        match self.registry.handle(turn).await {
            Ok(reply) => {
                self.after_turn(&reply, &text, started);
                for (index, message) in reply.messages.iter().enumerate() {
                    self.publish(
                        &tenant,
                        &reply.conversation_id,
                        ReplyPart::Message { index, message: message.clone() },
                    );
                }
                self.publish(&tenant, &reply.conversation_id, ReplyPart::Done { reply: Box::new(reply.clone()) });
                Ok(reply)
            }
            Err(e) => {
                self.metrics.inc("kefu_turn_errors_total", vec![("tenant", tenant), ("code", e.code().to_string())], 1);
                Err(e)
            }
        }
    }

    fn publish(&self, tenant: &str, conversation_id: &str, part: ReplyPart) {
        self.hub.publish(
            tenant,
            StreamEvent { conversation_id: conversation_id.to_string(), payload: StreamPayload::Part(part) },
        );
    }

    /// Metrics and the hand-off queue after a turn.
    pub fn after_turn(&self, reply: &Reply, user_text: &str, started: Instant) {
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
            started.elapsed().as_secs_f64(),
        );
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
                user_id: String::new(),
                since: chrono::Utc::now(),
                last_message: String::new(),
            });
            entry.last_message = user_text.chars().take(500).collect();
        } else {
            queue.remove(&reply.conversation_id);
        }
    }

    /// The stream event of one part of a streamed turn; the final part records the turn.
    pub fn part_event(
        &self,
        tenant: &str,
        conversation_id: &str,
        part: Result<ReplyPart, kefu::core::Error>,
        user_text: &str,
        started: Instant,
    ) -> StreamEvent {
        let payload = match part {
            Ok(part) => {
                if let ReplyPart::Done { reply } = &part {
                    self.after_turn(reply, user_text, started);
                }
                StreamPayload::Part(part)
            }
            Err(e) => {
                let code = e.code();
                self.metrics.inc(
                    "kefu_turn_errors_total",
                    vec![("tenant", tenant.to_string()), ("code", code.to_string())],
                    1,
                );
                StreamPayload::Error(StreamError { kind: "error", code, message: e.to_string() })
            }
        };
        StreamEvent { conversation_id: conversation_id.to_string(), payload }
    }

    /// Sets the user id of a queued hand-off (known only from the session).
    pub fn note_handoff_user(&self, tenant: &str, conversation_id: &str, user_id: &str) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(w) = waiting.get_mut(tenant).and_then(|q| q.get_mut(conversation_id)) {
            if w.user_id.is_empty() {
                w.user_id = user_id.to_string();
            }
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

    /// Whether the server takes traffic.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire) && !self.draining.load(Ordering::Acquire)
    }
}
