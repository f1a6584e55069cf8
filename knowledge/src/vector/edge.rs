//! qdrant-edge, embedded (cargo feature `qdrant-edge`).

use std::path::Path;

use ordered_float::OrderedFloat;
use qdrant_edge::{
    AnyVariants, Condition, CreateIndex, Distance, EdgeConfigBuilder, EdgeShard,
    EdgeVectorParamsBuilder, FieldCondition, FieldIndexOperations, Filter as QFilter, JsonPath,
    Match, MatchAny, NamedQuery, PayloadFieldSchema, PayloadSchemaType, PointInsertOperations,
    PointOperations, PointStruct, QueryEnum, Range, SearchRequest, UpdateOperation,
    WithPayloadInterface, WithVector,
};

use super::{VectorPoint, VectorStore};
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::lexical::day_number;

/// Upserts go to the shard in batches of this many points (each is one WAL record).
const BATCH: usize = 1024;

/// A qdrant-edge shard in a directory of the snapshot.
pub struct EdgeStore {
    shard: Option<EdgeShard>,
    dim: usize,
    /// The private copy a reader works on; removed when the store is dropped.
    private: Option<tempfile::TempDir>,
}

impl Drop for EdgeStore {
    fn drop(&mut self) {
        // Closing the shard flushes its WAL and removing the private copy deletes a
        // directory tree: blocking work that must not run on an async worker, where
        // the last reader of a replaced snapshot may well drop it.
        let parts = (self.shard.take(), self.private.take());
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn_blocking(move || drop(parts));
        }
    }
}

impl std::fmt::Debug for EdgeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeStore").field("dim", &self.dim).finish()
    }
}

fn verr(e: impl std::fmt::Display) -> Error {
    Error::Vector(e.to_string())
}

fn path(key: &str) -> Result<JsonPath> {
    JsonPath::try_from(key).map_err(|_| Error::Vector(format!("bad payload key {key}")))
}

impl EdgeStore {
    /// Creates an empty store for `dim`-dimensional vectors in `dir` (which must not
    /// already hold a shard), with payload indexes for every filterable field.
    ///
    /// # Errors
    /// When the directory holds data or the shard cannot be created.
    pub fn create(dir: &Path, dim: usize) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let config = EdgeConfigBuilder::new()
            .vector(
                "",
                EdgeVectorParamsBuilder::new(dim, Distance::Cosine).build(),
            )
            .build();
        let shard = EdgeShard::new(dir, config).map_err(verr)?;
        for (key, ty) in [
            ("kind", PayloadSchemaType::Keyword),
            ("matter", PayloadSchemaType::Keyword),
            ("department", PayloadSchemaType::Keyword),
            ("valid_from", PayloadSchemaType::Integer),
            ("valid_until", PayloadSchemaType::Integer),
        ] {
            shard
                .update(UpdateOperation::FieldIndexOperation(
                    FieldIndexOperations::CreateIndex(CreateIndex {
                        field_name: path(key)?,
                        field_schema: Some(PayloadFieldSchema::FieldType(ty)),
                    }),
                ))
                .map_err(verr)?;
        }
        Ok(EdgeStore {
            shard: Some(shard),
            dim,
            private: None,
        })
    }

    /// Opens a store written by [`EdgeStore::create`].
    ///
    /// # Errors
    /// When the shard is missing or unreadable.
    pub fn open(dir: &Path, dim: usize) -> Result<Self> {
        // qdrant-edge takes an exclusive lock on its WAL and touches its files when
        // loading. A published snapshot must stay read-only and be readable by many
        // processes at once (a server and a CLI search), so each reader loads a
        // private copy; the shard is small (chunks × dim × 4 bytes).
        let private = tempfile::Builder::new()
            .prefix("zhiban-edge-")
            .tempdir()
            .map_err(|e| Error::io(std::env::temp_dir(), e))?;
        copy_dir(dir, private.path())?;
        let shard = EdgeShard::load(private.path(), None).map_err(verr)?;
        Ok(EdgeStore {
            shard: Some(shard),
            dim,
            private: Some(private),
        })
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| Error::io(from, e))? {
        let entry = entry.map_err(|e| Error::io(from, e))?;
        let src = entry.path();
        let dst = to.join(entry.file_name());
        let ft = entry.file_type().map_err(|e| Error::io(&src, e))?;
        if ft.is_dir() {
            copy_dir(&src, &dst)?;
        } else if ft.is_file() {
            std::fs::copy(&src, &dst).map_err(|e| Error::io(&src, e))?;
        }
    }
    Ok(())
}

