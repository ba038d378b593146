//! # kefu-server — the reference HTTP server
//!
//! Owns the HTTP doors to the [`kefu::Registry`]: REST, Server-Sent Events and WebSocket under
//! `/v1`, the agent hand-off and admin endpoints, API-key tenants, Prometheus metrics, health
//! and readiness, graceful shutdown. It must not contain dialogue logic: every endpoint is a few
//! lines over the registry, and errors become HTTP in one place ([`error::status_of`]).
//!
//! Data flow: HTTP request → [`auth::Caller`] (tenant, role) → [`routes`] → `Registry::handle`
//! (engine → NLU → policy → actions/KB → reply → events) → JSON / SSE / WebSocket frames, with
//! [`state::AppState::after_turn`] recording metrics and the hand-off queue.

pub mod auth;
pub mod chatwoot;
pub mod config;
pub mod error;
pub mod hub;
pub mod metrics;
pub mod ratelimit;
pub mod routes;
pub mod state;
pub mod telemetry;
pub mod tls;
pub mod ws;

use crate::auth::{Caller, Keys};
use crate::config::Config;
use crate::state::AppState;
use kefu::core::{ConversationLock, EventSink, LocalConversationLock, SessionStore};
use kefu::Registry;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The OpenAPI 3 description of the API, served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../openapi.json");
/// The web chat page served at `/` (plain HTML, no build step).
pub const WIDGET_PAGE: &str = include_str!("../static/index.html");
/// The embeddable chat widget served at `/widget.js` (plain JavaScript, no build step).
pub const WIDGET_JS: &str = include_str!("../static/widget.js");

