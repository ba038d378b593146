//! The one public error type of `kefu-nlu`.

use std::path::PathBuf;

/// Everything that can go wrong in `kefu-nlu`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Training or loading the lexical model failed.
    #[error(transparent)]
    Lexical(#[from] crate::lexical::LexicalError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A model file belongs to other training data or another format.
    #[error("model file {}: {reason}", path.display())]
    ModelMismatch {
        /// The file.
        path: PathBuf,
        /// What does not match.
        reason: String,
    },
    /// A data set is unusable (bad CSV, missing column, no rows).
    #[error("data set {}: {reason}", path.display())]
    Dataset {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl From<Error> for kefu_core::NluError {
    fn from(e: Error) -> Self {
        kefu_core::NluError::Failed(e.to_string())
    }
}
