//! The one error type of the knowledge crate.

use std::path::PathBuf;

/// Everything that can go wrong in the knowledge core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A caller passed a value outside the accepted set.
    #[error("invalid {what} {value:?}: expected {expected}")]
    InvalidArgument {
        /// Which argument.
        what: &'static str,
        /// What was given.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// Reading or writing a file failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON file (manifest, payload, model) could not be read or written.
    #[error("JSON error in {path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// The tantivy index failed.
    #[error("lexical index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// A query could not be parsed or built.
    #[error("query error: {0}")]
    Query(String),
    /// The vector store failed.
    #[error("vector store error: {0}")]
    Vector(String),
    /// The embedding endpoint or model failed.
    #[error("embedding error: {0}")]
    Embedding(String),
    /// The embedding dimension did not match what the store expects.
    #[error("embedding dimension mismatch: expected {expected}, got {got}")]
    DimensionMismatch {
        /// Expected dimension.
        expected: usize,
        /// Dimension received.
        got: usize,
    },
    /// No snapshot has been published in this index directory yet.
    #[error("no published snapshot under {0}: run `zhiban ingest` first")]
    NoSnapshot(PathBuf),
    /// A snapshot is incomplete or does not match its manifest.
    #[error("snapshot {id} is corrupt: {reason}")]
    CorruptSnapshot {
        /// Snapshot id.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// A snapshot was written in a layout this build does not read.
    #[error(
        "snapshot {id} has format {found}, this build reads format {supported}: rebuild it (`zhiban ingest SOURCE --index DIR --full`)"
    )]
    UnsupportedFormat {
        /// Snapshot id.
        id: String,
        /// The snapshot's format.
        found: u32,
        /// The format this build reads.
        supported: u32,
    },
    /// A snapshot needs a backend that this build was compiled without.
    #[error(
        "snapshot {id} uses the {backend} vector store, which this build lacks: build with `--features zhiban-knowledge/{feature}`, or rebuild the snapshot with the default store (`zhiban ingest SOURCE --index DIR --full`)"
    )]
    BackendUnavailable {
        /// Snapshot id.
        id: String,
        /// The backend.
        backend: &'static str,
        /// The cargo feature that provides it.
        feature: &'static str,
    },
    /// A request ran past its deadline (remote calls and retries included).
    #[error("deadline exceeded")]
    DeadlineExceeded,
    /// The async runtime failed (a blocking task panicked or was cancelled, or a
    /// private runtime could not start).
    #[error("runtime error: {0}")]
    Runtime(String),
}

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    /// Wraps a JSON error with the file it happened in.
    pub fn json(path: impl Into<PathBuf>, source: serde_json::Error) -> Self {
        Error::Json {
            path: path.into(),
            source,
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
