//! `kefu-loadgen`: drives a running `kefu-server` with multi-turn conversations (greeting →
//! returns form → FAQ digression → order number → reason → confirmation, in Chinese and English
//! alternately), over keep-alive HTTP/1.1 connections, and prints one JSON object of results.
//!
//! - `max`: closed loop — C connections send as fast as the server answers, for S seconds.
//! - `rate`: open loop — R turns/s on a fixed schedule; latency is measured from each turn's
//!   scheduled time, so a stalled server shows up in the tail (no coordinated omission).
//! - `length`: N conversations of T turns each; the median latency at turn 1, 10, 100, 1000…
//!
//! `--api rasa` sends the same turns to a Rasa server's REST channel instead
//! (`POST /webhooks/rest/webhook`, `{"sender", "message"}`), for the side-by-side run in
//! `vs_rasa.sh`; its conversations are in English only unless `--lang` says otherwise.
//!
//! Bounded in time and count, loopback only; it stops by itself.

use bytes::Bytes;
use clap::{Parser, Subcommand, ValueEnum};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const EN: [&str; 6] =
    ["hello", "I want to return my shoes", "what payment methods do you accept?", "SO123456", "they do not fit", "yes"];
const ZH: [&str; 6] = ["你好", "我要退货", "运费怎么算", "SO123456", "尺码不合适", "是的"];
/// Turns that keep one conversation going forever (no form left open for long).
const ENDLESS: [&str; 4] = ["where is my order?", "SO123456", "thanks", "what payment methods do you accept?"];

