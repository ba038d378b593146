//! Knowledge-base evaluation: retrieval quality and latency of Kefu's FAQ indexes.
//!
//! ```sh
//! cargo run --release -p kefu-kb --features jieba --example kb_eval -- stackfaq
//! cargo run --release -p kefu-kb --features jieba --example kb_eval -- zh
//! cargo run --release -p kefu-kb --features tantivy --example kb_eval -- scale 10000
//! ```
//! Sections:
//! * `stackfaq [DIR]` — 125 entries, 1,249 paraphrase queries: R@1, R@5, MRR@10, p50/p99 latency,
//!   build time, for the in-memory TF-IDF `FaqIndex` and the tantivy BM25 index (variants).
//! * `zh [FAQ_YAML] [CAIS_DIR]` — Chinese tokenizer comparison: leave-one-variant-out on the demo
//!   bot's FAQ (fold j holds out the j-th question variant of every entry that has more than one;
//!   the held-out variants are the queries), plus 1-nearest-neighbour intent retrieval on CAIS.
//! * `scale N [BANKING77_DIR] [faqindex]` — synthetic N-entry index from BANKING77 training
//!   questions (see `benches/kb/README.md`): build time, disk size, memory, latency.
#![allow(clippy::unwrap_used)]

use kefu_core::bot::FaqEntry;
use kefu_core::kb::{KbHit, KbQuery};
use kefu_core::language::Language;
use kefu_kb::analysis::{AnalyzerConfig, ChineseTokenizer};
use kefu_kb::{FaqIndex, Normalization, TantivyFaqIndex, TantivyOptions, SHARED_TENANT};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let data = root.join("../shared/data");
    match args.first().map(String::as_str) {
        Some("stackfaq") => stackfaq(&args.get(1).map(PathBuf::from).unwrap_or(data.join("stackfaq"))),
        Some("zh") => zh(
            &args.get(1).map(PathBuf::from).unwrap_or(root.join("examples/bots/shop/faq.yaml")),
            &args.get(2).map(PathBuf::from).unwrap_or(data.join("cais")),
        ),
        Some("scale") => scale(
            args.get(1).and_then(|n| n.parse().ok()).unwrap_or(10_000),
            &args.get(2).filter(|a| *a != "faqindex").map(PathBuf::from).unwrap_or(data.join("banking77")),
            args.iter().any(|a| a == "faqindex"),
        ),
        #[cfg(feature = "ann")]
        Some("dense-scale") => dense_scale(args.get(1).and_then(|n| n.parse().ok()).unwrap_or(10_000)),
        _ => {
            eprintln!(
                "usage: kb_eval stackfaq [DIR] | zh [FAQ_YAML] [CAIS_DIR] | scale N [BANKING77_DIR] [faqindex] | dense-scale N"
            );
            std::process::exit(2)
        }
    }
}

// ---------- shared ----------

trait Retriever {
    fn name(&self) -> String;
    fn search(&self, q: &KbQuery) -> Vec<KbHit>;
}

struct Tfidf(FaqIndex);
impl Retriever for Tfidf {
    fn name(&self) -> String {
        "FaqIndex (TF-IDF cosine, in-memory)".into()
    }
    fn search(&self, q: &KbQuery) -> Vec<KbHit> {
        self.0.search_sync(q)
    }
}

struct Bm25(TantivyFaqIndex, String);
impl Retriever for Bm25 {
    fn name(&self) -> String {
        self.1.clone()
    }
    fn search(&self, q: &KbQuery) -> Vec<KbHit> {
        self.0.search_sync(q).unwrap()
    }
}

fn tantivy_with(entries: &[FaqEntry], analyzer: AnalyzerConfig, normalization: Normalization) -> TantivyFaqIndex {
    let idx =
        TantivyFaqIndex::create_in_ram_with(TantivyOptions { analyzer, normalization, ..Default::default() }).unwrap();
    idx.import_entries(entries, SHARED_TENANT).unwrap();
    idx
}

#[derive(Default)]
struct Metrics {
    n: usize,
    r1: usize,
    r5: usize,
    mrr: f64,
    lat: Vec<Duration>,
}

