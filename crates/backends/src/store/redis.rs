//! Sessions in Redis, shared by any number of stateless replicas.
//!
//! Each conversation is one hash `{prefix}:{tenant|conversation}:session` with fields `v`
//! (version) and `d` (the session as JSON), expiring after the session TTL. A save runs a Lua
//! script that compares the stored version with the expected one and writes only on a match,
//! so two replicas can never overwrite each other's turn; the loser reloads and recomputes.
//! The braces in the key are a Redis Cluster hash tag: every key of a conversation lives in
//! one slot.
//!
//! Connection strings: `redis://host:6379/0`, `rediss://` for TLS, `redis://:password@host`.
//! The [`redis::aio::ConnectionManager`] reconnects by itself after a restart or failover;
//! a command that fails while the connection is down is retried once.

use super::Stored;
use async_trait::async_trait;
use kefu_core::session::{Session, SessionKey, SessionStore, StoreError};
use redis::aio::ConnectionManager;
use std::time::Duration;

const SAVE: &str = r"
local cur = redis.call('HGET', KEYS[1], 'v')
if cur then cur = tonumber(cur) else cur = 0 end
if cur ~= tonumber(ARGV[1]) then return cur end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'd', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return -1
";

/// A Redis-backed session store.
#[derive(Clone)]
pub struct RedisSessionStore {
    conn: ConnectionManager,
    prefix: String,
    save: redis::Script,
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
        Ok(Self { conn, prefix: prefix.to_string(), save: redis::Script::new(SAVE) })
    }

    fn key(&self, k: &SessionKey) -> String {
        let escape = |s: &str| s.replace('%', "%25").replace('|', "%7C").replace('{', "%7B").replace('}', "%7D");
        format!("{}:{{{}|{}}}:session", self.prefix, escape(&k.tenant), escape(&k.conversation_id))
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
        let k = self.key(&session.key);
        let stored = Stored {
            expires_at_ms: chrono::Utc::now().timestamp_millis() + ttl.as_millis() as i64,
            session: session.clone(),
        };
        let json = serde_json::to_string(&stored).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let ttl_ms = ttl.as_millis().max(1) as u64;
        let result: i64 = self
            .retry(|mut c| {
                let (k, json, script) = (k.clone(), json.clone(), self.save.clone());
                async move {
                    script
                        .key(&k)
                        .arg(expected_version)
                        .arg(session.version)
                        .arg(&json)
                        .arg(ttl_ms)
                        .invoke_async(&mut c)
                        .await
                }
            })
            .await?;
        if result < 0 {
            Ok(())
        } else {
            Err(StoreError::Conflict { expected: expected_version, found: result as u64 })
        }
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let k = self.key(key);
        let n: i64 = self
            .retry(|mut c| {
                let k = k.clone();
                async move { redis::cmd("DEL").arg(&k).query_async(&mut c).await }
            })
            .await?;
        Ok(n > 0)
    }
}
