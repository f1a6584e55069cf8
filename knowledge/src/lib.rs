//! The knowledge core of zhiban: the document model, the Chinese lexical index
//! (tantivy + jieba), embeddings, vector stores, hybrid retrieval and snapshots.
//!
//! It owns how documents are represented, indexed, versioned and retrieved. It does
//! not read source files (that is `zhiban-ingest`), call an LLM, or know about HTTP.
//!
//! Threading: a published [`Snapshot`] is immutable and cheap to clone (an `Arc`);
//! share it between threads. A server holds a [`LiveSnapshot`], which swaps in a
//! newly published snapshot (opened on tokio's blocking pool) while searches in
//! flight finish on the old one, and calls [`Snapshot::search_async`] (or
//! [`LiveSnapshot::search`]) with a deadline: CPU work runs in `spawn_blocking`,
//! the remote embedder and the Qdrant server are awaited natively, and the deadline
//! bounds every attempt and retry. [`Snapshot::search`] is the synchronous form
//! for the CLI; its network calls go through one private runtime thread, so it
//! never panics inside a runtime, but it blocks its thread. Opening and building
//! snapshots are blocking I/O.
//!
//! ```no_run
//! use zhiban_knowledge::{SnapshotStore, SearchRequest};
//! let store = SnapshotStore::new("var/index");
//! let snapshot = store.open_current()?;
//! let result = snapshot.search(&SearchRequest::new("外地户口失业了能在上海登记吗"))?;
//! for hit in result.hits {
//!     println!("{} {} {:?} [{}]", hit.title, hit.doc_number.unwrap_or_default(), hit.article, hit.status);
//! }
//! # Ok::<(), zhiban_knowledge::Error>(())
//! ```
#![warn(missing_docs)]

pub mod analysis;
mod bridge;
pub mod document;
pub mod embed;
pub mod error;
pub mod expansion;
pub mod filter;
pub mod lexical;
pub mod live;
pub mod records;
pub mod retrieve;
pub mod snapshot;
pub mod vector;

pub use analysis::{Analyzer, UserWord};
pub use document::{Chunk, DocKind, Document, DocumentMeta, EndReason, Level, Status};
pub use error::{Error, Result};
pub use filter::Filter;
pub use live::{LiveSnapshot, Refresh, Secrets};
pub use retrieve::{DEFAULT_SEARCH_DEADLINE, FusionParams, Hit, Mode, SearchRequest, SearchResult};
pub use snapshot::{
    BuildOptions, Built, EmbeddingBackend, Manifest, Snapshot, SnapshotStore, VectorBackend,
};
