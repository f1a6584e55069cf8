//! A Qdrant server or cluster through qdrant-client (gRPC).
//!
//! Each snapshot writes its own collection (`<prefix>_<snapshot id>`), so a
//! half-written collection is never the one being served, and rollback is just
//! pointing back at the previous collection.
//!
//! Async callers use the `*_async` methods, each bounded by a deadline; the
//! [`VectorStore`] methods go through the crate's one blocking boundary (a private
//! runtime thread with a client of its own, started on first use). Building the
//! client never contacts the server (no version check, which would block and print
//! to stdout): the first request connects.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use qdrant_client::Qdrant;
use qdrant_client::qdrant::{
    Condition, CountPointsBuilder, CreateCollectionBuilder, CreateFieldIndexCollectionBuilder,
    Distance, FieldType, Filter as QFilter, PointStruct, Range, SearchPointsBuilder,
    UpsertPointsBuilder, VectorParamsBuilder, point_id::PointIdOptions,
};

use super::{VectorPoint, VectorStore};
use crate::bridge::SyncBridge;
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
    /// For async callers, on their runtime.
    client: Qdrant,
    config: Arc<QdrantStoreConfig>,
    dim: usize,
    /// For synchronous callers: the bridge and a client whose connections live on it.
    sync: OnceLock<(SyncBridge, Qdrant)>,
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

fn client_for(config: &QdrantStoreConfig) -> Result<Qdrant> {
    let mut builder = Qdrant::from_url(&config.url)
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .skip_compatibility_check();
    if let Some(k) = &config.api_key {
        builder = builder.api_key(k.clone());
    }
    builder.build().map_err(qerr)
}

/// Runs one server call, bounded by `deadline`.
async fn bounded<T, E: std::fmt::Display>(
    deadline: Instant,
    fut: impl std::future::Future<Output = std::result::Result<T, E>>,
) -> Result<T> {
    match tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), fut).await {
        Ok(r) => r.map_err(qerr),
        Err(_) => Err(Error::DeadlineExceeded),
    }
}

async fn create_collection(
    client: &Qdrant,
    config: &QdrantStoreConfig,
    dim: usize,
    deadline: Instant,
) -> Result<()> {
    let name = &config.collection;
    if bounded(deadline, client.collection_exists(name)).await? {
        bounded(deadline, client.delete_collection(name)).await?;
    }
    bounded(
        deadline,
        client.create_collection(
            CreateCollectionBuilder::new(name)
                .vectors_config(VectorParamsBuilder::new(dim as u64, Distance::Cosine)),
        ),
    )
    .await?;
    for (key, ty) in [
        ("kind", FieldType::Keyword),
        ("matter", FieldType::Keyword),
        ("department", FieldType::Keyword),
        ("valid_from", FieldType::Integer),
        ("valid_until", FieldType::Integer),
    ] {
        bounded(
            deadline,
            client.create_field_index(
                CreateFieldIndexCollectionBuilder::new(name, key, ty).wait(true),
            ),
        )
        .await?;
    }
    Ok(())
}

fn check_dim(dim: usize, got: usize) -> Result<()> {
    if got == dim {
        Ok(())
    } else {
        Err(Error::DimensionMismatch { expected: dim, got })
    }
}

async fn upsert_points(
    client: &Qdrant,
    config: &QdrantStoreConfig,
    dim: usize,
    points: &[VectorPoint],
    deadline: Instant,
) -> Result<()> {
    for batch in points.chunks(config.batch_size.max(1)) {
        let mut list = Vec::with_capacity(batch.len());
        for p in batch {
            check_dim(dim, p.vector.len())?;
            let json = serde_json::to_value(&p.payload).map_err(qerr)?;
            let payload = qdrant_client::Payload::try_from(json).map_err(qerr)?;
            list.push(PointStruct::new(p.id, p.vector.clone(), payload));
        }
        bounded(
            deadline,
            client.upsert_points(UpsertPointsBuilder::new(&config.collection, list).wait(true)),
        )
        .await?;
    }
    Ok(())
}

async fn search_points(
    client: &Qdrant,
    config: &QdrantStoreConfig,
    dim: usize,
    vector: Vec<f32>,
    filter: &Filter,
    limit: usize,
    deadline: Instant,
) -> Result<Vec<(u64, f32)>> {
    check_dim(dim, vector.len())?;
    let mut req = SearchPointsBuilder::new(&config.collection, vector, limit as u64);
    if let Some(f) = to_filter(filter) {
        req = req.filter(f);
    }
    let resp = bounded(deadline, client.search_points(req)).await?;
    Ok(resp
        .result
        .into_iter()
        .filter_map(|p| match p.id.and_then(|id| id.point_id_options) {
            Some(PointIdOptions::Num(n)) => Some((n, p.score)),
            _ => None,
        })
        .collect())
}

async fn count_points(
    client: &Qdrant,
    config: &QdrantStoreConfig,
    deadline: Instant,
) -> Result<usize> {
    let resp = bounded(
        deadline,
        client.count(CountPointsBuilder::new(&config.collection).exact(true)),
    )
    .await?;
    Ok(resp.result.map_or(0, |r| r.count as usize))
}

