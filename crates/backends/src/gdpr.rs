//! Data-subject requests: export everything kept about a user, and erase it everywhere.
//!
//! [`DataSubjectRequests`] walks every configured place that holds conversations:
//!
//! - **session stores** (hot state: slots, bounded history) — through
//!   [`SessionStore::sessions_of_user`] / [`SessionStore::delete_user`], implemented by the
//!   memory, embedded and Redis stores (Redis keeps a per-user index of conversation ids, which
//!   erasure removes too);
//! - **the transcript archive** (feature `archive`) — every object with an event of the user
//!   ([`crate::archive::TranscriptArchive::transcripts_of_user`] / `delete_user`);
//! - **an archiver's buffer** (feature `archive`) — events not yet archived;
//! - **analytics rollups** — nothing to do: an [`crate::analytics::HourlyRollup`] holds
//!   per-tenant counts, rates and latency percentiles per hour, with no user id, conversation
//!   id or text, so it is not personal data. Rollups recomputed from the archive after an
//!   erasure no longer count the user.
//!
//! Event streams (Redis Streams, Kafka) are bounded logs with retention: the user's events
//! disappear from them as they are trimmed; they are not rewritten.
//!
//! Erasure order: the archiver's buffer first (so a sweep cannot archive the user again), then
//! the session stores, then the archive. Each step is idempotent: after a failure, run the whole
//! erasure again.

use kefu_core::event::EventEnvelope;
use kefu_core::session::{Session, SessionStore, StoreError};
use serde::Serialize;
use std::sync::Arc;

/// What analytics keep about a user (stated in exports and erasure reports).
pub const ANALYTICS_NOTE: &str = "hourly analytics rollups are per-tenant aggregates (counts, rates, latency \
percentiles) without user ids, conversation ids or text: they hold no personal data and are not changed";

/// Errors of an export or erasure.
#[derive(Debug, thiserror::Error)]
pub enum GdprError {
    /// A session store failed.
    #[error("session store `{store}`: {source}")]
    Store {
        /// The store's name.
        store: String,
        /// The failure.
        source: StoreError,
    },
    /// The archive failed.
    #[cfg(feature = "archive")]
    #[error(transparent)]
    Archive(#[from] crate::archive::ArchiveError),
}

/// The sessions of one store.
#[derive(Clone, Debug, Serialize)]
pub struct StoreSessions {
    /// The store's name.
    pub store: String,
    /// The user's live sessions.
    pub sessions: Vec<Session>,
}

/// One archived object of the user.
#[derive(Clone, Debug, Serialize)]
pub struct ArchivedTranscript {
    /// The object key.
    pub key: String,
    /// Its events (as archived: redacted if the archive redacts).
    pub events: Vec<EventEnvelope>,
}

/// Everything kept about a user, as JSON.
#[derive(Clone, Debug, Serialize)]
pub struct UserExport {
    /// Tenant.
    pub tenant: String,
    /// The user.
    pub user_id: String,
    /// When the export was made.
    pub exported_at: chrono::DateTime<chrono::Utc>,
    /// Live sessions, per store.
    pub sessions: Vec<StoreSessions>,
    /// Archived transcripts mentioning the user.
    pub archive: Vec<ArchivedTranscript>,
    /// Events buffered by an archiver, not archived yet.
    pub pending_events: Vec<EventEnvelope>,
    /// What analytics keep.
    pub analytics: String,
}

/// What an erasure removed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DeletionReport {
    /// Tenant.
    pub tenant: String,
    /// The user.
    pub user_id: String,
    /// Sessions deleted, per store.
    pub sessions_deleted: Vec<(String, usize)>,
    /// Archived objects deleted.
    pub archive_objects_deleted: usize,
    /// Buffered conversations dropped from the archiver.
    pub pending_conversations_dropped: usize,
    /// What analytics keep.
    pub analytics: String,
}

/// The places to export from and erase in.
#[derive(Default)]
pub struct DataSubjectRequests {
    stores: Vec<(String, Arc<dyn SessionStore>)>,
    #[cfg(feature = "archive")]
    archive: Option<Arc<crate::archive::TranscriptArchive>>,
    #[cfg(feature = "archive")]
    archiver: Option<Arc<crate::archive::Archiver>>,
}

impl DataSubjectRequests {
    /// Nothing configured yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a session store, named in reports.
    pub fn session_store(mut self, name: impl Into<String>, store: Arc<dyn SessionStore>) -> Self {
        self.stores.push((name.into(), store));
        self
    }

    /// Adds the transcript archive.
    #[cfg(feature = "archive")]
    pub fn archive(mut self, archive: Arc<crate::archive::TranscriptArchive>) -> Self {
        self.archive = Some(archive);
        self
    }

    /// Adds a running archiver (its buffered events).
    #[cfg(feature = "archive")]
    pub fn archiver(mut self, archiver: Arc<crate::archive::Archiver>) -> Self {
        self.archiver = Some(archiver);
        self
    }

    /// Everything kept about `user_id` in `tenant`.
    pub async fn export_user(&self, tenant: &str, user_id: &str) -> Result<UserExport, GdprError> {
        let mut sessions = Vec::new();
        for (name, store) in &self.stores {
            let found = store
                .sessions_of_user(tenant, user_id)
                .await
                .map_err(|source| GdprError::Store { store: name.clone(), source })?;
            sessions.push(StoreSessions { store: name.clone(), sessions: found });
        }
        #[allow(unused_mut)]
        let mut export = UserExport {
            tenant: tenant.to_string(),
            user_id: user_id.to_string(),
            exported_at: chrono::Utc::now(),
            sessions,
            archive: Vec::new(),
            pending_events: Vec::new(),
            analytics: ANALYTICS_NOTE.to_string(),
        };
        #[cfg(feature = "archive")]
        {
            if let Some(archive) = &self.archive {
                export.archive = archive
                    .transcripts_of_user(tenant, user_id)
                    .await?
                    .into_iter()
                    .map(|t| ArchivedTranscript { key: t.key.path(), events: t.events })
                    .collect();
            }
            if let Some(archiver) = &self.archiver {
                export.pending_events = archiver.buffered_events_of_user(tenant, user_id);
            }
        }
        Ok(export)
    }

    /// Erases `user_id` in `tenant` everywhere configured.
    pub async fn delete_user(&self, tenant: &str, user_id: &str) -> Result<DeletionReport, GdprError> {
        let mut report = DeletionReport {
            tenant: tenant.to_string(),
            user_id: user_id.to_string(),
            analytics: ANALYTICS_NOTE.to_string(),
            ..Default::default()
        };
        #[cfg(feature = "archive")]
        if let Some(archiver) = &self.archiver {
            report.pending_conversations_dropped = archiver.forget_user(tenant, user_id);
        }
        for (name, store) in &self.stores {
            let n = store
                .delete_user(tenant, user_id)
                .await
                .map_err(|source| GdprError::Store { store: name.clone(), source })?;
            report.sessions_deleted.push((name.clone(), n));
        }
        #[cfg(feature = "archive")]
        if let Some(archive) = &self.archive {
            report.archive_objects_deleted = archive.delete_user(tenant, user_id).await?;
        }
        tracing::info!(tenant, sessions = ?report.sessions_deleted, archived = report.archive_objects_deleted, "erased a data subject");
        Ok(report)
    }
}
