//! The OpenAI-compatible embedder against a scripted in-process server: batching,
//! retries, the dimension check, and a whole snapshot built and searched with it.

mod common;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use zhiban_knowledge::embed::{Embedder, OpenAiEmbedder, OpenAiEmbedderConfig};
use zhiban_knowledge::{BuildOptions, EmbeddingBackend, Error, Mode, SnapshotStore};

/// What the server does with the next request.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    /// Answer normally.
    Ok,
    /// Answer 500 with an OpenAI-style error body.
    Fail,
    /// Answer with vectors one element too long.
    WrongDim,
    /// Answer only after 30 s (a stalled endpoint).
    Stall,
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Recorded {
    inputs: Vec<String>,
    model: String,
    authorization: Option<String>,
}

struct Script {
    dim: usize,
    /// Steps for the next requests; when empty, every request is answered normally.
    steps: Mutex<VecDeque<Step>>,
    requests: Mutex<Vec<Recorded>>,
}

/// Deterministic embedding: character counts hashed into `dim` buckets.
fn hashed(text: &str, dim: usize) -> Vec<f32> {
    let mut v = vec![0f32; dim];
    for c in text.chars() {
        let b = (c as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
        v[(b % dim as u64) as usize] += 1.0;
    }
    v
}

fn normalized(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
    v
}

async fn embeddings(
    State(s): State<Arc<Script>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let inputs: Vec<String> = match &body["input"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().unwrap_or_default().to_string())
            .collect(),
        _ => Vec::new(),
    };
    let model = body["model"].as_str().unwrap_or_default().to_string();
    s.requests.lock().unwrap().push(Recorded {
        inputs: inputs.clone(),
        model: model.clone(),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(String::from),
    });
    let step = s.steps.lock().unwrap().pop_front().unwrap_or(Step::Ok);
    if step == Step::Stall {
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    if step == Step::Fail {
        let err = json!({"error": {"message": "scripted failure", "type": "server_error", "param": null, "code": null}});
        return (StatusCode::INTERNAL_SERVER_ERROR, Json(err)).into_response();
    }
    let dim = if step == Step::WrongDim {
        s.dim + 1
    } else {
        s.dim
    };
    // Reversed on purpose: the client must place vectors by `index`, not by position.
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .rev()
        .map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": hashed(t, dim)}))
        .collect();
    let tokens: usize = inputs.iter().map(|t| t.chars().count()).sum();
    Json(json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens}
    }))
    .into_response()
}

