//! The `kefu` command line: chat with an assistant, train, check, test and evaluate it.
//! Each subcommand lives in its own module and only calls the SDK.

mod analytics;
mod chat;
mod check;
mod eval;
#[cfg(feature = "backends")]
mod gdpr;
mod import_rasa;
#[cfg(feature = "kb")]
mod kb;
#[cfg(feature = "kb")]
mod kb_eval;
mod parse;
mod test_cmd;
mod train;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "kefu", version, about = "Kefu — bilingual customer-service assistants", propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Talk to an assistant (interactive on a terminal; one reply per input line otherwise).
    Chat(chat::Args),
    /// Train the intent model of a bot and cache it in <bot-dir>/.kefu/.
    Train(train::Args),
    /// Validate a bot folder and list every problem (exit code 1 on any).
    Check(check::Args),
    /// Run the bot's conversation tests and an NLU cross-validation report.
    Test(test_cmd::Args),
    /// Train on one CSV and report accuracy, macro-F1, timing on another.
    EvalIntents(eval::Args),
    /// Hourly rollups per tenant (conversations, fallback, hand-off, containment, latency).
    Analytics(analytics::Args),
    /// Export (JSON) or erase everything kept about a user: sessions, archive, pending events.
    #[cfg(feature = "backends")]
    Gdpr(gdpr::Args),
    /// Build, search and inspect a disk-backed FAQ index.
    #[cfg(feature = "kb")]
    Kb(kb::Args),
    /// Extract built-in entities (numbers, amounts, dates/times, phones…) from text.
    Parse(parse::Args),
    /// Convert Rasa NLU training data (YAML) into a bot folder.
    ImportRasa(import_rasa::Args),
}

fn main() -> ExitCode {
    // Before any thread starts: candle's matmuls run much slower when the variable is unset.
    #[cfg(feature = "neural")]
    kefu_nlu::neural::init_cpu_threads();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("KEFU_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Chat(a) => chat::run(a),
        Command::Train(a) => train::run(a),
        Command::Check(a) => check::run(a),
        Command::Test(a) => test_cmd::run(a),
        Command::EvalIntents(a) => eval::run(a),
        Command::Parse(a) => parse::run(a),
        Command::Analytics(a) => analytics::run(a),
        Command::ImportRasa(a) => import_rasa::run(a),
        #[cfg(feature = "backends")]
        Command::Gdpr(a) => gdpr::run(a),
        #[cfg(feature = "kb")]
        Command::Kb(a) => kb::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// A runtime for the async engine (the CLI is one conversation at a time).
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| format!("cannot start runtime: {e}"))
}

/// A progress bar for training epochs, hidden when stderr is not a terminal.
pub(crate) fn training_bar() -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(1);
    bar.set_style(
        indicatif::ProgressStyle::with_template("training {bar:30} epoch {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}
