//! `kefu test <bot-dir>`: conversation tests plus NLU cross-validation.

use kefu::nlu::eval::{evaluate, EvalOptions};
use kefu::testing::{load_tests, run_test};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The bot folder (tests are read from <bot-dir>/tests/conversations/).
    bot_dir: PathBuf,
    /// Folds of the intent cross-validation (0 to skip it).
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<ExitCode, String> {
    let bot = match kefu::core::load_bot_dir(&a.bot_dir) {
        Ok(b) => b,
        Err(problems) => {
            eprintln!("{problems}");
            return Ok(ExitCode::from(1));
        }
    };
    let engine = kefu::Assistant::builder(&a.bot_dir).build_with(bot.clone()).map_err(|e| e.to_string())?;
    let rt = crate::runtime()?;
    let dir = a.bot_dir.join("tests").join("conversations");
    let tests = if dir.is_dir() { load_tests(&dir).map_err(|e| e.to_string())? } else { Vec::new() };
    let mut failed = 0usize;
    let mut outcomes = Vec::new();
    for (i, (file, test)) in tests.iter().enumerate() {
        let outcome = rt.block_on(run_test(&engine, test, &format!("kefu-test-{i}"))).map_err(|e| e.to_string())?;
        if !a.json {
            let mark = if outcome.failures.is_empty() { "ok  " } else { "FAIL" };
            println!("{mark} {} ({file})", outcome.name);
            for f in &outcome.failures {
                println!("     step {} \"{}\": {}", f.step, f.user, f.message);
            }
        }
        if !outcome.failures.is_empty() {
            failed += 1;
        }
        outcomes.push(outcome);
    }
    let cv = if a.folds >= 2 { Some(cross_validate(&bot, a.folds)?) } else { None };
    let entities =
        if a.folds >= 2 { kefu::nlu::learned::entity_cross_validation(&bot, a.folds) } else { Default::default() };
    if a.json {
        let summary = serde_json::json!({
            "conversations": tests.len(), "failed": failed, "outcomes": outcomes,
            "nlu_cross_validation": cv.as_ref().map(|(acc, f1)| serde_json::json!({"folds": a.folds, "accuracy": acc, "macro_f1": f1})),
            "entity_cross_validation": (!entities.is_empty()).then(|| serde_json::json!({"folds": a.folds, "entities": entities})),
        });
        println!("{summary}");
    } else {
        println!("{} passed, {} failed", tests.len() - failed, failed);
        if let Some((acc, f1)) = cv {
            println!("NLU {}-fold cross-validation: accuracy {:.2} %, macro-F1 {:.4}", a.folds, acc * 100.0, f1);
        }
        if !entities.is_empty() {
            println!("Learned entities, {}-fold cross-validation (exact spans):", a.folds);
            println!("  {:<24} {:>7} {:>9} {:>9} {:>7}", "entity", "spans", "precision", "recall", "F1");
            for (name, s) in &entities {
                println!("  {:<24} {:>7} {:>9.3} {:>9.3} {:>7.3}", name, s.support, s.precision, s.recall, s.f1);
            }
        }
    }
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Stratified k-fold cross-validation of the bot's intent examples.
fn cross_validate(bot: &kefu::BotDefinition, folds: usize) -> Result<(f64, f64), String> {
    let examples = kefu::training_examples(bot);
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut fold_of = Vec::with_capacity(examples.len());
    for (_, label) in &examples {
        let n = seen.entry(label.clone()).or_insert(0);
        fold_of.push(*n % folds);
        *n += 1;
    }
    let (mut acc, mut f1, mut total) = (0.0, 0.0, 0usize);
    for k in 0..folds {
        let pick = |want: bool| -> Vec<(String, String)> {
            examples.iter().zip(&fold_of).filter(|(_, f)| (**f == k) == want).map(|(e, _)| e.clone()).collect()
        };
        let (test, train) = (pick(true), pick(false));
        if test.is_empty() || train.is_empty() {
            continue;
        }
        let r = evaluate(&train, &test, &EvalOptions::default(), &mut |_| {}).map_err(|e| e.to_string())?;
        acc += r.accuracy * test.len() as f64;
        f1 += r.macro_f1 * test.len() as f64;
        total += test.len();
    }
    Ok(if total == 0 { (0.0, 0.0) } else { (acc / total as f64, f1 / total as f64) })
}