/// Errors that stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// A store or lock could not be opened.
    #[error("store `{store}`: {message}")]
    Store {
        /// The store setting.
        store: String,
        /// What failed.
        message: String,
    },
    /// The event transport could not be opened.
    #[error("events `{events}`: {message}")]
    Events {
        /// The events setting.
        events: String,
        /// What failed.
        message: String,
    },
    /// A bot could not be loaded.
    #[error("tenant `{tenant}`: {source}")]
    Bot {
        /// Tenant.
        tenant: String,
        /// The cause.
        source: kefu::Error,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The TLS certificate or key cannot be used.
    #[error("tls: {0}")]
    Tls(String),
    /// An I/O error while serving.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Opens the configured session store and the matching conversation lock.
pub async fn open_store(spec: &str) -> Result<(Arc<dyn SessionStore>, Arc<dyn ConversationLock>), StartError> {
    let fail = |message: String| StartError::Store { store: spec.to_string(), message };
    if spec == "memory" {
        return Ok((Arc::new(kefu::MemorySessionStore::new()), Arc::new(LocalConversationLock::new())));
    }
    if let Some(_path) = spec.strip_prefix("embedded:") {
        #[cfg(feature = "embedded")]
        {
            let store = kefu_backends::store::embedded::EmbeddedSessionStore::open(std::path::Path::new(_path))
                .map_err(|e| fail(e.to_string()))?;
            return Ok((Arc::new(store), Arc::new(LocalConversationLock::new())));
        }
        #[cfg(not(feature = "embedded"))]
        return Err(fail("this build has no `embedded` feature".into()));
    }
    if spec.starts_with("redis://") || spec.starts_with("rediss://") {
        #[cfg(feature = "redis")]
        {
            let store = kefu_backends::store::redis::RedisSessionStore::connect(spec, "kefu")
                .await
                .map_err(|e| fail(e.to_string()))?;
            let lock = kefu_backends::lock::RedisConversationLock::connect(spec, "kefu")
                .await
                .map_err(|e| fail(e.to_string()))?;
            return Ok((Arc::new(store), Arc::new(lock)));
        }
        #[cfg(not(feature = "redis"))]
        return Err(fail("this build has no `redis` feature".into()));
    }
    Err(fail("use `memory`, `embedded:PATH` or `redis://HOST:PORT`".into()))
}

/// Opens the configured event transport: `none` (the default: keeping events in memory would
/// hold users' messages that nothing reads), `jsonl:PATH`, `redis://…` (the `kefu:events`
/// stream) or `kafka://BROKER[,BROKER…]/TOPIC` (feature `kafka`).
pub async fn open_events(spec: &str) -> Result<Arc<dyn EventSink>, StartError> {
    let fail = |message: String| StartError::Events { events: spec.to_string(), message };
    if spec == "none" {
        return Ok(Arc::new(kefu::core::event::NullEventSink));
    }
    if let Some(path) = spec.strip_prefix("jsonl:") {
        let sink = kefu::core::JsonlEventSink::open(std::path::Path::new(path)).map_err(|e| fail(e.to_string()))?;
        return Ok(Arc::new(sink));
    }
    if spec.starts_with("redis://") || spec.starts_with("rediss://") {
        #[cfg(feature = "redis")]
        {
            let sink =
                kefu_backends::transport::redis_streams::RedisStreamSink::connect(spec, EVENTS_STREAM, 1_000_000)
                    .await
                    .map_err(|e| fail(e.to_string()))?;
            return Ok(Arc::new(sink));
        }
        #[cfg(not(feature = "redis"))]
        return Err(fail("this build has no `redis` feature".into()));
    }
    if let Some(_rest) = spec.strip_prefix("kafka://") {
        #[cfg(feature = "kafka")]
        {
            use kefu_backends::transport::kafka::{KafkaEventSink, KafkaSettings};
            let (brokers, topic) = _rest
                .split_once('/')
                .filter(|(b, t)| !b.is_empty() && !t.is_empty())
                .ok_or_else(|| fail("use kafka://BROKER[,BROKER…]/TOPIC".into()))?;
            let sink =
                KafkaEventSink::connect(&KafkaSettings::new(brokers), topic).await.map_err(|e| fail(e.to_string()))?;
            return Ok(Arc::new(sink));
        }
        #[cfg(not(feature = "kafka"))]
        return Err(fail("this build has no `kafka` feature".into()));
    }
    Err(fail("use `none`, `jsonl:PATH`, `redis://HOST:PORT` or `kafka://BROKERS/TOPIC`".into()))
}

/// The Redis stream events go to with `--events redis://…`.
pub const EVENTS_STREAM: &str = "kefu:events";

/// A server ready to run: bound, with its state (bots load in [`Server::run`]).
pub struct Server {
    listener: tokio::net::TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    state: Arc<AppState>,
}

impl Server {
    /// Resolves keys, opens the store and binds the address.
    pub async fn bind(config: Config, bot_root: Option<std::path::PathBuf>) -> Result<Self, StartError> {
        let mut keys = Keys::default();
        for (tenant, t) in &config.tenants {
            for k in &t.keys {
                keys.add(k.resolve(tenant)?, Caller { tenant: tenant.clone(), role: k.role, user: None });
            }
            if let Some(jwt) = &t.jwt {
                keys.add_jwt(tenant, jwt)?;
            }
        }
        let mut chatwoot = std::collections::BTreeMap::new();
        for (tenant, t) in &config.tenants {
            if let Some(c) = &t.chatwoot {
                chatwoot.insert(tenant.clone(), chatwoot::ChatwootClient::new(tenant, c)?);
            }
        }
        let mut answer_writers: std::collections::BTreeMap<String, Arc<dyn kefu::AnswerWriter>> = Default::default();
        for (tenant, t) in &config.tenants {
            if let Some(llm) = &t.llm {
                answer_writers.insert(tenant.clone(), Arc::new(llm.writer(tenant)?));
            }
        }
        let tls = config.tls.as_ref().map(tls::server_config).transpose().map_err(StartError::Tls)?;
        let (store, lock) = open_store(&config.store).await?;
        let sink = open_events(&config.events).await?;
        let registry = Arc::new(Registry::with_backends(store, sink, lock));
        let addr = format!("{}:{}", config.bind, config.port);
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|source| StartError::Bind { addr: addr.clone(), source })?;
        if !keys.enabled() && !is_loopback(&config.bind) {
            tracing::warn!(bind = %config.bind, "no API key is configured: anyone who reaches this address can use every tenant");
        }
        let limiter = ratelimit::RateLimiter::new(config.rate_limits.clone());
        let state = Arc::new(AppState {
            config,
            registry,
            keys,
            metrics: Default::default(),
            hub: Default::default(),
            limiter,
            waiting: Default::default(),
            bot_root,
            ready: Default::default(),
            draining: Default::default(),
            started: Instant::now(),
            in_flight: Default::default(),
            answer_writers,
            chatwoot,
        });
        Ok(Self { listener, tls, state })
    }

    /// `https` when a certificate is configured, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until SIGTERM/SIGINT (or `shutdown` resolves): bots load while `/healthz`
    /// already answers; on shutdown `/readyz` fails, new turns get 503, in-flight requests get
    /// the grace period to finish.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> Result<(), StartError> {
        let state = self.state.clone();
        let app = routes::router(state.clone()).layer(cors(&state.config.cors_origins));
        let stop = Arc::new(tokio::sync::Notify::new());
        let stop_signal = stop.clone();
        let draining = state.clone();
        let on_shutdown = async move {
            shutdown.await;
            draining.draining.store(true, Ordering::Release);
            tracing::info!("shutting down: finishing in-flight requests");
            stop_signal.notify_waiters();
        };
        let serve: std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>> = match self.tls {
            Some(config) => {
                let listener = tls::TlsListener::new(self.listener, config);
                Box::pin(std::future::IntoFuture::into_future(
                    axum::serve(listener, app).with_graceful_shutdown(on_shutdown),
                ))
            }
            None => Box::pin(std::future::IntoFuture::into_future(
                axum::serve(self.listener, app).with_graceful_shutdown(on_shutdown),
            )),
        };
        let mut loader = tokio::spawn(load_bots(state.clone()));
        let sweeper = tokio::spawn(sweep_forever(state.clone()));
        let grace = Duration::from_secs(state.config.shutdown_grace_secs);
        let notified = stop.notified();
        let result = tokio::select! {
            r = serve => r.map_err(StartError::Io),
            _ = async { notified.await; tokio::time::sleep(grace).await } => {
                tracing::warn!(grace_secs = grace.as_secs(), "grace period over: closing the remaining connections");
                Ok(())
            }
            // A bot that cannot load stops the server (an orchestrator restarts or reports it)
            // instead of serving a tenant that never becomes ready.
            Ok(Err(e)) = &mut loader => Err(e),
        };
        sweeper.abort();
        loader.abort();
        // Upgraded WebSockets and detached turn tasks are not tracked by axum: wait for every
        // turn still running, within the grace period.
        if tokio::time::timeout(grace, state.in_flight.wait_idle()).await.is_err() {
            tracing::warn!("turns still running after the grace period");
        }
        result
    }
}

