//! A server's view of snapshots: [`LiveSnapshot`] swapping in a newly published
//! snapshot while earlier handles keep serving, refusing snapshots that do not
//! open, and async search with the embedded default inside a multi-threaded
//! runtime.

mod common;

use std::fs;
use std::time::{Duration, Instant};

use common::{build_and_publish, corpus, extra_document, options, request};
use zhiban_knowledge::{Error, LiveSnapshot, Mode, Refresh, Secrets, SnapshotStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_search_with_the_local_embedder_and_exact_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let (store, built) =
        tokio::task::spawn_blocking(move || build_and_publish(&path, &corpus().docs))
            .await
            .unwrap();
    let live = LiveSnapshot::open_async(store, Secrets::default())
        .await
        .unwrap();
    let snap = live.snapshot();
    assert!(!snap.is_remote());
    for mode in common::MODES {
        let req = request("外地户籍失业人员怎么申领失业保险金", mode, None, false);
        let a = live
            .search(&req, Instant::now() + Duration::from_secs(10))
            .await
            .unwrap();
        let (s, r) = (snap.clone(), req.clone());
        let b = tokio::task::spawn_blocking(move || s.search(&r))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a, b, "{mode:?}: async and sync disagree");
        assert!(!a.hits.is_empty());
        assert!(a.hits.iter().all(|h| h.snapshot == built.id));
    }
    // A deadline already past is reported as such, not as a hang or a panic.
    let req = request("失业保险金", Mode::Hybrid, None, false);
    assert!(matches!(
        snap.search_async(&req, Instant::now() - Duration::from_millis(1))
            .await,
        Err(Error::DeadlineExceeded)
    ));
    drop(snap);
    drop(live);
}

#[test]
fn refresh_swaps_while_an_earlier_handle_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let fx = corpus();
    let (store, first) = build_and_publish(dir.path(), &fx.docs);
    let live = LiveSnapshot::open(store.clone(), Secrets::default()).unwrap();
    assert_eq!(live.refresh().unwrap(), Refresh::Unchanged);
    let held = live.snapshot();
    let mut docs = fx.docs.clone();
    docs.push(extra_document());
    let second = store.build(&docs, &options()).unwrap();
    store.publish(&second.id).unwrap();
    // Nothing changes until a refresh.
    assert_eq!(live.snapshot().id(), first.id);
    assert_eq!(
        live.refresh().unwrap(),
        Refresh::Swapped {
            from: first.id.clone(),
            to: second.id.clone()
        }
    );
    assert_eq!(live.snapshot().id(), second.id);
    let q = request("就业见习补贴", Mode::Bm25, None, false);
    let extra = extra_document().meta.doc_id;
    assert!(common::doc_ids(&common::search(&live.snapshot(), &q)).contains(&extra));
    // The handle taken before the swap still answers from the first snapshot.
    let old = common::search(&held, &q);
    assert_eq!(old.snapshot, first.id);
    assert!(!common::doc_ids(&old).contains(&extra));
    assert!(old.hits.iter().all(|h| h.snapshot == first.id));
}

#[test]
fn a_snapshot_that_does_not_open_is_refused_and_the_old_one_serves() {
    let dir = tempfile::tempdir().unwrap();
    let fx = corpus();
    let (store, first) = build_and_publish(dir.path(), &fx.docs);
    let live = LiveSnapshot::open(store.clone(), Secrets::default()).unwrap();
    let second = store.build(&fx.docs[..6], &options()).unwrap();
    let target = store.dir_of(&second.id).join("minhash.u32");
    let mut bytes = fs::read(&target).unwrap();
    bytes[0] ^= 0xff;
    fs::write(&target, &bytes).unwrap();
    store.publish(&second.id).unwrap();
    assert!(matches!(live.refresh(), Err(Error::CorruptSnapshot { .. })));
    assert_eq!(live.snapshot().id(), first.id);
    let (failed, why) = live.last_failure().unwrap();
    assert_eq!(failed, second.id);
    assert!(why.contains("minhash.u32"), "{why}");
    let r = common::search(
        &live.snapshot(),
        &request("失业保险金", Mode::Hybrid, None, false),
    );
    assert_eq!(r.snapshot, first.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watcher_picks_up_a_publish() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let (store, first) =
        tokio::task::spawn_blocking(move || build_and_publish(&path, &corpus().docs))
            .await
            .unwrap();
    let live = LiveSnapshot::open_async(store.clone(), Secrets::default())
        .await
        .unwrap();
    let watcher = live.watch(Duration::from_millis(10));
    let s = store.clone();
    let second = tokio::task::spawn_blocking(move || {
        let b = s.build(&corpus().docs[..8], &options()).unwrap();
        s.publish(&b.id).unwrap();
        b.id
    })
    .await
    .unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    while live.snapshot().id() != second && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(live.snapshot().id(), second);
    assert_ne!(first.id, second);
    // The watcher ends by itself once the last handle is gone.
    drop(live);
    tokio::time::timeout(Duration::from_secs(5), watcher)
        .await
        .expect("watcher did not stop")
        .unwrap();
}

#[test]
fn old_formats_and_missing_backends_are_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let (store, built) = build_and_publish(dir.path(), &corpus().docs);
    let mp = store.dir_of(&built.id).join("manifest.json");
    let text = fs::read_to_string(&mp).unwrap();
    fs::write(&mp, text.replace("\"format\": 2", "\"format\": 1")).unwrap();
    match store.open(&built.id) {
        Err(Error::UnsupportedFormat {
            found, supported, ..
        }) => assert_eq!((found, supported), (1, 2)),
        other => panic!(
            "expected UnsupportedFormat, got {:?}",
            other.map(|s| s.id().to_string())
        ),
    }
    // Documents stay readable for a re-ingest whatever the format.
    assert_eq!(
        store.load_documents(&built.id).unwrap().len(),
        corpus().docs.len()
    );
    #[cfg(not(feature = "qdrant-edge"))]
    {
        let edge = zhiban_knowledge::BuildOptions {
            vectors: zhiban_knowledge::VectorBackend::Edge,
            ..options()
        };
        assert!(matches!(
            store.build(&corpus().docs, &edge),
            Err(Error::BackendUnavailable {
                feature: "qdrant-edge",
                ..
            })
        ));
        fs::write(
            &mp,
            text.replace("\"type\": \"exact\"", "\"type\": \"edge\""),
        )
        .unwrap();
        assert!(matches!(
            store.open(&built.id),
            Err(Error::BackendUnavailable {
                feature: "qdrant-edge",
                ..
            })
        ));
    }
    let _ = SnapshotStore::new(dir.path());
}
