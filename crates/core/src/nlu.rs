//! The NLU contract: what the engine asks of an intent classifier and an entity extractor.
//!
//! Implementations live elsewhere (`kefu-nlu` ships a lexical model, built-in entities and a
//! transformer encoder); the engine sees only these traits.

use crate::language::Language;
use async_trait::async_trait;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// One intent with its confidence in `[0, 1]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntentScore {
    /// Intent name as declared in the bot definition.
    pub name: String,
    /// Calibrated probability.
    pub confidence: f32,
}

/// An entity found in a message, with its resolved value.
///
/// `start`/`end` are Unicode code-point offsets into the normalised text (end exclusive).
/// `value` has one JSON shape per kind, shared by events, slots and bindings: number
/// `{"value": 350}`, amount `{"value": 350, "currency": "CNY"}`, time
/// `{"type": "instant", "value": "2026-11-27T15:00:00", "grain": "hour"}`, lookup
/// `{"value": "canonical"}`, and so on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// Entity name: a built-in kind (`time`, `amount`, …) or a bot-defined entity.
    pub kind: String,
    /// Start offset (code points).
    pub start: usize,
    /// End offset (code points, exclusive).
    pub end: usize,
    /// The matched text.
    pub text: String,
    /// The resolved value.
    pub value: serde_json::Value,
    /// Role of a learned entity (`from`/`to` city), as annotated in the training examples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Group of a learned entity, binding entities that belong together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// What an extractor needs to resolve relative values ("明天", "next Friday").
#[derive(Clone, Debug)]
pub struct ExtractionContext {
    /// Language of the message.
    pub language: Language,
    /// Local wall-clock time of the turn in the bot's or tenant's time zone.
    pub now: NaiveDateTime,
    /// Dates without a direction ("Monday", "the 3rd") refer to the past, because the
    /// message's intent says so ("I ordered on Monday"); otherwise the next one to come.
    pub past_leaning: bool,
}

/// Errors an NLU component reports to the engine.
#[derive(Debug, thiserror::Error)]
pub enum NluError {
    /// The model has not been trained or loaded.
    #[error("the intent model is not trained: {0}")]
    NotTrained(String),
    /// The model could not be used for this input.
    #[error("NLU failed: {0}")]
    Failed(String),
}

/// Ranks intents for a message. Implementations must be cheap to share across tasks.
#[async_trait]
pub trait IntentClassifier: Send + Sync {
    /// Returns intents ranked by confidence, highest first (at most `top_k`).
    async fn classify(&self, text: &str, language: Language, top_k: usize) -> Result<Vec<IntentScore>, NluError>;

    /// The confidence below which this model's top intent should not be trusted, when it chose
    /// one from its training data (`policy.intent_threshold: auto` uses it). Default: none.
    fn calibrated_threshold(&self) -> Option<f32> {
        None
    }
}

/// Finds entities in a message.
pub trait EntityExtractor: Send + Sync {
    /// Returns entities sorted by start offset.
    fn extract(&self, text: &str, ctx: &ExtractionContext) -> Vec<Entity>;
}

/// Runs several extractors and merges their results by start offset.
pub struct ChainedExtractor(pub Vec<std::sync::Arc<dyn EntityExtractor>>);

impl EntityExtractor for ChainedExtractor {
    fn extract(&self, text: &str, ctx: &ExtractionContext) -> Vec<Entity> {
        let mut all: Vec<Entity> = self.0.iter().flat_map(|e| e.extract(text, ctx)).collect();
        all.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        // A lookup match and the learned reading of (some of) the same words are one entity:
        // the longer span with its value (a lookup's canonical one), the learned role.
        let mut merged: Vec<Entity> = Vec::with_capacity(all.len());
        for e in all {
            if let Some(same) = merged.iter_mut().find(|o| o.kind == e.kind && o.start < e.end && e.start < o.end) {
                if same.role.is_none() && same.group.is_none() {
                    same.role = e.role;
                    same.group = e.group;
                }
                continue;
            }
            merged.push(e);
        }
        merged
    }
}
