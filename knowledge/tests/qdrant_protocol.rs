//! The Qdrant server backend tested against the protocol: an in-process gRPC server
//! that implements the services qdrant-client speaks (its own generated `Points`,
//! `Collections` and `Qdrant` traits) over an in-memory collection, with exact
//! cosine search and the payload filters we send. No Qdrant server or container is
//! available here; `tests/qdrant_server.rs` runs the same paths against a real one
//! when `QDRANT_URL` is set.
//!
//! What this proves: the requests we send are well-formed Qdrant gRPC (collection
//! set-up, payload indexes, batched upserts, filtered search, count), we read the
//! answers correctly, the async path works inside a multi-threaded tokio runtime,
//! and a server that does not answer ends a search by its deadline. What it does not
//! prove: Qdrant's own filter semantics and ranking (the fake implements the subset
//! we use, as documented by Qdrant).

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ::qdrant_client::qdrant::collections_server::{Collections, CollectionsServer};
use ::qdrant_client::qdrant::points_server::{Points, PointsServer};
use ::qdrant_client::qdrant::qdrant_server::{Qdrant, QdrantServer};
use ::qdrant_client::qdrant::*;
use tonic::{Request, Response, Status};
use zhiban_knowledge::vector::{QdrantStore, QdrantStoreConfig};
use zhiban_knowledge::{
    BuildOptions, Error, Mode, SnapshotStore, Status as DocStatus, VectorBackend,
};

#[derive(Default)]
struct Collection {
    points: Vec<(u64, Vec<f32>, HashMap<String, Value>)>,
}

#[derive(Default)]
struct State {
    collections: HashMap<String, Collection>,
    /// Payload indexes requested, as (collection, field).
    indexes: Vec<(String, String)>,
    /// Searches received.
    searches: usize,
    /// Answer searches only after this long (a stalled server).
    stall: Option<Duration>,
}

#[derive(Clone, Default)]
struct Fake(Arc<Mutex<State>>);

fn dense(v: &Vectors) -> Option<Vec<f32>> {
    match v.vectors_options.as_ref()? {
        vectors::VectorsOptions::Vector(v) => {
            // Older clients fill the deprecated `data` field; ours sends `Dense`.
            #[allow(deprecated)]
            if !v.data.is_empty() {
                #[allow(deprecated)]
                return Some(v.data.clone());
            }
            match v.vector.as_ref()? {
                vector::Vector::Dense(d) => Some(d.data.clone()),
                _ => None,
            }
        }
        _ => None,
    }
}

fn strings(v: &Value) -> Vec<String> {
    match &v.kind {
        Some(value::Kind::StringValue(s)) => vec![s.clone()],
        Some(value::Kind::ListValue(l)) => l.values.iter().flat_map(strings).collect(),
        _ => vec![],
    }
}

fn number(v: &Value) -> Option<f64> {
    match &v.kind {
        Some(value::Kind::IntegerValue(i)) => Some(*i as f64),
        Some(value::Kind::DoubleValue(d)) => Some(*d),
        _ => None,
    }
}

