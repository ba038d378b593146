//! Hybrid retrieval: a lexical index (TF-IDF [`crate::FaqIndex`] or BM25
//! `TantivyFaqIndex`, through the [`KnowledgeBase`] trait) fused with a
//! [`DenseFaqIndex`].
//!
//! Ranking and the reported score are separate concerns: the [`Fusion`] orders candidates,
//! while the hit's `score` (what the engine compares with the bot's `kb_threshold`) is
//! always the weighted mean of the two components' own `[0, 1]` scores, so the threshold
//! keeps one meaning whichever fusion ranks.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use kefu_core::kb::{KbError, KbHit, KbQuery, KnowledgeBase};

use crate::dense::DenseFaqIndex;

/// How the two ranked lists are merged.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fusion {
    /// Weighted reciprocal-rank fusion: `w_dense / (k + rank_dense) + w_lex / (k + rank_lex)`.
    /// Ignores score scales; needs both lists to be similarly good to help.
    Rrf {
        /// The rank offset (60 in the original paper).
        k: f32,
    },
    /// Weighted mean of the components' scores: `w * dense + (1 - w) * lexical`.
    Linear,
}

/// Tuning of a [`HybridKb`].
#[derive(Clone, Debug, PartialEq)]
pub struct HybridOptions {
    /// How lists are merged.
    pub fusion: Fusion,
    /// Weight of the dense side in `[0, 1]` (for both the ranking and the reported score).
    pub dense_weight: f32,
    /// How many hits each side contributes before fusion.
    pub candidates: usize,
}

impl Default for HybridOptions {
    /// Linear fusion with dense weight 0.8: chosen on a development split built from
    /// BANKING77's *training* questions (see `benches/kb/README.md`).
    fn default() -> Self {
        Self { fusion: Fusion::Linear, dense_weight: 0.8, candidates: 30 }
    }
}

/// Lexical + dense retrieval behind one [`KnowledgeBase`]. With several dense indexes (one per
/// encoder, e.g. an English and a Chinese one), a query is fused with the first index that
/// serves its language ([`DenseFaqIndex::serves`]); in no index's language the lexical index
/// answers alone.
pub struct HybridKb {
    lexical: Arc<dyn KnowledgeBase>,
    dense: Vec<Arc<DenseFaqIndex>>,
    options: HybridOptions,
}

impl HybridKb {
    /// Fuses `lexical` and `dense`, which must hold the same entries.
    pub fn new(lexical: Arc<dyn KnowledgeBase>, dense: Arc<DenseFaqIndex>, options: HybridOptions) -> Self {
        Self::with_dense_indexes(lexical, vec![dense], options)
    }

    /// Fuses `lexical` with one of `dense` per query language (each must hold the same
    /// entries as `lexical`).
    pub fn with_dense_indexes(
        lexical: Arc<dyn KnowledgeBase>,
        dense: Vec<Arc<DenseFaqIndex>>,
        options: HybridOptions,
    ) -> Self {
        Self { lexical, dense, options }
    }

    /// The dense indexes (to add or remove entries), in the order languages are matched.
    pub fn dense(&self) -> &[Arc<DenseFaqIndex>] {
        &self.dense
    }

    /// Fuses two ranked hit lists (each best first, scores in `[0, 1]`).
    pub fn fuse(&self, lexical: Vec<KbHit>, dense: Vec<KbHit>, top_k: usize) -> Vec<KbHit> {
        fuse(lexical, dense, &self.options, top_k)
    }
}

/// Fuses two ranked hit lists with `options` (public for benchmarks that precompute lists).
pub fn fuse(lexical: Vec<KbHit>, dense: Vec<KbHit>, options: &HybridOptions, top_k: usize) -> Vec<KbHit> {
    let w = options.dense_weight.clamp(0.0, 1.0);
    struct Candidate {
        hit: KbHit,
        lexical: Option<(usize, f32)>,
        dense: Option<(usize, f32)>,
    }
    let mut by_id: HashMap<String, Candidate> = HashMap::new();
    for (rank, hit) in dense.into_iter().enumerate() {
        let score = hit.score;
        by_id.entry(hit.id.clone()).or_insert(Candidate { hit, lexical: None, dense: Some((rank, score)) });
    }
    for (rank, hit) in lexical.into_iter().enumerate() {
        let score = hit.score;
        by_id.entry(hit.id.clone()).and_modify(|c| c.lexical = Some((rank, score))).or_insert(Candidate {
            hit,
            lexical: Some((rank, score)),
            dense: None,
        });
    }
    let mut fused: Vec<(f32, KbHit)> = by_id
        .into_values()
        .map(|c| {
            let score_of = |side: Option<(usize, f32)>| side.map_or(0.0, |(_, s)| s);
            let mean = w * score_of(c.dense) + (1.0 - w) * score_of(c.lexical);
            let rank_key = match options.fusion {
                Fusion::Linear => mean,
                Fusion::Rrf { k } => {
                    let rrf = |side: Option<(usize, f32)>| side.map_or(0.0, |(r, _)| 1.0 / (k + r as f32 + 1.0));
                    w * rrf(c.dense) + (1.0 - w) * rrf(c.lexical)
                }
            };
            (rank_key, KbHit { score: mean, ..c.hit })
        })
        .collect();
    fused.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
    fused.into_iter().take(top_k.max(1)).map(|(_, hit)| hit).collect()
}

#[async_trait]
impl KnowledgeBase for HybridKb {
    async fn search(&self, query: &KbQuery) -> Result<Vec<KbHit>, KbError> {
        let wide = KbQuery { top_k: self.options.candidates.max(query.top_k), ..query.clone() };
        let lexical = self.lexical.search(&wide).await?;
        let Some(dense) = self.dense.iter().find(|d| d.serves(query.language)) else {
            // No dense opinion in this language: the lexical index answers alone, unchanged.
            return Ok(lexical.into_iter().take(query.top_k.max(1)).collect());
        };
        let dense = dense.search_sync(&wide)?;
        Ok(self.fuse(lexical, dense, query.top_k))
    }
}
