//! Transcript archive: finished or idle conversations as compressed JSON Lines in object storage.
//!
//! # Record format
//!
//! One archived object holds one conversation (or a contiguous range of its turns). After
//! decompression it is UTF-8 JSON Lines, **one [`kefu_core::EventEnvelope`] per line**, exactly
//! as the engine emits them and as `JsonlEventSink` / `kefu chat --events` write them (so a
//! decompressed object can be fed to `kefu analytics --events`), ordered by turn and, within
//! a turn, in emission order. Every line carries `tenant`, `conversation_id`, `user_id`,
//! `channel`, `turn`, `timestamp` and its stable event `id`; there is no separate header line:
//! the key names the conversation and its turn range, and [`Transcript`] derives the rest.
//!
//! With redaction on (the default), every free-text string of every line (user and bot text,
//! slot values, entity texts and values, error messages…) goes through [`redact::redact_json`]
//! first; identifiers (`id`, `tenant`, `conversation_id`, `user_id`, `channel`), names (intent,
//! slot, flow, action, entity kind) and timestamps are kept, so the archive can still be
//! searched and a user's objects found for deletion. Use opaque user ids, not phone numbers.
//!
//! # Object layout
//!
//! `tenant=<tenant>/date=<YYYY-MM-DD>/<conversation>-<first turn>-<last turn>.jsonl.gz`
//! (see [`layout`] for the escaping of ids), under the archive root (a local folder or an
//! S3 bucket). The date is the UTC date of the first archived event. The Hive-style
//! `key=value` segments let query engines (Athena, DuckDB, Spark) prune by tenant and date.
//! Archiving the same turns again overwrites the same object (idempotent).
//!
//! # Compression: gzip
//!
//! gzip (flate2 with its pure-Rust miniz_oxide backend) rather than zstd: no C library in the
//! build (the SDK targets phones), flate2 is already in the workspace's dependency graph, and
//! `.jsonl.gz` is read natively by `zcat`, Athena, BigQuery, DuckDB and Spark. Chat transcripts
//! are small; zstd's better ratio and speed matter little at this size.
//!
//! # Encryption
//!
//! Optional AES-256-GCM on top of the gzip stream, see [`crypto`] for the header. With a key
//! configured, unencrypted objects are refused when read back (they could have been
//! substituted); without one, encrypted objects fail with [`ArchiveError::KeyRequired`].

pub mod archiver;
pub mod config;
pub mod crypto;
pub mod layout;
pub mod redact;

pub use archiver::{Archiver, ArchiverError, SweepReport};
pub use config::{ArchiveConfig, StoreConfig};
pub use crypto::EncryptionKey;
pub use layout::ArchiveKey;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::{StreamExt, TryStreamExt};
use kefu_core::EventEnvelope;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::ops::RangeBounds;
use std::sync::Arc;

/// Largest decompressed object accepted when reading (guards against decompression bombs).
pub const MAX_OBJECT_BYTES: u64 = 256 * 1024 * 1024;

/// Objects read concurrently by [`TranscriptArchive::delete_user`] and friends.
const READ_CONCURRENCY: usize = 8;

/// Errors of the transcript archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The configuration is invalid.
    #[error("invalid archive configuration: {0}")]
    Config(String),
    /// The environment variable that should hold a key or secret is not set.
    #[error("environment variable `{var}` (archive encryption key or store secret) is not set")]
    MissingKey {
        /// The variable's name.
        var: String,
    },
    /// The encryption key is not base64.
    #[error("archive encryption key in `{var}` is not valid base64")]
    KeyEncoding {
        /// The variable's name.
        var: String,
    },
    /// The encryption key does not decode to 32 bytes.
    #[error("archive encryption key in `{var}` must be 32 bytes (AES-256), got {len}")]
    KeyLength {
        /// The variable's name.
        var: String,
        /// Decoded length.
        len: usize,
    },
    /// The object store failed or is unreachable.
    #[error("archive store unavailable: {0}")]
    Unavailable(String),
    /// No object at this key.
    #[error("archived object not found: {0}")]
    NotFound(String),
    /// An object could not be decoded (bad header, gzip or JSON, foreign file).
    #[error("archived object `{key}` is corrupt: {reason}")]
    Corrupt {
        /// The object's key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// Authentication failed: wrong key, or the object was tampered with or moved.
    #[error("cannot decrypt archived object `{key}`: wrong key or tampered object")]
    Decrypt {
        /// The object's key.
        key: String,
    },
    /// The object is encrypted but the archive has no key.
    #[error("archived object `{key}` is encrypted and no encryption key is configured")]
    KeyRequired {
        /// The object's key.
        key: String,
    },
    /// The events given to [`TranscriptArchive::archive`] cannot form one transcript.
    #[error("cannot archive these events: {0}")]
    InvalidEvents(String),
}