/// Converts our filter into qdrant's; shared with the server backend's tests.
pub(crate) fn to_qdrant_filter(filter: &Filter) -> Result<Option<QFilter>> {
    if filter.is_empty() {
        return Ok(None);
    }
    let mut must = Vec::new();
    let any = |key: &str, values: Vec<String>| -> Result<Condition> {
        Ok(Condition::Field(FieldCondition::new_match(
            path(key)?,
            Match::Any(MatchAny {
                any: AnyVariants::Strings(values.into_iter().collect()),
            }),
        )))
    };
    if !filter.kinds.is_empty() {
        must.push(any(
            "kind",
            filter
                .kinds
                .iter()
                .map(|k| k.as_str().to_string())
                .collect(),
        )?);
    }
    if !filter.matter_codes.is_empty() {
        must.push(any("matter", filter.matter_codes.clone())?);
    }
    if !filter.departments.is_empty() {
        must.push(any("department", filter.departments.clone())?);
    }
    if let Some(d) = filter.valid_on {
        let day = day_number(d) as f64;
        must.push(Condition::Field(FieldCondition::new_range(
            path("valid_from")?,
            Range {
                lt: None,
                gt: None,
                gte: None,
                lte: Some(OrderedFloat(day)),
            },
        )));
        must.push(Condition::Field(FieldCondition::new_range(
            path("valid_until")?,
            Range {
                lt: None,
                gt: Some(OrderedFloat(day)),
                gte: None,
                lte: None,
            },
        )));
    }
    Ok(Some(QFilter {
        should: None,
        min_should: None,
        must: Some(must),
        must_not: None,
    }))
}

impl EdgeStore {
    fn shard(&self) -> Result<&EdgeShard> {
        self.shard
            .as_ref()
            .ok_or_else(|| Error::Vector("qdrant-edge shard already closed".into()))
    }
}

impl VectorStore for EdgeStore {
    fn upsert(&self, points: &[VectorPoint]) -> Result<()> {
        for batch in points.chunks(BATCH) {
            let mut list = Vec::with_capacity(batch.len());
            for p in batch {
                if p.vector.len() != self.dim {
                    return Err(Error::DimensionMismatch {
                        expected: self.dim,
                        got: p.vector.len(),
                    });
                }
                let payload = serde_json::to_value(&p.payload).map_err(verr)?;
                list.push(PointStruct::new(p.id, p.vector.clone(), payload).into());
            }
            self.shard()?
                .update(UpdateOperation::PointOperation(
                    PointOperations::UpsertPoints(PointInsertOperations::PointsList(list)),
                ))
                .map_err(verr)?;
        }
        Ok(())
    }

    fn search(&self, vector: &[f32], filter: &Filter, limit: usize) -> Result<Vec<(u64, f32)>> {
        if vector.len() != self.dim {
            return Err(Error::DimensionMismatch {
                expected: self.dim,
                got: vector.len(),
            });
        }
        let hits = self
            .shard()?
            .search(SearchRequest {
                query: QueryEnum::Nearest(NamedQuery {
                    query: vector.to_vec().into(),
                    using: None,
                }),
                filter: to_qdrant_filter(filter)?,
                params: None,
                limit,
                offset: 0,
                with_payload: Some(WithPayloadInterface::Bool(false)),
                with_vector: Some(WithVector::Bool(false)),
                score_threshold: None,
            })
            .map_err(verr)?;
        Ok(hits
            .into_iter()
            .filter_map(|h| match h.id {
                qdrant_edge::PointId::NumId(n) => Some((n, h.score)),
                qdrant_edge::PointId::Uuid(_) => None,
            })
            .collect())
    }

    fn count(&self) -> Result<usize> {
        self.shard()?
            .count(qdrant_edge::CountRequest {
                filter: None,
                exact: true,
            })
            .map_err(verr)
    }

    fn flush(&self) -> Result<()> {
        self.shard()?.flush();
        Ok(())
    }
}
