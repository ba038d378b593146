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
}

impl From<kefu_core::BotProblems> for Error {
    fn from(p: kefu_core::BotProblems) -> Self {
        Error::Core(p.into())
    }
}
