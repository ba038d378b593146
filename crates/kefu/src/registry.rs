//! Many bots in one process: tenants, each with versions of its bot side by side.
//!
//! A [`Registry`] routes each [`Turn`] to an [`Engine`] by the turn's tenant. A tenant has one
//! *active* version, which new conversations get, and optionally an A/B *split* that sends a
//! share of new conversations to a second version. A conversation stays on the version it
//! started on (its session records it) until it ends or expires; a version that is neither
//! active nor in the split is dropped by [`Registry::sweep`] once its last conversation has
//! gone idle. Every version of every tenant shares the registry's session store, event sink
//! and conversation lock, so a conversation keeps its state across versions and replicas.
//!
//! Loading a version builds its engine completely (model trained or read, FAQ indexed) before
//! it becomes visible; swapping versions only changes which engine later turns are routed to,
//! and a turn already routed keeps its engine until it finishes. No turn is dropped or answered
//! by a half-loaded bot.

use crate::assistant::AssistantBuilder;
use crate::error::Error;
use kefu_core::{
    ConversationLock, Engine, EventSink, LocalConversationLock, MemoryEventSink, MemorySessionStore, Reply,
    ReplyStream, Session, SessionKey, SessionStore, Turn,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

/// A share of new conversations sent to a version other than the active one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// The version that gets the share.
    pub version: String,
    /// Percentage of new conversations (0–100) it gets.
    pub percent: u8,
}

/// What a registry says about one loaded version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// Version label.
    pub version: String,
    /// New conversations get this version (unless the split sends them elsewhere).
    pub active: bool,
    /// Percentage of new conversations the split sends here, if this is the split's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_percent: Option<u8>,
    /// Conversations pinned to this version in this process and not idle.
    pub conversations: usize,
    /// The bot's name.
    pub bot_name: String,
    /// When it was loaded.
    pub loaded_at: chrono::DateTime<chrono::Utc>,
}

struct Pin {
    version: String,
    last_seen: Instant,
}

struct TenantState {
    versions: BTreeMap<String, (Engine, chrono::DateTime<chrono::Utc>)>,
    active: String,
    split: Option<Split>,
    pins: HashMap<String, Pin>,
    /// Versions that were active or split and no longer are: dropped once unused. A version
    /// loaded but never activated stays until an admin activates or removes it.
    retired: std::collections::HashSet<String>,
}

impl TenantState {
    /// `version` stops serving new conversations.
    fn retire(&mut self, version: String) {
        if self.active != version && self.split.as_ref().is_none_or(|s| s.version != version) {
            self.retired.insert(version);
        }
    }
}

impl TenantState {
    fn idle_limit(&self, version: &str) -> Duration {
        self.versions
            .get(version)
            .map_or(Duration::ZERO, |(e, _)| Duration::from_secs(e.bot().policy.session_idle_timeout_secs))
    }

    /// The version a new conversation gets: the split's share by a stable hash of its id (so
    /// replicas agree), else the active one.
    fn version_for_new(&self, conversation_id: &str) -> &str {
        match &self.split {
            Some(s) if (stable_hash(conversation_id) % 100) < u64::from(s.percent) => &s.version,
            _ => &self.active,
        }
    }

    fn live_pins(&self, version: &str, now: Instant) -> usize {
        let idle = self.idle_limit(version);
        self.pins.values().filter(|p| p.version == version && now.duration_since(p.last_seen) <= idle).count()
    }
}

/// FNV-1a: stable across processes and releases (std's hasher is not).
fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Bots of many tenants, in versions, behind one `handle`. Cheap to share (`Arc`).
pub struct Registry {
    store: Arc<dyn SessionStore>,
    sink: Arc<dyn EventSink>,
    lock: Arc<dyn ConversationLock>,
    tenants: RwLock<HashMap<String, Arc<Mutex<TenantState>>>>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    /// A registry with in-memory sessions and events and an in-process lock.
    pub fn new() -> Self {
        Self::with_backends(
            Arc::new(MemorySessionStore::new()),
            Arc::new(MemoryEventSink::new(10_000)),
            Arc::new(LocalConversationLock::new()),
        )
    }

    /// A registry whose bots all use these backends (Redis store and lock for replicas…).
    pub fn with_backends(
        store: Arc<dyn SessionStore>,
        sink: Arc<dyn EventSink>,
        lock: Arc<dyn ConversationLock>,
    ) -> Self {
        Self { store, sink, lock, tenants: RwLock::new(HashMap::new()) }
    }

