//! `kefu parse`: built-in entities (numbers, amounts, durations, dates and times, phones,
//! e-mails, URLs) of a text, or of each stdin line.

use chrono::NaiveDateTime;
use kefu::nlu::entities::{parse, EntityKind, Lang, ParseContext};
use std::io::{BufRead, Write};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Language of the text (zh or en); detected per input when absent.
    #[arg(long)]
    lang: Option<String>,
    /// Reference local time for relative expressions, e.g. 2013-02-12T04:30:00 (default: now in --tz).
    #[arg(long)]
    now: Option<String>,
    /// IANA time zone of the reference time.
    #[arg(long, default_value = "Asia/Shanghai")]
    tz: String,
    /// Only these kinds, comma-separated (number,ordinal,amount,duration,time,phone,email,url).
    #[arg(long, value_delimiter = ',')]
    kinds: Option<Vec<String>>,
    /// A bare weekday or date means the most recent past one ("I ordered on Monday").
    #[arg(long)]
    past: bool,
    /// One JSON object per input: {"text", "entities": [{"kind", "start", "end", "text", "value"}]}.
    #[arg(long)]
    json: bool,
    /// The text; without it, stdin is read line by line (plain text, or a JSON object
    /// {"text", "lang", "now"} whose fields override the flags).
    text: Option<String>,
}

struct Defaults {
    lang: Option<Lang>,
    now: NaiveDateTime,
    kinds: Option<Vec<EntityKind>>,
    past: bool,
}

pub fn run(a: Args) -> Result<ExitCode, String> {
    let tz: chrono_tz::Tz = a.tz.parse().map_err(|_| format!("--tz: `{}` is not an IANA time zone", a.tz))?;
    let now = match &a.now {
        Some(s) => parse_now(s)?,
        None => chrono::Utc::now().with_timezone(&tz).naive_local(),
    };
    let lang = a.lang.as_deref().map(parse_lang).transpose()?;
    let kinds = a
        .kinds
        .as_ref()
        .map(|ks| {
            ks.iter()
                .map(|k| k.trim().parse::<EntityKind>().map_err(|e| format!("--kinds: {e}")))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let defaults = Defaults { lang, now, kinds, past: a.past };
    let mut out = std::io::stdout().lock();
    if let Some(text) = &a.text {
        emit(&mut out, text, &defaults, None, None, a.json)?;
        return Ok(ExitCode::SUCCESS);
    }
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(|e| format!("cannot read stdin: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        if line.trim_start().starts_with('{') {
            match serde_json::from_str::<serde_json::Value>(&line) {
                Ok(v) => {
                    let text = v.get("text").and_then(|t| t.as_str()).unwrap_or("").to_string();
                    let lang = v.get("lang").and_then(|l| l.as_str()).map(parse_lang).transpose();
                    let now = v.get("now").and_then(|n| n.as_str()).map(parse_now).transpose();
                    match (lang, now) {
                        (Ok(l), Ok(n)) => emit(&mut out, &text, &defaults, l, n, a.json)?,
                        (Err(e), _) | (_, Err(e)) => print_error(&mut out, &text, &e, a.json)?,
                    }
                }
                Err(e) => print_error(&mut out, &line, &format!("bad JSON input: {e}"), a.json)?,
            }
        } else {
            emit(&mut out, &line, &defaults, None, None, a.json)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_lang(s: &str) -> Result<Lang, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "zh" | "zh-cn" | "zh-hans" | "zh-tw" => Ok(Lang::Zh),
        "en" | "en-us" | "en-gb" => Ok(Lang::En),
        other => Err(format!("unsupported language `{other}` (zh, en)")),
    }
}

fn parse_now(s: &str) -> Result<NaiveDateTime, String> {
    let s = s.trim();
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M"))
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S"))
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(s).map(|d| d.naive_local()))
        .map_err(|_| format!("`{s}` is not a local date-time like 2013-02-12T04:30:00"))
}

fn emit(
    out: &mut impl Write,
    text: &str,
    d: &Defaults,
    lang: Option<Lang>,
    now: Option<NaiveDateTime>,
    json: bool,
) -> Result<(), String> {
    let lang = lang.or(d.lang).unwrap_or_else(|| {
        match kefu::language::detect_language(text, &kefu::Language::ALL, kefu::Language::En) {
            kefu::Language::Zh => Lang::Zh,
            kefu::Language::En => Lang::En,
        }
    });
    let mut ctx = ParseContext::new(lang, now.unwrap_or(d.now));
    ctx.past_leaning = d.past;
    ctx.kinds = d.kinds.clone();
    let entities = parse(text, &ctx);
    let io = |e: std::io::Error| e.to_string();
    if json {
        let line = serde_json::json!({"text": text, "entities": entities});
        writeln!(out, "{line}").map_err(io)
    } else {
        writeln!(out, "{text}").map_err(io)?;
        if entities.is_empty() {
            writeln!(out, "  (no entity)").map_err(io)?;
        }
        for e in &entities {
            writeln!(out, "  {:<9} {:>3}..{:<3} {:<20} {}", e.kind.as_str(), e.start, e.end, e.text, e.value)
                .map_err(io)?;
        }
        Ok(())
    }
}

fn print_error(out: &mut impl Write, text: &str, error: &str, json: bool) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    if json {
        writeln!(out, "{}", serde_json::json!({"text": text, "entities": [], "error": error})).map_err(io)
    } else {
        writeln!(out, "{text}\n  error: {error}").map_err(io)
    }
}
