//! The answer-writer contract: FAQ answers composed at turn time (by an LLM grounded in the
//! retrieved entries, typically) instead of the entry's stored text, streamed as written.
//!
//! The engine still decides *whether* the knowledge base answers (its thresholds); a writer
//! only decides the wording. When it fails, the stored answer is used.

use crate::kb::KbHit;
use crate::language::Language;
use async_trait::async_trait;
use std::pin::Pin;

/// What a writer is asked to answer.
#[derive(Clone, Debug)]
pub struct AnswerRequest {
    /// The conversation's tenant.
    pub tenant: String,
    /// The user's question (normalised text).
    pub question: String,
    /// Language of the answer wanted.
    pub language: Language,
    /// The relevant entries, best first (at least one).
    pub hits: Vec<KbHit>,
}

/// Why a writer could not answer.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// The writer's backend failed (network, timeout, refusal); the stored answer is used.
    #[error("answer writer failed: {0}")]
    Failed(String),
}

/// The pieces of a written answer, in order; an `Err` item ends it.
pub type AnswerPieces = Pin<Box<dyn futures_core::Stream<Item = Result<String, AnswerError>> + Send>>;

/// Writes knowledge-base answers.
#[async_trait]
pub trait AnswerWriter: Send + Sync {
    /// Starts writing the answer; the engine forwards each piece to streaming clients.
    async fn write(&self, request: &AnswerRequest) -> Result<AnswerPieces, AnswerError>;
}
