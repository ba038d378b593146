//! The knowledge-base contract: FAQ retrieval for turns the intent model is not sure about.

use crate::language::Language;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// A retrieval request.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KbQuery {
    /// Only entries of this tenant (or shared entries) may be returned.
    pub tenant: String,
    /// Normalised user text.
    pub text: String,
    /// Language of the answer wanted.
    pub language: Language,
    /// How many hits to return at most.
    pub top_k: usize,
}

/// One retrieved entry with the answer in the requested language.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KbHit {
    /// Entry id.
    pub id: String,
    /// The question variant that matched best.
    pub question: String,
    /// The answer in the requested language.
    pub answer: String,
    /// Relevance in `[0, 1]`; the engine answers only above the bot's `kb_threshold`.
    pub score: f32,
}

/// Errors a knowledge base reports.
#[derive(Debug, thiserror::Error)]
pub enum KbError {
    /// The backend could not answer (index unavailable, I/O); the engine falls back.
    #[error("knowledge base unavailable: {0}")]
    Unavailable(String),
}

/// Retrieves FAQ answers.
#[async_trait]
pub trait KnowledgeBase: Send + Sync {
    /// Returns the best hits, highest score first.
    async fn search(&self, query: &KbQuery) -> Result<Vec<KbHit>, KbError>;
}
