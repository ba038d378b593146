//! Server configuration: a YAML file, then `KEFU_*` environment variables and flags on top.
//! Secrets (API keys) are never written in the file itself: the file names an environment
//! variable or a file that holds each key.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Errors of the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid configuration.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong (with line and column when the YAML parser knows them).
        message: String,
    },
    /// A key's secret is missing.
    #[error("tenant `{tenant}`: {message}")]
    Secret {
        /// Tenant.
        tenant: String,
        /// What is missing.
        message: String,
    },
}

/// The whole configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (default 127.0.0.1).
    #[serde(default = "default_bind")]
    pub bind: String,
    /// Port (default 8080; 0 picks a free one and logs it).
    #[serde(default = "default_port")]
    pub port: u16,
    /// Session store: `memory` (default), `embedded:PATH` or `redis://…`.
    #[serde(default = "default_store")]
    pub store: String,
    /// Event transport: `none` (default), `jsonl:PATH`, `redis://…` or `kafka://BROKERS/TOPIC`.
    #[serde(default = "default_events")]
    pub events: String,
    /// Request limits.
    #[serde(default)]
    pub limits: Limits,
    /// Origins allowed by CORS (`*` for any); none by default.
    #[serde(default)]
    pub cors_origins: Vec<String>,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    #[serde(default = "default_grace")]
    pub shutdown_grace_secs: u64,
    /// Log lines as JSON objects (default) or human-readable text.
    #[serde(default = "default_true")]
    pub json_logs: bool,
    /// Request rates per customer and per tenant.
    #[serde(default)]
    pub rate_limits: RateLimits,
    /// Serve HTTPS with this certificate (PEM files); plain HTTP when absent.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// Export traces to an OpenTelemetry collector (needs the `otel` feature).
    #[serde(default)]
    pub otel: Option<OtelConfig>,
    /// Tenants and their bots.
    #[serde(default)]
    pub tenants: BTreeMap<String, TenantConfig>,
}

/// Where traces go: an OTLP/HTTP endpoint (JSON encoding).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtelConfig {
    /// The collector's traces URL, e.g. `http://otel-collector:4318/v1/traces`.
    pub endpoint: String,
    /// `service.name` of the spans (default `kefu-server`).
    #[serde(default = "default_service_name")]
    pub service_name: String,
}

fn default_events() -> String {
    "none".into()
}

fn default_service_name() -> String {
    "kefu-server".into()
}

/// A certificate chain and its private key, PEM files.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Certificate chain, leaf first.
    pub cert_file: PathBuf,
    /// Private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
}

/// Token buckets on turns (REST, SSE and WebSocket alike); 0 turns a limit off.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// Turns per minute one customer (user id, else conversation) may send (default 120).
    #[serde(default = "default_user_rate")]
    pub user_per_minute: u32,
    /// Turns per second one tenant may send (default 0: no limit).
    #[serde(default)]
    pub tenant_per_second: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self { user_per_minute: default_user_rate(), tenant_per_second: 0 }
    }
}

fn default_user_rate() -> u32 {
    120
}

/// JSON Web Tokens a tenant accepts (for end users of a web or mobile app, signed by the
/// tenant's own back end). Claims: `sub` (the user id, which the server then enforces),
/// `exp` (required), optional `role` (`client` by default), `tenant` (must be this tenant when
/// present), `iss` and `aud` when configured here.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtConfig {
    /// HS256 shared secret (at least 32 bytes).
    #[serde(default)]
    pub hs256_secret: Option<SecretRef>,
    /// RS256 public key (PEM).
    #[serde(default)]
    pub rs256_public_key: Option<SecretRef>,
    /// Required `iss`.
    #[serde(default)]
    pub issuer: Option<String>,
    /// Required `aud`.
    #[serde(default)]
    pub audience: Option<String>,
}

/// A secret held in an environment variable or a file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// Environment variable.
    #[serde(default)]
    pub env: Option<String>,
    /// File (trailing whitespace ignored).
    #[serde(default)]
    pub file: Option<PathBuf>,
}

impl SecretRef {
    /// Reads the secret; it must be at least `min_len` bytes.
    pub fn resolve(&self, tenant: &str, min_len: usize) -> Result<String, ConfigError> {
        read_secret(&self.env, &self.file, tenant, min_len)
    }
}

