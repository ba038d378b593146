//! An in-memory TF-IDF index over FAQ question variants: an entry scores by its best variant
//! and by all its variants read as one text.

use async_trait::async_trait;
use kefu_core::bot::FaqEntry;
use kefu_core::kb::{KbError, KbHit, KbQuery, KnowledgeBase};
use kefu_core::language::{is_cjk, Language};
use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

/// Entries of this tenant are visible to every tenant (the bot's own FAQ).
pub const SHARED_TENANT: &str = "*";

/// One FAQ entry as indexed: the tenant it belongs to and its content.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FaqDocument {
    /// Owning tenant, or [`SHARED_TENANT`].
    pub tenant: String,
    /// The entry.
    pub entry: FaqEntry,
}

/// Sparse L2-normalised TF-IDF vector, sorted by term id.
type SparseVector = Vec<(u32, f32)>;

struct Question {
    doc: usize,
    language: Language,
    text: String,
    /// Sparse L2-normalised TF-IDF vector, sorted by term id.
    vector: Vec<(u32, f32)>,
}

#[derive(Default)]
struct Index {
    docs: Vec<FaqDocument>,
    questions: Vec<Question>,
    /// Per entry and language, all its variants as one text: an entry written many ways
    /// collects the words of every variant, which a single best variant misses.
    entries: Vec<(usize, Language, SparseVector)>,
    vocab: HashMap<String, u32>,
    df: Vec<u32>,
}

/// Weight of the whole-entry similarity in an entry's score (the rest: its best variant).
/// Chosen on BANKING77-as-FAQ development queries (training questions): R@1 0.577 at 0.7 vs
/// 0.514 for the best variant alone (`benches/kb/README.md`).
const ENTRY_WEIGHT: f32 = 0.7;

/// FAQ retrieval by TF-IDF cosine similarity, with strict tenant filtering.
///
/// ```
/// use kefu_kb::{FaqIndex, SHARED_TENANT};
/// use kefu_core::bot::FaqEntry;
/// let entry: FaqEntry = serde_yaml_ng_free_example();
/// # fn serde_yaml_ng_free_example() -> FaqEntry {
/// #   FaqEntry { id: "ship".into(), questions: [(kefu_core::Language::En, vec!["how long does shipping take".to_string()])].into(),
/// #              answer: [(kefu_core::Language::En, "2-3 days".to_string())].into(), tags: vec![] }
/// # }
/// let index = FaqIndex::new();
/// index.upsert(SHARED_TENANT, entry);
/// assert_eq!(index.len(), 1);
/// ```
#[derive(Default)]
pub struct FaqIndex {
    inner: RwLock<Index>,
}

