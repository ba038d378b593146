//! # kefu-nlu — understanding a message
//!
//! Owns intent classification and entity extraction: the lexical intent model (TF-IDF over
//! word and character n-grams with a linear classifier trained in Rust), the built-in
//! entities computed in-process for Chinese and English (numbers, amounts, durations, dates
//! and times, phones, e-mails, URLs), and the evaluation of intent models on CSV data sets.
//! It implements `kefu_core::IntentClassifier` and `kefu_core::EntityExtractor` and must not
//! touch dialogue state, sessions or replies.
//!
//! Data flow: text (already normalised by the engine) → [`LexicalIntentClassifier`] →
//! ranked intents; text + reference time → [`BuiltinEntityExtractor`] → entities with
//! resolved values; text → [`tagger::EntityTagger`] (an averaged perceptron trained on the
//! entities annotated in the training data) → learned entities with roles and groups.
//!
//! ## Features
//! - `neural` — `neural::SentenceEncoder`: a BERT-family sentence encoder run by candle
//!   (mean pooling + L2, as sentence-transformers), with dynamic batching and an embedding cache.
//! - `cuda`, `metal` — run the encoder on a GPU (forwarded to candle).
//! - `hub` — download a model folder from the Hugging Face Hub (never used by tests).
#![warn(missing_docs)]

pub mod dense;
pub mod entities;
pub mod eval;
pub mod learned;
pub mod lexical;
#[cfg(feature = "neural")]
pub mod neural;
#[cfg(feature = "neural")]
pub mod neural_intent;
pub mod scope;
pub mod tagger;

mod builtin;
mod error;
mod intent_model;

pub use builtin::BuiltinEntityExtractor;
pub use error::Error;
pub use intent_model::{training_fingerprint, LexicalIntentClassifier, ModelHeader, MODEL_FILE_VERSION};
