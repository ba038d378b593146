//! A disk-backed (or in-RAM) BM25 FAQ index on tantivy.

use crate::analysis::{self, AnalyzerConfig};
use crate::error::{Error, Result};
use crate::faq_index::SHARED_TENANT;
use crate::import;
use async_trait::async_trait;
use kefu_core::bot::FaqEntry;
use kefu_core::kb::{KbError, KbHit, KbQuery, KnowledgeBase};
use kefu_core::language::Language;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::query::{Bm25StatisticsProvider, Bm25Weight, BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

/// Longest query text considered, in bytes (longer input is cut at a character boundary).
pub const MAX_QUERY_BYTES: usize = 4096;
/// Most distinct query terms turned into clauses (first seen first).
pub const MAX_QUERY_TERMS: usize = 128;
/// Score factor for a question written in another language than the one asked for.
pub const OTHER_LANGUAGE_FACTOR: f32 = 0.9;

/// How raw BM25 becomes a `[0, 1]` score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Normalization {
    /// `bm25(q, d) / bm25(q, q)`: the share of the query's own best score that the question
    /// reaches ("self-score" of the query computed with the index's current statistics, as if
    /// the query were a question of the index). 1.0 when the question is the query. Ranks
    /// exactly as raw BM25 (the divisor is the same for every document of a query). Default:
    /// on StackFAQ it ranks better than `Symmetric` and costs a quarter of its latency.
    #[default]
    QueryOnly,
    /// `bm25(q, d) / sqrt(bm25(q, q) · bm25(d, d))`: cosine-like, also penalises the part of the
    /// question the query does not cover. Symmetric; 1.0 only for identical term bags. Re-ranks
    /// the BM25 candidates; each candidate's self-score is computed at query time.
    Symmetric,
}

/// Settings of a [`TantivyFaqIndex`].
#[derive(Clone, Debug)]
pub struct TantivyOptions {
    /// Tokenizer settings for a new index (an existing index keeps its own).
    pub analyzer: AnalyzerConfig,
    /// Score normalisation (query time only; may change freely).
    pub normalization: Normalization,
    /// Indexing memory budget in bytes (tantivy needs at least 15 MB per thread).
    pub writer_memory_bytes: usize,
    /// Indexing threads.
    pub writer_threads: usize,
}

impl Default for TantivyOptions {
    fn default() -> Self {
        TantivyOptions {
            analyzer: AnalyzerConfig::default(),
            normalization: Normalization::default(),
            writer_memory_bytes: 50_000_000,
            writer_threads: 1,
        }
    }
}

/// One question document of a BM25 search, before collapsing into entries: what a hybrid
/// (BM25 + dense) ranker needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Bm25Hit {
    /// Entry id.
    pub id: String,
    /// The entry's tenant (the asker's or [`SHARED_TENANT`]).
    pub tenant: String,
    /// Language of the matched question.
    pub language: Option<Language>,
    /// The matched question variant.
    pub question: String,
    /// Raw BM25 (tantivy, k1 = 1.2, b = 0.75), summed over distinct query terms.
    pub raw_score: f32,
    /// The `[0, 1]` score under the index's [`Normalization`] (no language factor).
    pub score: f32,
    address: DocAddress,
}

/// Counts of one tenant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TenantStats {
    /// Entries.
    pub entries: u64,
    /// Question documents.
    pub documents: u64,
}

/// What an index holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KbStats {
    /// Entries (all tenants).
    pub entries: u64,
    /// Question documents (one per entry, language and question variant).
    pub documents: u64,
    /// Per tenant (`*` = shared).
    pub tenants: BTreeMap<String, TenantStats>,
    /// Searchable segments.
    pub segments: usize,
    /// Bytes of the index directory on disk (`None` for an in-RAM index).
    pub disk_bytes: Option<u64>,
    /// Tokenizer name of the question field.
    pub tokenizer: String,
}

/// Result of an import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportReport {
    /// Entries added or replaced.
    pub entries: usize,
    /// Question variants indexed.
    pub questions: usize,
}

