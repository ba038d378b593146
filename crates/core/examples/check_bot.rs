//! Loads a bot folder and prints its problems (the `kefu check` command does the same).
fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: check_bot <bot-dir>");
        std::process::exit(2);
    };
    match kefu_core::load_bot_dir(std::path::Path::new(&dir)) {
        Ok(bot) => println!(
            "ok: {} intents, {} flows, {} responses, {} FAQ entries, {} training examples",
            bot.intents.len(),
            bot.flows.len(),
            bot.responses.len(),
            bot.faq.len(),
            bot.training_examples().len()
        ),
        Err(problems) => {
            for p in &problems.0 {
                println!("{p}");
            }
            std::process::exit(1);
        }
    }
}