impl Metrics {
    fn add(&mut self, hits: &[KbHit], relevant: &str, took: Duration) {
        self.n += 1;
        self.lat.push(took);
        if let Some(rank) = hits.iter().take(10).position(|h| h.id == relevant) {
            self.r1 += usize::from(rank == 0);
            self.r5 += usize::from(rank < 5);
            self.mrr += 1.0 / (rank + 1) as f64;
        }
    }
    fn pct(&self, p: f64) -> f64 {
        let mut l = self.lat.clone();
        l.sort();
        if l.is_empty() {
            return 0.0;
        }
        let i = ((l.len() as f64 - 1.0) * p).round() as usize;
        l[i].as_secs_f64() * 1e3
    }
    fn row(&self, name: &str, build: Duration) -> String {
        let n = self.n.max(1) as f64;
        format!(
            "| {name} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
            self.n,
            self.r1 as f64 / n,
            self.r5 as f64 / n,
            self.mrr / n,
            self.pct(0.5),
            self.pct(0.99),
            build.as_secs_f64()
        )
    }
}

const HEADER: &str =
    "| system | queries | R@1 | R@5 | MRR@10 | p50 ms | p99 ms | build s |\n|---|---|---|---|---|---|---|---|";

fn run(r: &dyn Retriever, queries: &[(String, String)], language: Language) -> Metrics {
    let mut m = Metrics::default();
    for (text, rel) in queries.iter().take(20) {
        let _ = r.search(&KbQuery { tenant: "t".into(), text: text.clone(), language, top_k: 10 }); // warm-up
        let _ = rel;
    }
    for (text, rel) in queries {
        let q = KbQuery { tenant: "t".into(), text: text.clone(), language, top_k: 10 };
        let t = Instant::now();
        let hits = r.search(&q);
        m.add(&hits, rel, t.elapsed());
    }
    m
}

// ---------- StackFAQ ----------

fn stackfaq(dir: &Path) -> Res<()> {
    let mut entries = Vec::new();
    for line in std::fs::read_to_string(dir.join("faq.jsonl"))?.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let mut qs = vec![v["question"].as_str().unwrap_or("").to_string()];
        qs.extend(v["variants"].as_array().into_iter().flatten().filter_map(|x| x.as_str().map(String::from)));
        entries.push(FaqEntry {
            id: v["id"].as_str().unwrap_or("").into(),
            questions: [(Language::En, qs)].into(),
            answer: [(Language::En, v["answer"].as_str().unwrap_or("").to_string())].into(),
            tags: vec![],
        });
    }
    let mut queries = Vec::new();
    for line in std::fs::read_to_string(dir.join("queries.jsonl"))?.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)?;
        queries
            .push((v["query"].as_str().unwrap_or("").to_string(), v["relevant"][0].as_str().unwrap_or("").to_string()));
    }
    println!(
        "StackFAQ: {} entries, {} queries (question field only; top_k = 10)\n\n{HEADER}",
        entries.len(),
        queries.len()
    );
    let t = Instant::now();
    let tfidf = Tfidf(FaqIndex::from_entries(&entries));
    let build = t.elapsed();
    println!("{}", run(&tfidf, &queries, Language::En).row(&tfidf.name(), build));
    for stop in [true, false] {
        for norm in [Normalization::Symmetric, Normalization::QueryOnly] {
            let cfg = AnalyzerConfig { chinese: ChineseTokenizer::Bigram, english_stop_words: stop };
            let t = Instant::now();
            let idx = tantivy_with(&entries, cfg, norm);
            let build = t.elapsed();
            let name =
                format!("TantivyFaqIndex BM25, {} stop words, {norm:?} score", if stop { "Lucene" } else { "no" });
            let r = Bm25(idx, name);
            println!("{}", run(&r, &queries, Language::En).row(&r.name(), build));
        }
    }
    Ok(())
}

// ---------- Chinese ----------