#[derive(Clone, Copy)]
struct Fields {
    key: Field,
    id: Field,
    tenant: Field,
    language: Field,
    question: Field,
    head: Field,
    entry: Field,
    tags: Field,
    answer_zh: Field,
    answer_en: Field,
}

impl Fields {
    fn from_schema(schema: &Schema) -> Result<Fields> {
        let f = |name: &str| {
            schema.get_field(name).map_err(|_| Error::Incompatible(format!("schema lacks field `{name}`")))
        };
        Ok(Fields {
            key: f("key")?,
            id: f("id")?,
            tenant: f("tenant")?,
            language: f("language")?,
            question: f("question")?,
            head: f("head")?,
            entry: f("entry")?,
            tags: f("tags")?,
            answer_zh: f("answer_zh")?,
            answer_en: f("answer_en")?,
        })
    }

    fn answer(&self, language: Language) -> Field {
        match language {
            Language::Zh => self.answer_zh,
            Language::En => self.answer_en,
        }
    }
}

fn schema(analyzer: &AnalyzerConfig) -> Schema {
    let mut b = Schema::builder();
    b.add_text_field("key", STRING);
    b.add_text_field("id", STRING | STORED);
    b.add_text_field("tenant", STRING | STORED);
    b.add_text_field("language", STRING | STORED);
    let question = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(&analyzer.tokenizer_name())
                .set_index_option(IndexRecordOption::WithFreqs),
        )
        .set_stored();
    b.add_text_field("question", question);
    b.add_text_field("head", STRING);
    b.add_text_field("entry", STORED);
    b.add_text_field("tags", STRING | STORED);
    b.add_text_field("answer_zh", STORED);
    b.add_text_field("answer_en", STORED);
    b.build()
}

fn entry_key(tenant: &str, id: &str) -> String {
    format!("{tenant}\u{1f}{id}")
}

/// FAQ retrieval by BM25 over question variants, on tantivy, with strict tenant filtering.
///
/// **Documents.** One tantivy document per (entry, language, question variant), carrying the
/// entry id, tenant, language, tags and the entry's answers (stored); the first document of an
/// entry also stores the whole entry (JSON) and a `head` marker, used by [`Self::get`] and
/// [`Self::stats`]. Per-variant documents keep BM25's length normalisation meaningful (one
/// short question, not the concatenation of ten), tell which variant matched
/// ([`KbHit::question`]) and let a score be normalised against that one question. Hits are
/// collapsed per entry (best variant wins). All documents of an entry share a `key` term
/// (`tenant` U+001F `id`): [`Self::upsert`] deletes by that term and re-adds, [`Self::remove`]
/// deletes by it; neither rebuilds the index.
///
/// **Queries.** The text is analysed by the question field's own analyzer and turned into a
/// `BooleanQuery` of `TermQuery` SHOULD clauses (never tantivy's query parser, so quotes,
/// colons or brackets are plain text), combined with MUST a zero-scored tenant filter
/// (`tenant = asker OR tenant = "*"`).
///
/// **Scores.** See [`Normalization`]; a question in another language than the one asked is
/// multiplied by [`OTHER_LANGUAGE_FACTOR`].
///
/// **Visibility.** `upsert`/`remove`/`import_file` are buffered until [`Self::commit`], which
/// reloads the searcher before returning: a search after `commit` sees the change.
pub struct TantivyFaqIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter<TantivyDocument>>,
    fields: Fields,
    analyzer: TextAnalyzer,
    config: AnalyzerConfig,
    normalization: Normalization,
    dir: Option<PathBuf>,
}

impl TantivyFaqIndex {
    /// An empty in-RAM index with default options.
    pub fn create_in_ram() -> Result<Self> {
        Self::create_in_ram_with(TantivyOptions::default())
    }

    /// An empty in-RAM index.
    pub fn create_in_ram_with(options: TantivyOptions) -> Result<Self> {
        let index = Index::create_in_ram(schema(&options.analyzer));
        Self::from_index(index, &options, None)
    }