    /// The session store every bot shares.
    pub fn session_store(&self) -> &Arc<dyn SessionStore> {
        &self.store
    }

    /// An [`AssistantBuilder`] for `dir` wired to this registry's backends, to add actions or
    /// a model path before [`Registry::load_with`].
    pub fn builder(&self, dir: impl AsRef<Path>) -> AssistantBuilder {
        crate::Assistant::builder(dir)
            .session_store(self.store.clone())
            .event_sink(self.sink.clone())
            .conversation_lock(self.lock.clone())
    }

    /// Loads the bot folder `dir` as `version` of `tenant` (training or reading its model; this
    /// blocks for as long as that takes — call it off the async executor). The first version of
    /// a tenant becomes active; later ones wait for [`Registry::activate`] or a split.
    pub fn load_dir(&self, tenant: &str, version: &str, dir: impl AsRef<Path>) -> Result<(), Error> {
        self.load_with(tenant, version, self.builder(dir))
    }

    /// Like [`Registry::load_dir`] with a builder from [`Registry::builder`].
    pub fn load_with(&self, tenant: &str, version: &str, builder: AssistantBuilder) -> Result<(), Error> {
        check_label("tenant", tenant)?;
        check_label("version", version)?;
        if self.has_version(tenant, version) {
            return Err(Error::Registry(format!("tenant `{tenant}` already has a version `{version}`")));
        }
        let engine = builder.version(version).build()?;
        self.insert(tenant, version, engine)
    }

    /// Adds an engine built elsewhere as `version` of `tenant`. It must have been built with
    /// this registry's backends and the same version label (see [`Registry::builder`]).
    pub fn insert(&self, tenant: &str, version: &str, engine: Engine) -> Result<(), Error> {
        if engine.version() != Some(version) {
            return Err(Error::Registry(format!(
                "the engine's version label {:?} is not `{version}`",
                engine.version()
            )));
        }
        let mut tenants = self.tenants.write().unwrap_or_else(|p| p.into_inner());
        match tenants.get(tenant) {
            Some(state) => {
                let mut s = lock(state);
                if s.versions.contains_key(version) {
                    return Err(Error::Registry(format!("tenant `{tenant}` already has a version `{version}`")));
                }
                s.versions.insert(version.to_string(), (engine, chrono::Utc::now()));
            }
            None => {
                let state = TenantState {
                    versions: [(version.to_string(), (engine, chrono::Utc::now()))].into(),
                    active: version.to_string(),
                    split: None,
                    pins: HashMap::new(),
                    retired: Default::default(),
                };
                tenants.insert(tenant.to_string(), Arc::new(Mutex::new(state)));
            }
        }
        tracing::info!(tenant, version, "bot version loaded");
        Ok(())
    }

    fn has_version(&self, tenant: &str, version: &str) -> bool {
        self.state(tenant).is_ok_and(|s| lock(&s).versions.contains_key(version))
    }

    fn state(&self, tenant: &str) -> Result<Arc<Mutex<TenantState>>, Error> {
        self.tenants
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(tenant)
            .cloned()
            .ok_or_else(|| Error::UnknownTenant(tenant.to_string()))
    }

    /// Makes `version` the one new conversations get. Conversations in progress stay where they are.
    pub fn activate(&self, tenant: &str, version: &str) -> Result<(), Error> {
        let state = self.state(tenant)?;
        let mut s = lock(&state);
        if !s.versions.contains_key(version) {
            return Err(unknown_version(tenant, version));
        }
        let previous = std::mem::replace(&mut s.active, version.to_string());
        s.retired.remove(version);
        if s.split.as_ref().is_some_and(|sp| sp.version == version) {
            s.split = None;
        }
        s.retire(previous);
        tracing::info!(tenant, version, "bot version activated");
        Ok(())
    }

    /// Sends `percent` of new conversations to another loaded version (`None` stops the split).
    pub fn set_split(&self, tenant: &str, split: Option<Split>) -> Result<(), Error> {
        let state = self.state(tenant)?;
        let mut s = lock(&state);
        if let Some(sp) = &split {
            if sp.percent > 100 {
                return Err(Error::Registry(format!("split percent {} is over 100", sp.percent)));
            }
            if !s.versions.contains_key(&sp.version) {
                return Err(unknown_version(tenant, &sp.version));
            }
        }
        if let Some(sp) = &split {
            s.retired.remove(&sp.version);
        }
        let previous = std::mem::replace(&mut s.split, split);
        if let Some(p) = previous {
            s.retire(p.version);
        }
        Ok(())
    }

