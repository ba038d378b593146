//! Error type of the lexical intent classifier.

/// Everything that can go wrong while training, saving or loading a [`super::LexicalModel`].
#[derive(Debug, thiserror::Error)]
pub enum LexicalError {
    /// `train` was called with an empty slice of examples.
    #[error("no training examples")]
    NoExamples,
    /// A training example has an empty (or whitespace-only) label.
    #[error("training example {index} has an empty label")]
    EmptyLabel {
        /// Position of the offending example in the training slice.
        index: usize,
    },
    /// A hyper-parameter of [`super::LexicalConfig`] is out of its valid range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// Reading or writing the underlying stream failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The stream does not start with the model file's magic bytes.
    #[error("not a Kefu lexical model (bad magic bytes)")]
    BadMagic,
    /// The file was written in a format version this build cannot read.
    #[error("unsupported model format version {found} (this build reads version {supported})")]
    UnsupportedVersion {
        /// Version found in the file.
        found: u32,
        /// Version this build reads and writes.
        supported: u32,
    },
    /// The stream ended before the model was complete.
    #[error("model file is truncated: {0}")]
    Truncated(String),
    /// The file is complete but its content is inconsistent (bad checksum, bad sizes, bad header).
    #[error("corrupt model file: {0}")]
    Corrupt(String),
}
