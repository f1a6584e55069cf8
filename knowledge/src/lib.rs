//! The knowledge core of zhiban: the document model, the Chinese lexical index
//! (tantivy + jieba), embeddings, vector stores, hybrid retrieval and snapshots.
//!
//! It owns how documents are represented, indexed, versioned and retrieved. It does
//! not read source files (that is `zhiban-ingest`), call an LLM, or know about HTTP.
//! A published [`Snapshot`] is immutable and cheap to clone; share it between
//! threads. Retrieval is synchronous CPU work: call it from `spawn_blocking` in
//! async code.
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
pub mod document;
pub mod embed;
pub mod error;
pub mod expansion;
pub mod filter;
pub mod lexical;
pub mod records;
pub mod retrieve;
pub mod snapshot;
pub mod vector;

pub use analysis::{Analyzer, UserWord};
pub use document::{Chunk, DocKind, Document, DocumentMeta, EndReason, Level, Status};
pub use error::{Error, Result};
pub use filter::Filter;
pub use retrieve::{FusionParams, Hit, Mode, SearchRequest, SearchResult};
pub use snapshot::{
    BuildOptions, Built, EmbeddingBackend, Manifest, Snapshot, SnapshotStore, VectorBackend,
};