fn read_secret(
    env: &Option<String>,
    file: &Option<PathBuf>,
    tenant: &str,
    min_len: usize,
) -> Result<String, ConfigError> {
    let secret = |message: String| ConfigError::Secret { tenant: tenant.to_string(), message };
    let value = match (env, file) {
        (Some(var), None) => {
            std::env::var(var).map_err(|_| secret(format!("environment variable {var} is not set")))?
        }
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| secret(format!("cannot read secret file {}: {e}", path.display())))?
            .trim_end()
            .to_string(),
        _ => return Err(secret("a secret needs exactly one of `env` or `file`".into())),
    };
    if value.len() < min_len {
        return Err(secret(format!("secrets must be at least {min_len} characters")));
    }
    Ok(value)
}

/// Request limits.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest request body in bytes (default 64 KiB).
    #[serde(default = "default_body")]
    pub max_body_bytes: usize,
    /// History entries `GET /v1/conversations/{id}` returns at most (default 50).
    #[serde(default = "default_history")]
    pub max_history: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_body_bytes: default_body(), max_history: default_history() }
    }
}

/// One tenant.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// The bot folder.
    pub bot: PathBuf,
    /// Version label of the bot loaded at start (default `v1`).
    #[serde(default = "default_version")]
    pub version: String,
    /// API keys of this tenant.
    #[serde(default)]
    pub keys: Vec<KeyConfig>,
    /// JSON Web Tokens this tenant accepts.
    #[serde(default)]
    pub jwt: Option<JwtConfig>,
    /// Hosts this tenant's webhook actions may reach even on private addresses (by default
    /// webhooks reach public addresses only).
    #[serde(default)]
    pub webhook_hosts: Vec<String>,
    /// Folder under which this tenant's admins may load new bot versions by path (default:
    /// `<server bot_root>/<tenant>` when the server has one; otherwise loading by path is off).
    #[serde(default)]
    pub bot_root: Option<PathBuf>,
    /// FAQ answers written by an LLM from the retrieved entries, streamed to clients (off by
    /// default: the entries' stored answers).
    #[serde(default)]
    pub llm: Option<LlmConfig>,
    /// A Chatwoot desk this tenant's bot serves as an agent bot.
    #[serde(default)]
    pub chatwoot: Option<ChatwootConfig>,
}

/// A Chatwoot account whose inbox the bot answers (see `crate::chatwoot`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatwootConfig {
    /// The Chatwoot installation, e.g. `https://chatwoot.example.com`.
    pub base_url: String,
    /// The account id; events of other accounts are refused.
    pub account_id: u64,
    /// The agent bot's access token (sent as `api_access_token`).
    pub api_token: SecretRef,
}

/// A tenant's LLM for written FAQ answers.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    /// The OpenAI-compatible endpoint (`base_url`, `model`, `api_key_env`, timeouts, retries).
    pub chat: kefu_llm::ChatConfig,
    /// How answers are written (`min_score`, `instructions`, `max_tokens`, …).
    #[serde(default)]
    pub answers: kefu_llm::GroundedConfig,
}

impl LlmConfig {
    /// The answer writer; the key only from the environment (`chat.api_key_env`).
    pub fn writer(&self, tenant: &str) -> Result<kefu_llm::GroundedWriter, ConfigError> {
        let secret = |message: String| ConfigError::Secret { tenant: tenant.to_string(), message };
        if self.chat.api_key.is_some() {
            return Err(secret("`llm.chat.api_key` is not read from the config file: name an environment variable in `llm.chat.api_key_env`".into()));
        }
        let client = kefu_llm::ChatClient::new(self.chat.clone()).map_err(|e| secret(format!("llm: {e}")))?;
        Ok(kefu_llm::GroundedWriter::new(client, self.answers.clone()))
    }
}

impl TenantConfig {
    /// A tenant with a bot and nothing else.
    pub fn new(bot: PathBuf) -> Self {
        Self {
            bot,
            version: default_version(),
            keys: Vec::new(),
            jwt: None,
            webhook_hosts: Vec::new(),
            bot_root: None,
            llm: None,
            chatwoot: None,
        }
    }
}

/// The webhook policy of a tenant's bots: public addresses (plus its `webhook_hosts`), and
/// header secrets only from `KEFU_WEBHOOK_<TENANT>_*` variables, so that one tenant's bot can
/// never send the server's or another tenant's secrets anywhere.
pub fn webhook_policy(tenant: &str, config: Option<&TenantConfig>) -> kefu::WebhookPolicy {
    let upper: String =
        tenant.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    kefu::WebhookPolicy {
        allow_private: false,
        allowed_hosts: config.map(|c| c.webhook_hosts.clone()).unwrap_or_default(),
        env_prefix: Some(format!("KEFU_WEBHOOK_{upper}_")),
    }
}