/// The scripted server, on its own thread and runtime; stopped on drop.
struct Server {
    addr: SocketAddr,
    script: Arc<Script>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(dim: usize, steps: &[Step]) -> Server {
        let script = Arc::new(Script {
            dim,
            steps: Mutex::new(steps.iter().copied().collect()),
            requests: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/v1/embeddings", post(embeddings))
            .with_state(script.clone());
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
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop_rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("server address");
        Server {
            addr,
            script,
            shutdown: Some(stop_tx),
            thread: Some(thread),
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    fn requests(&self) -> Vec<Recorded> {
        self.script.requests.lock().unwrap().clone()
    }

    fn config(&self, batch_size: usize) -> OpenAiEmbedderConfig {
        let mut c = OpenAiEmbedderConfig::new(self.base_url(), "bge-m3-test", self.script.dim);
        c.batch_size = batch_size;
        c.timeout = Duration::from_secs(10);
        c
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn texts(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("第{i}条 失业人员可以在常住地申领失业保险金，编号{}", i * 7))
        .collect()
}

#[test]
fn batches_preserve_order_by_index() {
    let server = Server::start(16, &[]);
    let emb = OpenAiEmbedder::new(server.config(4)).unwrap();
    assert_eq!(emb.dim(), 16);
    assert!(emb.model_id().contains("bge-m3-test"));
    for n in [1usize, 4, 5, 10] {
        let before = server.requests().len();
        let input = texts(n);
        let refs: Vec<&str> = input.iter().map(String::as_str).collect();
        let out = emb.embed_documents(&refs).unwrap();
        assert_eq!(out.len(), n);
        for (t, v) in input.iter().zip(&out) {
            let want = normalized(hashed(t, 16));
            assert!(
                v.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-6),
                "vector for {t:?} is out of order"
            );
            let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-5, "not unit length");
        }
        let reqs = &server.requests()[before..];
        assert_eq!(reqs.len(), n.div_ceil(4), "{n} inputs in batches of 4");
        let sent: Vec<String> = reqs.iter().flat_map(|r| r.inputs.clone()).collect();
        assert_eq!(sent, input, "inputs sent in order, each once");
        assert!(
            reqs.iter()
                .all(|r| r.inputs.len() <= 4 && r.model == "bge-m3-test")
        );
    }
    // A query is one request with one input.
    let before = server.requests().len();
    let q = emb.embed_query("外地户口失业了能在江川登记吗").unwrap();
    assert_eq!(q, normalized(hashed("外地户口失业了能在江川登记吗", 16)));
    assert_eq!(server.requests().len(), before + 1);
    // No inputs, no requests.
    assert!(emb.embed_documents(&[]).unwrap().is_empty());
    assert_eq!(server.requests().len(), before + 1);
}

#[test]
fn a_failed_request_is_retried() {
    let server = Server::start(16, &[Step::Fail]);
    let emb = OpenAiEmbedder::new(server.config(8)).unwrap();
    let input = texts(3);
    let refs: Vec<&str> = input.iter().map(String::as_str).collect();
    let out = emb.embed_documents(&refs).unwrap();
    assert_eq!(out.len(), 3);
    assert_eq!(out[2], normalized(hashed(&input[2], 16)));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2, "one failure, one retry");
    assert_eq!(
        reqs[0].inputs, reqs[1].inputs,
        "the retry resends the same batch"
    );
}

#[test]
fn retries_are_bounded() {
    let server = Server::start(16, &[Step::Fail; 5]);
    let mut cfg = server.config(8);
    cfg.max_attempts = 2;
    let emb = OpenAiEmbedder::new(cfg).unwrap();
    match emb.embed_query("失业保险金") {
        Err(Error::Embedding(msg)) => assert!(msg.contains("2 attempts"), "{msg}"),
        other => panic!("expected an embedding error, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn an_unreachable_endpoint_is_an_error() {
    // Bind and drop a listener to get a port that nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = OpenAiEmbedderConfig::new(format!("http://127.0.0.1:{port}/v1"), "bge-m3", 16);
    cfg.max_attempts = 1;
    cfg.timeout = Duration::from_secs(2);
    let emb = OpenAiEmbedder::new(cfg).unwrap();
    assert!(matches!(
        emb.embed_query("居住证"),
        Err(Error::Embedding(_))
    ));
}

#[test]
fn a_wrong_dimension_is_reported_and_not_retried() {
    let server = Server::start(16, &[Step::WrongDim]);
    let emb = OpenAiEmbedder::new(server.config(4)).unwrap();
    match emb.embed_documents(&["第一条", "第二条"]) {
        Err(Error::DimensionMismatch { expected, got }) => assert_eq!((expected, got), (16, 17)),
        other => panic!("expected DimensionMismatch, got {other:?}"),
    }
    // A model swap behind the URL is not transient: no retry.
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_snapshot_built_with_the_endpoint_searches_and_keeps_the_key_off_disk() {
    const KEY: &str = "sk-zhiban-test-0f3c9a7d2b";
    let server = Server::start(64, &[]);
    let fx = common::corpus();
    let chunks: usize = fx.docs.iter().map(|d| d.chunks.len()).sum();
    let mut cfg = server.config(4);
    cfg.api_key = KEY.into();
    let options = BuildOptions {
        embedding: EmbeddingBackend::OpenAi(cfg),
        ..BuildOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::new(dir.path());
    let built = store.build(&fx.docs, &options).unwrap();
    store.publish(&built.id).unwrap();

    let reqs = server.requests();
    assert_eq!(
        reqs.len(),
        chunks.div_ceil(4),
        "{chunks} chunks in batches of 4"
    );
    assert_eq!(reqs.iter().map(|r| r.inputs.len()).sum::<usize>(), chunks);
    assert!(
        reqs.iter()
            .all(|r| r.authorization.as_deref() == Some(&format!("Bearer {KEY}")[..]))
    );

    // The key is nowhere in the snapshot.
    let manifest_text =
        std::fs::read_to_string(store.dir_of(&built.id).join("manifest.json")).unwrap();
    assert!(!manifest_text.contains(KEY));
    for f in &built.manifest.files {
        let bytes = std::fs::read(store.dir_of(&built.id).join(&f.path)).unwrap();
        assert!(
            !bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
            "key written to {}",
            f.path
        );
    }
    match &built.manifest.options.embedding {
        EmbeddingBackend::OpenAi(c) => {
            assert!(c.api_key.is_empty());
            assert_eq!(c.dim, 64);
        }
        other => panic!("manifest embedding backend: {other:?}"),
    }
    assert_eq!(built.manifest.dim, 64);
    assert!(
        built
            .manifest
            .embedder
            .starts_with("openai-compatible:bge-m3-test")
    );
    assert!(
        !store.dir_of(&built.id).join("embedder").exists(),
        "no local model for a remote embedder"
    );
    store.verify(&built.id).unwrap();

    // Open with the key supplied at run time and search: the exact text of a chunk
    // comes back first with cosine ~1.
    let snap = store.open_with(&built.id, Some(KEY), None).unwrap();
    let target = snap
        .records()
        .iter()
        .find(|r| r.doc == 1 && r.article.as_deref() == Some("第九条"))
        .unwrap()
        .clone();
    let query = format!("{}\n{}", target.title, target.text);
    let before = server.requests().len();
    let r = common::search(&snap, &common::request(&query, Mode::Vector, None, false));
    assert_eq!(r.hits[0].chunk_id, target.chunk_id);
    assert!(
        (r.hits[0].score - 1.0).abs() < 1e-4,
        "cosine {}",
        r.hits[0].score
    );
    assert_eq!(r.hits[0].snapshot, built.id);
    let after = server.requests();
    assert_eq!(after.len(), before + 1, "one request per query");
    assert_eq!(after.last().unwrap().inputs, vec![query.clone()]);
    assert_eq!(
        after.last().unwrap().authorization.as_deref(),
        Some(&format!("Bearer {KEY}")[..])
    );

    // Hybrid works too, and validity filtering still applies to the vector channel.
    let r = common::search(
        &snap,
        &common::request(
            "失业保险金发放标准",
            Mode::Hybrid,
            Some(common::d("2021-06-01")),
            false,
        ),
    );
    let ids = common::doc_ids(&r);
    assert!(
        ids.contains(&fx.ids.old_rule) && !ids.contains(&fx.ids.new_rule),
        "{ids:?}"
    );
    let r = common::search(
        &snap,
        &common::request(
            "失业保险金发放标准",
            Mode::Vector,
            Some(common::d("2021-06-01")),
            false,
        ),
    );
    assert!(
        r.hits
            .iter()
            .all(|h| h.status == zhiban_knowledge::Status::InForce)
    );
    assert!(!common::doc_ids(&r).contains(&fx.ids.new_rule));
}

#[test]
fn a_build_fails_cleanly_when_the_endpoint_is_down() {
    let server = Server::start(16, &[Step::Fail; 10]);
    let mut cfg = server.config(64);
    cfg.max_attempts = 1;
    let options = BuildOptions {
        embedding: EmbeddingBackend::OpenAi(cfg),
        ..BuildOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::new(dir.path());
    match store.build(&common::corpus().docs, &options) {
        Err(Error::Embedding(msg)) => assert!(msg.contains("1 attempts"), "{msg}"),
        other => panic!("expected an embedding error, got {:?}", other.map(|b| b.id)),
    }
    // Nothing listed, nothing published, no build directory left behind.
    assert!(store.list().unwrap().is_empty());
    assert_eq!(store.current_id().unwrap(), None);
    let left: Vec<_> = std::fs::read_dir(dir.path().join("snapshots"))
        .unwrap()
        .flatten()
        .collect();
    assert!(
        left.is_empty(),
        "left behind: {:?}",
        left.iter().map(|e| e.file_name()).collect::<Vec<_>>()
    );
}

/// The server's own runtime must not be what drives the client: the scripted
/// server runs on its own thread, the searches here on a multi-threaded runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_search_with_the_endpoint_inside_a_multi_threaded_runtime() {
    let server = Server::start(64, &[]);
    let cfg = server.config(8);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let snap = tokio::task::spawn_blocking(move || {
        let options = BuildOptions {
            embedding: EmbeddingBackend::OpenAi(cfg),
            ..BuildOptions::default()
        };
        let store = SnapshotStore::new(&path);
        let built = store.build(&common::corpus().docs, &options).unwrap();
        store.open(&built.id).unwrap()
    })
    .await
    .unwrap();
    assert!(snap.is_remote());
    for mode in [Mode::Vector, Mode::Hybrid] {
        let req = common::request("失业保险金发放标准", mode, None, false);
        let before = server.requests().len();
        let a = snap
            .search_async(&req, Instant::now() + Duration::from_secs(10))
            .await
            .unwrap();
        // One request per query: the feedback chunks' vectors come from the store.
        assert_eq!(server.requests().len(), before + 1, "{mode:?}");
        let (s, r) = (snap.clone(), req.clone());
        let b = tokio::task::spawn_blocking(move || s.search(&r))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a, b, "{mode:?}");
        assert!(!a.hits.is_empty() && a.hits.iter().all(|h| h.snapshot == a.snapshot));
    }
    // The synchronous API on an async worker: blocks it, does not panic.
    let req = common::request("居住证签注", Mode::Vector, None, false);
    assert!(!snap.search(&req).unwrap().hits.is_empty());
    // Dropped on an async worker with its private runtime thread running.
    drop(snap);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_fit_inside_the_deadline() {
    // A stalled endpoint: one attempt would take 10 s (the per-request timeout),
    // three of them half a minute; the deadline ends it after 300 ms.
    let server = Server::start(16, &[Step::Stall; 3]);
    let mut cfg = server.config(8);
    cfg.max_attempts = 3;
    let emb = OpenAiEmbedder::new(cfg).unwrap();
    let started = Instant::now();
    let r = emb
        .embed_async(&["失业保险金"], Instant::now() + Duration::from_millis(300))
        .await;
    assert!(matches!(r, Err(Error::DeadlineExceeded)), "{r:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // Failing fast, the retries run until the deadline leaves no room for the
    // next pause (200 ms, then 400 ms): two attempts fit in 500 ms, not three.
    let server = Server::start(16, &[Step::Fail; 5]);
    let mut cfg = server.config(8);
    cfg.max_attempts = 3;
    let emb = OpenAiEmbedder::new(cfg).unwrap();
    let r = emb
        .embed_async(&["失业保险金"], Instant::now() + Duration::from_millis(500))
        .await;
    assert!(matches!(r, Err(Error::DeadlineExceeded)), "{r:?}");
    assert_eq!(server.requests().len(), 2);
    // The synchronous form, called from a blocking thread, obeys the deadline too.
    let r = tokio::task::spawn_blocking(move || {
        emb.embed_within(&["居住证"], Instant::now() + Duration::from_millis(300))
    })
    .await
    .unwrap();
    assert!(matches!(r, Err(Error::DeadlineExceeded)), "{r:?}");
}
