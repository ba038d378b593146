//! `kefu kb eval`: retrieval quality and latency of a FAQ on labelled queries — lexical
//! (TF-IDF or BM25), dense (sentence encoder, `neural` builds) and their fusions.

use kefu::core::kb::{KbHit, KbQuery};
use kefu::Language;
use kefu_kb::{FaqIndex, TantivyFaqIndex};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct EvalArgs {
    /// FAQ entries (YAML/JSON in the bot `faq:` format, or CSV `id,language,question,answer`).
    #[arg(long)]
    faq: PathBuf,
    /// Queries as JSON Lines: `{"query": "...", "relevant": ["entry-id", ...]}`.
    #[arg(long)]
    queries: PathBuf,
    /// Language of the queries (detected per query when absent).
    #[arg(long)]
    lang: Option<String>,
    /// Evaluate at most this many queries (the first N of the file).
    #[arg(long)]
    limit: Option<usize>,
    /// Sentence-encoder folder for dense and hybrid rows (needs a `neural` build).
    #[arg(long)]
    encoder: Option<PathBuf>,
    /// Dense weights of the fusion rows (comma-separated, each in [0, 1]).
    #[arg(long, default_value = "0.5,0.6,0.7,0.8,0.9")]
    dense_weight: String,
    /// One JSON object per row instead of a table.
    #[arg(long)]
    json: bool,
}

/// One evaluated system.
#[derive(Serialize)]
struct Row {
    system: String,
    queries: usize,
    recall_at_1: f64,
    recall_at_5: f64,
    mrr_at_10: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// A lexical system's name, hit lists and per-query times.
type Lexical<'a> = (&'a str, &'a [Vec<KbHit>], &'a [Duration]);

struct Query {
    text: String,
    relevant: Vec<String>,
    language: Language,
}

pub fn run(a: EvalArgs) -> Result<(), String> {
    let entries = kefu_kb::import::read_entries(&a.faq).map_err(|e| e.to_string())?;
    let mut queries = read_queries(&a.queries, a.lang.as_deref())?;
    if let Some(n) = a.limit {
        queries.truncate(n);
    }
    if queries.is_empty() {
        return Err(format!("{}: no queries", a.queries.display()));
    }
    let weights: Vec<f32> = a
        .dense_weight
        .split(',')
        .map(|w| w.trim().parse::<f32>().ok().filter(|w| (0.0..=1.0).contains(w)))
        .collect::<Option<_>>()
        .ok_or_else(|| format!("--dense-weight: expected numbers in [0, 1], got `{}`", a.dense_weight))?;

    let mut rows = Vec::new();
    let tfidf = FaqIndex::from_entries(&entries);
    let (tfidf_lists, tfidf_times) = run_lists(&queries, |q| Ok(tfidf.search_sync(q)))?;
    rows.push(row("tfidf", &queries, &tfidf_lists, &tfidf_times));
    let bm25 = TantivyFaqIndex::from_entries(&entries).map_err(|e| e.to_string())?;
    let (bm25_lists, bm25_times) = run_lists(&queries, |q| bm25.search_sync(q).map_err(|e| e.to_string()))?;
    rows.push(row("bm25", &queries, &bm25_lists, &bm25_times));

    match &a.encoder {
        Some(dir) => dense_rows(
            dir,
            &entries,
            &queries,
            &weights,
            [("tfidf", &tfidf_lists, &tfidf_times), ("bm25", &bm25_lists, &bm25_times)],
            &mut rows,
        )?,
        None => tracing::info!("no --encoder: lexical rows only"),
    }
    print_rows(&rows, a.json)
}

