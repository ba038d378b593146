//! `kefu check <bot-dir>`.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The bot folder.
    bot_dir: PathBuf,
    /// Print problems as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<ExitCode, String> {
    match kefu::core::load_bot_dir(&a.bot_dir) {
        Ok(bot) => {
            if a.json {
                println!("{}", serde_json::json!({"ok": true, "problems": []}));
            } else {
                println!(
                    "{}: ok — {} intents, {} entities, {} slots, {} flows, {} responses, {} actions, {} FAQ entries",
                    a.bot_dir.display(),
                    bot.intents.len(),
                    bot.entities.len(),
                    bot.slots.len(),
                    bot.flows.len(),
                    bot.responses.len(),
                    bot.actions.len(),
                    bot.faq.len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            if a.json {
                println!("{}", serde_json::json!({"ok": false, "problems": problems.0}));
            } else {
                for p in &problems.0 {
                    println!("{p}");
                }
                println!("{} problem(s)", problems.0.len());
            }
            Ok(ExitCode::from(1))
        }
    }
}
