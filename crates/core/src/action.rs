//! Actions: code the assistant runs (look up an order, create a return). Built-in kinds are
//! table lookups and HTTP webhooks; anything else is a Rust closure or type registered with
//! the engine builder.

use crate::bot::LookupAction;
use crate::language::Language;
use crate::nlu::Entity;
use crate::response::value_text;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What an action is told about the turn. Webhooks receive it as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionCall {
    /// Action name.
    pub action: String,
    /// Tenant.
    pub tenant: String,
    /// Conversation.
    pub conversation_id: String,
    /// Customer.
    pub user_id: String,
    /// Channel.
    pub channel: String,
    /// Conversation language.
    pub language: Language,
    /// The user's (normalised) message.
    pub text: String,
    /// Top intent of the turn.
    pub intent: Option<String>,
    /// Entities of the turn.
    pub entities: Vec<Entity>,
    /// Current slot values.
    pub slots: BTreeMap<String, serde_json::Value>,
    /// The turn's metadata, as the channel sent it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, serde_json::Value>,
}

/// What an action asks the engine to do.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionOutcome {
    /// Slots to set (`null` clears one).
    #[serde(default)]
    pub slots: BTreeMap<String, serde_json::Value>,
    /// A named response to send.
    #[serde(default)]
    pub response: Option<String>,
    /// Literal messages to send.
    #[serde(default)]
    pub texts: Vec<String>,
    /// For validation actions: the value is not acceptable.
    #[serde(default)]
    pub reject: bool,
    /// Hand the conversation to a human.
    #[serde(default)]
    pub handoff: bool,
}

/// Why an action failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ActionError {
    /// No handler was registered for a `code: true` action.
    #[error("action `{0}` has no registered handler")]
    NotRegistered(String),
    /// The action did not answer in time.
    #[error("action `{action}` timed out after {millis} ms")]
    Timeout {
        /// Action name.
        action: String,
        /// The limit.
        millis: u64,
    },
    /// The action failed.
    #[error("action `{action}` failed: {message}")]
    Failed {
        /// Action name.
        action: String,
        /// What went wrong.
        message: String,
    },
}

/// Runs an action.
#[async_trait]
pub trait ActionHandler: Send + Sync {
    /// Runs the action for one turn.
    async fn run(&self, call: &ActionCall) -> Result<ActionOutcome, ActionError>;
}

/// An action from a closure.
///
/// ```
/// use kefu_core::{ActionOutcome, FnAction};
/// let greet = FnAction::new(|call| {
///     let mut out = ActionOutcome::default();
///     out.texts.push(format!("hello {}", call.user_id));
///     Ok(out)
/// });
/// # let _ = greet;
/// ```
pub struct FnAction<F>(F);

impl<F> FnAction<F>
where
    F: Fn(&ActionCall) -> Result<ActionOutcome, ActionError> + Send + Sync,
{
    /// Wraps a closure.
    pub fn new(f: F) -> Self {
        Self(f)
    }
}

#[async_trait]
impl<F> ActionHandler for FnAction<F>
where
    F: Fn(&ActionCall) -> Result<ActionOutcome, ActionError> + Send + Sync,
{
    async fn run(&self, call: &ActionCall) -> Result<ActionOutcome, ActionError> {
        (self.0)(call)
    }
}

/// A `lookup:` action over a table shipped with the bot.
pub struct LookupHandler {
    spec: LookupAction,
    rows: Vec<BTreeMap<String, serde_json::Value>>,
}

impl LookupHandler {
    /// Builds the handler from its spec and the loaded table.
    pub fn new(spec: LookupAction, rows: Vec<BTreeMap<String, serde_json::Value>>) -> Self {
        Self { spec, rows }
    }
}

#[async_trait]
impl ActionHandler for LookupHandler {
    async fn run(&self, call: &ActionCall) -> Result<ActionOutcome, ActionError> {
        let mut out = ActionOutcome::default();
        let wanted = call.slots.get(&self.spec.key).map(value_text).unwrap_or_default();
        let row = self
            .rows
            .iter()
            .find(|r| r.get(&self.spec.key).is_some_and(|v| value_text(v).eq_ignore_ascii_case(wanted.trim())));
        match row {
            Some(row) => {
                for (slot, column) in &self.spec.set {
                    out.slots.insert(slot.clone(), row.get(column).cloned().unwrap_or(serde_json::Value::Null));
                }
                out.response = self.spec.found.clone();
            }
            None => {
                out.reject = true;
                out.response = self.spec.not_found.clone();
            }
        }
        Ok(out)
    }
}

/// Where webhook actions may connect. By default only to public addresses: a bot (possibly
/// uploaded by a tenant) must not reach the server's own loopback, private networks, link-local
/// addresses or a cloud metadata service (SSRF). The check runs on the addresses a name
/// resolves to, on IP literals, and redirects are not followed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookPolicy {
    /// Allow every address (trusted bots on a private network).
    pub allow_private: bool,
    /// Hosts (names or IP literals, case-insensitive) allowed whatever they resolve to.
    pub allowed_hosts: Vec<String>,
    /// Header values `$VAR` may only name environment variables starting with this prefix
    /// (`None`: any variable). A server hosting other tenants' bots sets a per-tenant prefix,
    /// so that a bot cannot send the server's own secrets to a host it controls.
    pub env_prefix: Option<String>,
}

impl WebhookPolicy {
    /// A policy that allows everything (tests, trusted single-tenant deployments).
    pub fn permissive() -> Self {
        Self { allow_private: true, allowed_hosts: Vec::new(), env_prefix: None }
    }

