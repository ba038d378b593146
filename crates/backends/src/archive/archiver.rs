//! Moves idle or finished conversations from the hot session store to the archive.
//!
//! The [`Archiver`] is an [`EventSink`]: give it to the engine (alone or in a
//! `FanoutEventSink` next to the stream sink) and it keeps each live conversation's events in
//! memory. [`Archiver::sweep`] — run it every minute with [`Archiver::spawn`] — archives every
//! conversation whose last event is older than `idle_after` and deletes its session from the
//! hot store; [`Archiver::finish`] does the same at once for a conversation the channel closed.
//!
//! Both take the conversation lock (the engine's, so give both the same instance) and re-read
//! the session under it: a conversation that another replica moved on since its last event
//! here is left alone. A failed archive write keeps the events and the session for the next
//! sweep; the session is deleted only after its transcript is stored.
//!
//! The buffer is per process: events of a replica that crashes before its sweep are not
//! archived from here (they are still in the event stream, and the session expires by its TTL).
//! A conversation id reused after its session was archived restarts at turn 1; archived the
//! same UTC day, its object key repeats and replaces the earlier part — channels should mint a
//! new conversation id per chat.

use super::{ArchiveError, ArchiveKey, TranscriptArchive};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_core::event::{EventEnvelope, EventSink, SinkError};
use kefu_core::lock::{ConversationLock, LockError};
use kefu_core::session::{SessionKey, SessionStore, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Errors of the archiver.
#[derive(Debug, thiserror::Error)]
pub enum ArchiverError {
    /// Writing the transcript failed (events and session are kept).
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// The session store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The conversation lock could not be taken.
    #[error(transparent)]
    Lock(#[from] LockError),
}

/// What one sweep did.
#[derive(Debug, Default)]
pub struct SweepReport {
    /// Objects written.
    pub archived: Vec<ArchiveKey>,
    /// Sessions deleted from the hot store.
    pub sessions_removed: usize,
    /// Conversations idle here but active in the store (another replica's turns): kept.
    pub still_active: usize,
    /// Conversations that could not be archived (kept for the next sweep).
    pub failed: Vec<(SessionKey, String)>,
}

/// Buffers events per conversation and moves idle conversations to the archive.
pub struct Archiver {
    archive: Arc<TranscriptArchive>,
    store: Arc<dyn SessionStore>,
    lock: Arc<dyn ConversationLock>,
    idle_after: Duration,
    lock_ttl: Duration,
    buffers: Mutex<HashMap<SessionKey, Vec<EventEnvelope>>>,
}

impl std::fmt::Debug for Archiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archiver").field("archive", &self.archive).field("idle_after", &self.idle_after).finish()
    }
}

enum Outcome {
    Archived(ArchiveKey, bool),
    StillActive,
    Nothing,
}

impl Archiver {
    /// An archiver writing to `archive`, removing sessions from `store` (the engine's), taking
    /// `lock` (the engine's) around each move; conversations idle for `idle_after` are moved.
    pub fn new(
        archive: Arc<TranscriptArchive>,
        store: Arc<dyn SessionStore>,
        lock: Arc<dyn ConversationLock>,
        idle_after: Duration,
    ) -> Self {
        Self {
            archive,
            store,
            lock,
            idle_after,
            lock_ttl: kefu_core::engine::DEFAULT_LOCK_TTL,
            buffers: Mutex::new(HashMap::new()),
        }
    }

    fn buffers(&self) -> std::sync::MutexGuard<'_, HashMap<SessionKey, Vec<EventEnvelope>>> {
        self.buffers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Conversations with buffered events.
    pub fn buffered(&self) -> usize {
        self.buffers().len()
    }

    /// Archives every conversation idle since `now - idle_after` and removes its session.
    pub async fn sweep(&self, now: DateTime<Utc>) -> SweepReport {
        let cutoff = chrono::Duration::from_std(self.idle_after)
            .ok()
            .and_then(|d| now.checked_sub_signed(d))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let idle: Vec<SessionKey> = self
            .buffers()
            .iter()
            .filter(|(_, events)| events.iter().map(|e| e.timestamp).max().is_some_and(|t| t <= cutoff))
            .map(|(k, _)| k.clone())
            .collect();
        let mut report = SweepReport::default();
        for key in idle {
            match self.move_conversation(&key, Some(cutoff)).await {
                Ok(Outcome::Archived(k, removed)) => {
                    report.archived.push(k);
                    report.sessions_removed += usize::from(removed);
                }
                Ok(Outcome::StillActive) => report.still_active += 1,
                Ok(Outcome::Nothing) => {}
                Err(e) => {
                    tracing::warn!(target: "kefu::archive", conversation = %key.conversation_id, error = %e, "conversation not archived; retrying next sweep");
                    report.failed.push((key, e.to_string()));
                }
            }
        }
        report
    }