impl FaqIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// An index of a bot's FAQ, shared by all tenants.
    pub fn from_entries(entries: &[FaqEntry]) -> Self {
        let index = Self::new();
        for e in entries {
            index.upsert(SHARED_TENANT, e.clone());
        }
        index
    }

    /// Adds or replaces (by tenant and id) an entry.
    pub fn upsert(&self, tenant: &str, entry: FaqEntry) {
        let mut idx = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let mut docs: Vec<FaqDocument> = std::mem::take(&mut idx.docs);
        docs.retain(|d| !(d.tenant == tenant && d.entry.id == entry.id));
        docs.push(FaqDocument { tenant: tenant.to_string(), entry });
        *idx = build(docs);
    }

    /// Removes an entry; returns whether it existed.
    pub fn remove(&self, tenant: &str, id: &str) -> bool {
        let mut idx = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let mut docs: Vec<FaqDocument> = std::mem::take(&mut idx.docs);
        let before = docs.len();
        docs.retain(|d| !(d.tenant == tenant && d.entry.id == id));
        let removed = docs.len() != before;
        *idx = build(docs);
        removed
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.inner.read().unwrap_or_else(|p| p.into_inner()).docs.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Best hits for a query (synchronous form of [`KnowledgeBase::search`]).
    pub fn search_sync(&self, query: &KbQuery) -> Vec<KbHit> {
        let idx = self.inner.read().unwrap_or_else(|p| p.into_inner());
        let q = vectorize(&idx, &query.text, false);
        if q.is_empty() {
            return Vec::new();
        }
        let mut best: BTreeMap<usize, (f32, usize)> = BTreeMap::new();
        for (qi, question) in idx.questions.iter().enumerate() {
            let doc = &idx.docs[question.doc];
            if doc.tenant != SHARED_TENANT && doc.tenant != query.tenant {
                continue;
            }
            let mut score = cosine(&q, &question.vector);
            if question.language != query.language {
                score *= 0.9; // prefer questions written in the asker's language
            }
            let e = best.entry(question.doc).or_insert((0.0, qi));
            if score > e.0 {
                *e = (score, qi);
            }
        }
        let mut whole: BTreeMap<usize, f32> = BTreeMap::new();
        for (doc, language, vector) in &idx.entries {
            if !best.contains_key(doc) {
                continue;
            }
            let mut score = cosine(&q, vector);
            if *language != query.language {
                score *= 0.9;
            }
            let e = whole.entry(*doc).or_insert(0.0);
            *e = e.max(score);
        }
        for (doc, (score, _)) in best.iter_mut() {
            *score = (1.0 - ENTRY_WEIGHT) * *score + ENTRY_WEIGHT * whole.get(doc).copied().unwrap_or(0.0);
        }
        let mut hits: Vec<KbHit> = best
            .into_iter()
            .filter(|(_, (s, _))| *s > 0.0)
            .filter_map(|(d, (score, qi))| {
                let entry = &idx.docs[d].entry;
                let answer = entry.answer.get(&query.language).or_else(|| entry.answer.values().next())?;
                Some(KbHit {
                    id: entry.id.clone(),
                    question: idx.questions[qi].text.clone(),
                    answer: answer.clone(),
                    score,
                })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        hits.truncate(query.top_k.max(1));
        hits
    }
}

#[async_trait]
impl KnowledgeBase for FaqIndex {
    async fn search(&self, query: &KbQuery) -> Result<Vec<KbHit>, KbError> {
        Ok(self.search_sync(query))
    }
}

fn build(docs: Vec<FaqDocument>) -> Index {
    let mut idx = Index { docs, ..Default::default() };
    let mut raw: Vec<(usize, Language, String, Vec<String>)> = Vec::new();
    for (d, doc) in idx.docs.iter().enumerate() {
        for (lang, qs) in &doc.entry.questions {
            for q in qs {
                raw.push((d, *lang, q.clone(), terms(q)));
            }
        }
    }
    for (_, _, _, ts) in &raw {
        let mut seen: Vec<u32> = Vec::new();
        for t in ts {
            let next = idx.vocab.len() as u32;
            let id = *idx.vocab.entry(t.clone()).or_insert(next);
            if id as usize == idx.df.len() {
                idx.df.push(0);
            }
            if !seen.contains(&id) {
                seen.push(id);
                idx.df[id as usize] += 1;
            }
        }
    }
    let questions = raw
        .into_iter()
        .map(|(doc, language, text, _)| {
            let vector = vectorize(&idx, &text, true);
            Question { doc, language, text, vector }
        })
        .collect();
    idx.questions = questions;
    let mut entries = Vec::new();
    for (d, doc) in idx.docs.iter().enumerate() {
        for (lang, qs) in &doc.entry.questions {
            if !qs.is_empty() {
                entries.push((d, *lang, vectorize(&idx, &qs.join("\n"), true)));
            }
        }
    }
    idx.entries = entries;
    idx
}

fn vectorize(idx: &Index, text: &str, _indexing: bool) -> Vec<(u32, f32)> {
    let n = idx.questions.len().max(1) as f32;
    let mut tf: BTreeMap<u32, f32> = BTreeMap::new();
    for t in terms(text) {
        if let Some(&id) = idx.vocab.get(&t) {
            *tf.entry(id).or_insert(0.0) += 1.0;
        }
    }
    let mut v: Vec<(u32, f32)> = tf
        .into_iter()
        .map(|(id, c)| {
            let df = idx.df.get(id as usize).copied().unwrap_or(1) as f32;
            (id, (1.0 + c.ln()) * ((1.0 + n) / (1.0 + df)).ln().max(0.0) + 1e-6)
        })
        .collect();
    let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|(_, w)| *w /= norm);
    }
    v
}

fn cosine(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut s) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    s.clamp(0.0, 1.0)
}

fn english_stemmer() -> &'static frostem::Stemmer {
    static STEMMER: std::sync::OnceLock<frostem::Stemmer> = std::sync::OnceLock::new();
    STEMMER.get_or_init(|| frostem::Stemmer::new(frostem::Algorithm::English))
}

const STOPWORDS: [&str; 24] = [
    "the", "a", "an", "is", "are", "do", "does", "i", "my", "to", "of", "for", "it", "can", "you", "your", "me",
    "what", "how", "in", "on", "be", "we", "and",
];

