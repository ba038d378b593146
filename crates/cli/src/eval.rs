//! `kefu eval-intents --train a.csv --test b.csv [--nlu lexical|neural|fused --model DIR]`.

use kefu::nlu::eval::{evaluate, read_csv, render_html, EvalOptions, EvalReport};
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
    /// With --oos-label: a top confidence below this counts as out-of-scope; `auto` (default)
    /// chooses it on training data only (some intents hidden to stand for unseen ones; the most
    /// out-of-scope recall for at most 2 points of in-scope accuracy); `0` = no threshold.
    #[arg(long, default_value = "auto")]
    oos_threshold: String,
    /// NLU pipeline to evaluate: `lexical` (TF-IDF + linear model), `neural` (sentence encoder +
    /// linear head) or `fused` (both, score fusion); the last two need --model and a build with
    /// feature `neural`.
    #[arg(long, default_value = "lexical", value_parser = ["lexical", "neural", "fused"])]
    nlu: String,
    /// Sentence-encoder model folder (Hugging Face layout, e.g. all-MiniLM-L6-v2), for
    /// `--nlu neural` and `--nlu fused`.
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// With `--nlu fused`: languages the encoder understands (comma-separated, `all` for
    /// every language); messages in other languages are classified by the lexical model alone.
    #[arg(long, default_value = "en", value_name = "LANGS")]
    encoder_languages: String,
    /// With `--nlu fused`: fixed weight of the neural model in [0, 1] (default: chosen on a
    /// held-out 20 % of the training set).
    #[arg(long)]
    dense_weight: Option<f32>,
    /// With `--nlu neural`/`fused`: class re-weighting of the dense head in [0, 1] (0 = none,
    /// 1 = every intent counts the same; default: the tuned value).
    #[arg(long, value_name = "POWER")]
    class_balance: Option<f32>,
    /// Out-of-scope score the threshold applies to: `confidence` (the top intent's) or, with
    /// `--nlu fused`, `familiarity` (confidence × cosine to the nearest training example of
    /// the top intent in the encoder's space).
    #[arg(long, default_value = "confidence", value_parser = ["confidence", "familiarity"])]
    oos_score: String,
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
    let (oos_threshold, calibrate_oos) = match a.oos_threshold.as_str() {
        "auto" => (0.0, true),
        number => (
            number
                .parse::<f32>()
                .ok()
                .filter(|t| (0.0..=1.0).contains(t))
                .ok_or_else(|| format!("--oos-threshold: expected `auto` or a number in [0, 1], got `{number}`"))?,
            false,
        ),
    };
    if a.oos_score == "familiarity" && a.nlu != "fused" {
        return Err(format!("--oos-score familiarity needs --nlu fused (got --nlu {})", a.nlu));
    }
    let mut opts = EvalOptions { oos_label: a.oos_label.clone(), oos_threshold, calibrate_oos, ..Default::default() };
    opts.config.seed = a.seed;
    let report = match a.nlu.as_str() {
        "lexical" => {
            let bar = crate::training_bar();
            let report = evaluate(&train, &test, &opts, &mut |p| {
                bar.set_length(p.epochs as u64);
                bar.set_position(p.epoch as u64);
            })
            .map_err(|e| e.to_string())?;
            bar.finish_and_clear();
            report
        }
        other => {
            let Some(model) = a.model.as_deref() else {
                return Err(format!(
                    "--nlu {other} needs --model DIR: a sentence-encoder folder (config.json, tokenizer.json, \
                     model.safetensors), e.g. all-MiniLM-L6-v2"
                ));
            };
            evaluate_neural(other, model, &a, &train, &test, &opts)?
        }
    };
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
            "out-of-scope      recall {:.2} %, precision {:.2} %; in-scope accuracy {:.2} % (threshold {:.3})",
            r * 100.0,
            p * 100.0,
            i * 100.0,
            report.oos_threshold.unwrap_or_default()
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

#[cfg(not(feature = "neural"))]
fn evaluate_neural(
    nlu: &str,
    _model: &std::path::Path,
    _a: &Args,
    _train: &[(String, String)],
    _test: &[(String, String)],
    _opts: &EvalOptions,
) -> Result<EvalReport, String> {
    Err(format!(
        "--nlu {nlu} needs a kefu built with the `neural` feature: \
         cargo build --release --bin kefu --features neural"
    ))
}

#[cfg(feature = "neural")]
fn evaluate_neural(
    nlu: &str,
    model: &std::path::Path,
    a: &Args,
    train: &[(String, String)],
    test: &[(String, String)],
    opts: &EvalOptions,
) -> Result<EvalReport, String> {
    use kefu_nlu::eval::evaluate_model;
    use kefu_nlu::neural::{Device, EncoderOptions, SentenceEncoder};
    use kefu_nlu::neural_intent::{FamiliarityScored, FusedConfig, FusedIntentModel, NeuralIntentModel, Stage};
    use std::sync::Arc;

    let mut languages = Vec::new();
    for code in a.encoder_languages.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        if code.eq_ignore_ascii_case("all") {
            languages.clear();
            break;
        }
        languages.push(code.parse::<kefu::Language>().map_err(|e| format!("--encoder-languages: {e}"))?);
    }
    // No embedding cache: every test utterance is embedded when it is classified.
    let options = EncoderOptions { cache_capacity: 0, ..Default::default() };
    let encoder = Arc::new(SentenceEncoder::load_with(model, Device::Cpu, options).map_err(|e| e.to_string())?);
    let bar = crate::training_bar();
    let mut progress = |stage: Stage, done: usize, total: usize| {
        bar.set_message(match stage {
            Stage::Embedding => "embedding training texts",
            Stage::Dense => "neural head",
            Stage::Lexical => "lexical model",
        });
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let mut config = FusedConfig { dense_weight: a.dense_weight, encoder_languages: languages, ..Default::default() };
    config.lexical.seed = a.seed;
    config.dense.seed = a.seed;
    if let Some(power) = a.class_balance {
        if !(0.0..=1.0).contains(&power) {
            return Err(format!("--class-balance {power} is not in [0, 1]"));
        }
        config.dense.class_balance = power;
    }
    config.seed = a.seed;
    config.keep_embeddings = a.oos_score == "familiarity";
    let report = match nlu {
        "neural" => evaluate_model(train, test, opts, "neural", |examples| {
            NeuralIntentModel::train(encoder.clone(), examples, &config.dense, &mut progress)
        }),
        _ if a.oos_score == "familiarity" => evaluate_model(train, test, opts, "fused", |examples| {
            let m = FusedIntentModel::train(encoder.clone(), examples, &config, &mut progress)?;
            report_weights(&m);
            Ok(FamiliarityScored(m))
        }),
        _ => evaluate_model(train, test, opts, "fused", |examples| {
            let m = FusedIntentModel::train(encoder.clone(), examples, &config, &mut progress)?;
            report_weights(&m);
            Ok(m)
        }),
    };
    bar.finish_and_clear();
    report.map_err(|e| e.to_string())
}

#[cfg(feature = "neural")]
fn report_weights(m: &kefu_nlu::neural_intent::FusedIntentModel) {
    for p in &m.params().members {
        let held_out = p.weight_choice.as_ref().map_or(String::new(), |c| {
            let acc = c.curve.iter().find(|(w, _)| *w == p.dense_weight).map_or(0.0, |x| x.1);
            format!(" (held-out accuracy {:.2} % on {} training examples)", acc * 100.0, c.examples)
        });
        eprintln!("fused: neural weight {:.2}{held_out}, encoder languages {:?}", p.dense_weight, p.languages);
    }
}