    /// An in-RAM index of a bot's FAQ, shared by all tenants (committed).
    pub fn from_entries(entries: &[FaqEntry]) -> Result<Self> {
        let index = Self::create_in_ram()?;
        for e in entries {
            index.upsert(SHARED_TENANT, e.clone())?;
        }
        index.commit()?;
        Ok(index)
    }

    /// Opens the memory-mapped index in `dir`, or creates it (and the directory) with default
    /// options.
    pub fn open_or_create(dir: impl AsRef<Path>) -> Result<Self> {
        Self::open_or_create_with(dir, TantivyOptions::default())
    }

    /// Opens or creates the memory-mapped index in `dir`. An existing index keeps the tokenizer
    /// it was built with (`options.analyzer` only applies to a new one).
    pub fn open_or_create_with(dir: impl AsRef<Path>, options: TantivyOptions) -> Result<Self> {
        let path = dir.as_ref().to_path_buf();
        let open_err = |message: String| Error::OpenDirectory { path: path.clone(), message };
        std::fs::create_dir_all(&path).map_err(|e| open_err(e.to_string()))?;
        let mmap = MmapDirectory::open(&path).map_err(|e| open_err(e.to_string()))?;
        let exists = Index::exists(&mmap).map_err(|e| open_err(e.to_string()))?;
        let index = if exists {
            Index::open(mmap)?
        } else {
            Index::create(mmap, schema(&options.analyzer), tantivy::IndexSettings::default())?
        };
        Self::from_index(index, &options, Some(path))
    }

