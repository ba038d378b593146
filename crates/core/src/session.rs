//! Conversation state and the `SessionStore` trait, with the in-memory default.

use crate::language::Language;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

/// Identifies one conversation: sessions of different tenants never mix.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SessionKey {
    /// Tenant (one company using a shared deployment).
    pub tenant: String,
    /// Conversation id, unique within the tenant.
    pub conversation_id: String,
}

impl SessionKey {
    /// Builds a key.
    pub fn new(tenant: impl Into<String>, conversation_id: impl Into<String>) -> Self {
        Self { tenant: tenant.into(), conversation_id: conversation_id.into() }
    }
}

/// A form being filled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActiveFlow {
    /// Flow name.
    pub name: String,
    /// The slot the last prompt asked for.
    pub requested_slot: Option<String>,
    /// Prompts sent for the requested slot so far (selects the numbered re-prompt).
    pub attempts: u32,
    /// True while waiting for the user to confirm the filled form.
    pub confirming: bool,
}

/// Who said something.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    /// The customer.
    User,
    /// The assistant.
    Bot,
    /// A human agent after hand-off.
    Agent,
}

/// One message kept in the bounded history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When it was said.
    pub at: DateTime<Utc>,
    /// Who said it.
    pub speaker: Speaker,
    /// What was said.
    pub text: String,
    /// Top intent for user messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
}

/// Everything the engine remembers about one conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Which conversation.
    pub key: SessionKey,
    /// The customer.
    pub user_id: String,
    /// Language of the last user message.
    pub language: Option<Language>,
    /// Slot values (JSON, in the entity value shapes).
    pub slots: BTreeMap<String, serde_json::Value>,
    /// The form being filled, if any.
    pub flow: Option<ActiveFlow>,
    /// Forms interrupted by another flow, resumed when it ends (most recent last).
    pub suspended: Vec<ActiveFlow>,
    /// A human agent owns the conversation.
    pub handoff: bool,
    /// The assistant offered a human and waits for yes/no.
    pub handoff_offered: bool,
    /// Fallbacks in a row.
    pub consecutive_fallbacks: u32,
    /// Recent messages, bounded by the bot's `max_history`.
    pub history: VecDeque<HistoryEntry>,
    /// User turns handled.
    pub turns: u64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last user turn.
    pub last_active_at: DateTime<Utc>,
    /// Optimistic-concurrency version: 0 for a session never stored; each save increments it.
    pub version: u64,
    /// The bot version serving this conversation (set by engines built with a version label;
    /// a registry pins the conversation to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_version: Option<String>,
    /// Replies of the latest turns that came with an idempotency key (oldest first, bounded).
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pub idempotent_replies: VecDeque<IdempotentReply>,
}

/// A reply remembered under the turn's idempotency key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdempotentReply {
    /// The client's key.
    pub key: String,
    /// The reply sent the first time.
    pub reply: crate::engine::Reply,
}

impl Session {
    /// A fresh session.
    pub fn new(key: SessionKey, user_id: impl Into<String>, now: DateTime<Utc>) -> Self {
        Self {
            key,
            user_id: user_id.into(),
            language: None,
            slots: BTreeMap::new(),
            flow: None,
            suspended: Vec::new(),
            handoff: false,
            handoff_offered: false,
            consecutive_fallbacks: 0,
            history: VecDeque::new(),
            turns: 0,
            created_at: now,
            last_active_at: now,
            version: 0,
            bot_version: None,
            idempotent_replies: VecDeque::new(),
        }
    }

    /// The reply first sent for `key`, marked as replayed, if this session remembers it.
    pub fn replay(&self, key: Option<&str>) -> Option<crate::engine::Reply> {
        let key = key?;
        let mut reply = self.idempotent_replies.iter().find(|r| r.key == key)?.reply.clone();
        reply.replayed = true;
        Some(reply)
    }

    /// Remembers the reply of a turn sent with an idempotency key, keeping the latest `max`.
    pub fn remember_reply(&mut self, key: &str, reply: &crate::engine::Reply, max: usize) {
        self.idempotent_replies.push_back(IdempotentReply { key: key.to_string(), reply: reply.clone() });
        while self.idempotent_replies.len() > max {
            self.idempotent_replies.pop_front();
        }
    }

    /// Appends to the history, dropping the oldest entries beyond `max`.
    pub fn remember(&mut self, entry: HistoryEntry, max: usize) {
        self.history.push_back(entry);
        while self.history.len() > max {
            self.history.pop_front();
        }
    }
}