impl QdrantStore {
    /// Connects; with `create`, (re)creates the collection with cosine distance and
    /// keyword/integer payload indexes matching [`super::VectorPayload`]. Blocks the
    /// calling thread for the collection set-up (use
    /// [`QdrantStore::connect_async`] from async code).
    ///
    /// # Errors
    /// Connection or server errors.
    pub fn connect(config: QdrantStoreConfig, dim: usize, create: bool) -> Result<Self> {
        let store = QdrantStore::new(config, dim)?;
        if create {
            let deadline = Instant::now() + store.config.timeout * 4;
            let (bridge, client) = store.sync_side()?;
            let (client, config) = (client.clone(), store.config.clone());
            bridge.run(deadline, async move {
                create_collection(&client, &config, dim, deadline).await
            })?;
        }
        Ok(store)
    }

    /// [`QdrantStore::connect`] on the caller's runtime, bounded by `deadline`.
    ///
    /// # Errors
    /// Connection or server errors; [`Error::DeadlineExceeded`].
    pub async fn connect_async(
        config: QdrantStoreConfig,
        dim: usize,
        create: bool,
        deadline: Instant,
    ) -> Result<Self> {
        let store = QdrantStore::new(config, dim)?;
        if create {
            create_collection(&store.client, &store.config, dim, deadline).await?;
        }
        Ok(store)
    }

    fn new(config: QdrantStoreConfig, dim: usize) -> Result<Self> {
        Ok(QdrantStore {
            client: client_for(&config)?,
            config: Arc::new(config),
            dim,
            sync: OnceLock::new(),
        })
    }

    fn sync_side(&self) -> Result<&(SyncBridge, Qdrant)> {
        if let Some(s) = self.sync.get() {
            return Ok(s);
        }
        let made = (
            SyncBridge::start("zhiban-qdrant-sync")?,
            client_for(&self.config)?,
        );
        let _ = self.sync.set(made);
        self.sync
            .get()
            .ok_or_else(|| Error::Runtime("qdrant bridge not initialised".into()))
    }

    fn sync_deadline(&self) -> Instant {
        Instant::now() + self.config.timeout
    }

    /// The configuration.
    pub fn config(&self) -> &QdrantStoreConfig {
        &self.config
    }

    /// The `limit` nearest points that pass `filter`, on the caller's runtime.
    ///
    /// # Errors
    /// Server errors, a wrong dimension, [`Error::DeadlineExceeded`].
    pub async fn search_async(
        &self,
        vector: &[f32],
        filter: &Filter,
        limit: usize,
        deadline: Instant,
    ) -> Result<Vec<(u64, f32)>> {
        search_points(
            &self.client,
            &self.config,
            self.dim,
            vector.to_vec(),
            filter,
            limit,
            deadline,
        )
        .await
    }

    /// [`VectorStore::search`] with an explicit deadline (synchronous).
    ///
    /// # Errors
    /// As [`QdrantStore::search_async`].
    pub fn search_within(
        &self,
        vector: &[f32],
        filter: &Filter,
        limit: usize,
        deadline: Instant,
    ) -> Result<Vec<(u64, f32)>> {
        check_dim(self.dim, vector.len())?;
        let (bridge, client) = self.sync_side()?;
        let (client, config, dim) = (client.clone(), self.config.clone(), self.dim);
        let (vector, filter) = (vector.to_vec(), filter.clone());
        bridge.run(deadline, async move {
            search_points(&client, &config, dim, vector, &filter, limit, deadline).await
        })
    }

    /// Inserts or replaces points, on the caller's runtime.
    ///
    /// # Errors
    /// Server errors, a wrong dimension, [`Error::DeadlineExceeded`].
    pub async fn upsert_async(&self, points: &[VectorPoint], deadline: Instant) -> Result<()> {
        upsert_points(&self.client, &self.config, self.dim, points, deadline).await
    }

    /// Number of points, on the caller's runtime.
    ///
    /// # Errors
    /// Server errors, [`Error::DeadlineExceeded`].
    pub async fn count_async(&self, deadline: Instant) -> Result<usize> {
        count_points(&self.client, &self.config, deadline).await
    }

    /// Deletes the collection (used when a snapshot is garbage-collected).
    ///
    /// # Errors
    /// Server errors.
    pub fn drop_collection(&self) -> Result<()> {
        let (bridge, client) = self.sync_side()?;
        let (client, config) = (client.clone(), self.config.clone());
        let deadline = self.sync_deadline();
        bridge.run(deadline, async move {
            bounded(deadline, client.delete_collection(&config.collection))
                .await
                .map(|_| ())
        })
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
        if let Some(p) = points.iter().find(|p| p.vector.len() != self.dim) {
            return check_dim(self.dim, p.vector.len());
        }
        let (bridge, client) = self.sync_side()?;
        let (client, config, dim) = (client.clone(), self.config.clone(), self.dim);
        let batches = points.len().div_ceil(config.batch_size.max(1)).max(1) as u32;
        let deadline = Instant::now() + config.timeout * batches;
        let points = points.to_vec();
        bridge.run(deadline, async move {
            upsert_points(&client, &config, dim, &points, deadline).await
        })
    }

    fn search(&self, vector: &[f32], filter: &Filter, limit: usize) -> Result<Vec<(u64, f32)>> {
        self.search_within(vector, filter, limit, self.sync_deadline())
    }

    fn count(&self) -> Result<usize> {
        let (bridge, client) = self.sync_side()?;
        let (client, config) = (client.clone(), self.config.clone());
        let deadline = self.sync_deadline();
        bridge.run(deadline, async move {
            count_points(&client, &config, deadline).await
        })
    }

    fn flush(&self) -> Result<()> {
        // Upserts are sent with wait=true: once they return, they are durable.
        Ok(())
    }
}