    /// Archives a conversation now (the channel closed it) and removes its session; `None`
    /// when no event of it is buffered here.
    pub async fn finish(&self, key: &SessionKey) -> Result<Option<ArchiveKey>, ArchiverError> {
        match self.move_conversation(key, None).await? {
            Outcome::Archived(k, _) => Ok(Some(k)),
            Outcome::StillActive | Outcome::Nothing => Ok(None),
        }
    }

    /// Archives every buffered conversation without touching the sessions (at shutdown: the
    /// conversations may go on on another replica; a later part gets its own object).
    pub async fn flush(&self) -> Result<Vec<ArchiveKey>, ArchiverError> {
        let all: Vec<(SessionKey, Vec<EventEnvelope>)> = self.buffers().drain().collect();
        let mut written = Vec::new();
        let mut first_err = None;
        for (key, events) in all {
            match self.archive.archive(&events).await {
                Ok(k) => written.push(k),
                Err(e) => {
                    self.restore(&key, events);
                    first_err.get_or_insert(e);
                }
            }
        }
        match first_err {
            Some(e) => Err(e.into()),
            None => Ok(written),
        }
    }

    /// Drops the buffered events of `user_id` in `tenant` (erasure); returns how many
    /// conversations were dropped.
    pub fn forget_user(&self, tenant: &str, user_id: &str) -> usize {
        let mut buffers = self.buffers();
        let before = buffers.len();
        buffers.retain(|k, events| !(k.tenant == tenant && events.iter().any(|e| e.user_id == user_id)));
        before - buffers.len()
    }

    /// The buffered events of `user_id` in `tenant` (for export).
    pub fn buffered_events_of_user(&self, tenant: &str, user_id: &str) -> Vec<EventEnvelope> {
        let buffers = self.buffers();
        let mut out: Vec<EventEnvelope> = buffers
            .iter()
            .filter(|(k, events)| k.tenant == tenant && events.iter().any(|e| e.user_id == user_id))
            .flat_map(|(_, events)| events.iter().cloned())
            .collect();
        out.sort_by(|a, b| (&a.conversation_id, a.turn).cmp(&(&b.conversation_id, b.turn)));
        out
    }

    /// Runs [`Archiver::sweep`] every `every` until the handle is aborted.
    pub fn spawn(self: Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let r = self.sweep(Utc::now()).await;
                if !r.archived.is_empty() || !r.failed.is_empty() {
                    tracing::info!(target: "kefu::archive", archived = r.archived.len(), removed = r.sessions_removed, failed = r.failed.len(), "archive sweep");
                }
            }
        })
    }

    fn restore(&self, key: &SessionKey, mut events: Vec<EventEnvelope>) {
        let mut buffers = self.buffers();
        let entry = buffers.entry(key.clone()).or_default();
        events.append(entry);
        *entry = events;
    }

    /// Under the conversation lock: checks idleness against the store (when `cutoff` is
    /// given), archives the buffered events, then deletes the session.
    async fn move_conversation(
        &self,
        key: &SessionKey,
        cutoff: Option<DateTime<Utc>>,
    ) -> Result<Outcome, ArchiverError> {
        let lease = self.lock.acquire(key, self.lock_ttl).await?;
        let result = self.move_locked(key, cutoff).await;
        if let Err(e) = self.lock.release(lease).await {
            tracing::warn!(target: "kefu::archive", error = %e, "conversation lock not released");
        }
        result
    }

    async fn move_locked(&self, key: &SessionKey, cutoff: Option<DateTime<Utc>>) -> Result<Outcome, ArchiverError> {
        let session = self.store.load(key).await?;
        if let (Some(cutoff), Some(s)) = (cutoff, &session) {
            if s.last_active_at > cutoff {
                return Ok(Outcome::StillActive);
            }
        }
        let Some(events) = self.buffers().remove(key) else { return Ok(Outcome::Nothing) };
        let written = match self.archive.archive(&events).await {
            Ok(k) => k,
            Err(e) => {
                self.restore(key, events);
                return Err(e.into());
            }
        };
        let removed = match &session {
            Some(_) => self.store.delete(key).await?,
            None => false,
        };
        tracing::debug!(target: "kefu::archive", key = %written, removed, "conversation moved to the archive");
        Ok(Outcome::Archived(written, removed))
    }
}

#[async_trait]
impl EventSink for Archiver {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), SinkError> {
        let mut buffers = self.buffers();
        for e in events {
            buffers.entry(SessionKey::new(e.tenant.clone(), e.conversation_id.clone())).or_default().push(e.clone());
        }
        Ok(())
    }
}
