//! Errors of this crate.

use kefu_core::kb::KbError;
use std::path::PathBuf;

/// Errors of the knowledge-base implementations. Through [`KbError`] (the trait's error) every
/// variant becomes [`KbError::Unavailable`], so the engine falls back instead of failing a turn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The search engine failed (index files, locking, commit).
    #[cfg(feature = "tantivy")]
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The index directory could not be opened.
    #[error("cannot open index directory {path}: {message}")]
    OpenDirectory {
        /// The directory.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The index was built with settings this build cannot read (e.g. a tokenizer not compiled in).
    #[error("incompatible index: {0}")]
    Incompatible(String),
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The sentence embedder failed.
    #[error("embedding: {0}")]
    Embedding(#[from] kefu_core::EmbedError),
    /// The embedder returned vectors of another length than the index holds.
    #[error("embedder returned {got}-dimensional vectors, the index holds {expected}")]
    Dimension {
        /// The index's dimension.
        expected: usize,
        /// What the embedder returned.
        got: usize,
    },
    /// An import file is not of a supported format (by extension).
    #[error("{file}: unsupported format (expected .yaml, .yml, .json or .csv)")]
    UnsupportedFormat {
        /// The file.
        file: PathBuf,
    },
    /// An import file is malformed (syntax, wrong shape, missing column).
    #[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        /// The file.
        file: PathBuf,
        /// 1-based line where known (CSV: the record's line).
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// An entry is well-formed but unusable (empty id, no question, no answer, duplicate…).
    #[error("{}{}entry `{id}`: {message}", file.as_ref().map(|f| format!("{}:", f.display())).unwrap_or_default(), line.map(|l| format!("{l}: ")).unwrap_or_else(|| if file.is_some() { " ".into() } else { String::new() }))]
    InvalidEntry {
        /// The file, when importing.
        file: Option<PathBuf>,
        /// 1-based line (CSV row) or, for YAML/JSON lists, `None`.
        line: Option<usize>,
        /// The entry id (may be empty: that is the problem then).
        id: String,
        /// What is wrong.
        message: String,
    },
}

impl From<Error> for KbError {
    fn from(e: Error) -> Self {
        KbError::Unavailable(e.to_string())
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
