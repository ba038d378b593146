//! `LlmIntentAssist`: a second opinion from an LLM, asked only when the local classifier is
//! unsure, and ignored whenever the LLM cannot give a clean one.
//!
//! Confident rankings (top score at or above the band) need no help and very low ones are
//! better left to the knowledge base and fallback, so only the band in between costs an LLM
//! call. The model may only pick one of the local top candidates (or `none`), which bounds what
//! a wrong or manipulated answer can do to the same choices the local model was already
//! weighing.

use crate::client::{CallOptions, ChatClient, ChatMessage};
use async_trait::async_trait;
use kefu_core::{IntentClassifier, IntentScore, Language, NluError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

/// What the prompt says about one intent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntentHint {
    /// One line on what the intent means.
    pub description: Option<String>,
    /// A few example messages (only the first `max_examples` are sent).
    pub examples: Vec<String>,
}

/// Configuration of [`LlmIntentAssist`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntentAssistConfig {
    /// The LLM is asked when `lower <= top confidence < upper`.
    pub lower: f32,
    /// See `lower`.
    pub upper: f32,
    /// How many of the local top intents the LLM chooses among.
    pub candidates: usize,
    /// Descriptions and examples per intent name; intents without one are listed by name.
    pub intents: BTreeMap<String, IntentHint>,
    /// Examples per intent put in the prompt.
    pub max_examples: usize,
    /// Confidence given to the LLM's choice (it keeps its own if that is higher); above the
    /// band so the engine treats it as settled.
    pub chosen_confidence: f32,
    /// Factor applied to every candidate's confidence when the LLM answers `none` (1.0 keeps
    /// the local ranking as it is).
    pub none_factor: f32,
    /// Deadline for the whole LLM consultation, retries included; past it the local ranking
    /// is returned. Keeps a slow model from stalling the turn.
    pub deadline_ms: u64,
}

impl Default for IntentAssistConfig {
    fn default() -> Self {
        Self {
            lower: 0.35,
            upper: 0.75,
            candidates: 3,
            intents: BTreeMap::new(),
            max_examples: 3,
            chosen_confidence: 0.9,
            none_factor: 0.5,
            deadline_ms: 4_000,
        }
    }
}

/// The LLM's verdict, parsed strictly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntentChoice {
    /// One of the candidates, by name.
    Intent(String),
    /// None of the candidates fits.
    None,
}

/// Parses the model's answer: exactly one candidate name or `none` (surrounding whitespace,
/// quotes or backticks and one trailing full stop allowed), nothing else. Names compare
/// case-sensitively, as the bot defines them; `none` in any case. `None` when the answer is
/// anything else, prose around a name included.
pub fn parse_choice(answer: &str, candidates: &[&str]) -> Option<IntentChoice> {
    let mut a = answer.trim();
    a = a.strip_suffix('.').unwrap_or(a).trim_end();
    for (open, close) in [('`', '`'), ('"', '"'), ('\'', '\''), ('“', '”')] {
        if let Some(inner) = a.strip_prefix(open).and_then(|s| s.strip_suffix(close)) {
            a = inner.trim();
            break;
        }
    }
    let a = a.strip_suffix('.').unwrap_or(a).trim();
    if a.eq_ignore_ascii_case("none") && !candidates.contains(&a) {
        return Some(IntentChoice::None);
    }
    candidates.iter().find(|c| **c == a).map(|c| IntentChoice::Intent((*c).to_string()))
}

/// Wraps an [`IntentClassifier`] and lets an LLM choose among its top candidates when the top
/// confidence is in the configured band. Implements `IntentClassifier`, so it replaces the
/// wrapped classifier in the engine builder without engine changes.
pub struct LlmIntentAssist {
    inner: Arc<dyn IntentClassifier>,
    client: ChatClient,
    config: IntentAssistConfig,
}

impl LlmIntentAssist {
    /// Wraps `inner`; `client` carries the endpoint, timeouts, retries and breaker.
    pub fn new(inner: Arc<dyn IntentClassifier>, client: ChatClient, config: IntentAssistConfig) -> Self {
        Self { inner, client, config }
    }

    /// The configuration.
    pub fn config(&self) -> &IntentAssistConfig {
        &self.config
    }

    fn in_band(&self, top: f32) -> bool {
        top >= self.config.lower && top < self.config.upper
    }

