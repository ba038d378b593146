//! Dense FAQ retrieval: cosine similarity between sentence embeddings of the query and of
//! every question variant.
//!
//! Small knowledge bases (up to [`DenseOptions::ann_threshold`] variants) are scanned
//! exactly — at 384 dimensions that is a few microseconds per thousand variants. Larger
//! ones switch to an HNSW graph (feature `ann`, crate `hnsw_rs`) behind the same API.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use kefu_core::bot::FaqEntry;
use kefu_core::kb::{KbError, KbHit, KbQuery, KnowledgeBase};
use kefu_core::language::Language;
use kefu_core::TextEmbedder;

use crate::error::{Error, Result};
use crate::faq_index::SHARED_TENANT;

/// Tuning of a [`DenseFaqIndex`].
#[derive(Clone, Debug, PartialEq)]
pub struct DenseOptions {
    /// Languages the embedder understands. Queries in other languages get no dense hits, so
    /// a hybrid index answers them lexically (an English-only encoder would otherwise match
    /// Chinese text on noise). Empty = every language.
    pub languages: Vec<Language>,
    /// Above this many live question variants, search walks an HNSW graph instead of
    /// scanning (only with the `ann` feature; without it search stays exact).
    pub ann_threshold: usize,
    /// Width of the HNSW search (larger = better recall, slower).
    pub ann_ef_search: usize,
    /// Multiplier for variants written in another language than the query's.
    pub other_language_factor: f32,
    /// Texts embedded per call while indexing.
    pub batch_size: usize,
}

impl Default for DenseOptions {
    fn default() -> Self {
        Self {
            languages: Vec::new(),
            ann_threshold: 20_000,
            ann_ef_search: 96,
            other_language_factor: 0.9,
            batch_size: 64,
        }
    }
}

struct Row {
    doc: usize,
    language: Language,
    text: String,
    alive: bool,
}

#[derive(Default)]
struct State {
    /// Documents by slot; `None` once removed (slots are reused only by compaction).
    docs: Vec<Option<(String, FaqEntry)>>,
    slot_of: HashMap<(String, String), usize>,
    rows: Vec<Row>,
    /// Row-major, `rows.len() * dim`, unit-length rows.
    vectors: Vec<f32>,
    dead_rows: usize,
    /// Typical cosine of two questions of different entries (see [`baseline_cosine`]).
    baseline: f32,
    #[cfg(feature = "ann")]
    graph: Option<crate::ann::Graph>,
}

/// Weight of the mean variant similarity in an entry's dense score (the rest: its best variant).
/// Chosen on BANKING77-as-FAQ development queries: dense R@1 0.740 → 0.759.
const VARIANT_MEAN_WEIGHT: f32 = 0.3;

/// Rows sampled for [`baseline_cosine`] (≤ 200·199/2 dot products).
const BASELINE_SAMPLE: usize = 200;

/// Mean cosine between questions of *different* entries, over an evenly spaced sample of live
/// rows, clamped to [0, 0.9]; 0 with fewer than two entries.
fn baseline_cosine(state: &State, dim: usize) -> f32 {
    let live: Vec<usize> = (0..state.rows.len()).filter(|&i| state.rows[i].alive).collect();
    let step = live.len().div_ceil(BASELINE_SAMPLE).max(1);
    let sample: Vec<usize> = live.into_iter().step_by(step).collect();
    let (mut sum, mut pairs) = (0.0f64, 0usize);
    for (a, &i) in sample.iter().enumerate() {
        for &j in &sample[a + 1..] {
            if state.rows[i].doc != state.rows[j].doc {
                sum += f64::from(dot(&state.vectors[i * dim..(i + 1) * dim], &state.vectors[j * dim..(j + 1) * dim]));
                pairs += 1;
            }
        }
    }
    if pairs == 0 {
        return 0.0;
    }
    ((sum / pairs as f64) as f32).clamp(0.0, 0.9)
}