/// Errors of a session store.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// Another writer saved first: reload and retry.
    #[error("version conflict: expected {expected}, found {found}")]
    Conflict {
        /// Version the writer based its change on.
        expected: u64,
        /// Version in the store.
        found: u64,
    },
    /// The backend is unreachable or failed.
    #[error("session store unavailable: {message}")]
    Unavailable {
        /// What failed.
        message: String,
        /// Whether retrying later may succeed.
        retryable: bool,
    },
    /// Stored data could not be decoded.
    #[error("stored session is corrupt: {0}")]
    Corrupt(String),
    /// The writer's conversation lock was taken over (its lease expired): a newer fencing
    /// token was issued or stored. Re-acquire the lock, reload and retry.
    #[error("stale lock holder: fencing token {token} is older than {current}")]
    Fenced {
        /// The writer's token.
        token: u64,
        /// The newest token issued or stored.
        current: u64,
    },
}

/// The error of a store that does not implement an optional operation.
pub fn unsupported(what: &str) -> StoreError {
    StoreError::Unavailable { message: format!("this session store does not support {what}"), retryable: false }
}

/// Stores sessions with optimistic concurrency.
///
/// `save` succeeds only when the stored version equals `expected_version` (0 = not stored yet)
/// and then stores `session` (whose `version` the caller has set to `expected_version + 1`).
/// Entries expire `ttl` after their last save.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Loads a session, `None` when absent or expired.
    async fn load(&self, key: &SessionKey) -> Result<Option<Session>, StoreError>;
    /// Saves with a version check.
    async fn save(&self, session: &Session, expected_version: u64, ttl: Duration) -> Result<(), StoreError>;
    /// Deletes; returns whether something was there.
    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError>;

    /// Drops expired sessions a store would otherwise keep (the in-memory store forgets a
    /// conversation only when it is read again); returns how many. Stores whose backend
    /// expires entries by itself (Redis TTLs) do nothing. Servers call it periodically.
    async fn purge_expired(&self) -> Result<usize, StoreError> {
        Ok(0)
    }

    /// Saves like [`SessionStore::save`], carrying the fencing token of the writer's
    /// conversation lock (see [`crate::lock`]). A store that keeps tokens rejects a write whose
    /// token is older than one issued or stored for the conversation with
    /// [`StoreError::Fenced`]; the default ignores the token (the version check still holds).
    async fn save_fenced(
        &self,
        session: &Session,
        expected_version: u64,
        ttl: Duration,
        fencing_token: Option<u64>,
    ) -> Result<(), StoreError> {
        let _ = fencing_token;
        self.save(session, expected_version, ttl).await
    }

    /// Every live session of `user_id` in `tenant` (for data-subject export and erasure),
    /// sorted by conversation id. Stores that cannot list by user return
    /// [`StoreError::Unavailable`] (not retryable).
    async fn sessions_of_user(&self, tenant: &str, user_id: &str) -> Result<Vec<Session>, StoreError> {
        let _ = (tenant, user_id);
        Err(unsupported("listing sessions by user"))
    }

    /// Deletes every session of `user_id` in `tenant` and whatever index the store keeps for
    /// the user; returns how many sessions were deleted.
    async fn delete_user(&self, tenant: &str, user_id: &str) -> Result<usize, StoreError> {
        let mut n = 0;
        for s in self.sessions_of_user(tenant, user_id).await? {
            if self.delete(&s.key).await? {
                n += 1;
            }
        }
        Ok(n)
    }
}

/// The in-process default store. Expired entries are dropped when read and by
/// [`SessionStore::purge_expired`] (a server calls it periodically). Sessions are spread over
/// shards, each with its own lock: turns of different conversations rarely wait for each
/// other, and a shard that grows rehashes a fraction of the sessions, not all of them at once.
pub struct MemorySessionStore {
    shards: Vec<Mutex<Shard>>,
}

type Shard = HashMap<SessionKey, (Session, std::time::Instant)>;

const MEMORY_SHARDS: usize = 64;

impl Default for MemorySessionStore {
    fn default() -> Self {
        Self { shards: (0..MEMORY_SHARDS).map(|_| Mutex::new(HashMap::new())).collect() }
    }
}