async fn load_bots(state: Arc<AppState>) -> Result<(), StartError> {
    for (tenant, t) in state.config.tenants.clone() {
        let registry = state.registry.clone();
        let builder = state.bot_builder(&tenant, &t.bot);
        let (name, version) = (tenant.clone(), t.version.clone());
        let loaded = tokio::task::spawn_blocking(move || registry.load_with(&name, &version, builder))
            .await
            .map_err(|e| StartError::Io(std::io::Error::other(e.to_string())))?;
        if let Err(source) = loaded {
            tracing::error!(tenant = %tenant, error = %source, "bot not loaded");
            return Err(StartError::Bot { tenant, source });
        }
    }
    state.ready.store(true, Ordering::Release);
    tracing::info!(ms = state.started.elapsed().as_millis() as u64, tenants = state.config.tenants.len(), "ready");
    Ok(())
}

async fn sweep_forever(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    loop {
        tick.tick().await;
        state.registry.sweep();
        state.limiter.sweep();
        match state.registry.session_store().purge_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(sessions = n, "expired sessions purged"),
            Err(e) => tracing::warn!(error = %e, "purging expired sessions failed"),
        }
    }
}

fn is_loopback(bind: &str) -> bool {
    bind == "localhost" || bind.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowOrigin, Any, CorsLayer};
    if origins.is_empty() {
        return CorsLayer::new();
    }
    let layer = CorsLayer::new().allow_methods(Any).allow_headers(Any);
    if origins.iter().any(|o| o == "*") {
        return layer.allow_origin(Any);
    }
    let list: Vec<axum::http::HeaderValue> = origins.iter().filter_map(|o| o.parse().ok()).collect();
    layer.allow_origin(AllowOrigin::list(list))
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