/// FAQ retrieval by sentence-embedding cosine similarity, with strict tenant filtering
/// (entries of [`SHARED_TENANT`] are visible to every tenant).
pub struct DenseFaqIndex {
    embedder: Arc<dyn TextEmbedder>,
    options: DenseOptions,
    state: RwLock<State>,
}

impl DenseFaqIndex {
    /// An empty index over `embedder`.
    pub fn new(embedder: Arc<dyn TextEmbedder>, options: DenseOptions) -> Self {
        Self { embedder, options, state: RwLock::new(State::default()) }
    }

    /// An index of a bot's FAQ, shared by all tenants.
    pub fn from_entries(embedder: Arc<dyn TextEmbedder>, options: DenseOptions, entries: &[FaqEntry]) -> Result<Self> {
        let index = Self::new(embedder, options);
        index.upsert_many(SHARED_TENANT, entries.to_vec())?;
        Ok(index)
    }

    /// The embedder's model id (what the vectors were made with).
    pub fn model_id(&self) -> &str {
        self.embedder.model_id()
    }

    /// Whether queries in `language` are searched (see [`DenseOptions::languages`]).
    pub fn serves(&self, language: Language) -> bool {
        self.options.languages.is_empty() || self.options.languages.contains(&language)
    }

    /// Adds or replaces (by tenant and id) one entry.
    pub fn upsert(&self, tenant: &str, entry: FaqEntry) -> Result<()> {
        self.upsert_many(tenant, vec![entry])
    }

