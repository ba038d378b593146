//! `kefu train <bot-dir>`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// The bot folder.
    bot_dir: PathBuf,
    /// Where to write the model (default <bot-dir>/.kefu/intent-model.bin).
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
        return Err(format!("nlu.pipeline `{}` needs a build with the `neural` feature", bot.nlu.pipeline));
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
    println!(
        "trained {} intents on {} examples in {:.2} s → {}",
        model.header().labels,
        model.header().examples,
        started.elapsed().as_secs_f64(),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