    /// Unloads a version now, whatever its conversations (they continue on the active
    /// version). The active version cannot be removed.
    pub fn remove_version(&self, tenant: &str, version: &str) -> Result<(), Error> {
        let state = self.state(tenant)?;
        let mut s = lock(&state);
        if s.active == version {
            return Err(Error::Registry(format!("`{version}` is the active version of `{tenant}`")));
        }
        if s.versions.remove(version).is_none() {
            return Err(unknown_version(tenant, version));
        }
        if s.split.as_ref().is_some_and(|sp| sp.version == version) {
            s.split = None;
        }
        s.retired.remove(version);
        s.pins.retain(|_, p| p.version != version);
        Ok(())
    }

    /// The tenants with a bot, sorted.
    pub fn tenants(&self) -> Vec<String> {
        let mut t: Vec<String> = self.tenants.read().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect();
        t.sort();
        t
    }

    /// The loaded versions of a tenant.
    pub fn versions(&self, tenant: &str) -> Result<Vec<VersionInfo>, Error> {
        let state = self.state(tenant)?;
        let s = lock(&state);
        let now = Instant::now();
        Ok(s.versions
            .iter()
            .map(|(v, (engine, loaded_at))| VersionInfo {
                version: v.clone(),
                active: *v == s.active,
                split_percent: s.split.as_ref().filter(|sp| sp.version == *v).map(|sp| sp.percent),
                conversations: s.live_pins(v, now),
                bot_name: engine.bot().bot.name.clone(),
                loaded_at: *loaded_at,
            })
            .collect())
    }

    /// The engine of the tenant's active version.
    pub fn active_engine(&self, tenant: &str) -> Result<Engine, Error> {
        let state = self.state(tenant)?;
        let s = lock(&state);
        s.versions.get(&s.active).map(|(e, _)| e.clone()).ok_or_else(|| unknown_version(tenant, &s.active))
    }

    /// The engine a turn of this conversation goes to (pinning a new conversation).
    pub async fn route(&self, tenant: &str, conversation_id: &str) -> Result<Engine, Error> {
        // Checked before anything is pinned, so that bad ids never take memory.
        if conversation_id.trim().is_empty() || conversation_id.chars().any(char::is_control) {
            return Err(Error::Core(kefu_core::Error::InvalidInput(
                "`conversation_id` must be non-empty without control characters".into(),
            )));
        }
        if conversation_id.len() > kefu_core::engine::MAX_ID_BYTES {
            return Err(Error::Core(kefu_core::Error::InputTooLarge(format!(
                "`conversation_id` is longer than {} bytes",
                kefu_core::engine::MAX_ID_BYTES
            ))));
        }
        let state = self.state(tenant)?;
        let now = Instant::now();
        let multi_version = {
            let mut s = lock(&state);
            if let Some(engine) = pinned_engine(&mut s, conversation_id, now) {
                return Ok(engine);
            }
            s.versions.len() > 1
        };
        // Not pinned here: another replica (or this one before a restart) may have started it.
        let stored_version = if multi_version {
            let session = self.store.load(&SessionKey::new(tenant, conversation_id)).await?;
            session.and_then(|s| s.bot_version)
        } else {
            None
        };
        let mut s = lock(&state);
        if let Some(engine) = pinned_engine(&mut s, conversation_id, now) {
            return Ok(engine); // a concurrent turn pinned it meanwhile
        }
        let version = match stored_version.filter(|v| s.versions.contains_key(v)) {
            Some(v) => v,
            None => s.version_for_new(conversation_id).to_string(),
        };
        let engine =
            s.versions.get(&version).map(|(e, _)| e.clone()).ok_or_else(|| unknown_version(tenant, &version))?;
        s.pins.insert(conversation_id.to_string(), Pin { version, last_seen: now });
        Ok(engine)
    }

    /// Handles a turn with the engine its conversation is pinned to.
    pub async fn handle(&self, turn: Turn) -> Result<Reply, Error> {
        let engine = self.route(&turn.tenant, &turn.conversation_id).await?;
        Ok(engine.handle(turn).await?)
    }

    /// Streams a turn's reply (see [`Engine::handle_stream`]).
    pub async fn handle_stream(&self, turn: Turn) -> Result<ReplyStream, Error> {
        let engine = self.route(&turn.tenant, &turn.conversation_id).await?;
        Ok(engine.handle_stream(turn))
    }

