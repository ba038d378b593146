//! A distributed per-conversation lock in Redis, with expiry and fencing tokens.
//!
//! - **Acquire**: one Lua script does `SET {prefix}:{tenant|conv}:lock <owner> NX PX <ttl>` and,
//!   when that succeeded, `INCR {prefix}:{tenant|conv}:fence` — the fencing token, raised above
//!   the token last stored with the session if the counter was lost — so the lock and its token
//!   are taken atomically. A taken lock is retried with a growing pause (2 ms … 50 ms) up to
//!   `max_wait` (default 10 s), then [`LockError::Timeout`].
//! - **Release / extend**: Lua compare-and-delete / compare-and-expire on the owner string, so a
//!   holder whose lease expired never frees (or prolongs) the lease of the next holder.
//! - **Fencing**: [`crate::store::redis::RedisSessionStore`] with the same prefix rejects a fenced
//!   save whose token is older than the newest token issued or stored for the conversation
//!   ([`StoreError::Fenced`](kefu_core::StoreError::Fenced)), in its save script. A replica paused
//!   past its lease therefore cannot write over the turn of the replica that took over.
//!
//! In-process contenders for the same conversation first queue on a local mutex, so only one
//! task per process polls Redis for a conversation.
//!
//! All keys of a conversation share the hash tag `{tenant|conv}` with its session, so the scripts
//! run in one slot of a Redis Cluster.

use crate::store::redis::conversation_key;
use async_trait::async_trait;
use kefu_core::lock::{ConversationLock, LocalConversationLock, LockError, LockLease};
use kefu_core::SessionKey;
use redis::aio::ConnectionManager;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// KEYS: lock, fence counter, session. ARGV: owner, ttl ms, counter ttl ms. Returns the token,
/// or 0 when the lock is taken.
const ACQUIRE: &str = r"
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
local token = redis.call('INCR', KEYS[2])
local stored = tonumber(redis.call('HGET', KEYS[3], 'f') or '0')
if token <= stored then
  token = stored + 1
  redis.call('SET', KEYS[2], token)
end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return token
";

/// KEYS: lock. ARGV: owner.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// KEYS: lock. ARGV: owner, ttl ms.
const EXTEND: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
";

/// How long the token counter of an idle conversation is kept (refreshed on every acquisition).
pub const DEFAULT_FENCE_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// The Redis conversation lock (feature `redis`).
pub struct RedisConversationLock {
    conn: ConnectionManager,
    prefix: String,
    owner_base: String,
    counter: AtomicU64,
    local: LocalConversationLock,
    max_wait: Duration,
    fence_ttl: Duration,
    acquire: redis::Script,
    release: redis::Script,
    extend: redis::Script,
}

fn unavailable(e: &redis::RedisError) -> LockError {
    let retryable = e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout();
    LockError::Unavailable { message: format!("redis: {e}"), retryable }
}

impl RedisConversationLock {
    /// Connects to `url`; `prefix` must be the session store's so that its saves check tokens.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, LockError> {
        let client = redis::Client::open(url).map_err(|e| unavailable(&e))?;
        let conn = ConnectionManager::new(client).await.map_err(|e| unavailable(&e))?;
        Ok(Self::from_connection(conn, prefix))
    }

    /// A lock over an existing connection.
    pub fn from_connection(conn: ConnectionManager, prefix: &str) -> Self {
        // 64 random bits (the standard library's per-process hash seed), the process id and
        // the time: distinct across replicas even where every container's process id is 1.
        let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        Self {
            conn,
            prefix: prefix.to_string(),
            owner_base: format!("{random:016x}-{}-{nanos:x}", std::process::id()),
            counter: AtomicU64::new(0),
            local: LocalConversationLock::new(),
            max_wait: Duration::from_secs(10),
            fence_ttl: DEFAULT_FENCE_TTL,
            acquire: redis::Script::new(ACQUIRE),
            release: redis::Script::new(RELEASE),
            extend: redis::Script::new(EXTEND),
        }
    }

    /// How long `acquire` waits for a taken lock before [`LockError::Timeout`] (default 10 s).
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// How long an idle conversation's token counter is kept (default 7 days).
    pub fn fence_ttl(mut self, ttl: Duration) -> Self {
        self.fence_ttl = ttl;
        self
    }

    fn lock_key(&self, key: &SessionKey) -> String {
        conversation_key(&self.prefix, key, "lock")
    }

    async fn try_acquire(&self, key: &SessionKey, owner: &str, ttl: Duration) -> Result<u64, LockError> {
        let mut conn = self.conn.clone();
        let token: i64 = self
            .acquire
            .key(self.lock_key(key))
            .key(conversation_key(&self.prefix, key, "fence"))
            .key(conversation_key(&self.prefix, key, "session"))
            .arg(owner)
            .arg(ttl.as_millis().max(1) as u64)
            .arg(self.fence_ttl.as_millis().max(1) as u64)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(token.max(0) as u64)
    }
}

#[async_trait]
impl ConversationLock for RedisConversationLock {
    async fn acquire(&self, key: &SessionKey, ttl: Duration) -> Result<LockLease, LockError> {
        let started = Instant::now();
        let local = tokio::time::timeout(self.max_wait, self.local.acquire(key, ttl)).await.map_err(|_| {
            LockError::Timeout {
                conversation: key.conversation_id.clone(),
                waited_ms: self.max_wait.as_millis() as u64,
            }
        })??;
        let owner = format!("{}-{}", self.owner_base, self.counter.fetch_add(1, Ordering::Relaxed));
        let mut pause = Duration::from_millis(2);
        loop {
            let token = self.try_acquire(key, &owner, ttl).await?;
            if token > 0 {
                return Ok(LockLease::new(key.clone(), token, owner).with_local(local));
            }
            if started.elapsed() + pause > self.max_wait {
                return Err(LockError::Timeout {
                    conversation: key.conversation_id.clone(),
                    waited_ms: started.elapsed().as_millis() as u64,
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    async fn release(&self, lease: LockLease) -> Result<(), LockError> {
        let mut conn = self.conn.clone();
        let released: i64 = self
            .release
            .key(self.lock_key(&lease.key))
            .arg(&lease.owner)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| unavailable(&e))?;
        if released == 0 {
            tracing::warn!(conversation = %lease.key.conversation_id, token = lease.fencing_token, "conversation lock had expired before release");
        }
        Ok(())
    }

    async fn extend(&self, lease: &LockLease, ttl: Duration) -> Result<bool, LockError> {
        let mut conn = self.conn.clone();
        let n: i64 = self
            .extend
            .key(self.lock_key(&lease.key))
            .arg(&lease.owner)
            .arg(ttl.as_millis().max(1) as u64)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(n == 1)
    }

    fn shared_fencing(&self) -> bool {
        true
    }
}
