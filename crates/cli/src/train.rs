//! `kefu train <bot-dir>`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// The bot folder.
    bot_dir: PathBuf,
    /// Where to write the model (default <bot-dir>/.kefu/intent-model.bin; for the neural and
    /// fused pipelines the folder <bot-dir>/.kefu/fused/).
    #[arg(long)]
    output: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<ExitCode, String> {
    let bot = match kefu::core::load_bot_dir(&a.bot_dir) {
        Ok(b) => b,
        Err(problems) => {
            eprintln!("{problems}");
            return Ok(ExitCode::from(1));
        }
    };
    if bot.nlu.pipeline != "lexical" {
        return train_with_encoder(&a, &bot);
    }
    let bar = crate::training_bar();
    let started = Instant::now();
    let model = kefu::train(&bot, &mut |p| {
        bar.set_length(p.epochs as u64);
        bar.set_position(p.epoch as u64);
        bar.set_message(format!("loss {:.4}", p.loss));
    })
    .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    let path = a.output.unwrap_or_else(|| kefu::Assistant::default_model_path(&a.bot_dir));
    model.save(&path).map_err(|e| e.to_string())?;
    let threshold = match model.header().calibrated_threshold {
        Some(t) => format!(", intent threshold {t:.3} (auto)"),
        None => String::new(),
    };
    println!(
        "trained {} intents on {} examples in {:.2} s{threshold} → {}",
        model.header().labels,
        model.header().examples,
        started.elapsed().as_secs_f64(),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `neural`/`fused`: embeds the examples with the bot's encoder, trains the fused model and
/// writes it to `<bot-dir>/.kefu/fused/` (or `--output`).
#[cfg(feature = "neural")]
fn train_with_encoder(a: &Args, bot: &kefu::BotDefinition) -> Result<ExitCode, String> {
    use kefu_nlu::neural_intent::Stage;
    let started = Instant::now();
    let encoders = kefu::pipeline::load_encoders(&a.bot_dir, bot).map_err(|e| e.to_string())?;
    let examples = kefu::training_examples(bot);
    let bar = crate::training_bar();
    // No cache: always trains (and, with `policy.intent_threshold: auto`, calibrates).
    let model = kefu::pipeline::load_or_train_fused(bot, &encoders, None, &mut |stage, done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        bar.set_message(match stage {
            Stage::Embedding => "embedding examples",
            Stage::Dense => "training the dense head",
            Stage::Lexical => "training the lexical model",
        });
    })
    .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    let dir = a.output.clone().unwrap_or_else(|| kefu::pipeline::default_fused_dir(&a.bot_dir));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    model.save(&dir).map_err(|e| e.to_string())?;
    let members: Vec<String> = model
        .params()
        .members
        .iter()
        .map(|m| format!("encoder {} for {:?}, dense weight {:.2}", m.encoder_id, m.languages, m.dense_weight))
        .collect();
    let threshold = match model.params().calibrated_threshold {
        Some(t) => format!(", intent threshold {t:.3} (auto)"),
        None => String::new(),
    };
    println!(
        "trained the {} model ({} examples; {}{threshold}) in {:.2} s → {}",
        bot.nlu.pipeline,
        examples.len(),
        members.join("; "),
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "neural"))]
fn train_with_encoder(_a: &Args, bot: &kefu::BotDefinition) -> Result<ExitCode, String> {
    Err(format!(
        "nlu.pipeline `{}` needs a kefu built with the sentence encoder: cargo build --release --bin kefu --features neural",
        bot.nlu.pipeline
    ))
}