impl MemorySessionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn shard(&self, key: &SessionKey) -> std::sync::MutexGuard<'_, Shard> {
        use std::hash::BuildHasher;
        // A fixed-key hasher: which shard a key lands in only has to be stable in-process.
        let hash = std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(key);
        let i = (hash % self.shards.len() as u64) as usize;
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    fn all_shards(&self) -> impl Iterator<Item = std::sync::MutexGuard<'_, Shard>> {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Number of stored sessions (expired ones included until purged).
    pub fn len(&self) -> usize {
        self.all_shards().map(|m| m.len()).sum()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl SessionStore for MemorySessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<Session>, StoreError> {
        let mut map = self.shard(key);
        match map.get(key) {
            Some((_, expires)) if *expires <= std::time::Instant::now() => {
                map.remove(key);
                Ok(None)
            }
            Some((session, _)) => Ok(Some(session.clone())),
            None => Ok(None),
        }
    }

    async fn save(&self, session: &Session, expected_version: u64, ttl: Duration) -> Result<(), StoreError> {
        let now = std::time::Instant::now();
        let mut map = self.shard(&session.key);
        let found = match map.get(&session.key) {
            Some((s, expires)) if *expires > now => s.version,
            _ => 0,
        };
        if found != expected_version {
            return Err(StoreError::Conflict { expected: expected_version, found });
        }
        map.insert(session.key.clone(), (session.clone(), now + ttl));
        Ok(())
    }

    async fn purge_expired(&self) -> Result<usize, StoreError> {
        let now = std::time::Instant::now();
        let mut removed = 0;
        // One shard at a time: turns on other shards go on meanwhile.
        for mut map in self.all_shards() {
            let before = map.len();
            map.retain(|_, (_, expires)| *expires > now);
            removed += before - map.len();
        }
        Ok(removed)
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let now = std::time::Instant::now();
        let removed = self.shard(key).remove(key);
        Ok(removed.is_some_and(|(_, expires)| expires > now))
    }

    async fn sessions_of_user(&self, tenant: &str, user_id: &str) -> Result<Vec<Session>, StoreError> {
        let now = std::time::Instant::now();
        let mut out: Vec<Session> = Vec::new();
        for map in self.all_shards() {
            out.extend(
                map.values()
                    .filter(|(s, expires)| *expires > now && s.key.tenant == tenant && s.user_id == user_id)
                    .map(|(s, _)| s.clone()),
            );
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn version_conflicts_are_detected() {
        let store = MemorySessionStore::new();
        let key = SessionKey::new("t", "c");
        let mut s = Session::new(key.clone(), "u", Utc::now());
        s.version = 1;
        store.save(&s, 0, Duration::from_secs(60)).await.unwrap();
        let err = store.save(&s, 0, Duration::from_secs(60)).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict { expected: 0, found: 1 }));
        s.version = 2;
        store.save(&s, 1, Duration::from_secs(60)).await.unwrap();
        assert_eq!(store.load(&key).await.unwrap().unwrap().version, 2);
    }

    #[tokio::test]
    async fn entries_expire() {
        let store = MemorySessionStore::new();
        let key = SessionKey::new("t", "c");
        let mut s = Session::new(key.clone(), "u", Utc::now());
        s.version = 1;
        store.save(&s, 0, Duration::from_millis(20)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert!(store.load(&key).await.unwrap().is_none());
        assert_eq!(store.purge_expired().await.unwrap(), 0);
        // sessions never read again are dropped by the purge, across every shard
        for i in 0..200 {
            let mut s = Session::new(SessionKey::new("t", format!("c{i}")), "u", Utc::now());
            s.version = 1;
            let ttl = if i % 2 == 0 { Duration::from_millis(20) } else { Duration::from_secs(600) };
            store.save(&s, 0, ttl).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(store.len(), 200);
        assert_eq!(store.purge_expired().await.unwrap(), 100);
        assert_eq!(store.len(), 100);
        assert!(store.load(&SessionKey::new("t", "c1")).await.unwrap().is_some());
    }

    #[test]
    fn history_stays_bounded() {
        let mut s = Session::new(SessionKey::new("t", "c"), "u", Utc::now());
        for i in 0..1000 {
            s.remember(HistoryEntry { at: Utc::now(), speaker: Speaker::User, text: i.to_string(), intent: None }, 10);
        }
        assert_eq!(s.history.len(), 10);
        assert_eq!(s.history.front().unwrap().text, "990");
    }
}
