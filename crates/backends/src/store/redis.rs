//! Sessions in Redis, shared by any number of stateless replicas.
//!
//! # Keys
//!
//! Every key of one conversation carries the same Redis Cluster hash tag `{tenant|conversation}`
//! (ids escaped so that `|`, `{`, `}` and `%` cannot break it), so the scripts below that touch
//! several of them stay in one slot:
//!
//! - `{prefix}:{tenant|conversation}:session` — a hash: `v` version, `d` the session JSON, `u`
//!   the user id, `f` the fencing token of the last fenced write; expires after the session TTL.
//! - `{prefix}:{tenant|conversation}:lock` and `…:fence` — the conversation lock and its token
//!   counter ([`crate::lock::RedisConversationLock`]).
//! - `{prefix}:{u|tenant|user}:sessions` — a set of the user's conversation ids (for
//!   data-subject export and erasure). It lives in another slot, so it is not updated by the
//!   save script: it is added to *before* the first save of a session (and refreshed every 16
//!   saves), which makes it a superset of the user's live sessions; members whose session
//!   expired are dropped when listed. It expires 20 session TTLs after its last refresh.
//!
//! A save runs a Lua script that compares the stored version with the expected one (and the
//! writer's fencing token with the newest one issued or stored) and writes only on a match, so
//! two replicas can never overwrite each other's turn; the loser reloads and recomputes.
//!
//! Connection strings: `redis://host:6379/0`, `rediss://` for TLS, `redis://:password@host`.
//! The [`redis::aio::ConnectionManager`] reconnects by itself after a restart or failover;
//! a command that fails while the connection is down is retried once.

use super::Stored;
use async_trait::async_trait;
use kefu_core::session::{Session, SessionKey, SessionStore, StoreError};
use redis::aio::ConnectionManager;
use std::time::Duration;

/// KEYS: session, fence counter. ARGV: expected version, new version, JSON, ttl ms, fencing
/// token (0 = unfenced), user id. Returns {status, number}.
const SAVE: &str = r"
local fence = tonumber(ARGV[5])
if fence > 0 then
  local stored = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
  local issued = tonumber(redis.call('GET', KEYS[2]) or '0')
  local newest = math.max(stored, issued)
  if fence < newest then return {'fenced', newest} end
end
local cur = redis.call('HGET', KEYS[1], 'v')
if cur then cur = tonumber(cur) else cur = 0 end
if cur ~= tonumber(ARGV[1]) then return {'conflict', cur} end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'd', ARGV[3], 'u', ARGV[6])
if fence > 0 then redis.call('HSET', KEYS[1], 'f', ARGV[5]) end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {'ok', 0}
";

/// KEYS: user index. ARGV: conversation id, ttl ms. Adds and extends (never shortens) the expiry.
const INDEX: &str = r"
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
";

/// KEYS: session, fence counter. Returns {deleted, user id or ''}.
const DELETE: &str = r"
local u = redis.call('HGET', KEYS[1], 'u') or ''
local n = redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[2])
return {n, u}
";

/// Index entries are refreshed on the first save of a session and every this many saves.
const INDEX_REFRESH_EVERY: u64 = 16;
/// The index outlives the sessions it lists by this many session TTLs.
const INDEX_TTL_FACTOR: u128 = 20;

/// A Redis-backed session store.
#[derive(Clone)]
pub struct RedisSessionStore {
    conn: ConnectionManager,
    prefix: String,
    save: redis::Script,
    index: redis::Script,
    delete: redis::Script,
}

/// Escapes an id for use inside a hash tag.
pub(crate) fn escape(s: &str) -> String {
    s.replace('%', "%25").replace('|', "%7C").replace('{', "%7B").replace('}', "%7D")
}

