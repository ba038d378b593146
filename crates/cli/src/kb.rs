//! `kefu kb`: build, query and inspect a disk-backed FAQ index.

use kefu::core::kb::KbQuery;
use kefu::Language;
use kefu_kb::TantivyFaqIndex;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Add or replace FAQ entries from a YAML/JSON (bot `faq:` format) or CSV
    /// (`id,language,question,answer[,tags]`) file.
    Import {
        /// The file.
        file: PathBuf,
        /// Index folder (created if missing).
        #[arg(long)]
        index: PathBuf,
        /// Tenant owning the entries (`*` = visible to every tenant).
        #[arg(long, default_value = "*")]
        tenant: String,
    },
    /// Search the index.
    Search {
        /// The question.
        query: String,
        /// Index folder.
        #[arg(long)]
        index: PathBuf,
        /// Tenant asking (sees its own entries and shared ones).
        #[arg(long, default_value = "default")]
        tenant: String,
        /// Answer language (detected from the query when absent).
        #[arg(long)]
        lang: Option<String>,
        /// Hits to show.
        #[arg(short, long, default_value_t = 5)]
        k: usize,
        /// One JSON object per hit.
        #[arg(long)]
        json: bool,
    },
    /// Retrieval quality (R@1, R@5, MRR@10) and latency on labelled queries: TF-IDF, BM25,
    /// and with `--encoder` (neural builds) dense and hybrid rows.
    Eval(crate::kb_eval::EvalArgs),
    /// Entries, documents and size per tenant.
    Stats {
        /// Index folder.
        #[arg(long)]
        index: PathBuf,
    },
}

pub fn run(a: Args) -> Result<ExitCode, String> {
    let open = |dir: &PathBuf| TantivyFaqIndex::open_or_create(dir).map_err(|e| format!("{}: {e}", dir.display()));
    match a.command {
        Command::Import { file, index, tenant } => {
            let idx = open(&index)?;
            let report = idx.import_file(&file, &tenant).map_err(|e| e.to_string())?;
            println!("imported {} entries ({} questions) into {}", report.entries, report.questions, index.display());
        }
        Command::Search { query, index, tenant, lang, k, json } => {
            let idx = open(&index)?;
            let language = match lang {
                Some(l) => l.parse::<Language>().map_err(|e| e.to_string())?,
                None => kefu::language::detect_language(&query, &Language::ALL, Language::En),
            };
            let text = kefu::core::text::normalize(&query);
            let hits =
                idx.search_sync(&KbQuery { tenant, text, language, top_k: k.max(1) }).map_err(|e| e.to_string())?;
            if hits.is_empty() && !json {
                println!("(no match)");
            }
            for h in hits {
                if json {
                    println!("{}", serde_json::to_string(&h).map_err(|e| e.to_string())?);
                } else {
                    println!("{:.3}  {}  ({})\n       {}", h.score, h.id, h.question, h.answer);
                }
            }
        }
        Command::Eval(args) => crate::kb_eval::run(args)?,
        Command::Stats { index } => {
            let s = open(&index)?.stats().map_err(|e| e.to_string())?;
            println!("entries    {}", s.entries);
            println!("documents  {}", s.documents);
            println!("segments   {}", s.segments);
            if let Some(b) = s.disk_bytes {
                println!("disk       {:.1} KiB", b as f64 / 1024.0);
            }
            println!("tokenizer  {}", s.tokenizer);
            for (tenant, t) in &s.tenants {
                println!("tenant {tenant:<12} {t:?}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