#[derive(Parser)]
#[command(about = "Load generator for kefu-server")]
struct Args {
    /// Server base URL (loopback).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The server's HTTP API: kefu-server's, or a Rasa server's REST channel.
    #[arg(long, value_enum, default_value_t = Api::Kefu)]
    api: Api,
    /// Language of the conversations (default: mixed for kefu, en for rasa).
    #[arg(long, value_enum)]
    lang: Option<Lang>,
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// As many turns as the server answers.
    Max {
        #[arg(long, default_value_t = 32)]
        connections: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// A fixed rate of turns per second.
    Rate {
        #[arg(long)]
        rate: f64,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Latency along long conversations.
    Length {
        #[arg(long, default_value_t = 20)]
        conversations: usize,
        #[arg(long, default_value_t = 1000)]
        turns: usize,
        #[arg(long, default_value_t = 4)]
        connections: usize,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Api {
    /// `POST {url}/v1/conversations/{id}/messages` with `{"text"}`.
    Kefu,
    /// `POST {url}/webhooks/rest/webhook` with `{"sender", "message"}` (Rasa's REST channel).
    Rasa,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Lang {
    /// English and Chinese conversations alternately.
    Mixed,
    /// English only.
    En,
    /// Chinese only.
    Zh,
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

struct Shared {
    client: HttpClient,
    url: String,
    errors: AtomicU64,
    run: String,
    api: Api,
    lang: Lang,
}

impl Shared {
    /// The script of the `conversation`-th conversation of a worker.
    fn script(&self, conversation: usize) -> &'static [&'static str; 6] {
        match self.lang {
            Lang::En => &EN,
            Lang::Zh => &ZH,
            Lang::Mixed if conversation.is_multiple_of(2) => &EN,
            Lang::Mixed => &ZH,
        }
    }

    /// One turn; its latency, or `None` on an error.
    async fn turn(&self, conversation: &str, text: &str) -> Option<()> {
        let (uri, body) = match self.api {
            Api::Kefu => (
                format!("{}/v1/conversations/{}-{conversation}/messages", self.url, self.run),
                serde_json::json!({"text": text}),
            ),
            Api::Rasa => (
                format!("{}/webhooks/rest/webhook", self.url),
                serde_json::json!({"sender": format!("{}-{conversation}", self.run), "message": text}),
            ),
        };
        let request = hyper::Request::post(uri)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .ok()?;
        let ok = match self.client.request(request).await {
            Ok(response) => {
                let status = response.status();
                let drained = response.into_body().collect().await.is_ok();
                status.is_success() && drained
            }
            Err(_) => false,
        };
        if ok {
            Some(())
        } else {
            self.errors.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn summary(mut micros: Vec<u64>, elapsed: Duration, errors: u64) -> serde_json::Value {
    micros.sort_unstable();
    serde_json::json!({
        "turns": micros.len(),
        "errors": errors,
        "seconds": elapsed.as_secs_f64(),
        "turns_per_sec": micros.len() as f64 / elapsed.as_secs_f64(),
        "p50_ms": percentile(&micros, 0.50),
        "p90_ms": percentile(&micros, 0.90),
        "p99_ms": percentile(&micros, 0.99),
        "max_ms": percentile(&micros, 1.0),
    })
}

async fn max(shared: Arc<Shared>, connections: usize, seconds: u64) -> serde_json::Value {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..connections {
        let (shared, stop) = (shared.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut micros = Vec::new();
            let mut n = 0;
            'conversations: while !stop.load(Ordering::Relaxed) {
                let conversation = format!("m{w}-{n}");
                for text in shared.script(n) {
                    let t = Instant::now();
                    if shared.turn(&conversation, text).await.is_some() {
                        micros.push(t.elapsed().as_micros() as u64);
                    }
                    if stop.load(Ordering::Relaxed) {
                        break 'conversations;
                    }
                }
                n += 1;
            }
            micros
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap_or_default());
    }
    summary(all, started.elapsed(), shared.errors.load(Ordering::Relaxed))
}

async fn rate(shared: Arc<Shared>, rate: f64, connections: usize, seconds: u64) -> serde_json::Value {
    let started = Instant::now();
    let total = (rate * seconds as f64) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let mut workers = Vec::new();
    for w in 0..connections {
        let shared = shared.clone();
        workers.push(tokio::spawn(async move {
            let mut micros = Vec::new();
            let (mut n, mut step) = (0, 0);
            // This worker's turns are k*connections + w, each due at started + index * interval.
            let mut index = w;
            while index < total {
                let due = started + interval * index as u32;
                tokio::time::sleep_until(due.into()).await;
                let conversation = format!("r{w}-{n}");
                let s = shared.script(n);
                if shared.turn(&conversation, s[step]).await.is_some() {
                    micros.push(due.elapsed().as_micros() as u64);
                }
                step += 1;
                if step == s.len() {
                    step = 0;
                    n += 1;
                }
                index += connections;
            }
            micros
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap_or_default());
    }
    let mut out = summary(all, started.elapsed(), shared.errors.load(Ordering::Relaxed));
    out["target_rate"] = serde_json::json!(rate);
    out
}

async fn length(shared: Arc<Shared>, conversations: usize, turns: usize, connections: usize) -> serde_json::Value {
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..connections {
        let (shared, next) = (shared.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut per_turn: Vec<Vec<u64>> = vec![Vec::new(); turns];
            loop {
                let c = next.fetch_add(1, Ordering::Relaxed) as usize;
                if c >= conversations {
                    return per_turn;
                }
                let conversation = format!("l{c}");
                for (i, slot) in per_turn.iter_mut().enumerate() {
                    let t = Instant::now();
                    if shared.turn(&conversation, ENDLESS[i % ENDLESS.len()]).await.is_some() {
                        slot.push(t.elapsed().as_micros() as u64);
                    }
                }
            }
        }));
    }
    let mut per_turn: Vec<Vec<u64>> = vec![Vec::new(); turns];
    for w in workers {
        for (i, v) in w.await.unwrap_or_default().into_iter().enumerate() {
            per_turn[i].extend(v);
        }
    }
    // the median over conversations of a small window around each mark (turn k-2 ..= k+2)
    let mut marks = serde_json::Map::new();
    for mark in [1usize, 10, 100, 1000, 5000].into_iter().filter(|m| *m <= turns) {
        let lo = mark.saturating_sub(3);
        let hi = (mark + 2).min(turns);
        let mut window: Vec<u64> = per_turn[lo..hi].iter().flatten().copied().collect();
        window.sort_unstable();
        marks.insert(format!("turn_{mark}_p50_ms"), serde_json::json!(percentile(&window, 0.5)));
    }
    serde_json::json!({
        "conversations": conversations,
        "turns_each": turns,
        "errors": shared.errors.load(Ordering::Relaxed),
        "marks": marks,
    })
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if !args.url.starts_with("http://127.") && !args.url.starts_with("http://localhost") {
        eprintln!("kefu-loadgen only targets loopback addresses");
        std::process::exit(2);
    }
    let connections = match &args.mode {
        Mode::Max { connections, .. } | Mode::Rate { connections, .. } | Mode::Length { connections, .. } => {
            *connections
        }
    };
    let client = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(connections).build_http();
    let run = format!(
        "{:x}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis()
    );
    let lang = args.lang.unwrap_or(match args.api {
        Api::Kefu => Lang::Mixed,
        Api::Rasa => Lang::En,
    });
    let shared = Arc::new(Shared {
        client,
        url: args.url.trim_end_matches('/').to_string(),
        errors: AtomicU64::new(0),
        run,
        api: args.api,
        lang,
    });
    let result = match args.mode {
        Mode::Max { connections, seconds } => max(shared, connections, seconds.min(600)).await,
        Mode::Rate { rate: r, connections, seconds } => {
            if !(r > 0.0 && r <= 1_000_000.0) {
                eprintln!("--rate must be in (0, 1e6]");
                std::process::exit(2);
            }
            rate(shared, r, connections, seconds.min(600)).await
        }
        Mode::Length { conversations, turns, connections } => {
            length(shared, conversations, turns.clamp(1, 100_000), connections).await
        }
    };
    println!("{result}");
}
