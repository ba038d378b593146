//! `kefu-server`: serve bots over HTTP. `kefu-server --demo` serves the demo shop assistant on
//! 127.0.0.1:8080 with embedded defaults; `--config FILE` serves the tenants of a file.

use clap::Parser;
use kefu_server::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "kefu-server", version, about = "Kefu's reference HTTP server")]
struct Args {
    /// Serve the demo shop assistant (examples/bots/shop) as tenant `default`, without keys.
    #[arg(long)]
    demo: bool,
    /// Configuration file (YAML).
    #[arg(long, env = "KEFU_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on (overrides the file; default 127.0.0.1).
    #[arg(long, env = "KEFU_BIND")]
    bind: Option<String>,
    /// Port (overrides the file; default 8080; 0 picks a free one).
    #[arg(long, env = "KEFU_PORT")]
    port: Option<u16>,
    /// Session store: memory, embedded:PATH or redis://HOST:PORT.
    #[arg(long, env = "KEFU_STORE")]
    store: Option<String>,
    /// Event transport: none, jsonl:PATH, redis://HOST:PORT or kafka://BROKERS/TOPIC.
    #[arg(long, env = "KEFU_EVENTS")]
    events: Option<String>,
    /// Turns per minute one customer may send (0: no limit; default 120).
    #[arg(long, env = "KEFU_USER_RATE_PER_MINUTE")]
    user_rate_per_minute: Option<u32>,
    /// Check a running server's /readyz on 127.0.0.1 and exit 0 when ready (container health
    /// checks: the runtime image has no curl).
    #[arg(long)]
    probe: bool,
    /// Folder under which admins may load new bot versions by path.
    #[arg(long, env = "KEFU_BOT_ROOT")]
    bot_root: Option<PathBuf>,
    /// Export traces to this OTLP/HTTP traces URL (builds with the `otel` feature).
    #[arg(long, env = "KEFU_OTEL_ENDPOINT")]
    otel_endpoint: Option<String>,
}

fn demo_bot() -> PathBuf {
    let here = PathBuf::from("examples/bots/shop");
    if here.join("bot.yaml").is_file() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bots/shop")
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.probe {
        return probe(args.port.unwrap_or(8080));
    }
    let mut config = match (&args.config, args.demo) {
        (Some(path), _) => match Config::from_file(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        (None, true) => Config::demo(demo_bot()),
        (None, false) => {
            eprintln!("error: give --config FILE (or KEFU_CONFIG), or --demo");
            return ExitCode::from(2);
        }
    };
    if let Some(b) = args.bind {
        config.bind = b;
    }
    if let Some(p) = args.port {
        config.port = p;
    }
    if let Some(s) = args.store {
        config.store = s;
    }
    if let Some(e) = args.events {
        config.events = e;
    }
    if let Some(r) = args.user_rate_per_minute {
        config.rate_limits.user_per_minute = r;
    }
    if let Some(endpoint) = args.otel_endpoint {
        config.otel = Some(kefu_server::config::OtelConfig { endpoint, service_name: "kefu-server".into() });
    }
    let bot_root = args.bot_root;
    // Flushes buffered spans when main returns.
    let _telemetry = match kefu_server::telemetry::init(config.json_logs, config.otel.as_ref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let server = kefu_server::Server::bind(config, bot_root).await?;
        if let Ok(addr) = server.local_addr() {
            tracing::info!(%addr, "listening");
            println!("kefu-server listening on {}://{addr}", server.scheme());
        }
        server.run(kefu_server::shutdown_signal()).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server stopped");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `GET /readyz` on 127.0.0.1:`port` with a one-second budget.
fn probe(port: u16) -> ExitCode {
    use std::io::{Read, Write};
    use std::time::Duration;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let ready = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).and_then(|mut s| {
        s.set_read_timeout(Some(Duration::from_secs(1)))?;
        s.write_all(b"GET /readyz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
        let mut head = [0u8; 12];
        s.read_exact(&mut head)?;
        Ok(head.starts_with(b"HTTP/1.") && &head[9..12] == b"200")
    });
    match ready {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("not ready");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("cannot reach 127.0.0.1:{port}: {e}");
            ExitCode::FAILURE
        }
    }
}
