//! The one public error type of `kefu-core`.

use crate::action::ActionError;
use crate::bot::BotProblems;
use crate::kb::KbError;
use crate::nlu::NluError;
use crate::session::StoreError;

/// Everything that can go wrong in the engine. Bindings map each variant once.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bot definition has problems (each with file and line).
    #[error(transparent)]
    InvalidBot(#[from] BotProblems),
    /// A caller passed a bad argument (empty id, oversized text…).
    #[error("invalid input: {0}")]
    InvalidInput(String),
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
}

impl Error {
    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Store(StoreError::Unavailable { retryable: true, .. })
                | Error::Store(StoreError::Conflict { .. })
                | Error::Store(StoreError::Fenced { .. })
        )
    }
}