    /// The stored session of a conversation.
    pub async fn session(&self, tenant: &str, conversation_id: &str) -> Result<Option<Session>, Error> {
        self.state(tenant)?;
        Ok(self.store.load(&SessionKey::new(tenant, conversation_id)).await?)
    }

    /// Gives a handed-off conversation back to the assistant; `false` if none was handed off.
    pub async fn release_handoff(&self, tenant: &str, conversation_id: &str) -> Result<bool, Error> {
        let engine = self.route(tenant, conversation_id).await?;
        Ok(engine.release_handoff(tenant, conversation_id).await?)
    }

    /// Records a human agent's message (see [`Engine::agent_message`]).
    pub async fn agent_message(&self, tenant: &str, conversation_id: &str, text: &str) -> Result<bool, Error> {
        let engine = self.route(tenant, conversation_id).await?;
        Ok(engine.agent_message(tenant, conversation_id, text).await?)
    }

    /// Ends a conversation: deletes its session and unpins it. `false` if there was none.
    pub async fn end_conversation(&self, tenant: &str, conversation_id: &str) -> Result<bool, Error> {
        let state = self.state(tenant)?;
        let existed = self.store.delete(&SessionKey::new(tenant, conversation_id)).await?;
        lock(&state).pins.remove(conversation_id);
        Ok(existed)
    }

    /// Forgets conversations idle past their bot's timeout and drops every version that is
    /// neither active nor split and has no conversation left. Returns the dropped
    /// `(tenant, version)` pairs. Call it periodically (the server does, every 30 s).
    pub fn sweep(&self) -> Vec<(String, String)> {
        self.sweep_at(Instant::now())
    }

    /// [`Registry::sweep`] as if it were `now` (tests pass a later instant to expire pins).
    #[doc(hidden)]
    pub fn sweep_at(&self, now: Instant) -> Vec<(String, String)> {
        let tenants: Vec<(String, Arc<Mutex<TenantState>>)> = self
            .tenants
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut dropped = Vec::new();
        for (tenant, state) in tenants {
            let mut s = lock(&state);
            let limits: HashMap<String, Duration> = s.versions.keys().map(|v| (v.clone(), s.idle_limit(v))).collect();
            s.pins.retain(|_, p| limits.get(&p.version).is_some_and(|idle| now.duration_since(p.last_seen) <= *idle));
            let unused: Vec<String> =
                s.retired.iter().filter(|v| !s.pins.values().any(|p| p.version == **v)).cloned().collect();
            for v in unused {
                s.retired.remove(&v);
                s.versions.remove(&v);
                tracing::info!(tenant = %tenant, version = %v, "bot version dropped: no conversation left");
                dropped.push((tenant.clone(), v));
            }
        }
        dropped
    }
}

fn pinned_engine(s: &mut TenantState, conversation_id: &str, now: Instant) -> Option<Engine> {
    let version = s.pins.get(conversation_id)?.version.clone();
    let idle = s.idle_limit(&version);
    let pin = s.pins.get_mut(conversation_id)?;
    if now.duration_since(pin.last_seen) > idle {
        // The conversation expired: it starts again as a new one.
        s.pins.remove(conversation_id);
        return None;
    }
    pin.last_seen = now;
    s.versions.get(&version).map(|(e, _)| e.clone())
}

fn lock(state: &Mutex<TenantState>) -> MutexGuard<'_, TenantState> {
    // A panic while holding the lock cannot leave the maps half-updated (every change is one
    // insert or remove), so a poisoned lock is still consistent.
    state.lock().unwrap_or_else(|p| p.into_inner())
}

fn unknown_version(tenant: &str, version: &str) -> Error {
    Error::UnknownBotVersion { tenant: tenant.to_string(), version: version.to_string() }
}

fn check_label(what: &str, v: &str) -> Result<(), Error> {
    let ok =
        !v.is_empty() && v.len() <= 128 && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::Core(kefu_core::Error::InvalidInput(format!(
            "{what} `{v}` must be 1-128 characters of A-Z, a-z, 0-9, '-', '_', '.'"
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_hash_is_stable_and_spreads() {
        assert_eq!(stable_hash("conversation-1"), stable_hash("conversation-1"));
        let share = (0..10_000).filter(|i| stable_hash(&format!("c{i}")) % 100 < 30).count();
        assert!((2_700..3_300).contains(&share), "{share}");
    }

    #[test]
    fn labels_are_checked() {
        assert!(check_label("version", "v2.1-rc_1").is_ok());
        for bad in ["", "a b", "../x", "版本"] {
            assert!(check_label("version", bad).is_err(), "{bad}");
        }
    }
}
