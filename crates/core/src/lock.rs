//! Per-conversation locks: the engine holds one while it computes and saves a turn.
//!
//! The in-process default ([`LocalConversationLock`]) serialises the turns of a conversation
//! inside one process. Replicas sharing a session store replace it with a distributed lock
//! (`kefu_backends::lock::RedisConversationLock`): a lease with an expiry and a **fencing
//! token** — a number that grows with every acquisition of the conversation's lock. A store
//! that understands fencing ([`crate::SessionStore::save_fenced`]) rejects a write whose token
//! is older than one already issued, so a holder whose lease expired mid-turn (a long GC or
//! network pause) cannot overwrite the turn of the replica that took over.
//!
//! Correctness never rests on the lock alone: every save is also version-checked (optimistic
//! concurrency), so the lock removes wasted recomputation and the fencing token closes the gap
//! of an expired holder.

use crate::session::SessionKey;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// Errors of a conversation lock.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LockError {
    /// The lock was not obtained within the lock's wait limit.
    #[error("conversation lock for {conversation} not acquired within {waited_ms} ms")]
    Timeout {
        /// The conversation.
        conversation: String,
        /// How long the caller waited.
        waited_ms: u64,
    },
    /// The lock service is unreachable or failed.
    #[error("conversation lock unavailable: {message}")]
    Unavailable {
        /// What failed.
        message: String,
        /// Whether retrying later may succeed.
        retryable: bool,
    },
}

/// A held lock. Dropping it without [`ConversationLock::release`] frees the in-process part at
/// once; a distributed lock then expires after its time to live.
pub struct LockLease {
    /// The conversation.
    pub key: SessionKey,
    /// Grows with every acquisition of this conversation's lock (per lock authority).
    pub fencing_token: u64,
    /// Identifies this holder to the lock service (compare-and-delete on release).
    pub owner: String,
    local: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl std::fmt::Debug for LockLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockLease")
            .field("key", &self.key)
            .field("fencing_token", &self.fencing_token)
            .field("owner", &self.owner)
            .finish()
    }
}

impl LockLease {
    /// A lease (for lock implementations).
    pub fn new(key: SessionKey, fencing_token: u64, owner: impl Into<String>) -> Self {
        Self { key, fencing_token, owner: owner.into(), local: None }
    }

    /// Attaches the in-process guard of a [`LocalConversationLock`] (released with the lease).
    pub fn with_local(mut self, other: LockLease) -> Self {
        self.local = other.local;
        self
    }
}

/// Mutual exclusion per conversation, with leases that expire and fencing tokens.
#[async_trait]
pub trait ConversationLock: Send + Sync {
    /// Waits until this caller holds the conversation's lock; the lease expires after `ttl`
    /// unless extended. Fails with [`LockError::Timeout`] after the implementation's wait limit.
    async fn acquire(&self, key: &SessionKey, ttl: Duration) -> Result<LockLease, LockError>;

    /// Releases the lease (a lease that already expired, or was taken over, is left alone).
    async fn release(&self, lease: LockLease) -> Result<(), LockError>;

    /// Extends a lease still held by its owner to `ttl` from now; `false` when it was lost.
    async fn extend(&self, lease: &LockLease, ttl: Duration) -> Result<bool, LockError>;

    /// True when the fencing tokens come from an authority every replica shares (a Redis
    /// counter), so that a session store may compare the tokens of different processes. The
    /// engine passes tokens to [`crate::SessionStore::save_fenced`] only then.
    fn shared_fencing(&self) -> bool {
        false
    }
}

/// The in-process default: one async mutex per conversation (created on demand, dropped when
/// no turn holds or waits for it). Leases do not expire: the holder is in this process.
#[derive(Default)]
pub struct LocalConversationLock {
    locks: Mutex<HashMap<SessionKey, Weak<tokio::sync::Mutex<()>>>>,
    counter: AtomicU64,
}

impl LocalConversationLock {
    /// An empty lock table.
    pub fn new() -> Self {
        Self::default()
    }

    fn mutex_for(&self, key: &SessionKey) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(l) = locks.get(key).and_then(Weak::upgrade) {
            return l;
        }
        if locks.len() > 1024 {
            locks.retain(|_, w| w.strong_count() > 0);
        }
        let l = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(key.clone(), Arc::downgrade(&l));
        l
    }
}

#[async_trait]
impl ConversationLock for LocalConversationLock {
    async fn acquire(&self, key: &SessionKey, _ttl: Duration) -> Result<LockLease, LockError> {
        let guard = self.mutex_for(key).lock_owned().await;
        let token = self.counter.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(LockLease { key: key.clone(), fencing_token: token, owner: String::from("local"), local: Some(guard) })
    }

    async fn release(&self, lease: LockLease) -> Result<(), LockError> {
        drop(lease);
        Ok(())
    }

    async fn extend(&self, lease: &LockLease, _ttl: Duration) -> Result<bool, LockError> {
        Ok(lease.local.is_some())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_lock_excludes_and_tokens_grow() {
        let lock = Arc::new(LocalConversationLock::new());
        let key = SessionKey::new("t", "c");
        let a = lock.acquire(&key, Duration::from_secs(1)).await.unwrap();
        let other = lock.acquire(&SessionKey::new("t", "d"), Duration::from_secs(1)).await.unwrap();
        let (l2, k2) = (lock.clone(), key.clone());
        let waiter = tokio::spawn(async move { l2.acquire(&k2, Duration::from_secs(1)).await.unwrap().fencing_token });
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(!waiter.is_finished(), "a second holder waits");
        let first = a.fencing_token;
        lock.release(a).await.unwrap();
        assert!(waiter.await.unwrap() > first.max(other.fencing_token));
    }
}
