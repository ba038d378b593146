//! `kefu analytics --events FILE --hour 2026-11-26T10`: hourly rollups per tenant, from a JSON
//! Lines file or straight from the transcript archive (`--archive CONFIG|env`, the hourly
//! Kubernetes CronJob).

use kefu::EventEnvelope;
use kefu_backends::analytics::{hour_of, rollup_hour};
use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Events as JSON lines (as written by `kefu chat --events` or a decompressed archive object).
    #[cfg_attr(feature = "backends", arg(long, required_unless_present = "archive", conflicts_with = "archive"))]
    #[cfg_attr(not(feature = "backends"), arg(long, required = true))]
    events: Option<PathBuf>,
    /// Read the hour's events from the transcript archive instead: a YAML configuration file,
    /// or `env` for the KEFU_ARCHIVE_* variables (see docs/backends.md).
    #[cfg(feature = "backends")]
    #[arg(long)]
    archive: Option<String>,
    /// With --archive: only these tenants (repeatable; default: every tenant in the archive).
    #[cfg(feature = "backends")]
    #[arg(long)]
    tenant: Vec<String>,
    /// With --archive: also read objects dated this many days before the hour (conversations
    /// are filed under the date of their first event).
    #[cfg(feature = "backends")]
    #[arg(long, default_value_t = 1)]
    lookback_days: u32,
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
    let events = match &a.events {
        Some(path) => read_events(path)?,
        None => archived_events(&a, hour)?,
    };
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

fn read_events(path: &std::path::Path) -> Result<Vec<EventEnvelope>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut events = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let e: EventEnvelope =
            serde_json::from_str(&line).map_err(|e| format!("{}:{}: not an event: {e}", path.display(), i + 1))?;
        events.push(e);
    }
    Ok(events)
}

#[cfg(feature = "backends")]
fn archived_events(a: &Args, hour: chrono::DateTime<chrono::Utc>) -> Result<Vec<EventEnvelope>, String> {
    use kefu_backends::archive::{ArchiveConfig, TranscriptArchive};
    let Some(source) = &a.archive else { return Err("give --events FILE or --archive CONFIG".into()) };
    let config = if source == "env" {
        ArchiveConfig::from_env()
    } else {
        ArchiveConfig::from_yaml_file(std::path::Path::new(source))
    }
    .map_err(|e| e.to_string())?;
    let archive = TranscriptArchive::open(&config).map_err(|e| e.to_string())?;
    crate::runtime()?.block_on(async {
        let tenants =
            if a.tenant.is_empty() { archive.tenants().await.map_err(|e| e.to_string())? } else { a.tenant.clone() };
        let mut events = Vec::new();
        for t in tenants {
            let got = archive
                .events_between(&t, hour, hour + chrono::Duration::hours(1), a.lookback_days)
                .await
                .map_err(|e| format!("archive, tenant {t}: {e}"))?;
            events.extend(got);
        }
        Ok(events)
    })
}

#[cfg(not(feature = "backends"))]
fn archived_events(_a: &Args, _hour: chrono::DateTime<chrono::Utc>) -> Result<Vec<EventEnvelope>, String> {
    Err("--events FILE is required (this build has no archive support: feature `backends`)".into())
}
