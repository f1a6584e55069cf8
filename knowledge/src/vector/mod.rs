//! Vector stores behind one trait, with one payload schema.
//!
//! * [`ExactStore`] — exact (brute-force) cosine search over a flat `f32` table,
//!   persisted inside the snapshot directory (the embedded default);
//! * `EdgeStore` — qdrant-edge embedded in the process (cargo feature
//!   `qdrant-edge`, off by default: it brings about 200 crates of its own);
//! * [`QdrantStore`] — a Qdrant server or cluster through qdrant-client (gRPC),
//!   one collection per snapshot so that publishing and rollback stay atomic.
//!
//! Points are identified by their position in the snapshot's chunk table; the
//! payload carries what filters need (`kind`, `matter`, `department`,
//! `valid_from`, `valid_until` as day numbers) plus `doc_id`/`chunk_id` for humans
//! inspecting the collection.

#[cfg(feature = "qdrant-edge")]
mod edge;
pub mod exact;
mod qdrant;

#[cfg(feature = "qdrant-edge")]
pub use edge::EdgeStore;
pub use exact::ExactStore;
pub use qdrant::{QdrantStore, QdrantStoreConfig};

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::filter::Filter;
use crate::lexical::day_number;
use crate::records::ChunkRecord;

/// Payload stored with every vector; identical in every backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VectorPayload {
    /// `policy`, `guide`, `case` or `catalog`.
    pub kind: String,
    /// 事项编码 (possibly several).
    pub matter: Vec<String>,
    /// Department, empty when unknown.
    pub department: String,
    /// First valid day as a day number (`i64::MIN` = always).
    pub valid_from: i64,
    /// First invalid day as a day number (`i64::MAX` = open-ended).
    pub valid_until: i64,
    /// Owning document.
    pub doc_id: String,
    /// The chunk.
    pub chunk_id: String,
}

impl VectorPayload {
    /// The payload of a chunk record; `doc_id` comes from the snapshot's documents.
    pub fn of(record: &ChunkRecord, doc_id: &str) -> Self {
        VectorPayload {
            kind: record.kind.as_str().to_string(),
            matter: record.matter_codes.clone(),
            department: record.department.clone().unwrap_or_default(),
            // JSON numbers pass through f64 in some backends: keep bounds exact there.
            valid_from: record.valid_from.map_or(-(1i64 << 52), day_number),
            valid_until: record.valid_until.map_or(1i64 << 52, day_number),
            doc_id: doc_id.to_string(),
            chunk_id: record.chunk_id.clone(),
        }
    }
}

/// One point to store.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorPoint {
    /// Position in the chunk table.
    pub id: u64,
    /// Unit-length embedding.
    pub vector: Vec<f32>,
    /// Filterable payload.
    pub payload: VectorPayload,
}

/// A store of unit vectors searchable by cosine similarity under a [`Filter`].
pub trait VectorStore: Send + Sync {
    /// Inserts or replaces points.
    ///
    /// # Errors
    /// Backend failures, wrong dimension.
    fn upsert(&self, points: &[VectorPoint]) -> Result<()>;
    /// The `limit` nearest points to `vector` that pass `filter`: `(id, cosine)`.
    ///
    /// # Errors
    /// Backend failures, wrong dimension.
    fn search(&self, vector: &[f32], filter: &Filter, limit: usize) -> Result<Vec<(u64, f32)>>;
    /// Number of stored points.
    ///
    /// # Errors
    /// Backend failures.
    fn count(&self) -> Result<usize>;
    /// Makes every upsert durable.
    ///
    /// # Errors
    /// Backend failures.
    fn flush(&self) -> Result<()>;
}
