//! Event transports: where the events of each turn go after the session is saved.

#[cfg(feature = "redis")]
pub mod redis_streams;

/// Errors of an event transport.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The broker is unreachable or refused the command.
    #[error("event transport unavailable: {0}")]
    Unavailable(String),
    /// A message could not be decoded (it is moved to the dead-letter stream).
    #[error("undecodable message {id}: {reason}")]
    Corrupt {
        /// Broker message id.
        id: String,
        /// Why.
        reason: String,
    },
}