/// Terms of a text: English words (minus stop words, Snowball-stemmed) and word bigrams,
/// Chinese character unigrams and bigrams, and character trigrams of longer words for typos
/// and inflections.
fn terms(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut out = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut cjk_run: Vec<char> = Vec::new();
    let mut word = String::new();
    let flush_cjk = |run: &mut Vec<char>, out: &mut Vec<String>| {
        for (i, c) in run.iter().enumerate() {
            if !"的了吗呢吧啊呀我你是".contains(*c) {
                out.push(c.to_string());
            }
            if let Some(n) = run.get(i + 1) {
                out.push(format!("{c}{n}"));
            }
        }
        run.clear();
    };
    for c in lower.chars() {
        if is_cjk(c) && c.is_alphabetic() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            cjk_run.push(c);
        } else if c.is_alphanumeric() || c == '\'' {
            flush_cjk(&mut cjk_run, &mut out);
            word.push(c);
        } else {
            flush_cjk(&mut cjk_run, &mut out);
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
        }
    }
    flush_cjk(&mut cjk_run, &mut out);
    if !word.is_empty() {
        words.push(word);
    }
    let content: Vec<&String> = words.iter().filter(|w| !STOPWORDS.contains(&w.as_str())).collect();
    // Snowball stems: "charged", "charges", "charging" are one word to the index.
    let stems: Vec<String> = content.iter().map(|w| english_stemmer().stem(w).into_owned()).collect();
    for (w, st) in content.iter().zip(&stems) {
        out.push(format!("w:{st}"));
        let chars: Vec<char> = format!("<{w}>").chars().collect();
        if chars.len() > 5 {
            for g in chars.windows(3) {
                out.push(format!("c:{}", g.iter().collect::<String>()));
            }
        }
    }
    for pair in stems.windows(2) {
        out.push(format!("b:{} {}", pair[0], pair[1]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, zh: &[&str], en: &[&str]) -> FaqEntry {
        FaqEntry {
            id: id.into(),
            questions: [
                (Language::Zh, zh.iter().map(|s| s.to_string()).collect()),
                (Language::En, en.iter().map(|s| s.to_string()).collect()),
            ]
            .into(),
            answer: [(Language::Zh, format!("{id}-zh")), (Language::En, format!("{id}-en"))].into(),
            tags: vec![],
        }
    }

    fn q(tenant: &str, text: &str, language: Language) -> KbQuery {
        KbQuery { tenant: tenant.into(), text: text.into(), language, top_k: 3 }
    }

    fn index() -> FaqIndex {
        FaqIndex::from_entries(&[
            entry(
                "shipping",
                &["多久能发货", "什么时候发货"],
                &["how long does shipping take", "when will my order ship"],
            ),
            entry(
                "payment",
                &["支持哪些付款方式", "可以用支付宝吗"],
                &["which payment methods do you accept", "can I pay with paypal"],
            ),
            entry(
                "returns",
                &["退货政策是什么", "多少天内可以退货"],
                &["what is your return policy", "how many days do I have to return"],
            ),
        ])
    }

    #[tokio::test]
    async fn answers_in_both_languages() {
        let idx = index();
        let hits = idx.search(&q("t", "发货要多久？", Language::Zh)).await.unwrap();
        assert_eq!(hits[0].id, "shipping");
        assert_eq!(hits[0].answer, "shipping-zh");
        let hits = idx.search(&q("t", "What's the return policy?", Language::En)).await.unwrap();
        assert_eq!(hits[0].id, "returns");
        assert_eq!(hits[0].answer, "returns-en");
        assert!(hits[0].score > 0.5);
    }

    #[test]
    fn unrelated_text_scores_low() {
        let idx = index();
        let hits = idx.search_sync(&q("t", "tell me a joke about penguins", Language::En));
        assert!(hits.first().is_none_or(|h| h.score < 0.3), "{hits:?}");
        assert!(idx.search_sync(&q("t", "", Language::En)).is_empty());
    }

    #[test]
    fn tenants_never_see_each_other() {
        let idx = FaqIndex::new();
        idx.upsert("acme", entry("secret", &["内部折扣码"], &["internal discount code"]));
        idx.upsert("globex", entry("other", &["营业时间"], &["opening hours"]));
        assert!(idx.search_sync(&q("globex", "internal discount code", Language::En)).iter().all(|h| h.id != "secret"));
        assert_eq!(idx.search_sync(&q("acme", "internal discount code", Language::En))[0].id, "secret");
        assert!(idx.remove("acme", "secret"));
        assert!(idx.search_sync(&q("acme", "internal discount code", Language::En)).is_empty());
        assert_eq!(idx.len(), 1);
    }

    #[test]
    fn upsert_replaces_by_id() {
        let idx = index();
        idx.upsert(SHARED_TENANT, entry("shipping", &["运费多少"], &["how much is shipping"]));
        assert_eq!(idx.len(), 3);
        assert_eq!(idx.search_sync(&q("t", "how much is shipping", Language::En))[0].id, "shipping");
    }
}