fn zh(faq: &Path, cais: &Path) -> Res<()> {
    let entries = kefu_kb::import::read_entries(faq)?;
    for language in [Language::Zh, Language::En] {
        let max_variants = entries.iter().map(|e| e.questions.get(&language).map_or(0, Vec::len)).max().unwrap_or(0);
        let mut systems: Vec<(String, Metrics)> = Vec::new();
        let mut names: Vec<String> = vec!["FaqIndex (TF-IDF)".into()];
        names.extend(ChineseTokenizer::all().into_iter().map(|c| format!("BM25, Chinese = {c:?}")));
        for name in &names {
            systems.push((name.clone(), Metrics::default()));
        }
        for fold in 0..max_variants {
            let mut train = entries.clone();
            let mut queries = Vec::new();
            for e in &mut train {
                if let Some(qs) = e.questions.get_mut(&language) {
                    if qs.len() > 1 && fold < qs.len() {
                        queries.push((qs.remove(fold), e.id.clone()));
                    }
                }
            }
            if queries.is_empty() {
                continue;
            }
            let mut retrievers: Vec<Box<dyn Retriever>> = vec![Box::new(Tfidf(FaqIndex::from_entries(&train)))];
            for c in ChineseTokenizer::all() {
                let cfg = AnalyzerConfig { chinese: c, english_stop_words: true };
                retrievers.push(Box::new(Bm25(tantivy_with(&train, cfg, Normalization::default()), String::new())));
            }
            for (r, (_, m)) in retrievers.iter().zip(systems.iter_mut()) {
                let fold_m = run(r.as_ref(), &queries, language);
                m.n += fold_m.n;
                m.r1 += fold_m.r1;
                m.r5 += fold_m.r5;
                m.mrr += fold_m.mrr;
                m.lat.extend(fold_m.lat);
            }
        }
        println!(
            "\nDemo FAQ ({}), leave-one-variant-out over {} entries (index: all other variants, both languages)\n\n{HEADER}",
            language,
            entries.len()
        );
        for (name, m) in &systems {
            println!("{}", m.row(name, Duration::ZERO));
        }
    }
    cais_knn(cais)
}

fn read_label_csv(path: &Path) -> Res<Vec<(String, String)>> {
    let mut r = csv::Reader::from_path(path)?;
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec?;
        out.push((rec.get(0).unwrap_or("").to_string(), rec.get(1).unwrap_or("").to_string()));
    }
    Ok(out)
}

fn cais_knn(dir: &Path) -> Res<()> {
    if !dir.join("train.csv").exists() {
        return Ok(());
    }
    let train = read_label_csv(&dir.join("train.csv"))?;
    let test = read_label_csv(&dir.join("test.csv"))?;
    let mut by_label: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (text, label) in &train {
        by_label.entry(label.clone()).or_default().push(text.clone());
    }
    let entries: Vec<FaqEntry> = by_label
        .into_iter()
        .map(|(label, qs)| FaqEntry {
            id: label.clone(),
            questions: [(Language::Zh, qs)].into(),
            answer: [(Language::Zh, label)].into(),
            tags: vec![],
        })
        .collect();
    println!(
        "\nCAIS 1-nearest-neighbour: {} intents as entries, {} training utterances as variants, {} test queries\n\n| system | accuracy (R@1) | macro recall | p50 ms | p99 ms | build s |\n|---|---|---|---|---|---|",
        entries.len(),
        train.len(),
        test.len()
    );
    for c in ChineseTokenizer::all() {
        let cfg = AnalyzerConfig { chinese: c, english_stop_words: true };
        let t = Instant::now();
        let idx = tantivy_with(&entries, cfg, Normalization::default());
        let build = t.elapsed();
        let r = Bm25(idx, format!("BM25, Chinese = {c:?}"));
        let m = run(&r, &test.iter().map(|(t, l)| (t.clone(), l.clone())).collect::<Vec<_>>(), Language::Zh);
        // macro recall
        let mut per: HashMap<&str, (usize, usize)> = HashMap::new();
        for (text, label) in &test {
            let hits = r.search(&KbQuery { tenant: "t".into(), text: text.clone(), language: Language::Zh, top_k: 1 });
            let e = per.entry(label.as_str()).or_default();
            e.1 += 1;
            e.0 += usize::from(hits.first().is_some_and(|h| h.id == *label));
        }
        let macro_r = per.values().map(|(ok, n)| *ok as f64 / *n as f64).sum::<f64>() / per.len().max(1) as f64;
        println!(
            "| {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.2} |",
            r.name(),
            m.r1 as f64 / m.n.max(1) as f64,
            macro_r,
            m.pct(0.5),
            m.pct(0.99),
            build.as_secs_f64()
        );
    }
    Ok(())
}

