//! The facade's error: one enum wrapping the crates' errors.

/// Errors of the facade.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// From the engine (bot definition problems, invalid input, store, actions…).
    #[error(transparent)]
    Core(#[from] kefu_core::Error),
    /// From the NLU (training, model files, data sets).
    #[cfg(feature = "nlu")]
    #[error(transparent)]
    Nlu(#[from] kefu_nlu::Error),
    /// From the sentence encoder or the neural/fused intent model.
    #[cfg(feature = "neural")]
    #[error(transparent)]
    Neural(#[from] kefu_nlu::neural_intent::NeuralIntentError),
    /// The sentence encoder could not be loaded.
    #[cfg(feature = "neural")]
    #[error(transparent)]
    Encoder(#[from] kefu_nlu::neural::EncoderError),
    /// From the knowledge base (indexing the FAQ).
    #[cfg(feature = "kb")]
    #[error(transparent)]
    Kb(#[from] kefu_kb::Error),
    /// The async runtime of the blocking facade could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    /// No bot is loaded for the tenant (registry).
    #[error("no bot is loaded for tenant `{0}`")]
    UnknownTenant(String),
    /// The tenant has no such bot version loaded (registry).
    #[error("tenant `{tenant}` has no bot version `{version}`")]
    UnknownBotVersion {
        /// Tenant.
        tenant: String,
        /// The version asked for.
        version: String,
    },
    /// A registry request that cannot be done as asked (a version label already loaded,
    /// removing the active version, a split percentage over 100…).
    #[error("{0}")]
    Registry(String),
}

impl Error {
    /// The stable machine code of this error (see [`kefu_core::ErrorCode`]): the one thing the
    /// server maps to an HTTP status and the bindings map to an exception class.
    pub fn code(&self) -> kefu_core::ErrorCode {
        use kefu_core::ErrorCode;
        match self {
            Error::Core(e) => e.code(),
            #[cfg(feature = "nlu")]
            Error::Nlu(_) => ErrorCode::ModelInvalid,
            #[cfg(feature = "neural")]
            Error::Neural(_) | Error::Encoder(_) => ErrorCode::ModelInvalid,
            #[cfg(feature = "kb")]
            Error::Kb(_) => ErrorCode::KbFailed,
            Error::Runtime(_) => ErrorCode::Internal,
            Error::UnknownTenant(_) => ErrorCode::UnknownTenant,
            Error::UnknownBotVersion { .. } => ErrorCode::UnknownBotVersion,
            Error::Registry(_) => ErrorCode::InvalidInput,
        }
    }

    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Core(e) if e.is_retryable())
    }
}

impl From<kefu_core::BotProblems> for Error {
    fn from(p: kefu_core::BotProblems) -> Self {
        Error::Core(p.into())
    }
}

impl From<kefu_core::StoreError> for Error {
    fn from(e: kefu_core::StoreError) -> Self {
        Error::Core(e.into())
    }
}
