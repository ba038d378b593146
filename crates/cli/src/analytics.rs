//! `kefu analytics --events FILE --hour 2026-11-26T10`: hourly rollups per tenant.

use kefu::EventEnvelope;
use kefu_backends::analytics::{hour_of, rollup_hour};
use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Events as JSON lines (as written by `kefu chat --events` or an event archive).
    #[arg(long)]
    events: PathBuf,
    /// The hour (UTC), e.g. 2026-11-26T10 or any time inside it; default: the previous hour.
    #[arg(long)]
    hour: Option<String>,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Result<ExitCode, String> {
    let hour = match &a.hour {
        Some(h) => parse_hour(h)?,
        None => hour_of(chrono::Utc::now()) - chrono::Duration::hours(1),
    };
    let file = std::fs::File::open(&a.events).map_err(|e| format!("{}: {e}", a.events.display()))?;
    let mut events = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("{}: {e}", a.events.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let e: EventEnvelope =
            serde_json::from_str(&line).map_err(|e| format!("{}:{}: not an event: {e}", a.events.display(), i + 1))?;
        events.push(e);
    }
    let rollups = rollup_hour(&events, hour);
    if a.json {
        for r in &rollups {
            println!("{}", serde_json::to_string(r).map_err(|e| e.to_string())?);
        }
    } else {
        println!("hour {} (UTC)", hour.format("%Y-%m-%d %H:00"));
        println!(
            "{:<16} {:>6} {:>6} {:>9} {:>9} {:>11} {:>10} {:>8} {:>8}",
            "tenant", "convs", "turns", "fallback", "handoff", "containment", "flows ok", "p50 ms", "p95 ms"
        );
        for r in &rollups {
            println!(
                "{:<16} {:>6} {:>6} {:>8.1}% {:>8.1}% {:>10.1}% {:>5}/{:<4} {:>8.2} {:>8.2}",
                r.tenant,
                r.conversations,
                r.turns,
                r.fallback_rate * 100.0,
                r.handoff_rate * 100.0,
                r.containment * 100.0,
                r.flows_completed,
                r.flows_started,
                r.turn_latency_p50_ms,
                r.turn_latency_p95_ms
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_hour(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(hour_of(t.with_timezone(&chrono::Utc)));
    }
    for fmt in ["%Y-%m-%dT%H", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H"] {
        let padded = if fmt == "%Y-%m-%dT%H" || fmt == "%Y-%m-%d %H" { format!("{s}:00") } else { s.to_string() };
        let fmt2 = if fmt == "%Y-%m-%dT%H" || fmt == "%Y-%m-%d %H" { format!("{fmt}:%M") } else { fmt.to_string() };
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(&padded, &fmt2) {
            return Ok(hour_of(t.and_utc()));
        }
    }
    Err(format!("--hour: `{s}` is not a UTC hour like 2026-11-26T10"))
}