    fn from_index(index: Index, options: &TantivyOptions, dir: Option<PathBuf>) -> Result<Self> {
        let schema = index.schema();
        let fields = Fields::from_schema(&schema)?;
        let tokenizer_name = match schema.get_field_entry(fields.question).field_type() {
            tantivy::schema::FieldType::Str(opts) => opts
                .get_indexing_options()
                .map(|i| i.tokenizer().to_string())
                .ok_or_else(|| Error::Incompatible("question field is not indexed".into()))?,
            _ => return Err(Error::Incompatible("question field is not text".into())),
        };
        let config = AnalyzerConfig::from_tokenizer_name(&tokenizer_name).map_err(Error::Incompatible)?;
        let analyzer = config.analyzer();
        index.tokenizers().register(&tokenizer_name, analyzer.clone());
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let writer = index.writer_with_num_threads(
            options.writer_threads.max(1),
            options.writer_memory_bytes.max(15_000_000 * options.writer_threads.max(1)),
        )?;
        Ok(TantivyFaqIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            analyzer,
            config,
            normalization: options.normalization,
            dir,
        })
    }

    /// The analyzer settings of this index.
    pub fn analyzer_config(&self) -> AnalyzerConfig {
        self.config
    }

    /// The terms the index's analyzer makes of `text` (for debugging and evaluation).
    pub fn analyze(&self, text: &str) -> Vec<String> {
        analysis::terms(&mut self.analyzer.clone(), text)
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter<TantivyDocument>> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds or replaces (by tenant and id) an entry; visible after [`Self::commit`].
    /// Fails on an unusable entry (see [`import::validate`]) or a tenant with control characters.
    pub fn upsert(&self, tenant: &str, entry: FaqEntry) -> Result<()> {
        let invalid = |message: String| Error::InvalidEntry { file: None, line: None, id: entry.id.clone(), message };
        import::validate(&entry).map_err(invalid)?;
        if tenant.is_empty() || tenant.chars().any(char::is_control) {
            return Err(invalid(format!("invalid tenant `{}`", tenant.escape_debug())));
        }
        let f = self.fields;
        let key = entry_key(tenant, &entry.id);
        let entry_json = serde_json::to_string(&entry).map_err(|e| invalid(e.to_string()))?;
        let writer = self.writer();
        writer.delete_term(Term::from_field_text(f.key, &key));
        let mut head = true;
        for (language, questions) in &entry.questions {
            for q in questions.iter().filter(|q| !q.trim().is_empty()) {
                let mut doc = TantivyDocument::default();
                doc.add_text(f.key, &key);
                doc.add_text(f.id, &entry.id);
                doc.add_text(f.tenant, tenant);
                doc.add_text(f.language, language.code());
                doc.add_text(f.question, q);
                for tag in &entry.tags {
                    doc.add_text(f.tags, tag);
                }
                for (l, a) in &entry.answer {
                    doc.add_text(f.answer(*l), a);
                }
                if head {
                    doc.add_text(f.head, "1");
                    doc.add_text(f.entry, &entry_json);
                    head = false;
                }
                writer.add_document(doc)?;
            }
        }
        Ok(())
    }

    /// Removes an entry (visible after [`Self::commit`]); returns whether it is in the committed
    /// index.
    pub fn remove(&self, tenant: &str, id: &str) -> Result<bool> {
        let key = Term::from_field_text(self.fields.key, &entry_key(tenant, id));
        let existed =
            self.reader.searcher().search(&TermQuery::new(key.clone(), IndexRecordOption::Basic), &Count)? > 0;
        self.writer().delete_term(key);
        Ok(existed)
    }

    /// Commits buffered changes and reloads the searcher, so the next search sees them.
    pub fn commit(&self) -> Result<()> {
        self.writer().commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Imports a YAML, JSON or CSV file (format by extension; see [`crate::import`]) into
    /// `tenant`, replacing entries with the same ids, and commits. Nothing is written when the
    /// file has an error.
    pub fn import_file(&self, path: impl AsRef<Path>, tenant: &str) -> Result<ImportReport> {
        let entries = import::read_entries(path.as_ref())?;
        self.import_entries(&entries, tenant)
    }

    /// Upserts many entries and commits.
    pub fn import_entries(&self, entries: &[FaqEntry], tenant: &str) -> Result<ImportReport> {
        let mut questions = 0;
        for e in entries {
            questions += e.questions.values().flatten().filter(|q| !q.trim().is_empty()).count();
            if let Err(err) = self.upsert(tenant, e.clone()) {
                self.writer().rollback()?;
                return Err(err);
            }
        }
        self.commit()?;
        Ok(ImportReport { entries: entries.len(), questions })
    }

    /// The committed entry of a tenant (not the shared one unless `tenant` is `"*"`).
    pub fn get(&self, tenant: &str, id: &str) -> Result<Option<FaqEntry>> {
        let f = self.fields;
        let q = BooleanQuery::new(vec![
            (
                Occur::Must,
                Box::new(TermQuery::new(Term::from_field_text(f.key, &entry_key(tenant, id)), IndexRecordOption::Basic))
                    as Box<dyn Query>,
            ),
            (Occur::Must, Box::new(TermQuery::new(Term::from_field_text(f.head, "1"), IndexRecordOption::Basic))),
        ]);
        let searcher = self.reader.searcher();
        let Some((_, addr)) = searcher.search(&q, &TopDocs::with_limit(1).order_by_score())?.into_iter().next() else {
            return Ok(None);
        };
        let doc: TantivyDocument = searcher.doc(addr)?;
        let json = doc.get_first(f.entry).and_then(|v| v.as_str()).unwrap_or("");
        serde_json::from_str(json)
            .map(Some)
            .map_err(|e| Error::Incompatible(format!("stored entry `{id}` unreadable: {e}")))
    }

    /// Counts and sizes.
    pub fn stats(&self) -> Result<KbStats> {
        let f = self.fields;
        let searcher = self.reader.searcher();
        let mut tenants_seen: BTreeSet<String> = BTreeSet::new();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(f.tenant)?;
            let mut stream = inverted.terms().stream().map_err(tantivy::TantivyError::from)?;
            while stream.advance() {
                tenants_seen.insert(String::from_utf8_lossy(stream.key()).into_owned());
            }
        }
        let head =
            || Box::new(TermQuery::new(Term::from_field_text(f.head, "1"), IndexRecordOption::Basic)) as Box<dyn Query>;
        let mut stats = KbStats {
            segments: searcher.segment_readers().len(),
            tokenizer: self.config.tokenizer_name(),
            ..Default::default()
        };
        for tenant in tenants_seen {
            let t = || {
                Box::new(TermQuery::new(Term::from_field_text(f.tenant, &tenant), IndexRecordOption::Basic))
                    as Box<dyn Query>
            };
            let documents = searcher.search(&*t(), &Count)? as u64;
            if documents == 0 {
                continue; // only deleted documents left for this term
            }
            let entries =
                searcher.search(&BooleanQuery::new(vec![(Occur::Must, t()), (Occur::Must, head())]), &Count)? as u64;
            stats.entries += entries;
            stats.documents += documents;
            stats.tenants.insert(tenant, TenantStats { entries, documents });
        }
        stats.disk_bytes = self.dir.as_deref().map(dir_size);
        Ok(stats)
    }

    /// BM25 candidates for a tenant: question documents (not collapsed per entry), highest raw
    /// score first, at most `k`. Meant for fusion with another retriever (e.g. reciprocal-rank
    /// or score fusion with a dense index keyed by the same entry ids).
    pub fn search_bm25(&self, tenant: &str, text: &str, k: usize) -> Result<Vec<Bm25Hit>> {
        let searcher = self.reader.searcher();
        self.bm25(&searcher, tenant, text, k)
    }

    fn bm25(&self, searcher: &Searcher, tenant: &str, text: &str, k: usize) -> Result<Vec<Bm25Hit>> {
        let f = self.fields;
        let mut analyzer = self.analyzer.clone();
        let query_terms = analysis::terms(&mut analyzer, truncate(text, MAX_QUERY_BYTES));
        let mut tf: Vec<(String, u32)> = Vec::new();
        let mut qlen = 0u32;
        for t in query_terms {
            if let Some(e) = tf.iter_mut().find(|(s, _)| *s == t) {
                e.1 += 1;
                qlen += 1;
            } else if tf.len() < MAX_QUERY_TERMS {
                tf.push((t, 1));
                qlen += 1;
            }
        }
        if tf.is_empty() || k == 0 {
            return Ok(Vec::new());
        }
        let total_docs = searcher.total_num_docs()?;
        if total_docs == 0 {
            return Ok(Vec::new());
        }
        let avg_fieldnorm = searcher.total_num_tokens(f.question)? as f32 / total_docs as f32;
        let mut weights: HashMap<&str, Bm25Weight> = HashMap::new();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(tf.len());
        let mut self_q = 0.0f32;
        let qnorm = FieldNormReader::fieldnorm_to_id(qlen);
        for (t, n) in &tf {
            let term = Term::from_field_text(f.question, t);
            let w = Bm25Weight::for_one_term_without_explain(searcher.doc_freq(&term)?, total_docs, avg_fieldnorm);
            self_q += w.score(qnorm, *n);
            weights.insert(t.as_str(), w);
            clauses.push((Occur::Should, Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))));
        }
        let mut tenant_clauses: Vec<(Occur, Box<dyn Query>)> = vec![(
            Occur::Should,
            Box::new(TermQuery::new(Term::from_field_text(f.tenant, tenant), IndexRecordOption::Basic)),
        )];
        if tenant != SHARED_TENANT {
            tenant_clauses.push((
                Occur::Should,
                Box::new(TermQuery::new(Term::from_field_text(f.tenant, SHARED_TENANT), IndexRecordOption::Basic)),
            ));
        }
        let query = BooleanQuery::new(vec![
            (Occur::Must, Box::new(BooleanQuery::new(clauses)) as Box<dyn Query>),
            (Occur::Must, Box::new(ConstScoreQuery::new(Box::new(BooleanQuery::new(tenant_clauses)), 0.0))),
        ]);
        let top = searcher.search(&query, &TopDocs::with_limit(k).order_by_score())?;
        let mut hits = Vec::with_capacity(top.len());
        for (raw, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let text_of = |field: Field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or("").to_string();
            let question = text_of(f.question);
            let score = match self.normalization {
                Normalization::QueryOnly => raw / self_q,
                Normalization::Symmetric => {
                    let self_d =
                        self.self_score(searcher, &mut analyzer, &question, &weights, total_docs, avg_fieldnorm)?;
                    raw / (self_q * self_d).sqrt()
                }
            };
            hits.push(Bm25Hit {
                id: text_of(f.id),
                tenant: text_of(f.tenant),
                language: text_of(f.language).parse().ok(),
                question,
                raw_score: raw,
                score: if score.is_finite() { score.clamp(0.0, 1.0) } else { 0.0 },
                address,
            });
        }
        Ok(hits)
    }

    /// BM25 of a question against itself, with the index's current statistics.
    fn self_score(
        &self,
        searcher: &Searcher,
        analyzer: &mut TextAnalyzer,
        question: &str,
        known: &HashMap<&str, Bm25Weight>,
        total_docs: u64,
        avg_fieldnorm: f32,
    ) -> Result<f32> {
        let terms = analysis::terms(analyzer, question);
        let norm = FieldNormReader::fieldnorm_to_id(terms.len() as u32);
        let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
        for t in &terms {
            *counts.entry(t.as_str()).or_default() += 1;
        }
        let mut s = 0.0;
        for (t, n) in counts {
            let w = match known.get(t) {
                Some(w) => w.clone(),
                None => {
                    let df = searcher.doc_freq(&Term::from_field_text(self.fields.question, t))?;
                    Bm25Weight::for_one_term_without_explain(df, total_docs, avg_fieldnorm)
                }
            };
            s += w.score(norm, n);
        }
        Ok(s)
    }

    /// Best hits for a query, one per entry, highest score first (synchronous form of
    /// [`KnowledgeBase::search`]).
    pub fn search_sync(&self, query: &KbQuery) -> Result<Vec<KbHit>> {
        let top_k = query.top_k.max(1);
        let searcher = self.reader.searcher();
        let candidates = self.bm25(&searcher, &query.tenant, &query.text, top_k * 10 + 20)?;
        let mut best: HashMap<String, (f32, f32, usize)> = HashMap::new();
        for (i, h) in candidates.iter().enumerate() {
            let factor = if h.language == Some(query.language) { 1.0 } else { OTHER_LANGUAGE_FACTOR };
            let s = h.score * factor;
            let e = best.entry(h.id.clone()).or_insert((s, h.raw_score, i));
            if (s, h.raw_score) > (e.0, e.1) {
                *e = (s, h.raw_score, i);
            }
        }
        let mut ranked: Vec<(f32, f32, usize)> = best.into_values().filter(|(s, _, _)| *s > 0.0).collect();
        ranked.sort_by(|a, b| {
            b.0.total_cmp(&a.0).then(b.1.total_cmp(&a.1)).then(candidates[a.2].id.cmp(&candidates[b.2].id))
        });
        ranked.truncate(top_k);
        let f = self.fields;
        let mut hits = Vec::with_capacity(ranked.len());
        for (score, _, i) in ranked {
            let h = &candidates[i];
            let doc: TantivyDocument = searcher.doc(h.address)?;
            let answer = doc
                .get_first(f.answer(query.language))
                .and_then(|v| v.as_str())
                .filter(|a| !a.is_empty())
                .or_else(|| Language::ALL.iter().find_map(|l| doc.get_first(f.answer(*l)).and_then(|v| v.as_str())))
                .unwrap_or("")
                .to_string();
            hits.push(KbHit { id: h.id.clone(), question: h.question.clone(), answer, score });
        }
        Ok(hits)
    }

    /// The underlying tantivy index (read-only uses: space usage, custom queries).
    pub fn tantivy_index(&self) -> &Index {
        &self.index
    }
}

#[async_trait]
impl KnowledgeBase for TantivyFaqIndex {
    async fn search(&self, query: &KbQuery) -> Result<Vec<KbHit>, KbError> {
        self.search_sync(query).map_err(KbError::from)
    }
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn dir_size(path: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(path) else { return 0 };
    rd.filter_map(|e| e.ok())
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
