//! # kefu-kb — FAQ retrieval
//!
//! Owns the knowledge base behind `kefu_core::KnowledgeBase`: FAQ entries (question variants
//! and an answer per language, per tenant) and their retrieval. It must not know about
//! dialogue state, flows or intents: the engine decides when to ask and whether a score is
//! good enough to answer.
//!
//! The in-memory [`FaqIndex`] scores questions by TF-IDF cosine over word and character
//! n-grams (characters carry Chinese, which has no spaces). It is exact and fast for the few
//! thousand entries a bot folder holds. [`DenseFaqIndex`] retrieves by sentence-embedding
//! cosine through core's `TextEmbedder` (the `neural` encoder of `kefu-nlu`), and
//! [`HybridKb`] fuses a lexical index with it.
//!
//! ## Cargo features
//! * `llm` — `kefu_kb::grounded` (from `kefu-llm`): retrieve, then stream an answer from an
//!   OpenAI-compatible model that may only use and must cite the retrieved passages.
//! * `ann` — HNSW approximate search (`hnsw_rs`) for dense indexes above
//!   [`DenseOptions::ann_threshold`] question variants; exact scan below it and without it.
//! * `tantivy` — `TantivyFaqIndex`: BM25 over question variants on tantivy, in RAM or in a
//!   memory-mapped directory, incremental upsert/remove, bulk import from YAML/JSON/CSV
//!   (module `import`), per-tenant statistics, raw BM25 candidates for hybrid fusion
//!   (`search_bm25`). Chinese is cut into character unigrams + bigrams.
//! * `jieba` (implies `tantivy`) — adds jieba-rs word segmentation as an alternative Chinese
//!   tokenizer (`analysis::ChineseTokenizer`). On the demo FAQ's leave-one-variant-out set,
//!   bigrams retrieve better (R@1 0.660 vs 0.511 for jieba `cut`, 0.532 for `cut_for_search`,
//!   47 queries; see `benches/kb/README.md`), so jieba is not the default.
#![warn(missing_docs)]

#[cfg(feature = "tantivy")]
pub mod analysis;
#[cfg(feature = "ann")]
mod ann;
mod dense;
mod error;
mod faq_index;
mod hybrid;
#[cfg(feature = "tantivy")]
pub mod import;
#[cfg(feature = "tantivy")]
mod tantivy_index;

pub use dense::{DenseFaqIndex, DenseOptions};
pub use error::{Error, Result};
pub use faq_index::{FaqDocument, FaqIndex, SHARED_TENANT};
pub use hybrid::{fuse, Fusion, HybridKb, HybridOptions};
/// Grounded, cited LLM answers over any [`kefu_core::KnowledgeBase`] (feature `llm`).
#[cfg(feature = "llm")]
pub use kefu_llm::grounded;
#[cfg(feature = "tantivy")]
pub use tantivy_index::{
    Bm25Hit, ImportReport, KbStats, Normalization, TantivyFaqIndex, TantivyOptions, TenantStats, MAX_QUERY_BYTES,
    MAX_QUERY_TERMS, OTHER_LANGUAGE_FACTOR,
};
