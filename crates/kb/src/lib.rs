//! # kefu-kb — FAQ retrieval
//!
//! Owns the knowledge base behind `kefu_core::KnowledgeBase`: FAQ entries (question variants
//! and an answer per language, per tenant) and their retrieval. It must not know about
//! dialogue state, flows or intents: the engine decides when to ask and whether a score is
//! good enough to answer.
//!
//! The in-memory [`FaqIndex`] scores questions by TF-IDF cosine over word and character
//! n-grams (characters carry Chinese, which has no spaces). It is exact and fast for the few
//! thousand entries a bot folder holds; larger, disk-backed and dense-vector retrieval
//! arrives as further implementations of the same trait.
//!
//! No cargo features yet.
#![warn(missing_docs)]

mod faq_index;

pub use faq_index::{FaqDocument, FaqIndex, SHARED_TENANT};