/// Where one API key comes from, and what it may do.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// Environment variable holding the key.
    #[serde(default)]
    pub env: Option<String>,
    /// File holding the key (trailing whitespace ignored).
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// `client` (conversations), `agent` (also the agent endpoints) or `admin` (everything of
    /// the tenant).
    #[serde(default)]
    pub role: Role,
}

/// What a credential may do, each role including the ones before it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Send messages and read its tenant's conversations.
    #[default]
    Client,
    /// Also list hand-offs, reply as an agent and release conversations.
    Agent,
    /// Also load, activate and split bot versions, and export or erase user data.
    Admin,
}

fn default_bind() -> String {
    "127.0.0.1".into()
}
fn default_port() -> u16 {
    8080
}
fn default_store() -> String {
    "memory".into()
}
fn default_grace() -> u64 {
    10
}
fn default_true() -> bool {
    true
}
fn default_body() -> usize {
    64 * 1024
}
fn default_history() -> usize {
    50
}
fn default_version() -> String {
    "v1".into()
}

impl Config {
    /// Reads a YAML (or JSON) configuration file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        serde_yaml::from_str(&text)
            .map_err(|e| ConfigError::Invalid { path: path.to_path_buf(), message: e.to_string() })
    }

    /// The demo: the shop bot as tenant `default`, no keys, memory store, loopback.
    pub fn demo(bot: PathBuf) -> Self {
        // Open to every origin: the demo listens on loopback only and has no keys, and a
        // widget embedded on another local page should just work.
        let mut c = Config { json_logs: false, cors_origins: vec!["*".into()], ..Config::default() };
        let mut tenant = TenantConfig::new(bot.clone());
        // Other versions of the demo may be loaded from examples/bots.
        tenant.bot_root = bot.parent().map(std::path::Path::to_path_buf);
        c.tenants.insert("default".into(), tenant);
        c
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: default_bind(),
            port: default_port(),
            store: default_store(),
            events: default_events(),
            limits: Limits::default(),
            cors_origins: Vec::new(),
            shutdown_grace_secs: default_grace(),
            json_logs: true,
            rate_limits: RateLimits::default(),
            tls: None,
            otel: None,
            tenants: BTreeMap::new(),
        }
    }
}

impl KeyConfig {
    /// Reads the secret from its environment variable or file.
    pub fn resolve(&self, tenant: &str) -> Result<String, ConfigError> {
        read_secret(&self.env, &self.file, tenant, 16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_reads_with_defaults_and_rejects_unknown_fields() {
        let c: Config = serde_yaml::from_str("tenants: {acme: {bot: bots/acme, keys: [{env: ACME_KEY, role: admin}]}}")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((c.bind.as_str(), c.port, c.limits.max_body_bytes), ("127.0.0.1", 8080, 65536));
        assert_eq!(c.tenants["acme"].keys[0].role, Role::Admin);
        assert!(serde_yaml::from_str::<Config>("prot: 80").is_err());
    }

    #[test]
    fn keys_come_from_env_or_files_and_must_be_long() {
        let dir = std::env::temp_dir().join(format!("kefu-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let file = dir.join("key");
        std::fs::write(&file, "0123456789abcdef0123\n").unwrap_or_default();
        let k = KeyConfig { env: None, file: Some(file.clone()), role: Role::Client };
        assert_eq!(k.resolve("t").ok().as_deref(), Some("0123456789abcdef0123"));
        std::fs::write(&file, "short").unwrap_or_default();
        assert!(k.resolve("t").is_err());
        let missing = KeyConfig { env: Some("KEFU_TEST_SURELY_UNSET_VAR".into()), file: None, role: Role::Client };
        assert!(missing.resolve("t").is_err());
        let both = KeyConfig { env: Some("X".into()), file: Some(file), role: Role::Client };
        assert!(both.resolve("t").is_err());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn an_llm_key_is_never_read_from_the_config_file() {
        let yaml = "chat: {base_url: 'http://127.0.0.1:9/v1', model: m, api_key: sk-in-the-file}";
        let llm: LlmConfig = serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("{e}"));
        let err = llm.writer("acme").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("api_key_env") && !err.contains("sk-in-the-file"), "{err}");
        let ok: LlmConfig = serde_yaml::from_str("chat: {base_url: 'http://127.0.0.1:9/v1', model: m}")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(ok.writer("acme").is_ok());
        assert!(
            serde_yaml::from_str::<LlmConfig>(
                "chat: {}
answer: {}"
            )
            .is_err(),
            "typo in a field name"
        );
    }
}