/// One archived object as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchivedObject {
    /// Its key.
    pub key: ArchiveKey,
    /// Stored size in bytes (compressed, encrypted).
    pub size: u64,
    /// When it was written.
    pub last_modified: DateTime<Utc>,
}

/// One archived object read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Transcript {
    /// Its key.
    pub key: ArchiveKey,
    /// The events, in order (redacted if the archive redacts).
    pub events: Vec<EventEnvelope>,
}

impl Transcript {
    /// The users appearing in the transcript (normally one).
    pub fn user_ids(&self) -> BTreeSet<&str> {
        self.events.iter().map(|e| e.user_id.as_str()).collect()
    }
}

/// Writes and reads conversation transcripts in an object store.
pub struct TranscriptArchive {
    store: Arc<dyn ObjectStore>,
    redact: bool,
    key: Option<EncryptionKey>,
}

impl std::fmt::Debug for TranscriptArchive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TranscriptArchive")
            .field("store", &self.store.to_string())
            .field("redact", &self.redact)
            .field("encrypted", &self.key.is_some())
            .finish()
    }
}

fn store_error(e: object_store::Error) -> ArchiveError {
    match e {
        object_store::Error::NotFound { path, .. } => ArchiveError::NotFound(path),
        other => ArchiveError::Unavailable(other.to_string()),
    }
}

impl TranscriptArchive {
    /// Opens the archive described by `config`, reading secrets from the process environment.
    pub fn open(config: &ArchiveConfig) -> Result<Self, ArchiveError> {
        Self::open_with_env(config, |k| std::env::var(k).ok())
    }

    /// Opens the archive, looking secrets (encryption key, S3 secret) up with `env`.
    pub fn open_with_env(config: &ArchiveConfig, env: impl Fn(&str) -> Option<String>) -> Result<Self, ArchiveError> {
        config.validate()?;
        let key = match &config.encryption_key_env {
            Some(var) => Some(EncryptionKey::from_env_var(var, &env)?),
            None => None,
        };
        let store: Arc<dyn ObjectStore> = match &config.store {
            StoreConfig::Local { path } => {
                std::fs::create_dir_all(path)
                    .map_err(|e| ArchiveError::Unavailable(format!("{}: {e}", path.display())))?;
                let fs = object_store::local::LocalFileSystem::new_with_prefix(path)
                    .map_err(|e| ArchiveError::Unavailable(e.to_string()))?
                    .with_automatic_cleanup(true);
                Arc::new(fs)
            }
            StoreConfig::S3 {
                endpoint,
                bucket,
                region,
                access_key_id,
                secret_access_key_env,
                allow_http,
                max_retries,
            } => {
                use object_store::aws::AmazonS3Builder;
                let mut b = match access_key_id {
                    Some(id) => {
                        let var = secret_access_key_env.as_deref().unwrap_or_default();
                        let secret = env(var)
                            .filter(|s| !s.is_empty())
                            .ok_or_else(|| ArchiveError::MissingKey { var: var.to_string() })?;
                        AmazonS3Builder::new().with_access_key_id(id).with_secret_access_key(secret)
                    }
                    None => AmazonS3Builder::from_env(),
                };
                b = b.with_bucket_name(bucket).with_region(region).with_allow_http(*allow_http).with_retry(
                    object_store::RetryConfig {
                        max_retries: *max_retries,
                        retry_timeout: std::time::Duration::from_secs(30),
                        ..Default::default()
                    },
                );
                if let Some(e) = endpoint {
                    b = b.with_endpoint(e);
                }
                Arc::new(b.build().map_err(|e| ArchiveError::Config(e.to_string()))?)
            }
        };
        Ok(Self { store, redact: config.redact, key })
    }

    /// An archive over any object store (for embedders with their own store, and tests).
    pub fn with_store(store: Arc<dyn ObjectStore>, redact: bool, key: Option<EncryptionKey>) -> Self {
        Self { store, redact, key }
    }

    /// The underlying object store.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Archives one conversation's events (all of one tenant and conversation, in any order;
    /// they are sorted by turn, keeping emission order within a turn). Returns the key written.
    pub async fn archive(&self, events: &[EventEnvelope]) -> Result<ArchiveKey, ArchiveError> {
        let (key, body) = self.encode(events)?;
        let path = ObjectPath::from(key.path());
        // Any failure to write (a missing bucket included) means the store is unusable.
        self.store.put(&path, PutPayload::from(body)).await.map_err(|e| ArchiveError::Unavailable(e.to_string()))?;
        tracing::debug!(target: "kefu::archive", key = %key, events = events.len(), "archived transcript");
        Ok(key)
    }