// ---------- scale ----------

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Entry i: intent `i % 77`, three of that intent's training questions drawn by a seeded PRNG,
/// a synthetic answer, tenant `tenant-{i % 10}` (every 10th entry shared).
fn synthetic(n: usize, train: &[(String, String)]) -> Vec<(String, FaqEntry)> {
    let mut by_label: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (text, label) in train {
        by_label.entry(label.as_str()).or_default().push(text.as_str());
    }
    let labels: Vec<(&str, Vec<&str>)> = by_label.into_iter().collect();
    let mut rng = Lcg(42);
    (0..n)
        .map(|i| {
            let (label, qs) = &labels[i % labels.len()];
            let questions = (0..3).map(|_| qs[rng.next() as usize % qs.len()].to_string()).collect();
            let tenant = if i % 10 == 9 { SHARED_TENANT.to_string() } else { format!("tenant-{}", i % 10) };
            let entry = FaqEntry {
                id: format!("{label}-{i}"),
                questions: [(Language::En, questions)].into(),
                answer: [(Language::En, format!("Synthetic answer {i} about {label}."))].into(),
                tags: vec![label.to_string()],
            };
            (tenant, entry)
        })
        .collect()
}

fn scale(n: usize, dir: &Path, with_faqindex: bool) -> Res<()> {
    let train = read_label_csv(&dir.join("train.csv"))?;
    let test = read_label_csv(&dir.join("test.csv"))?;
    let data = synthetic(n, &train);
    let queries: Vec<(String, String)> = test.iter().step_by(3).take(1000).cloned().collect();
    let rss0 = rss_kib("VmRSS:");
    let tmp = std::env::temp_dir().join(format!("kefu-kb-scale-{n}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let t = Instant::now();
    let idx = TantivyFaqIndex::open_or_create(&tmp)?;
    let mut by_tenant: BTreeMap<&str, Vec<FaqEntry>> = BTreeMap::new();
    for (tenant, e) in &data {
        by_tenant.entry(tenant.as_str()).or_default().push(e.clone());
    }
    for (tenant, es) in &by_tenant {
        for e in es {
            idx.upsert(tenant, e.clone())?;
        }
    }
    idx.commit()?;
    let build = t.elapsed();
    let rss_built = rss_kib("VmRSS:");
    let stats = idx.stats()?;
    let mut m = Metrics::default();
    let mut same_intent = 0usize;
    let mut lat = Vec::new();
    for (k, (text, label)) in queries.iter().enumerate() {
        let q = KbQuery { tenant: format!("tenant-{}", k % 9), text: text.clone(), language: Language::En, top_k: 5 };
        let t = Instant::now();
        let hits = idx.search_sync(&q)?;
        lat.push(t.elapsed());
        same_intent +=
            usize::from(hits.first().is_some_and(|h| h.id.rsplit_once('-').map(|x| x.0) == Some(label.as_str())));
    }
    m.lat = lat;
    println!(
        "| tantivy BM25 (mmap dir) | {n} | {} | {:.2} | {:.1} | {} | {} | {:.3} | {:.3} | {:.3} |",
        stats.documents,
        build.as_secs_f64(),
        stats.disk_bytes.unwrap_or(0) as f64 / 1048576.0,
        (rss_built.saturating_sub(rss0)) / 1024,
        rss_kib("VmHWM:") / 1024,
        m.pct(0.5),
        m.pct(0.99),
        same_intent as f64 / queries.len() as f64
    );
    drop(idx);
    let _ = std::fs::remove_dir_all(&tmp);
    if with_faqindex {
        let rss0 = rss_kib("VmRSS:");
        let t = Instant::now();
        let fi = FaqIndex::new();
        for (tenant, e) in &data {
            fi.upsert(tenant, e.clone());
        }
        let build = t.elapsed();
        let rss1 = rss_kib("VmRSS:");
        let mut lat = Vec::new();
        let mut same_intent = 0usize;
        for (k, (text, label)) in queries.iter().enumerate() {
            let q =
                KbQuery { tenant: format!("tenant-{}", k % 9), text: text.clone(), language: Language::En, top_k: 5 };
            let t = Instant::now();
            let hits = fi.search_sync(&q);
            lat.push(t.elapsed());
            same_intent +=
                usize::from(hits.first().is_some_and(|h| h.id.rsplit_once('-').map(|x| x.0) == Some(label.as_str())));
        }
        let m = Metrics { lat, ..Default::default() };
        println!(
            "| FaqIndex TF-IDF (RAM) | {n} | {} | {:.2} | – | {} | {} | {:.3} | {:.3} | {:.3} |",
            n * 3,
            build.as_secs_f64(),
            rss1.saturating_sub(rss0) / 1024,
            rss_kib("VmHWM:") / 1024,
            m.pct(0.5),
            m.pct(0.99),
            same_intent as f64 / queries.len() as f64
        );
    }
    Ok(())
}

// ---------- dense scale ----------

/// Vectors looked up by text: stands in for the encoder so that only the index is timed
/// (a MiniLM query embedding costs ~10–20 ms on 2 cores on top; see the README).
#[cfg(feature = "ann")]
struct Table {
    dim: usize,
    vectors: std::collections::HashMap<String, Vec<f32>>,
}

#[cfg(feature = "ann")]
impl kefu_core::TextEmbedder for Table {
    fn model_id(&self) -> &str {
        "table"
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, kefu_core::EmbedError> {
        texts
            .iter()
            .map(|t| self.vectors.get(*t).cloned().ok_or_else(|| kefu_core::EmbedError::Failed(t.to_string())))
            .collect()
    }
}

/// `n` entries of one 384-d unit vector each, clustered (like paraphrases) around n/20
/// centres; 500 queries near random entries. Exact scan vs HNSW: build time, RSS growth,
/// latency, and how often HNSW's top-1 equals the exact top-1.
#[cfg(feature = "ann")]
fn dense_scale(n: usize) -> Res<()> {
    use kefu_kb::{DenseFaqIndex, DenseOptions};
    use std::sync::Arc;
    let dim = 384;
    let mut rng = Lcg(42);
    let mut uniform = move || (rng.next() as f32 / (1u64 << 31) as f32) - 0.5;
    let unit = |v: Vec<f32>| {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-9);
        v.into_iter().map(|x| x / norm).collect::<Vec<f32>>()
    };
    let centres: Vec<Vec<f32>> = (0..(n / 20).max(1)).map(|_| (0..dim).map(|_| uniform()).collect()).collect();
    let mut vectors = std::collections::HashMap::new();
    let mut entries = Vec::with_capacity(n);
    for i in 0..n {
        let c = &centres[i % centres.len()];
        vectors.insert(format!("q{i}"), unit(c.iter().map(|x| x + 0.5 * uniform()).collect()));
        entries.push(FaqEntry {
            id: format!("e{i}"),
            questions: [(Language::En, vec![format!("q{i}")])].into(),
            answer: [(Language::En, format!("a{i}"))].into(),
            tags: vec![],
        });
    }
    let queries: Vec<String> = (0..500).map(|j| format!("query{j}")).collect();
    for (j, q) in queries.iter().enumerate() {
        let target = &vectors[&format!("q{}", (j * 7919) % n)];
        vectors.insert(q.clone(), unit(target.iter().map(|x| x + 0.03 * uniform()).collect()));
    }
    let table = Arc::new(Table { dim, vectors });
    let mut tops: Vec<Vec<String>> = Vec::new();
    println!("| index | entries | build s | RSS growth MiB | p50 ms | p99 ms | top-1 = exact |");
    println!("|---|---|---|---|---|---|---|");
    for (name, threshold) in [("dense exact", usize::MAX), ("dense HNSW (ann)", 0)] {
        let rss0 = rss_kib("VmRSS:");
        let started = Instant::now();
        let index = DenseFaqIndex::new(table.clone(), DenseOptions { ann_threshold: threshold, ..Default::default() });
        index.upsert_many("*", entries.clone())?;
        let build = started.elapsed();
        let rss = rss_kib("VmRSS:").saturating_sub(rss0);
        let mut times = Vec::new();
        let mut top = Vec::new();
        for q in &queries {
            let query = KbQuery { tenant: "t".into(), text: q.clone(), language: Language::En, top_k: 5 };
            let t = Instant::now();
            let hits = index.search_sync(&query)?;
            times.push(t.elapsed());
            top.push(hits.first().map(|h| h.id.clone()).unwrap_or_default());
        }
        times.sort();
        let ms = |p: f64| times[((times.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0;
        let agree = tops
            .first()
            .map_or(1.0, |exact| exact.iter().zip(&top).filter(|(a, b)| a == b).count() as f64 / top.len() as f64);
        println!(
            "| {name} | {n} | {:.2} | {:.0} | {:.3} | {:.3} | {:.3} |",
            build.as_secs_f64(),
            rss as f64 / 1024.0,
            ms(0.5),
            ms(0.99),
            agree
        );
        tops.push(top);
    }
    Ok(())
}