    /// Allows one host whatever it resolves to.
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        self.allowed_hosts.push(host.into());
        self
    }

    #[cfg_attr(not(feature = "webhook"), allow(dead_code))]
    fn trusts(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.allow_private
            || self
                .allowed_hosts
                .iter()
                .any(|h| h.trim_start_matches('[').trim_end_matches(']').eq_ignore_ascii_case(host))
    }
}

/// Whether an address is on the public internet: not loopback, private, link-local (cloud
/// metadata lives there), carrier-grade NAT, unique-local, multicast, unspecified or reserved.
pub fn is_public_ip(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded =
                |hi: u16, lo: u16| IpAddr::V4(std::net::Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
            // Forms that carry an IPv4 address reach it: judge that address.
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_ip(IpAddr::V4(v4));
            }
            if s[..6] == [0; 6] || s[..6] == [0, 0, 0, 0, 0xffff, 0] || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_public_ip(embedded(s[6], s[7])); // IPv4-compatible, IPv4-translated, NAT64
            }
            if s[0] == 0x2002 {
                return is_public_ip(embedded(s[1], s[2])); // 6to4
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local
                || (s[0] == 0x64 && s[1] == 0xff9b) // local-use NAT64 (64:ff9b:1::/48)
                || (s[0] == 0x2001 && s[1] == 0) // Teredo
                || (s[0] == 0x2001 && s[1] == 0x0db8))
        }
    }
}

/// Resolves names for webhooks, keeping only the addresses the policy allows.
#[cfg(feature = "webhook")]
struct GuardedResolver {
    policy: std::sync::Arc<WebhookPolicy>,
}

#[cfg(feature = "webhook")]
impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<std::net::SocketAddr> =
                if policy.trusts(&host) { addrs } else { addrs.into_iter().filter(|a| is_public_ip(a.ip())).collect() };
            if allowed.is_empty() {
                let e: Box<dyn std::error::Error + Send + Sync> =
                    format!("webhook host `{host}` resolves to no public address (not allow-listed)").into();
                return Err(e);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A `webhook:` action: POSTs the [`ActionCall`] as JSON and reads an [`ActionOutcome`].
#[cfg(feature = "webhook")]
pub struct WebhookHandler {
    name: String,
    spec: crate::bot::WebhookAction,
    policy: std::sync::Arc<WebhookPolicy>,
    client: reqwest::Client,
}

#[cfg(feature = "webhook")]
impl WebhookHandler {
    /// Builds the handler under the default (public addresses only) [`WebhookPolicy`].
    pub fn new(name: String, spec: crate::bot::WebhookAction) -> Result<Self, ActionError> {
        Self::with_policy(name, spec, WebhookPolicy::default())
    }

    /// Builds the handler under `policy`. Header values starting with `$` are read from the
    /// environment at each call.
    pub fn with_policy(
        name: String,
        spec: crate::bot::WebhookAction,
        policy: WebhookPolicy,
    ) -> Result<Self, ActionError> {
        let policy = std::sync::Arc::new(policy);
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_millis(spec.timeout_ms))
            .dns_resolver(std::sync::Arc::new(GuardedResolver { policy: policy.clone() }))
            // A redirect or a proxy would bypass the address check.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .map_err(|e| ActionError::Failed { action: name.clone(), message: e.to_string() })?;
        Ok(Self { name, spec, policy, client })
    }

    /// Refuses URLs that are not http(s) or name a non-public IP literal (names are checked
    /// when they resolve).
    fn check_url(&self) -> Result<(), ActionError> {
        let fail = |message: String| ActionError::Failed { action: self.name.clone(), message };
        let url = reqwest::Url::parse(&self.spec.url).map_err(|e| fail(format!("invalid webhook URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(fail(format!("webhook URL scheme `{}` is not http or https", url.scheme())));
        }
        let host = url.host_str().unwrap_or_default();
        let literal = host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>();
        if let Ok(ip) = literal {
            if !is_public_ip(ip) && !self.policy.trusts(host) {
                return Err(fail(format!("webhook address {ip} is not public (not allow-listed)")));
            }
        }
        Ok(())
    }
}

#[cfg(feature = "webhook")]
#[async_trait]
impl ActionHandler for WebhookHandler {
    async fn run(&self, call: &ActionCall) -> Result<ActionOutcome, ActionError> {
        self.check_url()?;
        let mut req = self.client.post(&self.spec.url).json(call);
        for (k, v) in &self.spec.headers {
            let value = match v.strip_prefix('$') {
                Some(var) => {
                    let allowed = self.policy.env_prefix.as_deref().is_none_or(|p| var.starts_with(p));
                    let value = allowed.then(|| std::env::var(var).ok()).flatten();
                    value.ok_or_else(|| ActionError::Failed {
                        action: self.name.clone(),
                        message: format!("header `{k}`: no environment variable `{var}` this bot may read"),
                    })?
                }
                None => v.clone(),
            };
            req = req.header(k, value);
        }
        let fail = |message: String| ActionError::Failed { action: self.name.clone(), message };
        let resp = req.send().await.map_err(|e| {
            if e.is_timeout() {
                ActionError::Timeout { action: self.name.clone(), millis: self.spec.timeout_ms }
            } else {
                fail(e.to_string())
            }
        })?;
        let status = resp.status();
        if status.is_redirection() {
            return Err(fail(format!("HTTP {status}: webhooks do not follow redirects")));
        }
        if !status.is_success() {
            return Err(fail(format!("HTTP {status}")));
        }
        resp.json::<ActionOutcome>().await.map_err(|e| fail(format!("bad response body: {e}")))
    }
}