    /// Builds the key and the stored bytes (redacted, gzip, optionally encrypted).
    fn encode(&self, events: &[EventEnvelope]) -> Result<(ArchiveKey, Vec<u8>), ArchiveError> {
        let first = events.first().ok_or_else(|| ArchiveError::InvalidEvents("no events".into()))?;
        if let Some(e) = events.iter().find(|e| e.tenant != first.tenant || e.conversation_id != first.conversation_id)
        {
            return Err(ArchiveError::InvalidEvents(format!(
                "events of several conversations ({}/{} and {}/{})",
                first.tenant, first.conversation_id, e.tenant, e.conversation_id
            )));
        }
        let mut ordered: Vec<&EventEnvelope> = events.iter().collect();
        ordered.sort_by_key(|e| e.turn); // stable: emission order within a turn
        let key = ArchiveKey {
            tenant: first.tenant.clone(),
            date: ordered.iter().map(|e| e.timestamp).min().unwrap_or(first.timestamp).date_naive(),
            conversation_id: first.conversation_id.clone(),
            first_turn: ordered.first().map_or(0, |e| e.turn),
            last_turn: ordered.last().map_or(0, |e| e.turn),
        };
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        for e in ordered {
            let mut v = serde_json::to_value(e).map_err(|err| ArchiveError::InvalidEvents(err.to_string()))?;
            if self.redact {
                redact::redact_json(&mut v);
            }
            let line = serde_json::to_vec(&v).map_err(|err| ArchiveError::InvalidEvents(err.to_string()))?;
            gz.write_all(&line)
                .and_then(|()| gz.write_all(b"\n"))
                .map_err(|err| ArchiveError::InvalidEvents(err.to_string()))?;
        }
        let zipped = gz.finish().map_err(|err| ArchiveError::InvalidEvents(err.to_string()))?;
        let body = match &self.key {
            Some(k) => k.seal(&zipped, &key.path())?,
            None => zipped,
        };
        Ok((key, body))
    }

    /// Reads one archived object back (decrypting and decompressing it).
    pub async fn read(&self, key: &ArchiveKey) -> Result<Transcript, ArchiveError> {
        let path = key.path();
        let bytes = self
            .store
            .get(&ObjectPath::from(path.as_str()))
            .await
            .map_err(store_error)?
            .bytes()
            .await
            .map_err(store_error)?;
        let events = self.decode(&bytes, &path)?;
        Ok(Transcript { key: key.clone(), events })
    }