/// The subset of Qdrant's filter language that `QdrantStore` sends.
fn passes(filter: &Option<Filter>, payload: &HashMap<String, Value>) -> Result<bool, Status> {
    let Some(f) = filter else { return Ok(true) };
    if !f.should.is_empty() || !f.must_not.is_empty() || f.min_should.is_some() {
        return Err(Status::unimplemented("only `must` filters"));
    }
    for c in &f.must {
        let Some(condition::ConditionOneOf::Field(fc)) = &c.condition_one_of else {
            return Err(Status::unimplemented("only field conditions"));
        };
        let value = payload.get(&fc.key);
        if let Some(m) = &fc.r#match {
            let have = value.map(strings).unwrap_or_default();
            let want: Vec<String> = match &m.match_value {
                Some(r#match::MatchValue::Keyword(k)) => vec![k.clone()],
                Some(r#match::MatchValue::Keywords(k)) => k.strings.clone(),
                _ => return Err(Status::unimplemented("only keyword matches")),
            };
            if !have.iter().any(|h| want.contains(h)) {
                return Ok(false);
            }
        }
        if let Some(r) = &fc.range {
            let Some(x) = value.and_then(number) else {
                return Ok(false);
            };
            let ok = r.lt.is_none_or(|b| x < b)
                && r.gt.is_none_or(|b| x > b)
                && r.lte.is_none_or(|b| x <= b)
                && r.gte.is_none_or(|b| x >= b);
            if !ok {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

fn unit(v: &[f32]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| if n > 0.0 { x / n } else { *x }).collect()
}

/// RPCs we never call. Written in the shape `#[async_trait]` gives trait methods,
/// because the attribute does not see inside a macro call.
macro_rules! unimplemented_rpcs {
    ($($name:ident($req:ty) -> $resp:ty;)*) => {
        $(fn $name<'life0, 'async_trait>(
            &'life0 self,
            _: Request<$req>,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response<$resp>, Status>> + Send + 'async_trait>>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            Box::pin(async { Err(Status::unimplemented(stringify!($name))) })
        })*
    };
}

#[tonic::async_trait]
impl Collections for Fake {
    async fn collection_exists(
        &self,
        r: Request<CollectionExistsRequest>,
    ) -> Result<Response<CollectionExistsResponse>, Status> {
        let exists = self
            .0
            .lock()
            .unwrap()
            .collections
            .contains_key(&r.get_ref().collection_name);
        Ok(Response::new(CollectionExistsResponse {
            result: Some(CollectionExists { exists }),
            time: 0.0,
        }))
    }
    async fn create(
        &self,
        r: Request<CreateCollection>,
    ) -> Result<Response<CollectionOperationResponse>, Status> {
        let name = r.into_inner().collection_name;
        self.0
            .lock()
            .unwrap()
            .collections
            .insert(name, Collection::default());
        Ok(Response::new(CollectionOperationResponse {
            result: true,
            ..Default::default()
        }))
    }
    async fn delete(
        &self,
        r: Request<DeleteCollection>,
    ) -> Result<Response<CollectionOperationResponse>, Status> {
        let gone = self
            .0
            .lock()
            .unwrap()
            .collections
            .remove(&r.get_ref().collection_name);
        Ok(Response::new(CollectionOperationResponse {
            result: gone.is_some(),
            ..Default::default()
        }))
    }
    unimplemented_rpcs! {
        get(GetCollectionInfoRequest) -> GetCollectionInfoResponse;
        list(ListCollectionsRequest) -> ListCollectionsResponse;
        update(UpdateCollection) -> CollectionOperationResponse;
        update_aliases(ChangeAliases) -> CollectionOperationResponse;
        list_collection_aliases(ListCollectionAliasesRequest) -> ListAliasesResponse;
        list_aliases(ListAliasesRequest) -> ListAliasesResponse;
        collection_cluster_info(CollectionClusterInfoRequest) -> CollectionClusterInfoResponse;
        update_collection_cluster_setup(UpdateCollectionClusterSetupRequest) -> UpdateCollectionClusterSetupResponse;
        create_shard_key(CreateShardKeyRequest) -> CreateShardKeyResponse;
        delete_shard_key(DeleteShardKeyRequest) -> DeleteShardKeyResponse;
        list_shard_keys(ListShardKeysRequest) -> ListShardKeysResponse;
    }
}

fn ok_update() -> Response<PointsOperationResponse> {
    Response::new(PointsOperationResponse {
        result: Some(UpdateResult {
            operation_id: Some(0),
            status: UpdateStatus::Completed as i32,
        }),
        ..Default::default()
    })
}

#[tonic::async_trait]
impl Points for Fake {
    async fn create_field_index(
        &self,
        r: Request<CreateFieldIndexCollection>,
    ) -> Result<Response<PointsOperationResponse>, Status> {
        let r = r.into_inner();
        self.0
            .lock()
            .unwrap()
            .indexes
            .push((r.collection_name, r.field_name));
        Ok(ok_update())
    }
    async fn upsert(
        &self,
        r: Request<UpsertPoints>,
    ) -> Result<Response<PointsOperationResponse>, Status> {
        let r = r.into_inner();
        let mut s = self.0.lock().unwrap();
        let c = s
            .collections
            .get_mut(&r.collection_name)
            .ok_or_else(|| Status::not_found("no such collection"))?;
        for p in r.points {
            let id = match p.id.and_then(|i| i.point_id_options) {
                Some(point_id::PointIdOptions::Num(n)) => n,
                _ => return Err(Status::invalid_argument("numeric ids only")),
            };
            let v = p
                .vectors
                .as_ref()
                .and_then(dense)
                .ok_or_else(|| Status::invalid_argument("dense vector expected"))?;
            c.points.retain(|(i, _, _)| *i != id);
            c.points.push((id, unit(&v), p.payload));
        }
        Ok(ok_update())
    }
    async fn search(&self, r: Request<SearchPoints>) -> Result<Response<SearchResponse>, Status> {
        let stall = {
            let mut s = self.0.lock().unwrap();
            s.searches += 1;
            s.stall
        };
        if let Some(d) = stall {
            tokio::time::sleep(d).await;
        }
        let r = r.into_inner();
        let s = self.0.lock().unwrap();
        let c = s
            .collections
            .get(&r.collection_name)
            .ok_or_else(|| Status::not_found("no such collection"))?;
        let q = unit(&r.vector);
        let mut scored = Vec::new();
        for (id, v, payload) in &c.points {
            if passes(&r.filter, payload)? {
                let score: f32 = q.iter().zip(v).map(|(a, b)| a * b).sum();
                scored.push((*id, score));
            }
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(r.limit as usize);
        Ok(Response::new(SearchResponse {
            result: scored
                .into_iter()
                .map(|(id, score)| ScoredPoint {
                    id: Some(PointId::from(id)),
                    score,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }))
    }
    async fn count(&self, r: Request<CountPoints>) -> Result<Response<CountResponse>, Status> {
        let s = self.0.lock().unwrap();
        let n = s
            .collections
            .get(&r.get_ref().collection_name)
            .map_or(0, |c| c.points.len());
        Ok(Response::new(CountResponse {
            result: Some(CountResult { count: n as u64 }),
            ..Default::default()
        }))
    }
    unimplemented_rpcs! {
        delete(DeletePoints) -> PointsOperationResponse;
        get(GetPoints) -> GetResponse;
        update_vectors(UpdatePointVectors) -> PointsOperationResponse;
        delete_vectors(DeletePointVectors) -> PointsOperationResponse;
        set_payload(SetPayloadPoints) -> PointsOperationResponse;
        overwrite_payload(SetPayloadPoints) -> PointsOperationResponse;
        delete_payload(DeletePayloadPoints) -> PointsOperationResponse;
        clear_payload(ClearPayloadPoints) -> PointsOperationResponse;
        delete_field_index(DeleteFieldIndexCollection) -> PointsOperationResponse;
        create_vector_name(CreateVectorNameRequest) -> PointsOperationResponse;
        delete_vector_name(DeleteVectorNameRequest) -> PointsOperationResponse;
        search_batch(SearchBatchPoints) -> SearchBatchResponse;
        search_groups(SearchPointGroups) -> SearchGroupsResponse;
        scroll(ScrollPoints) -> ScrollResponse;
        recommend(RecommendPoints) -> RecommendResponse;
        recommend_batch(RecommendBatchPoints) -> RecommendBatchResponse;
        recommend_groups(RecommendPointGroups) -> RecommendGroupsResponse;
        discover(DiscoverPoints) -> DiscoverResponse;
        discover_batch(DiscoverBatchPoints) -> DiscoverBatchResponse;
        update_batch(UpdateBatchPoints) -> UpdateBatchResponse;
        query(QueryPoints) -> QueryResponse;
        query_batch(QueryBatchPoints) -> QueryBatchResponse;
        query_groups(QueryPointGroups) -> QueryGroupsResponse;
        facet(FacetCounts) -> FacetResponse;
        search_matrix_pairs(SearchMatrixPoints) -> SearchMatrixPairsResponse;
        search_matrix_offsets(SearchMatrixPoints) -> SearchMatrixOffsetsResponse;
    }
}

#[tonic::async_trait]
impl Qdrant for Fake {
    async fn health_check(
        &self,
        _: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckReply>, Status> {
        Ok(Response::new(HealthCheckReply {
            title: "fake qdrant".into(),
            version: "1.20.0".into(),
            commit: None,
        }))
    }
}

/// The fake server, on its own thread and runtime; stopped on drop.
struct Server {
    addr: SocketAddr,
    fake: Fake,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start() -> Server {
        let fake = Fake::default();
        let svc = fake.clone();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                tonic::transport::Server::builder()
                    .add_service(CollectionsServer::new(svc.clone()))
                    .add_service(PointsServer::new(svc.clone()))
                    .add_service(QdrantServer::new(svc))
                    .serve_with_incoming_shutdown(
                        tonic::transport::server::TcpIncoming::from(listener),
                        async move {
                            let _ = stop_rx.await;
                        },
                    )
                    .await
                    .unwrap();
            });
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        Server {
            addr,
            fake,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn config(url: &str, collection: &str) -> QdrantStoreConfig {
    let mut c = QdrantStoreConfig::new(url, collection);
    c.batch_size = 5;
    c.timeout = Duration::from_secs(5);
    c
}

/// Builds the fixture corpus into a snapshot whose vectors live on `server`.
fn snapshot_on(server: &Server, dir: &std::path::Path) -> (SnapshotStore, String) {
    let options = BuildOptions {
        vectors: VectorBackend::Qdrant(config(&server.url(), "zhiban_test")),
        ..BuildOptions::default()
    };
    let store = SnapshotStore::new(dir);
    let built = store.build(&common::corpus().docs, &options).unwrap();
    store.publish(&built.id).unwrap();
    (store, built.id)
}

#[test]
fn a_snapshot_builds_into_and_searches_a_qdrant_collection() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let (store, id) = snapshot_on(&server, dir.path());
    {
        let s = server.fake.0.lock().unwrap();
        assert_eq!(s.collections.len(), 1, "one collection per snapshot");
        let (name, c) = s.collections.iter().next().unwrap();
        assert!(name.starts_with("zhiban_test_"), "{name}");
        let chunks: usize = common::corpus().docs.iter().map(|d| d.chunks.len()).sum();
        assert_eq!(c.points.len(), chunks);
        let fields: Vec<&str> = s.indexes.iter().map(|(_, f)| f.as_str()).collect();
        for f in ["kind", "matter", "department", "valid_from", "valid_until"] {
            assert!(fields.contains(&f), "no payload index on {f}: {fields:?}");
        }
    }
    assert!(!store.dir_of(&id).join("vectors").exists());
    let snap = store.open(&id).unwrap();
    assert!(snap.is_remote());
    assert_eq!(snap.vectors().count().unwrap(), snap.records().len());
    let fx = common::corpus();
    let r = common::search(
        &snap,
        &common::request(
            "失业保险金发放标准",
            Mode::Vector,
            Some(common::d("2021-06-01")),
            false,
        ),
    );
    let ids = common::doc_ids(&r);
    assert!(
        ids.contains(&fx.ids.old_rule) && !ids.contains(&fx.ids.new_rule),
        "the validity filter reached the server: {ids:?}"
    );
    assert!(
        r.hits
            .iter()
            .all(|h| h.status == DocStatus::InForce && h.snapshot == id)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_search_on_the_qdrant_backend_matches_the_sync_one() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let (store, id, snap) = {
        let server_url = server.url();
        tokio::task::spawn_blocking(move || {
            let options = BuildOptions {
                vectors: VectorBackend::Qdrant(config(&server_url, "zhiban_test")),
                ..BuildOptions::default()
            };
            let store = SnapshotStore::new(&path);
            let built = store.build(&common::corpus().docs, &options).unwrap();
            store.publish(&built.id).unwrap();
            let snap = store.open(&built.id).unwrap();
            (store, built.id, snap)
        })
        .await
        .unwrap()
    };
    for mode in common::MODES {
        let req = common::request("持有居住证的外地户籍人员申领失业保险金", mode, None, false);
        let deadline = Instant::now() + Duration::from_secs(10);
        let a = snap.search_async(&req, deadline).await.unwrap();
        let (s2, r2) = (snap.clone(), req.clone());
        let b = tokio::task::spawn_blocking(move || s2.search(&r2))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a, b, "{mode:?}");
        assert!(!a.hits.is_empty() && a.hits.iter().all(|h| h.snapshot == id));
    }
    // The synchronous API called straight from an async worker blocks that worker
    // but must not panic (it used to call block_on on a private runtime).
    let req = common::request("居住证签注", Mode::Vector, None, false);
    assert!(!snap.search(&req).unwrap().hits.is_empty());
    // Dropping the snapshot, with its private runtime thread started, on an async
    // worker is safe.
    drop(snap);
    drop(store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_ends_the_search_at_its_deadline() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let url = server.url();
    let snap = tokio::task::spawn_blocking(move || {
        let options = BuildOptions {
            vectors: VectorBackend::Qdrant(config(&url, "zhiban_test")),
            ..BuildOptions::default()
        };
        let store = SnapshotStore::new(&path);
        let built = store.build(&common::corpus().docs, &options).unwrap();
        store.open(&built.id).unwrap()
    })
    .await
    .unwrap();
    server.fake.0.lock().unwrap().stall = Some(Duration::from_secs(30));
    let req = common::request("失业保险金", Mode::Hybrid, None, false);
    let started = Instant::now();
    let r = snap
        .search_async(&req, Instant::now() + Duration::from_millis(300))
        .await;
    assert!(matches!(r, Err(Error::DeadlineExceeded)), "{r:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.fake.0.lock().unwrap().searches, 1);
    // The synchronous path is bounded the same way.
    let r = tokio::task::spawn_blocking(move || {
        snap.search_within(&req, Instant::now() + Duration::from_millis(300))
    })
    .await
    .unwrap();
    assert!(matches!(r, Err(Error::DeadlineExceeded)), "{r:?}");
}

/// A port that accepts connections (the kernel completes the handshake) but never
/// answers: the gRPC handshake hangs, and only the deadline ends the call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_black_hole_server_ends_the_call_at_its_deadline() {
    let hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", hole.local_addr().unwrap());
    let store = QdrantStore::connect_async(config(&url, "nothing"), 4, false, Instant::now())
        .await
        .unwrap();
    let started = Instant::now();
    let r = store
        .search_async(
            &[1.0, 0.0, 0.0, 0.0],
            &zhiban_knowledge::Filter::default(),
            3,
            Instant::now() + Duration::from_millis(300),
        )
        .await;
    assert!(matches!(r, Err(Error::DeadlineExceeded)), "{r:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // Creating a collection against it is bounded too.
    let r = QdrantStore::connect_async(
        config(&url, "nothing"),
        4,
        true,
        Instant::now() + Duration::from_millis(300),
    )
    .await;
    assert!(
        matches!(r, Err(Error::DeadlineExceeded)),
        "{:?}",
        r.map(|_| ())
    );
    drop(hole);
}