    /// Adds or replaces many entries, embedding their questions in batches. On an embedding
    /// error nothing of this call is indexed.
    pub fn upsert_many(&self, tenant: &str, entries: Vec<FaqEntry>) -> Result<()> {
        let mut texts: Vec<(usize, Language, String)> = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            for (language, questions) in &entry.questions {
                for q in questions.iter().filter(|q| !q.trim().is_empty()) {
                    texts.push((i, *language, q.clone()));
                }
            }
        }
        let vectors = self.embed_all(texts.iter().map(|(_, _, t)| t.as_str()))?;
        let dim = self.embedder.dim();
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        let mut slots = Vec::with_capacity(entries.len());
        for entry in entries {
            state.remove_doc(tenant, &entry.id);
            let slot = state.docs.len();
            state.slot_of.insert((tenant.to_string(), entry.id.clone()), slot);
            state.docs.push(Some((tenant.to_string(), entry)));
            slots.push(slot);
        }
        let first_new_row = state.rows.len();
        for ((entry_index, language, text), vector) in texts.into_iter().zip(vectors) {
            state.rows.push(Row { doc: slots[entry_index], language, text, alive: true });
            state.vectors.extend_from_slice(&vector);
        }
        debug_assert_eq!(state.vectors.len(), state.rows.len() * dim);
        self.after_change(&mut state, first_new_row);
        Ok(())
    }

    /// Removes an entry; returns whether it existed.
    pub fn remove(&self, tenant: &str, id: &str) -> bool {
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        let removed = state.remove_doc(tenant, id);
        let rows = state.rows.len();
        self.after_change(&mut state, rows);
        removed
    }

    /// Number of live entries.
    pub fn len(&self) -> usize {
        self.state.read().unwrap_or_else(|p| p.into_inner()).slot_of.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether searches currently walk the HNSW graph (else an exact scan).
    pub fn uses_ann(&self) -> bool {
        #[cfg(feature = "ann")]
        {
            self.state.read().unwrap_or_else(|p| p.into_inner()).graph.is_some()
        }
        #[cfg(not(feature = "ann"))]
        {
            false
        }
    }

    /// Best hits for a query, or none when the query's language is not served.
    pub fn search_sync(&self, query: &KbQuery) -> Result<Vec<KbHit>> {
        if !self.serves(query.language) || query.text.trim().is_empty() {
            return Ok(Vec::new());
        }
        let q = self.embed_all(std::iter::once(query.text.as_str()))?.into_iter().next().unwrap_or_default();
        Ok(self.search_vector(&q, query))
    }

    /// Best hits for an already embedded query (unit length, the embedder's dimension).
    pub fn search_vector(&self, q: &[f32], query: &KbQuery) -> Vec<KbHit> {
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        let dim = self.embedder.dim();
        if q.len() != dim {
            return Vec::new();
        }
        let visible = |row: &Row| -> bool {
            row.alive && state.docs[row.doc].as_ref().is_some_and(|(t, _)| t == SHARED_TENANT || t == &query.tenant)
        };
        let top_k = query.top_k.max(1);
        let scored: Vec<(usize, f32)> = self.candidates(&state, q, top_k, &visible);
        // Best variant per document; only the top few become hits (string clones are the
        // expensive part of a large scan).
        let mut best: HashMap<usize, (f32, usize)> = HashMap::with_capacity(scored.len().min(4096));
        // An entry is its best variant mixed with the mean over its variants (among the
        // candidates): several variants near the query outweigh one lucky match.
        let mut sums: HashMap<usize, (f32, usize)> = HashMap::new();
        for &(row_index, cosine) in &scored {
            let e = sums.entry(state.rows[row_index].doc).or_insert((0.0, 0));
            e.0 += cosine;
            e.1 += 1;
        }
        for (row_index, cosine) in scored {
            let cosine = match sums.get(&state.rows[row_index].doc) {
                Some((sum, n)) => (1.0 - VARIANT_MEAN_WEIGHT) * cosine + VARIANT_MEAN_WEIGHT * sum / *n as f32,
                None => cosine,
            };
            let row = &state.rows[row_index];
            // Encoders differ in how similar unrelated texts look (MiniLM ~0.1, BGE ~0.4):
            // measured against the index's own baseline, a score means the same for every one.
            let mut score = ((cosine - state.baseline) / (1.0 - state.baseline)).max(0.0);
            if row.language != query.language {
                score *= self.options.other_language_factor;
            }
            let e = best.entry(row.doc).or_insert((f32::MIN, row_index));
            if score > e.0 {
                *e = (score, row_index);
            }
        }
        let mut ranked: Vec<(usize, f32, usize)> =
            best.into_iter().filter(|(_, (s, _))| *s > 0.0).map(|(doc, (s, row))| (doc, s, row)).collect();
        let order = |a: &(usize, f32, usize), b: &(usize, f32, usize)| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0));
        if ranked.len() > top_k {
            ranked.select_nth_unstable_by(top_k - 1, order);
            ranked.truncate(top_k);
        }
        ranked.sort_by(order);
        ranked
            .into_iter()
            .filter_map(|(doc, score, row_index)| {
                let (_, entry) = state.docs[doc].as_ref()?;
                let answer = entry.answer.get(&query.language).or_else(|| entry.answer.values().next())?;
                Some(KbHit {
                    id: entry.id.clone(),
                    question: state.rows[row_index].text.clone(),
                    answer: answer.clone(),
                    score,
                })
            })
            .collect()
    }

    /// (row, cosine) pairs that may be among the best: every visible row when scanning,
    /// the graph's nearest visible rows otherwise (falling back to the scan when too few).
    fn candidates(&self, state: &State, q: &[f32], top_k: usize, visible: &dyn Fn(&Row) -> bool) -> Vec<(usize, f32)> {
        #[cfg(feature = "ann")]
        if let Some(graph) = &state.graph {
            // Several variants of one entry can crowd the nearest rows: ask for more rows
            // than entries wanted, then keep the visible ones.
            let want = (top_k * 8).max(32);
            let found: Vec<(usize, f32)> = graph
                .search(q, want, self.options.ann_ef_search.max(want))
                .into_iter()
                .filter(|(row, _)| state.rows.get(*row).is_some_and(visible))
                .collect();
            let docs: std::collections::HashSet<usize> = found.iter().map(|(row, _)| state.rows[*row].doc).collect();
            if docs.len() >= top_k {
                return found;
            }
            // A small tenant in a large shared index, or many removals: too few visible
            // neighbours, so scan exactly rather than return fewer (or worse) hits.
        }
        let _ = top_k;
        let dim = q.len();
        // The exact scan: every visible row.
        state
            .rows
            .iter()
            .enumerate()
            .filter(|(_, row)| visible(row))
            .map(|(i, _)| (i, dot(q, &state.vectors[i * dim..(i + 1) * dim])))
            .collect()
    }

    fn embed_all<'a>(&self, texts: impl Iterator<Item = &'a str>) -> Result<Vec<Vec<f32>>> {
        let texts: Vec<&str> = texts.collect();
        let dim = self.embedder.dim();
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(self.options.batch_size.max(1)) {
            for v in self.embedder.embed(chunk)? {
                if v.len() != dim {
                    return Err(Error::Dimension { expected: dim, got: v.len() });
                }
                out.push(v);
            }
        }
        Ok(out)
    }

    /// Compacts when dead rows dominate and keeps the HNSW graph in step with the rows.
    fn after_change(&self, state: &mut State, first_new_row: usize) {
        state.baseline = baseline_cosine(state, self.embedder.dim());
        let live = state.rows.len() - state.dead_rows;
        if state.dead_rows > 1024 && state.dead_rows > live {
            state.compact(self.embedder.dim());
            self.rebuild_graph(state);
            return;
        }
        #[cfg(feature = "ann")]
        {
            let dim = self.embedder.dim();
            match &state.graph {
                Some(graph) => {
                    for i in first_new_row..state.rows.len() {
                        graph.insert(&state.vectors[i * dim..(i + 1) * dim], i);
                    }
                }
                None if live > self.options.ann_threshold => self.rebuild_graph(state),
                None => {}
            }
        }
        let _ = first_new_row;
    }

    /// The similarity an unrelated question typically has (in [0, 0.9]).
    pub fn baseline(&self) -> f32 {
        self.state.read().unwrap_or_else(|p| p.into_inner()).baseline
    }

    fn rebuild_graph(&self, state: &mut State) {
        #[cfg(feature = "ann")]
        {
            let live = state.rows.len() - state.dead_rows;
            state.graph = (live > self.options.ann_threshold)
                .then(|| crate::ann::Graph::build(&state.vectors, self.embedder.dim(), &state.rows_alive()));
        }
        let _ = state;
    }
}