    /// The prompt for one message: the candidate list in the system message, the customer's
    /// text alone in the user message so it cannot pose as instructions about the format.
    pub fn prompt(&self, text: &str, candidates: &[&str]) -> Vec<ChatMessage> {
        let mut system = String::from(
            "You classify customer-service messages. Choose the one intent below that best matches \
             the customer's message. Reply with the intent name exactly as written, or with none if \
             no intent fits. Reply with nothing else.\n\nIntents:\n",
        );
        for name in candidates {
            let hint = self.config.intents.get(*name);
            let _ = write!(system, "- {name}");
            if let Some(d) = hint.and_then(|h| h.description.as_deref()) {
                let _ = write!(system, ": {}", one_line(d));
            }
            system.push('\n');
            for ex in hint.map(|h| h.examples.as_slice()).unwrap_or_default().iter().take(self.config.max_examples) {
                let _ = writeln!(system, "  example: {}", one_line(ex));
            }
        }
        vec![ChatMessage::system(system), ChatMessage::user(text)]
    }

    /// Applies the verdict to the local ranking (sorted, highest first).
    fn apply(&self, mut ranking: Vec<IntentScore>, choice: &IntentChoice, candidates: usize) -> Vec<IntentScore> {
        match choice {
            IntentChoice::Intent(name) => {
                if let Some(s) = ranking.iter_mut().find(|s| &s.name == name) {
                    s.confidence = s.confidence.max(self.config.chosen_confidence);
                }
            }
            IntentChoice::None => {
                for s in ranking.iter_mut().take(candidates) {
                    s.confidence *= self.config.none_factor;
                }
            }
        }
        // Stable: ties keep the local order.
        ranking.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        ranking
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[async_trait]
impl IntentClassifier for LlmIntentAssist {
    fn calibrated_threshold(&self) -> Option<f32> {
        self.inner.calibrated_threshold()
    }

    async fn classify(&self, text: &str, language: Language, top_k: usize) -> Result<Vec<IntentScore>, NluError> {
        let wanted = top_k.max(self.config.candidates);
        let mut ranking = self.inner.classify(text, language, wanted).await?;
        let Some(top) = ranking.first() else {
            return Ok(ranking);
        };
        if !self.in_band(top.confidence) {
            ranking.truncate(top_k);
            return Ok(ranking);
        }
        let n = self.config.candidates.min(ranking.len());
        let names: Vec<&str> = ranking[..n].iter().map(|s| s.name.as_str()).collect();
        let messages = self.prompt(text, &names);
        let options = CallOptions { temperature: Some(0.0), max_tokens: Some(20) };
        let deadline = Duration::from_millis(self.config.deadline_ms);
        let local_top = top.name.clone();
        let answer = match tokio::time::timeout(deadline, self.client.complete_with(&messages, &options)).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "LLM intent assist failed: keeping the local ranking");
                ranking.truncate(top_k);
                return Ok(ranking);
            }
            Err(_) => {
                tracing::warn!(
                    deadline_ms = self.config.deadline_ms,
                    "LLM intent assist too slow: keeping the local ranking"
                );
                ranking.truncate(top_k);
                return Ok(ranking);
            }
        };
        let Some(choice) = parse_choice(&answer, &names) else {
            tracing::warn!(answer = %one_line(&answer), "LLM intent assist answer is not a candidate: keeping the local ranking");
            ranking.truncate(top_k);
            return Ok(ranking);
        };
        tracing::debug!(local = %local_top, llm = ?choice, "LLM intent assist");
        let mut ranking = self.apply(ranking, &choice, n);
        ranking.truncate(top_k);
        Ok(ranking)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strictly() {
        let c = ["track_order", "refund", "None_of_it"];
        assert_eq!(parse_choice(" refund\n", &c), Some(IntentChoice::Intent("refund".into())));
        assert_eq!(parse_choice("`track_order`", &c), Some(IntentChoice::Intent("track_order".into())));
        assert_eq!(parse_choice("\"refund\".", &c), Some(IntentChoice::Intent("refund".into())));
        assert_eq!(parse_choice("NONE", &c), Some(IntentChoice::None));
        assert_eq!(parse_choice("None_of_it", &c), Some(IntentChoice::Intent("None_of_it".into())));
        assert_eq!(parse_choice("The intent is refund", &c), None);
        assert_eq!(parse_choice("Refund", &c), None, "names are case-sensitive");
        assert_eq!(parse_choice("cancel_order", &c), None, "not a candidate");
        assert_eq!(parse_choice("refund, track_order", &c), None);
        assert_eq!(parse_choice("", &c), None);
    }
}
