//! The error type of the neural encoder.

use std::path::PathBuf;

/// Everything that can go wrong while loading or running a [`super::SentenceEncoder`].
///
/// A bad model folder is always reported through one of these variants, never by a panic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncoderError {
    /// A file the model folder must contain is absent.
    #[error("model folder is missing {}", path.display())]
    MissingFile {
        /// The file that was looked for.
        path: PathBuf,
    },
    /// A file exists but could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// `config.json` (or a sentence-transformers side file) is unreadable or describes a model
    /// this encoder cannot run.
    #[error("bad model config {}: {reason}", path.display())]
    BadConfig {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// `tokenizer.json` could not be loaded, or a text could not be tokenised.
    #[error("tokenizer error{}: {reason}", path.as_ref().map(|p| format!(" ({})", p.display())).unwrap_or_default())]
    Tokenizer {
        /// The tokenizer file, when the error happened while loading it.
        path: Option<PathBuf>,
        /// The tokenizer's message.
        reason: String,
    },
    /// `model.safetensors` is not a valid safetensors file, or lacks a tensor the model needs.
    #[error("bad weights {}: {reason}", path.display())]
    BadWeights {
        /// The weights file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A tensor, the tokenizer or the configuration disagree on a size.
    #[error("shape mismatch: {reason}")]
    ShapeMismatch {
        /// Which sizes disagree.
        reason: String,
    },
    /// The compute device could not be used (not compiled in, not present, out of memory…).
    #[error("device error: {0}")]
    Device(String),
    /// The forward pass failed.
    #[error("inference failed: {0}")]
    Inference(String),
    /// Downloading a model folder from the Hugging Face Hub failed (feature `hub`).
    #[error("hub download of {repo}: {reason}")]
    Hub {
        /// The repository id.
        repo: String,
        /// What went wrong.
        reason: String,
    },
}

impl From<EncoderError> for kefu_core::NluError {
    fn from(e: EncoderError) -> Self {
        kefu_core::NluError::Failed(e.to_string())
    }
}

/// Whether a candle error (possibly wrapped in context) is a shape disagreement.
pub(crate) fn is_shape_error(e: &candle_core::Error) -> bool {
    match e {
        candle_core::Error::UnexpectedShape { .. }
        | candle_core::Error::ShapeMismatch { .. }
        | candle_core::Error::ShapeMismatchBinaryOp { .. }
        | candle_core::Error::DimOutOfRange { .. } => true,
        candle_core::Error::WithBacktrace { inner, .. }
        | candle_core::Error::Context { inner, .. }
        | candle_core::Error::WithPath { inner, .. } => is_shape_error(inner),
        _ => false,
    }
}

/// A candle error as one message, without the backtrace candle may attach.
pub(crate) fn candle_message(e: &candle_core::Error) -> String {
    match e {
        candle_core::Error::WithBacktrace { inner, .. } => candle_message(inner),
        other => other.to_string(),
    }
}
