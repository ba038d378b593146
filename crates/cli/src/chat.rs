//! `kefu chat <bot-dir>`: a terminal conversation, or one reply per stdin line.

use kefu::{Language, Turn};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The bot folder.
    bot_dir: PathBuf,
    /// Print each reply as one JSON object per line.
    #[arg(long)]
    json: bool,
    /// Conversation id.
    #[arg(long, default_value = "cli")]
    conversation: String,
    /// Tenant.
    #[arg(long, default_value = "default")]
    tenant: String,
    /// User id.
    #[arg(long, default_value = "cli-user")]
    user: String,
    /// Channel (selects channel-specific responses).
    #[arg(long, default_value = "cli")]
    channel: String,
    /// Force the language (zh or en) instead of detecting it.
    #[arg(long)]
    language: Option<String>,
    /// Append every event of the conversation to this file (JSON lines).
    #[arg(long)]
    events: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<ExitCode, String> {
    let language = a.language.as_deref().map(str::parse::<Language>).transpose().map_err(|e| e.to_string())?;
    let bar = crate::training_bar();
    let progress_bar = bar.clone();
    let mut builder = kefu::Assistant::builder(&a.bot_dir);
    if let Some(path) = &a.events {
        let sink = kefu::core::JsonlEventSink::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        builder = builder.event_sink(std::sync::Arc::new(sink));
    }
    let engine = match builder
        .on_training_progress(move |p| {
            progress_bar.set_length(p.epochs as u64);
            progress_bar.set_position(p.epoch as u64);
        })
        .build()
    {
        Ok(e) => e,
        Err(kefu::Error::Core(kefu::core::Error::InvalidBot(problems))) => {
            eprintln!("{problems}");
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e.to_string()),
    };
    bar.finish_and_clear();
    let rt = crate::runtime()?;
    let interactive = std::io::stdin().is_terminal() && !a.json;
    let mut conversation = a.conversation.clone();
    if interactive {
        println!("Chatting with {} — type /quit to leave, /new for a new conversation.", engine.bot().bot.name);
    }
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    let mut input = stdin.lock();
    let mut raw = Vec::new();
    loop {
        if interactive {
            print!("you> ");
            let _ = stdout.flush();
        }
        raw.clear();
        let read = input.read_until(b'\n', &mut raw).map_err(|e| format!("cannot read stdin: {e}"))?;
        if read == 0 {
            break;
        }
        // One line that is not UTF-8 gets an error reply; the conversation goes on.
        let line = match std::str::from_utf8(&raw) {
            Ok(l) => l,
            Err(e) => {
                let message = format!("the line is not valid UTF-8 (byte {})", e.valid_up_to());
                if a.json {
                    let err = serde_json::json!({"error": {"code": kefu::ErrorCode::InvalidInput, "message": message}});
                    writeln!(stdout, "{err}").map_err(|e| e.to_string())?;
                } else {
                    eprintln!("error: {message}");
                }
                continue;
            }
        };
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        if interactive && text == "/quit" {
            break;
        }
        if interactive && text == "/new" {
            conversation = format!("{}-{}", a.conversation, chrono::Utc::now().timestamp_millis());
            println!("(new conversation)");
            continue;
        }
        let mut turn = Turn::new(conversation.clone(), text).tenant(a.tenant.clone()).channel(a.channel.clone());
        turn.user_id = a.user.clone();
        turn.language = language;
        let result = rt.block_on(engine.handle(turn));
        match (result, a.json) {
            (Ok(reply), true) => {
                let json = serde_json::to_string(&reply).map_err(|e| e.to_string())?;
                writeln!(stdout, "{json}").map_err(|e| e.to_string())?;
            }
            (Ok(reply), false) => {
                if reply.messages.is_empty() && reply.handoff {
                    println!("bot> (a human agent has this conversation)");
                }
                for m in &reply.messages {
                    println!("{}{}", if interactive { "bot> " } else { "" }, m.text);
                    for b in &m.buttons {
                        println!("     [{}] → {}", b.title, b.payload);
                    }
                }
            }
            (Err(e), true) => {
                let err = serde_json::json!({"error": {"code": e.code(), "message": e.to_string()}});
                writeln!(stdout, "{err}").map_err(|e| e.to_string())?;
            }
            (Err(e), false) => eprintln!("error: {e}"),
        }
        let _ = stdout.flush();
    }
    Ok(ExitCode::SUCCESS)
}