impl State {
    fn remove_doc(&mut self, tenant: &str, id: &str) -> bool {
        let Some(slot) = self.slot_of.remove(&(tenant.to_string(), id.to_string())) else {
            return false;
        };
        self.docs[slot] = None;
        for row in self.rows.iter_mut().filter(|r| r.doc == slot && r.alive) {
            row.alive = false;
            self.dead_rows += 1;
        }
        true
    }

    /// Drops removed documents and rows, renumbering slots.
    fn compact(&mut self, dim: usize) {
        let mut new_slot = vec![usize::MAX; self.docs.len()];
        let mut docs = Vec::new();
        for (old, doc) in std::mem::take(&mut self.docs).into_iter().enumerate() {
            if let Some(doc) = doc {
                new_slot[old] = docs.len();
                docs.push(Some(doc));
            }
        }
        let mut rows = Vec::new();
        let mut vectors = Vec::new();
        for (i, row) in std::mem::take(&mut self.rows).into_iter().enumerate() {
            if row.alive {
                vectors.extend_from_slice(&self.vectors[i * dim..(i + 1) * dim]);
                rows.push(Row { doc: new_slot[row.doc], ..row });
            }
        }
        for slot in self.slot_of.values_mut() {
            *slot = new_slot[*slot];
        }
        self.docs = docs;
        self.rows = rows;
        self.vectors = vectors;
        self.dead_rows = 0;
    }

    #[cfg(feature = "ann")]
    fn rows_alive(&self) -> Vec<bool> {
        self.rows.iter().map(|r| r.alive).collect()
    }
}

#[async_trait]
impl KnowledgeBase for DenseFaqIndex {
    async fn search(&self, query: &KbQuery) -> Result<Vec<KbHit>, KbError> {
        Ok(self.search_sync(query)?)
    }
}

/// Dot product with eight independent accumulators, so the compiler can use SIMD lanes
/// (a single running sum is a dependency chain it may not reorder).
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}
