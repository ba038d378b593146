//! Session stores.

#[cfg(feature = "embedded")]
pub mod embedded;
#[cfg(feature = "redis")]
pub mod redis;

/// The stored form of a session: the session and when it expires (Unix milliseconds).
#[cfg(any(feature = "embedded", feature = "redis"))]
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct Stored {
    pub expires_at_ms: i64,
    pub session: kefu_core::Session,
}
