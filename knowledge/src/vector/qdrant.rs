//! A Qdrant server or cluster through qdrant-client (gRPC).
//!
//! Each snapshot writes its own collection (`<prefix>_<snapshot id>`), so a
//! half-written collection is never the one being served, and rollback is just
//! pointing back at the previous collection.

use std::time::Duration;

use qdrant_client::Qdrant;
use qdrant_client::qdrant::{
    Condition, CountPointsBuilder, CreateCollectionBuilder, CreateFieldIndexCollectionBuilder,
    Distance, FieldType, Filter as QFilter, PointStruct, Range, SearchPointsBuilder,
    UpsertPointsBuilder, VectorParamsBuilder, point_id::PointIdOptions,
};

use super::{VectorPoint, VectorStore};
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::lexical::day_number;

/// Connection settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QdrantStoreConfig {
    /// gRPC URL, e.g. `http://127.0.0.1:6334`.
    pub url: String,
    /// API key, if the server wants one.
    pub api_key: Option<String>,
    /// Collection name.
    pub collection: String,
    /// Points per upsert request.
    pub batch_size: usize,
    /// Request timeout.
    pub timeout: Duration,
}

impl QdrantStoreConfig {
    /// Settings for `collection` on the server at `url`, batches of 256, 30 s timeout.
    pub fn new(url: impl Into<String>, collection: impl Into<String>) -> Self {
        QdrantStoreConfig {
            url: url.into(),
            api_key: None,
            collection: collection.into(),
            batch_size: 256,
            timeout: Duration::from_secs(30),
        }
    }
}

/// A collection on a Qdrant server.
pub struct QdrantStore {
    client: Qdrant,
    config: QdrantStoreConfig,
    dim: usize,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for QdrantStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QdrantStore")
            .field("url", &self.config.url)
            .field("collection", &self.config.collection)
            .finish()
    }
}

fn qerr(e: impl std::fmt::Display) -> Error {
    Error::Vector(e.to_string())
}

impl QdrantStore {
    /// Connects; with `create`, (re)creates the collection with cosine distance and
    /// keyword/integer payload indexes matching [`super::VectorPayload`].
    ///
    /// # Errors
    /// Connection or server errors.
    pub fn connect(config: QdrantStoreConfig, dim: usize, create: bool) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(qerr)?;
        let mut builder = Qdrant::from_url(&config.url).timeout(config.timeout);
        if let Some(k) = &config.api_key {
            builder = builder.api_key(k.clone());
        }
        let client = builder.build().map_err(qerr)?;
        let store = QdrantStore {
            client,
            config,
            dim,
            runtime,
        };
        if create {
            store.runtime.block_on(store.create_collection())?;
        }
        Ok(store)
    }

    async fn create_collection(&self) -> Result<()> {
        let name = &self.config.collection;
        if self.client.collection_exists(name).await.map_err(qerr)? {
            self.client.delete_collection(name).await.map_err(qerr)?;
        }
        self.client
            .create_collection(
                CreateCollectionBuilder::new(name)
                    .vectors_config(VectorParamsBuilder::new(self.dim as u64, Distance::Cosine)),
            )
            .await
            .map_err(qerr)?;
        for (key, ty) in [
            ("kind", FieldType::Keyword),
            ("matter", FieldType::Keyword),
            ("department", FieldType::Keyword),
            ("valid_from", FieldType::Integer),
            ("valid_until", FieldType::Integer),
        ] {
            self.client
                .create_field_index(
                    CreateFieldIndexCollectionBuilder::new(name, key, ty).wait(true),
                )
                .await
                .map_err(qerr)?;
        }
        Ok(())
    }

    /// Deletes the collection (used when a snapshot is garbage-collected).
    ///
    /// # Errors
    /// Server errors.
    pub fn drop_collection(&self) -> Result<()> {
        self.runtime
            .block_on(self.client.delete_collection(&self.config.collection))
            .map(|_| ())
            .map_err(qerr)
    }
}

fn to_filter(filter: &Filter) -> Option<QFilter> {
    if filter.is_empty() {
        return None;
    }
    let mut must = Vec::new();
    if !filter.kinds.is_empty() {
        let kinds: Vec<String> = filter
            .kinds
            .iter()
            .map(|k| k.as_str().to_string())
            .collect();
        must.push(Condition::matches("kind", kinds));
    }
    if !filter.matter_codes.is_empty() {
        must.push(Condition::matches("matter", filter.matter_codes.clone()));
    }
    if !filter.departments.is_empty() {
        must.push(Condition::matches("department", filter.departments.clone()));
    }
    if let Some(d) = filter.valid_on {
        let day = day_number(d) as f64;
        must.push(Condition::range(
            "valid_from",
            Range {
                lte: Some(day),
                ..Default::default()
            },
        ));
        must.push(Condition::range(
            "valid_until",
            Range {
                gt: Some(day),
                ..Default::default()
            },
        ));
    }
    Some(QFilter::must(must))
}

impl VectorStore for QdrantStore {
    fn upsert(&self, points: &[VectorPoint]) -> Result<()> {
        self.runtime.block_on(async {
            for batch in points.chunks(self.config.batch_size.max(1)) {
                let mut list = Vec::with_capacity(batch.len());
                for p in batch {
                    if p.vector.len() != self.dim {
                        return Err(Error::DimensionMismatch {
                            expected: self.dim,
                            got: p.vector.len(),
                        });
                    }
                    let json = serde_json::to_value(&p.payload).map_err(qerr)?;
                    let payload = qdrant_client::Payload::try_from(json).map_err(qerr)?;
                    list.push(PointStruct::new(p.id, p.vector.clone(), payload));
                }
                self.client
                    .upsert_points(
                        UpsertPointsBuilder::new(&self.config.collection, list).wait(true),
                    )
                    .await
                    .map_err(qerr)?;
            }
            Ok(())
        })
    }

    fn search(&self, vector: &[f32], filter: &Filter, limit: usize) -> Result<Vec<(u64, f32)>> {
        if vector.len() != self.dim {
            return Err(Error::DimensionMismatch {
                expected: self.dim,
                got: vector.len(),
            });
        }
        let mut req =
            SearchPointsBuilder::new(&self.config.collection, vector.to_vec(), limit as u64);
        if let Some(f) = to_filter(filter) {
            req = req.filter(f);
        }
        let resp = self
            .runtime
            .block_on(self.client.search_points(req))
            .map_err(qerr)?;
        Ok(resp
            .result
            .into_iter()
            .filter_map(|p| match p.id.and_then(|id| id.point_id_options) {
                Some(PointIdOptions::Num(n)) => Some((n, p.score)),
                _ => None,
            })
            .collect())
    }

    fn count(&self) -> Result<usize> {
        let resp = self
            .runtime
            .block_on(
                self.client
                    .count(CountPointsBuilder::new(&self.config.collection).exact(true)),
            )
            .map_err(qerr)?;
        Ok(resp.result.map_or(0, |r| r.count as usize))
    }

    fn flush(&self) -> Result<()> {
        // Upserts are sent with wait=true: once they return, they are durable.
        Ok(())
    }
}