#[cfg(feature = "neural")]
fn dense_rows(
    dir: &Path,
    entries: &[kefu::core::bot::FaqEntry],
    queries: &[Query],
    weights: &[f32],
    lexical: [Lexical<'_>; 2],
    rows: &mut Vec<Row>,
) -> Result<(), String> {
    use kefu_kb::{fuse, DenseFaqIndex, DenseOptions, Fusion, HybridOptions};
    use kefu_nlu::neural::{Device, EncoderOptions, SentenceEncoder};
    use std::sync::Arc;

    // No cache: every query is embedded when it is searched, as in production.
    let options = EncoderOptions { cache_capacity: 0, ..Default::default() };
    let encoder = Arc::new(SentenceEncoder::load_with(dir, Device::Cpu, options).map_err(|e| e.to_string())?);
    let started = Instant::now();
    let dense = DenseFaqIndex::from_entries(encoder, DenseOptions::default(), entries).map_err(|e| e.to_string())?;
    tracing::info!("dense index built in {:.2}s", started.elapsed().as_secs_f64());
    let (dense_lists, dense_times) = run_lists(queries, |q| dense.search_sync(q).map_err(|e| e.to_string()))?;
    rows.push(row("dense", queries, &dense_lists, &dense_times));
    for (name, lexical_lists, lexical_times) in lexical {
        // A hybrid search costs its two searches; fusion itself is microseconds.
        let times: Vec<Duration> = dense_times.iter().zip(lexical_times).map(|(d, l)| *d + *l).collect();
        for fusion in [Fusion::Linear, Fusion::Rrf { k: 60.0 }] {
            for &w in weights {
                let options = HybridOptions { fusion, dense_weight: w, candidates: 30 };
                let fused: Vec<Vec<KbHit>> = lexical_lists
                    .iter()
                    .zip(&dense_lists)
                    .map(|(l, d)| fuse(l.clone(), d.clone(), &options, 10))
                    .collect();
                let label = match fusion {
                    Fusion::Linear => format!("hybrid {name}+dense linear w={w}"),
                    Fusion::Rrf { k } => format!("hybrid {name}+dense rrf k={k} w={w}"),
                };
                rows.push(row(&label, queries, &fused, &times));
            }
        }
    }
    Ok(())
}

#[cfg(not(feature = "neural"))]
fn dense_rows(
    _dir: &Path,
    _entries: &[kefu::core::bot::FaqEntry],
    _queries: &[Query],
    _weights: &[f32],
    _lexical: [Lexical<'_>; 2],
    _rows: &mut Vec<Row>,
) -> Result<(), String> {
    Err("--encoder needs a build with `--features neural`".into())
}

/// Runs every query (top 30 kept for fusion) and times each search.
fn run_lists(
    queries: &[Query],
    search: impl Fn(&KbQuery) -> Result<Vec<KbHit>, String>,
) -> Result<(Vec<Vec<KbHit>>, Vec<Duration>), String> {
    let mut lists = Vec::with_capacity(queries.len());
    let mut times = Vec::with_capacity(queries.len());
    for q in queries {
        let query = KbQuery {
            tenant: "eval".into(),
            text: kefu::core::text::normalize(&q.text),
            language: q.language,
            top_k: 30,
        };
        let started = Instant::now();
        let hits = search(&query)?;
        times.push(started.elapsed());
        lists.push(hits);
    }
    Ok((lists, times))
}

fn row(system: &str, queries: &[Query], lists: &[Vec<KbHit>], times: &[Duration]) -> Row {
    let (mut r1, mut r5, mut mrr) = (0.0, 0.0, 0.0);
    for (q, hits) in queries.iter().zip(lists) {
        if let Some(rank) = hits.iter().take(10).position(|h| q.relevant.contains(&h.id)) {
            r1 += f64::from(u8::from(rank == 0));
            r5 += f64::from(u8::from(rank < 5));
            mrr += 1.0 / (rank as f64 + 1.0);
        }
    }
    let n = queries.len() as f64;
    let mut ms: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| ms.get(((ms.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0);
    Row {
        system: system.to_string(),
        queries: queries.len(),
        recall_at_1: r1 / n,
        recall_at_5: r5 / n,
        mrr_at_10: mrr / n,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
    }
}

fn print_rows(rows: &[Row], json: bool) -> Result<(), String> {
    if json {
        for r in rows {
            println!("{}", serde_json::to_string(r).map_err(|e| e.to_string())?);
        }
        return Ok(());
    }
    println!("| system | queries | R@1 | R@5 | MRR@10 | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
            r.system, r.queries, r.recall_at_1, r.recall_at_5, r.mrr_at_10, r.p50_ms, r.p99_ms
        );
    }
    Ok(())
}

fn read_queries(path: &Path, lang: Option<&str>) -> Result<Vec<Query>, String> {
    let fixed = lang.map(|l| l.parse::<Language>().map_err(|e| format!("--lang: {e}"))).transpose()?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        #[derive(serde::Deserialize)]
        struct Raw {
            query: String,
            relevant: Vec<String>,
        }
        let raw: Raw = serde_json::from_str(line).map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?;
        let language =
            fixed.unwrap_or_else(|| kefu::language::detect_language(&raw.query, &Language::ALL, Language::En));
        out.push(Query { text: raw.query, relevant: raw.relevant, language });
    }
    Ok(out)
}