/// `{prefix}:{tenant|conversation}:{suffix}`: the keys of one conversation share a hash tag.
pub(crate) fn conversation_key(prefix: &str, k: &SessionKey, suffix: &str) -> String {
    format!("{prefix}:{{{}|{}}}:{suffix}", escape(&k.tenant), escape(&k.conversation_id))
}

fn unavailable(e: &redis::RedisError) -> StoreError {
    let retryable = e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout();
    StoreError::Unavailable { message: format!("redis: {e}"), retryable }
}

impl RedisSessionStore {
    /// Connects to `url`; keys start with `prefix` (e.g. `kefu`).
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|e| unavailable(&e))?;
        let conn = ConnectionManager::new(client).await.map_err(|e| unavailable(&e))?;
        Ok(Self::from_connection(conn, prefix))
    }

    /// A store over an existing connection (shared with a lock or a stream sink).
    pub fn from_connection(conn: ConnectionManager, prefix: &str) -> Self {
        Self {
            conn,
            prefix: prefix.to_string(),
            save: redis::Script::new(SAVE),
            index: redis::Script::new(INDEX),
            delete: redis::Script::new(DELETE),
        }
    }

    /// The connection (clone it to share).
    pub fn connection(&self) -> &ConnectionManager {
        &self.conn
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A conversation lock over the same connection and key prefix, whose fencing tokens this
    /// store checks on [`SessionStore::save_fenced`].
    pub fn conversation_lock(&self) -> crate::lock::RedisConversationLock {
        crate::lock::RedisConversationLock::from_connection(self.conn.clone(), &self.prefix)
    }

    fn key(&self, k: &SessionKey) -> String {
        conversation_key(&self.prefix, k, "session")
    }

    fn fence_key(&self, k: &SessionKey) -> String {
        conversation_key(&self.prefix, k, "fence")
    }

    /// The set of a user's conversation ids.
    pub fn user_index_key(&self, tenant: &str, user_id: &str) -> String {
        format!("{}:{{u|{}|{}}}:sessions", self.prefix, escape(tenant), escape(user_id))
    }

    async fn save_inner(
        &self,
        session: &Session,
        expected_version: u64,
        ttl: Duration,
        fence: Option<u64>,
    ) -> Result<(), StoreError> {
        let k = self.key(&session.key);
        let fk = self.fence_key(&session.key);
        let stored = Stored {
            expires_at_ms: chrono::Utc::now().timestamp_millis() + ttl.as_millis() as i64,
            session: session.clone(),
        };
        let json = serde_json::to_string(&stored).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let ttl_ms = ttl.as_millis().max(1) as u64;
        if expected_version == 0 || session.version.is_multiple_of(INDEX_REFRESH_EVERY) {
            // Before the session: the index is always a superset of the live sessions.
            let ik = self.user_index_key(&session.key.tenant, &session.user_id);
            let index_ttl = (ttl.as_millis().max(1) * INDEX_TTL_FACTOR).min(i64::MAX as u128) as u64;
            let conv = session.key.conversation_id.clone();
            let _: i64 = self
                .retry(|mut c| {
                    let (ik, conv, script) = (ik.clone(), conv.clone(), self.index.clone());
                    async move { script.key(&ik).arg(&conv).arg(index_ttl).invoke_async(&mut c).await }
                })
                .await?;
        }
        let (status, n): (String, i64) = self
            .retry(|mut c| {
                let (k, fk, json, script) = (k.clone(), fk.clone(), json.clone(), self.save.clone());
                async move {
                    script
                        .key(&k)
                        .key(&fk)
                        .arg(expected_version)
                        .arg(session.version)
                        .arg(&json)
                        .arg(ttl_ms)
                        .arg(fence.unwrap_or(0))
                        .arg(&session.user_id)
                        .invoke_async(&mut c)
                        .await
                }
            })
            .await?;
        match status.as_str() {
            "ok" => Ok(()),
            "fenced" => Err(StoreError::Fenced { token: fence.unwrap_or(0), current: n.max(0) as u64 }),
            _ => Err(StoreError::Conflict { expected: expected_version, found: n.max(0) as u64 }),
        }
    }

    /// Runs `op`, retrying once when the connection was lost (the manager reconnects).
    async fn retry<T, F, Fut>(&self, op: F) -> Result<T, StoreError>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        match op(self.conn.clone()).await {
            Ok(v) => Ok(v),
            Err(e) if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() => {
                tracing::warn!(error = %e, "redis connection lost; retrying once");
                tokio::time::sleep(Duration::from_millis(200)).await;
                op(self.conn.clone()).await.map_err(|e| unavailable(&e))
            }
            Err(e) => Err(unavailable(&e)),
        }
    }
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<Session>, StoreError> {
        let k = self.key(key);
        let data: Option<String> = self
            .retry(|mut c| {
                let k = k.clone();
                async move { redis::cmd("HGET").arg(&k).arg("d").query_async(&mut c).await }
            })
            .await?;
        match data {
            None => Ok(None),
            Some(json) => serde_json::from_str::<Stored>(&json)
                .map(|s| Some(s.session))
                .map_err(|e| StoreError::Corrupt(format!("{k}: {e}"))),
        }
    }

    async fn save(&self, session: &Session, expected_version: u64, ttl: Duration) -> Result<(), StoreError> {
        self.save_inner(session, expected_version, ttl, None).await
    }

    async fn save_fenced(
        &self,
        session: &Session,
        expected_version: u64,
        ttl: Duration,
        fencing_token: Option<u64>,
    ) -> Result<(), StoreError> {
        self.save_inner(session, expected_version, ttl, fencing_token.filter(|t| *t > 0)).await
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let (k, fk) = (self.key(key), self.fence_key(key));
        let (n, user): (i64, String) = self
            .retry(|mut c| {
                let (k, fk, script) = (k.clone(), fk.clone(), self.delete.clone());
                async move { script.key(&k).key(&fk).invoke_async(&mut c).await }
            })
            .await?;
        if !user.is_empty() {
            let ik = self.user_index_key(&key.tenant, &user);
            let conv = key.conversation_id.clone();
            let _: i64 = self
                .retry(|mut c| {
                    let (ik, conv) = (ik.clone(), conv.clone());
                    async move { redis::cmd("SREM").arg(&ik).arg(&conv).query_async(&mut c).await }
                })
                .await?;
        }
        Ok(n > 0)
    }

    async fn sessions_of_user(&self, tenant: &str, user_id: &str) -> Result<Vec<Session>, StoreError> {
        let ik = self.user_index_key(tenant, user_id);
        let members: Vec<String> = self
            .retry(|mut c| {
                let ik = ik.clone();
                async move { redis::cmd("SMEMBERS").arg(&ik).query_async(&mut c).await }
            })
            .await?;
        let mut out = Vec::new();
        let mut dangling = Vec::new();
        for conv in members {
            match self.load(&SessionKey::new(tenant, conv.clone())).await? {
                Some(s) if s.user_id == user_id => out.push(s),
                _ => dangling.push(conv),
            }
        }
        if !dangling.is_empty() {
            let _: i64 = self
                .retry(|mut c| {
                    let (ik, dangling) = (ik.clone(), dangling.clone());
                    async move { redis::cmd("SREM").arg(&ik).arg(&dangling).query_async(&mut c).await }
                })
                .await?;
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn delete_user(&self, tenant: &str, user_id: &str) -> Result<usize, StoreError> {
        let mut n = 0;
        for s in self.sessions_of_user(tenant, user_id).await? {
            if self.delete(&s.key).await? {
                n += 1;
            }
        }
        let ik = self.user_index_key(tenant, user_id);
        let _: i64 = self
            .retry(|mut c| {
                let ik = ik.clone();
                async move { redis::cmd("DEL").arg(&ik).query_async(&mut c).await }
            })
            .await?;
        Ok(n)
    }
}
