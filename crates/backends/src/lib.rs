//! # kefu-backends — storage behind the engine's traits
//!
//! Owns the implementations of `kefu_core::SessionStore` that outlive a process: an embedded
//! durable store for single-node deployments and a Redis store for many stateless replicas.
//! It must not contain dialogue logic: the engine decides what a session holds; a store only
//! keeps it, with the version check (optimistic concurrency) and expiry the trait specifies.
//! Every store passes the same conformance suite (`kefu_core::testing::session_store_conformance`).
//!
//! ## Features
//! - `embedded` — [`store::embedded::EmbeddedSessionStore`] on redb: a file, crash-safe
//!   (each save is a durable transaction: an acknowledged turn survives `kill -9`).
//! - `redis` — [`store::redis::RedisSessionStore`]: TTL, version check in a Lua script,
//!   automatic reconnection; [`lock::RedisConversationLock`]: a per-conversation lock with
//!   expiry and fencing tokens the store checks.
//! - `archive` — [`archive::TranscriptArchive`]: PII-redacted, gzip-compressed JSON Lines of
//!   conversations in object storage (local folder or S3-compatible), optional AES-256-GCM;
//!   [`archive::Archiver`] moves idle conversations there from the hot store.
//! - always: [`gdpr::DataSubjectRequests`] — export and erase a user across every configured
//!   store (sessions, archive, archiver buffer).
//! - `kafka` — [`transport::kafka`]: events to Apache Kafka keyed by conversation, and a consumer
//!   with committed offsets, retries, a dead-letter topic and deduplication (pure-Rust client).
#![warn(missing_docs)]

pub mod analytics;
#[cfg(feature = "archive")]
pub mod archive;
pub mod gdpr;
#[cfg(feature = "redis")]
pub mod lock;
pub mod store;
pub mod transport;
