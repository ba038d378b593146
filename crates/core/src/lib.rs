//! # kefu-core — the dialogue engine
//!
//! Owns the bot definition format, conversation state, the dialogue policy (flows/forms,
//! digressions, fallback, hand-off) and the small traits every other component plugs into.
//! It must not depend on any NLU model, search engine, database or network client: those
//! live in `kefu-nlu`, `kefu-kb` and the backend features, and reach the engine only through
//! the traits defined here.
//!
//! ## Data flow of a turn
//! channel → [`Engine::handle`] → normalise + detect language → NLU ([`IntentClassifier`],
//! [`EntityExtractor`]) → policy (hand-off, active flow, intent, knowledge base, fallback)
//! → actions ([`ActionHandler`]) / [`KnowledgeBase`] → [`Reply`] → events ([`EventSink`]),
//! with the session saved through a [`SessionStore`] before events are published.
//!
//! ## Features
//! - `webhook` — HTTP webhook actions (reqwest).
#![warn(missing_docs)]

pub mod action;
pub mod answer;
pub use bot_entities::BotEntityExtractor;
pub mod bot;
pub mod cpu;
pub mod embedding;
pub mod engine;
pub mod error;
pub mod event;
pub mod kb;
pub mod language;
pub mod lock;
pub mod nlu;
pub mod response;
pub mod session;
pub mod testing;
pub mod text;

mod bot_entities;
mod flow;
mod policy;
mod slot_fill;

pub use action::{ActionCall, ActionError, ActionHandler, ActionOutcome, FnAction, WebhookPolicy};
pub use answer::{AnswerError, AnswerPieces, AnswerRequest, AnswerWriter};
pub use bot::{load_bot_dir, BotDefinition, BotProblems, Problem};
pub use cpu::run_cpu_bound;
pub use embedding::{EmbedError, TextEmbedder};
pub use engine::{Engine, EngineBuilder, Reply, ReplyMessage, ReplyPart, ReplyStream, Turn, TurnTimings};
pub use error::{Error, ErrorCode};
pub use event::{Event, EventEnvelope, EventSink, JsonlEventSink, MemoryEventSink};
pub use kb::{KbHit, KbQuery, KnowledgeBase};
pub use language::{detect_language, Language};
pub use lock::{ConversationLock, LocalConversationLock, LockError, LockLease};
pub use nlu::{Entity, EntityExtractor, ExtractionContext, IntentClassifier, IntentScore, NluError};
pub use session::{IdempotentReply, MemorySessionStore, Session, SessionKey, SessionStore, StoreError};
