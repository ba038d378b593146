//! The one public error type of `kefu-core`, and the stable machine codes every door (server,
//! bindings) reports.

use crate::action::ActionError;
use crate::bot::BotProblems;
use crate::kb::KbError;
use crate::nlu::NluError;
use crate::session::StoreError;
use serde::{Deserialize, Serialize};

/// Everything that can go wrong in the engine. Bindings map each variant once, by its
/// [`ErrorCode`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bot definition has problems (each with file and line).
    #[error(transparent)]
    InvalidBot(#[from] BotProblems),
    /// A caller passed a bad argument (empty id, control characters, unknown language…).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A caller passed a value over a size limit (text, id, metadata).
    #[error("input too large: {0}")]
    InputTooLarge(String),
    /// The conversation is locked by another turn longer than the wait limit, or kept
    /// changing concurrently: retry shortly.
    #[error("conversation busy: {0}")]
    Busy(String),
    /// The session store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The NLU failed.
    #[error(transparent)]
    Nlu(#[from] NluError),
    /// The knowledge base failed.
    #[error(transparent)]
    Kb(#[from] KbError),
    /// An action failed.
    #[error(transparent)]
    Action(#[from] ActionError),
    /// Engine misconfiguration (an action without handler…).
    #[error("configuration error: {0}")]
    Config(String),
    /// The conversation does not exist, or belongs to another user (for turns that must be
    /// the owner's: [`crate::Turn::owner_only`]).
    #[error("no conversation `{0}`")]
    ConversationNotFound(String),
}

impl Error {
    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Busy(_)
                | Error::Store(StoreError::Unavailable { retryable: true, .. })
                | Error::Store(StoreError::Conflict { .. })
                | Error::Store(StoreError::Fenced { .. })
        )
    }

    /// The stable machine code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidBot(_) => ErrorCode::BotInvalid,
            Error::InvalidInput(_) => ErrorCode::InvalidInput,
            Error::InputTooLarge(_) => ErrorCode::InputTooLarge,
            Error::Busy(_) | Error::Store(StoreError::Conflict { .. } | StoreError::Fenced { .. }) => {
                ErrorCode::ConversationBusy
            }
            Error::Store(StoreError::Unavailable { .. }) => ErrorCode::StoreUnavailable,
            Error::Store(StoreError::Corrupt(_)) => ErrorCode::StoreCorrupt,
            Error::Nlu(_) => ErrorCode::NluFailed,
            Error::Kb(_) => ErrorCode::KbFailed,
            Error::Action(_) => ErrorCode::ActionFailed,
            Error::Config(_) => ErrorCode::ConfigInvalid,
            Error::ConversationNotFound(_) => ErrorCode::ConversationNotFound,
        }
    }
}

/// Stable, machine-readable error codes: the same strings in the server's JSON errors
/// (`{"code": …, "message": …}`), in `kefu chat --json` and in the bindings' exception classes.
/// Codes are only ever added, never renamed or reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The bot definition has problems (file and line in the message).
    BotInvalid,
    /// A malformed argument or request (bad JSON, missing field, empty id…).
    InvalidInput,
    /// Text, id, metadata or request body over its limit.
    InputTooLarge,
    /// Another turn of the same conversation holds it: retry shortly.
    ConversationBusy,
    /// The session store (or lock service) cannot be reached.
    StoreUnavailable,
    /// Stored data could not be decoded.
    StoreCorrupt,
    /// Intent classification or entity extraction failed.
    NluFailed,
    /// Model files are missing, corrupt or do not match the bot.
    ModelInvalid,
    /// The knowledge base failed.
    KbFailed,
    /// An action failed.
    ActionFailed,
    /// The engine or server is misconfigured.
    ConfigInvalid,
    /// No bot is loaded for this tenant.
    UnknownTenant,
    /// No such bot version is loaded for this tenant.
    UnknownBotVersion,
    /// The conversation does not exist (or has expired).
    ConversationNotFound,
    /// The resource or route does not exist.
    NotFound,
    /// No or invalid credentials.
    Unauthorized,
    /// Valid credentials that do not grant this (another tenant's data, admin routes…).
    Forbidden,
    /// Too many requests: retry after the advertised delay.
    RateLimited,
    /// The server is shutting down or not ready.
    Unavailable,
    /// A bug: reported with a request id, never caused by input.
    Internal,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BotInvalid => "bot_invalid",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::InputTooLarge => "input_too_large",
            ErrorCode::ConversationBusy => "conversation_busy",
            ErrorCode::StoreUnavailable => "store_unavailable",
            ErrorCode::StoreCorrupt => "store_corrupt",
            ErrorCode::NluFailed => "nlu_failed",
            ErrorCode::ModelInvalid => "model_invalid",
            ErrorCode::KbFailed => "kb_failed",
            ErrorCode::ActionFailed => "action_failed",
            ErrorCode::ConfigInvalid => "config_invalid",
            ErrorCode::UnknownTenant => "unknown_tenant",
            ErrorCode::UnknownBotVersion => "unknown_bot_version",
            ErrorCode::ConversationNotFound => "conversation_not_found",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    /// Every code, for documentation and exhaustive tests.
    pub const ALL: [ErrorCode; 20] = [
        ErrorCode::BotInvalid,
        ErrorCode::InvalidInput,
        ErrorCode::InputTooLarge,
        ErrorCode::ConversationBusy,
        ErrorCode::StoreUnavailable,
        ErrorCode::StoreCorrupt,
        ErrorCode::NluFailed,
        ErrorCode::ModelInvalid,
        ErrorCode::KbFailed,
        ErrorCode::ActionFailed,
        ErrorCode::ConfigInvalid,
        ErrorCode::UnknownTenant,
        ErrorCode::UnknownBotVersion,
        ErrorCode::ConversationNotFound,
        ErrorCode::NotFound,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::RateLimited,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_as_their_wire_strings_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let json = serde_json::to_value(code).unwrap_or_default();
            assert_eq!(json, serde_json::Value::String(code.as_str().into()));
            assert!(seen.insert(code.as_str()), "duplicate code {code}");
        }
    }
}
