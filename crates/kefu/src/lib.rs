//! # kefu — customer-service assistants in one dependency
//!
//! The facade Rust users add with one line (`kefu = "0.1"`). It re-exports the engine
//! ([`kefu_core`]) and, behind features, the NLU ([`nlu`]) and knowledge base ([`kb`]), and
//! wires them with embedded defaults: [`Assistant::open`] loads a bot folder, trains (or
//! reuses) its intent model, indexes its FAQ and returns a ready [`Engine`] — no external
//! service. It owns only this wiring; logic lives in the crates it re-exports.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kefu::Error> {
//! let engine = kefu::Assistant::open("examples/bots/shop")?;
//! let reply = engine.handle(kefu::Turn::new("conversation-1", "我要退货")).await?;
//! println!("{}", reply.text());
//! # Ok(()) }
//! ```
//!
//! Data flow: channel → [`Engine::handle`] → NLU → policy → actions/KB → [`Reply`] → events.
//!
//! ## Features
//! - `nlu` (default) — lexical intent model and built-in entities.
//! - `kb` (default) — FAQ retrieval.
//! - `neural` — the `neural`/`fused` NLU pipelines (sentence encoder on candle) and the
//!   hybrid FAQ index ([`pipeline`]).
//! - `webhook` — HTTP webhook actions.
#![warn(missing_docs)]

mod assistant;
pub mod blocking;
mod error;
#[cfg(feature = "neural")]
pub mod pipeline;
pub mod registry;

#[cfg(feature = "nlu")]
pub use assistant::{load_or_train, train, training_examples};
pub use assistant::{Assistant, AssistantBuilder};
pub use error::Error;
pub use kefu_core::{
    self as core, action, bot, event, language, response, session, testing, ActionCall, ActionHandler, ActionOutcome,
    AnswerWriter, BotDefinition, Engine, EngineBuilder, Entity, ErrorCode, Event, EventEnvelope, EventSink, FnAction,
    IntentScore, Language, MemoryEventSink, MemorySessionStore, Reply, ReplyMessage, ReplyPart, ReplyStream, Session,
    SessionStore, Turn, WebhookPolicy,
};
#[cfg(feature = "kb")]
pub use kefu_kb as kb;
#[cfg(feature = "nlu")]
pub use kefu_nlu as nlu;
pub use registry::{Registry, Split, VersionInfo};
