//! Event transports: where the events of each turn go after the session is saved.

#[cfg(feature = "kafka")]
pub mod kafka;
#[cfg(feature = "redis")]
pub mod redis_streams;

/// Errors of an event transport.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The broker is unreachable or refused the command.
    #[error("event transport unavailable: {0}")]
    Unavailable(String),
    /// The broker did not answer in time (the call is bounded so a turn cannot hang on it).
    #[error("event transport timed out after {after:?}: {operation}")]
    Timeout {
        /// What was attempted.
        operation: String,
        /// The limit that passed.
        after: std::time::Duration,
    },
    /// The transport is configured wrongly (missing topic, invalid name, bad member index).
    #[error("event transport misconfigured: {0}")]
    Config(String),
    /// A message could not be decoded (it is moved to the dead-letter stream).
    #[error("undecodable message {id}: {reason}")]
    Corrupt {
        /// Broker message id.
        id: String,
        /// Why.
        reason: String,
    },
}
