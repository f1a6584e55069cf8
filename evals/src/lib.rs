//! zhiban's evaluation suites: ranking metrics, the STARD statute-retrieval
//! benchmark, the generic retrieval harness over JSONL gold sets, and the search
//! storm (concurrent searches across a snapshot publish).
//!
//! It measures the libraries it depends on and never changes them; it knows
//! nothing about HTTP or the CLI. Every suite returns [`report::RetrievalReport`]s
//! that the CLI prints as one JSON line each.
#![warn(missing_docs)]

pub mod metrics;
pub mod report;
pub mod retrieval;
pub mod stard;
pub mod storm;

use std::path::PathBuf;

/// Errors of the evaluation suites.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The benchmark files are not there.
    #[error(
        "benchmark not found at {0} (it lives in ../shared/benchmarks; a clone without ../shared cannot run it)"
    )]
    MissingBenchmark(PathBuf),
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid JSON of the expected shape.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: serde_json::Error,
    },
    /// A gold-set line is malformed.
    #[error("{path}:{line}: {message}")]
    BadLine {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The knowledge core failed.
    #[error(transparent)]
    Knowledge(#[from] zhiban_knowledge::Error),
    /// The search storm could not run.
    #[error("storm: {0}")]
    Storm(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