    fn decode(&self, bytes: &[u8], path: &str) -> Result<Vec<EventEnvelope>, ArchiveError> {
        let corrupt = |reason: String| ArchiveError::Corrupt { key: path.to_string(), reason };
        let plain;
        let zipped: &[u8] = match (&self.key, crypto::is_encrypted(bytes)) {
            (Some(k), true) => {
                plain = k.open(bytes, path)?;
                &plain
            }
            (None, true) => return Err(ArchiveError::KeyRequired { key: path.to_string() }),
            (Some(_), false) => return Err(corrupt("not encrypted, but this archive encrypts every object".into())),
            (None, false) => bytes,
        };
        if !zipped.starts_with(&[0x1f, 0x8b]) {
            return Err(corrupt("not a gzip stream".into()));
        }
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(zipped)
            .take(MAX_OBJECT_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| corrupt(format!("gzip: {e}")))?;
        if text.len() as u64 > MAX_OBJECT_BYTES {
            return Err(corrupt(format!("larger than {MAX_OBJECT_BYTES} bytes decompressed")));
        }
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| serde_json::from_str(l).map_err(|e| corrupt(format!("line {}: {e}", i + 1))))
            .collect()
    }

    /// Every part of a conversation archived under `date`, ordered by first turn (empty when
    /// there is none). A conversation archived in several pieces has several parts.
    pub async fn read_conversation(
        &self,
        tenant: &str,
        date: NaiveDate,
        conversation_id: &str,
    ) -> Result<Vec<Transcript>, ArchiveError> {
        let keys: Vec<ArchiveKey> = self
            .list(tenant, date..=date)
            .await?
            .into_iter()
            .map(|o| o.key)
            .filter(|k| k.conversation_id == conversation_id)
            .collect();
        let mut parts = self.read_many(keys).await?;
        parts.sort_by_key(|t| (t.key.first_turn, t.key.last_turn));
        Ok(parts)
    }

    async fn read_many(&self, keys: Vec<ArchiveKey>) -> Result<Vec<Transcript>, ArchiveError> {
        futures_util::stream::iter(keys)
            .map(|k| async move { self.read(&k).await })
            .buffer_unordered(READ_CONCURRENCY)
            .try_collect()
            .await
    }

    /// The objects of `tenant` whose date is in `dates`, sorted by date, conversation and turns.
    /// Objects under the tenant that are not archive keys are skipped (with a warning).
    pub async fn list(
        &self,
        tenant: &str,
        dates: impl RangeBounds<NaiveDate>,
    ) -> Result<Vec<ArchivedObject>, ArchiveError> {
        let root = ObjectPath::from(layout::tenant_prefix(tenant));
        let days = self.store.list_with_delimiter(Some(&root)).await.map_err(store_error)?;
        let mut out = Vec::new();
        for prefix in days.common_prefixes {
            let Some(date) = prefix
                .filename()
                .and_then(|d| d.strip_prefix("date="))
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            else {
                continue;
            };
            if !dates.contains(&date) {
                continue;
            }
            let listed = self.store.list_with_delimiter(Some(&prefix)).await.map_err(store_error)?;
            for meta in listed.objects {
                match ArchiveKey::parse(meta.location.as_ref()) {
                    Ok(key) if key.tenant == tenant => {
                        out.push(ArchivedObject { key, size: meta.size, last_modified: meta.last_modified })
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(target: "kefu::archive", "skipping foreign object: {e}"),
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// The tenants that have archived objects, sorted.
    pub async fn tenants(&self) -> Result<Vec<String>, ArchiveError> {
        let listed = self.store.list_with_delimiter(None).await.map_err(store_error)?;
        let mut out: Vec<String> = listed
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().and_then(|t| t.strip_prefix("tenant=")).and_then(layout::unescape))
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Every archived event of `tenant` stamped in `[start, end)`, in no particular order.
    /// Objects are dated by their first event, so objects dated up to `lookback_days` before
    /// `start` are read too (conversations that began before midnight).
    pub async fn events_between(
        &self,
        tenant: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        lookback_days: u32,
    ) -> Result<Vec<EventEnvelope>, ArchiveError> {
        let from = start.date_naive() - chrono::Days::new(u64::from(lookback_days));
        let to = end.date_naive();
        let keys: Vec<ArchiveKey> = self.list(tenant, from..=to).await?.into_iter().map(|o| o.key).collect();
        let mut out = Vec::new();
        for t in self.read_many(keys).await? {
            out.extend(t.events.into_iter().filter(|e| e.timestamp >= start && e.timestamp < end));
        }
        Ok(out)
    }

    /// Every archived object of `tenant` that contains an event of `user_id` (for data-subject
    /// access requests), sorted by key. Scans and decrypts every object of the tenant.
    pub async fn transcripts_of_user(&self, tenant: &str, user_id: &str) -> Result<Vec<Transcript>, ArchiveError> {
        let keys: Vec<ArchiveKey> = self.list(tenant, ..).await?.into_iter().map(|o| o.key).collect();
        let mut out: Vec<Transcript> = futures_util::stream::iter(keys)
            .map(|k| async move {
                let t = self.read(&k).await?;
                Ok::<_, ArchiveError>(t.events.iter().any(|e| e.user_id == user_id).then_some(t))
            })
            .buffer_unordered(READ_CONCURRENCY)
            .try_filter_map(|t| async move { Ok(t) })
            .try_collect()
            .await?;
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// Deletes every archived object of `tenant` that contains an event of `user_id` (right to
    /// erasure). Scans and decrypts every object of the tenant; returns how many were deleted.
    /// Fails on the first object that cannot be read, so that no object of the user is
    /// silently left behind (objects already deleted stay deleted).
    pub async fn delete_user(&self, tenant: &str, user_id: &str) -> Result<usize, ArchiveError> {
        let keys: Vec<ArchiveKey> = self.list(tenant, ..).await?.into_iter().map(|o| o.key).collect();
        let doomed: Vec<ArchiveKey> = futures_util::stream::iter(keys)
            .map(|k| async move {
                let t = self.read(&k).await?;
                Ok::<_, ArchiveError>(t.events.iter().any(|e| e.user_id == user_id).then_some(k))
            })
            .buffer_unordered(READ_CONCURRENCY)
            .try_filter_map(|k| async move { Ok(k) })
            .try_collect()
            .await?;
        for k in &doomed {
            match self.store.delete(&ObjectPath::from(k.path())).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(store_error(e)),
            }
        }
        tracing::info!(target: "kefu::archive", tenant, deleted = doomed.len(), "deleted a user's archived transcripts");
        Ok(doomed.len())
    }
}
