//! `kefu eval-intents --train a.csv --test b.csv`.

use kefu::nlu::eval::{evaluate, read_csv, render_html, EvalOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Training CSV (with a header row).
    #[arg(long)]
    train: PathBuf,
    /// Test CSV (with a header row).
    #[arg(long)]
    test: PathBuf,
    /// Column holding the text.
    #[arg(long, default_value = "text")]
    text_col: String,
    /// Column holding the intent label.
    #[arg(long, default_value = "category")]
    label_col: String,
    /// Label of out-of-scope examples: adds OOS recall/precision and in-scope accuracy.
    #[arg(long)]
    oos_label: Option<String>,
    /// With --oos-label: a top confidence below this counts as out-of-scope.
    #[arg(long, default_value_t = 0.0)]
    oos_threshold: f32,
    /// NLU pipeline to evaluate.
    #[arg(long, default_value = "lexical", value_parser = ["lexical"])]
    nlu: String,
    /// Training seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write an HTML report with a confusion-matrix heat map.
    #[arg(long)]
    report: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<ExitCode, String> {
    let train = read_csv(&a.train, &a.text_col, &a.label_col).map_err(|e| e.to_string())?;
    let test = read_csv(&a.test, &a.text_col, &a.label_col).map_err(|e| e.to_string())?;
    let mut opts = EvalOptions { oos_label: a.oos_label.clone(), oos_threshold: a.oos_threshold, ..Default::default() };
    opts.config.seed = a.seed;
    let bar = crate::training_bar();
    let report = evaluate(&train, &test, &opts, &mut |p| {
        bar.set_length(p.epochs as u64);
        bar.set_position(p.epoch as u64);
    })
    .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    if let Some(path) = &a.report {
        let title = format!("Intent evaluation — {} ({})", a.test.display(), a.nlu);
        std::fs::write(path, render_html(&report, &title)).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if a.json {
        println!("{}", serde_json::to_string(&report).map_err(|e| e.to_string())?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("nlu               {}", report.nlu);
    println!(
        "train / test      {} / {} examples, {} labels",
        report.train_examples, report.test_examples, report.labels
    );
    println!("accuracy          {:.2} %", report.accuracy * 100.0);
    println!("macro-F1          {:.4}", report.macro_f1);
    println!("training          {:.2} s", report.train_seconds);
    println!("latency p50 / p99 {:.4} / {:.4} ms per utterance", report.p50_ms, report.p99_ms);
    if let (Some(r), Some(p), Some(i)) = (report.oos_recall, report.oos_precision, report.in_scope_accuracy) {
        println!(
            "out-of-scope      recall {:.2} %, precision {:.2} %; in-scope accuracy {:.2} %",
            r * 100.0,
            p * 100.0,
            i * 100.0
        );
    }
    println!();
    println!("{:<40} {:>9} {:>9} {:>9} {:>8}", "intent", "precision", "recall", "F1", "support");
    for s in &report.per_intent {
        println!("{:<40} {:>9.3} {:>9.3} {:>9.3} {:>8}", s.intent, s.precision, s.recall, s.f1, s.support);
    }
    if let Some(path) = &a.report {
        println!("\nHTML report: {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
