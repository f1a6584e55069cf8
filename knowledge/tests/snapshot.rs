//! Snapshot lifecycle: build, publish, rollback, crashes between writing and
//! publishing, garbage collection, integrity checks and stable ids.

mod common;

use std::fs;

use common::{build_and_publish, corpus, extra_document, options, request, search};
use zhiban_knowledge::{Error, Mode, SearchRequest, SnapshotStore};

/// Runs one query and checks every hit names the snapshot that produced it.
fn hits_carry_id(snapshot: &zhiban_knowledge::Snapshot, expected: &str) {
    for mode in common::MODES {
        let r = search(
            snapshot,
            &request("外地户籍失业人员怎么申领失业保险金", mode, None, true),
        );
        assert_eq!(r.snapshot, expected, "{mode:?}: result snapshot id");
        assert!(!r.hits.is_empty(), "{mode:?}: no hits");
        for h in &r.hits {
            assert_eq!(
                h.snapshot, expected,
                "{mode:?}: hit {} carries the wrong snapshot",
                h.chunk_id
            );
        }
    }
}

#[test]
fn open_current_before_any_publish_is_no_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::new(dir.path());
    assert!(matches!(store.open_current(), Err(Error::NoSnapshot(_))));
    assert_eq!(store.current_id().unwrap(), None);
    assert!(store.list().unwrap().is_empty());
    assert!(store.history().unwrap().is_empty());
}

#[test]
fn publish_serves_the_new_snapshot_and_rollback_serves_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let fx = corpus();
    let (store, first) = build_and_publish(dir.path(), &fx.docs);

    let snap = store.open_current().unwrap();
    assert_eq!(snap.id(), first.id);
    assert_eq!(snap.manifest(), &first.manifest);
    assert_eq!(snap.documents().len(), fx.docs.len());
    assert_eq!(
        snap.manifest().chunks,
        fx.docs.iter().map(|d| d.chunks.len()).sum::<usize>()
    );
    assert_eq!(snap.manifest().documents.get("policy"), Some(&6));
    assert_eq!(snap.manifest().documents.get("guide"), Some(&2));
    assert_eq!(snap.manifest().documents.get("case"), Some(&1));
    assert_eq!(snap.manifest().documents.get("catalog"), Some(&2));
    hits_carry_id(&snap, &first.id);

    // A second, different snapshot.
    let mut docs2 = fx.docs.clone();
    docs2.push(extra_document());
    let second = store.build(&docs2, &options()).unwrap();
    assert_ne!(second.id, first.id);
    // Built but not yet published: readers still get the first one. (`snap` is
    // dropped first: a snapshot cannot be open twice at once, see
    // `one_snapshot_can_be_opened_by_two_readers_at_once`.)
    let q = request("就业见习补贴", Mode::Bm25, None, false);
    let extra_id = extra_document().meta.doc_id;
    assert!(!common::doc_ids(&search(&snap, &q)).contains(&extra_id));
    drop(snap);
    assert_eq!(store.open_current().unwrap().id(), first.id);
    store.publish(&second.id).unwrap();
    let snap2 = store.open_current().unwrap();
    assert_eq!(snap2.id(), second.id);
    assert_eq!(snap2.documents().len(), docs2.len());
    hits_carry_id(&snap2, &second.id);
    // Only the new snapshot knows the extra document.
    assert!(common::doc_ids(&search(&snap2, &q)).contains(&extra_id));
    assert_eq!(
        store.history().unwrap(),
        vec![first.id.clone(), second.id.clone()]
    );

    drop(snap2);

    // Rollback returns to the first snapshot.
    let back = store.rollback().unwrap();
    assert_eq!(back, first.id);
    assert_eq!(
        store.current_id().unwrap().as_deref(),
        Some(first.id.as_str())
    );
    let snap3 = store.open_current().unwrap();
    assert_eq!(snap3.id(), first.id);
    hits_carry_id(&snap3, &first.id);
    assert!(!common::doc_ids(&search(&snap3, &q)).contains(&extra_id));
    // The rolled-back snapshot is still on disk and can be re-published.
    assert!(store.list().unwrap().contains(&second.id));
    // Nothing earlier than the first: a second rollback is refused and changes nothing.
    assert!(matches!(
        store.rollback(),
        Err(Error::CorruptSnapshot { .. })
    ));
    assert_eq!(
        store.current_id().unwrap().as_deref(),
        Some(first.id.as_str())
    );
    drop(snap3);
    store.publish(&second.id).unwrap();
    assert_eq!(store.open_current().unwrap().id(), second.id);
}

#[test]
fn an_open_snapshot_keeps_serving_after_a_new_publish() {
    let dir = tempfile::tempdir().unwrap();
    let fx = corpus();
    let (store, first) = build_and_publish(dir.path(), &fx.docs);
    let reader = store.open_current().unwrap();
    let before = search(&reader, &request("失业保险金", Mode::Hybrid, None, false));
    let second = store.build(&fx.docs[..6], &options()).unwrap();
    store.publish(&second.id).unwrap();
    // The reader opened earlier is an immutable view of the first snapshot.
    let after = search(&reader, &request("失业保险金", Mode::Hybrid, None, false));
    assert_eq!(before, after);
    assert_eq!(after.snapshot, first.id);
}

#[test]
fn a_crash_before_publishing_leaves_the_old_snapshot_serving() {
    let dir = tempfile::tempdir().unwrap();
    let fx = corpus();
    let (store, first) = build_and_publish(dir.path(), &fx.docs);

    // Crash 1: a complete build that was never published.
    let mut docs2 = fx.docs.clone();
    docs2.push(extra_document());
    let unpublished = store.build(&docs2, &options()).unwrap();

    // Crash 2: a build interrupted half-way — a `.build-*` directory with some files
    // and no manifest.
    let partial = dir
        .path()
        .join("snapshots")
        .join(".build-20261129T101500123Z-0123456789");
    fs::create_dir_all(partial.join("lexical")).unwrap();
    fs::write(
        partial.join("documents.jsonl"),
        "{\"meta\":{\"doc_id\":\"p-trunc",
    )
    .unwrap();
    fs::write(partial.join("lexical").join("meta.json"), "{").unwrap();

    // Crash 3: a directory that looks like a snapshot id but has no manifest (the
    // rename happened, the manifest was lost).
    let no_manifest_id = "20261129T101600000Z-abcdefabcd";
    let no_manifest = dir.path().join("snapshots").join(no_manifest_id);
    fs::create_dir_all(&no_manifest).unwrap();
    fs::write(no_manifest.join("documents.jsonl"), "").unwrap();

    // Readers still get the published snapshot, whole.
    let snap = store.open_current().unwrap();
    assert_eq!(snap.id(), first.id);
    assert_eq!(snap.documents().len(), fx.docs.len());
    hits_carry_id(&snap, &first.id);

    // list() shows complete snapshots only.
    let listed = store.list().unwrap();
    assert!(listed.contains(&first.id));
    assert!(listed.contains(&unpublished.id));
    assert!(
        !listed.iter().any(|i| i.starts_with('.')),
        "partial build listed: {listed:?}"
    );
    assert!(!listed.contains(&no_manifest_id.to_string()));
    assert_eq!(listed.len(), 2);

    // The half-built directories cannot be published or opened.
    let before = fs::read(dir.path().join("CURRENT")).unwrap();
    assert!(matches!(
        store.publish(".build-20261129T101500123Z-0123456789"),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        store.publish(no_manifest_id),
        Err(Error::CorruptSnapshot { .. })
    ));
    assert!(matches!(
        store.open(no_manifest_id),
        Err(Error::CorruptSnapshot { .. })
    ));
    assert_eq!(fs::read(dir.path().join("CURRENT")).unwrap(), before);
    assert_eq!(store.history().unwrap(), vec![first.id.clone()]);

    // The complete but unpublished build can still be published later.
    store.publish(&unpublished.id).unwrap();
    assert_eq!(store.open_current().unwrap().id(), unpublished.id);
}

#[test]
fn gc_removes_leftovers_but_never_the_current_or_previous_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let fx = corpus();
    let (store, a) = build_and_publish(dir.path(), &fx.docs);
    let b = store.build(&fx.docs[..8], &options()).unwrap();
    store.publish(&b.id).unwrap();
    let c = store.build(&fx.docs[..6], &options()).unwrap();
    store.publish(&c.id).unwrap();
    // d: built, never published.
    let d = store.build(&fx.docs[2..], &options()).unwrap();
    let partial = dir
        .path()
        .join("snapshots")
        .join(".build-20261129T000000000Z-ffffffffff");
    fs::create_dir_all(&partial).unwrap();
    fs::write(partial.join("documents.jsonl"), "partial").unwrap();

    // keep = 0 is the most aggressive setting: only current (c) and previous (b) survive.
    let removed = store.gc(0).unwrap();
    let left = store.list().unwrap();
    assert!(left.contains(&c.id), "gc removed the current snapshot");
    assert!(left.contains(&b.id), "gc removed the previous snapshot");
    assert!(!left.contains(&a.id));
    assert!(!left.contains(&d.id));
    assert!(
        removed.contains(&a.id) && removed.contains(&d.id),
        "removed: {removed:?}"
    );
    assert!(removed.iter().any(|r| r.starts_with(".build-")));
    assert!(!partial.exists());
    assert_eq!(store.open_current().unwrap().id(), c.id);
    // Rollback still works after gc.
    assert_eq!(store.rollback().unwrap(), b.id);
    assert_eq!(store.open_current().unwrap().id(), b.id);
    // gc with nothing to do removes nothing that is served.
    store.gc(0).unwrap();
    assert_eq!(store.open_current().unwrap().id(), b.id);
}

#[test]
fn verify_passes_then_detects_a_flipped_byte() {
    let dir = tempfile::tempdir().unwrap();
    let fx = corpus();
    let (store, built) = build_and_publish(dir.path(), &fx.docs);
    store.verify(&built.id).unwrap();
    let files: Vec<&str> = built
        .manifest
        .files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    for expected in [
        "documents.jsonl",
        "analysis.json",
        "embedder/lsa.f32",
        "embedder/lsa.json",
    ] {
        assert!(
            files.contains(&expected),
            "manifest lacks {expected}: {files:?}"
        );
    }
    assert!(files.iter().any(|f| f.starts_with("lexical/")));
    assert!(files.iter().any(|f| f.starts_with("vectors/")));
    assert!(!files.contains(&"manifest.json"));
    // Opening a snapshot (tantivy, qdrant-edge) must not change its content.
    drop(store.open_current().unwrap());
    store.verify(&built.id).unwrap();

    let target = store.dir_of(&built.id).join("embedder").join("lsa.f32");
    let mut bytes = fs::read(&target).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    fs::write(&target, &bytes).unwrap();
    match store.verify(&built.id) {
        Err(Error::CorruptSnapshot { id, reason }) => {
            assert_eq!(id, built.id);
            assert!(reason.contains("embedder/lsa.f32"), "reason: {reason}");
        }
        other => panic!("expected CorruptSnapshot, got {other:?}"),
    }
}

#[test]
fn verify_detects_a_truncated_document_file() {
    let dir = tempfile::tempdir().unwrap();
    let fx = corpus();
    let (store, built) = build_and_publish(dir.path(), &fx.docs);
    let target = store.dir_of(&built.id).join("documents.jsonl");
    let bytes = fs::read(&target).unwrap();
    fs::write(&target, &bytes[..bytes.len() - 10]).unwrap();
    assert!(matches!(
        store.verify(&built.id),
        Err(Error::CorruptSnapshot { .. })
    ));
}

#[test]
fn publishing_a_missing_snapshot_fails_and_leaves_current_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let fx = corpus();
    let (store, built) = build_and_publish(dir.path(), &fx.docs);
    let current = fs::read(dir.path().join("CURRENT")).unwrap();
    let history = store.history().unwrap();
    for bad in ["nonexistent", "", "../x", ".build-x"] {
        match (bad, store.publish(bad)) {
            ("nonexistent", Err(Error::CorruptSnapshot { .. })) => {}
            (_, Err(Error::InvalidArgument { .. })) if bad != "nonexistent" => {}
            (_, other) => panic!("publish({bad:?}): {other:?}"),
        }
        assert_eq!(
            fs::read(dir.path().join("CURRENT")).unwrap(),
            current,
            "CURRENT changed by {bad:?}"
        );
        assert_eq!(
            store.history().unwrap(),
            history,
            "HISTORY changed by {bad:?}"
        );
    }
    assert_eq!(store.open_current().unwrap().id(), built.id);
}

#[test]
fn rebuilding_the_same_documents_gives_the_same_ids() {
    let d1 = tempfile::tempdir().unwrap();
    let d2 = tempfile::tempdir().unwrap();
    // Documents are constructed afresh for each build, as a re-ingest would.
    let (s1, b1) = build_and_publish(d1.path(), &corpus().docs);
    let (s2, b2) = build_and_publish(d2.path(), &corpus().docs);
    // The id is `<timestamp>-<content hash>`: the content part must agree.
    let suffix = |id: &str| id.rsplit('-').next().unwrap().to_string();
    assert_eq!(suffix(&b1.id), suffix(&b2.id));
    let o1 = s1.open_current().unwrap();
    let o2 = s2.open_current().unwrap();
    let ids = |s: &zhiban_knowledge::Snapshot| -> Vec<String> {
        s.documents().iter().map(|m| m.doc_id.clone()).collect()
    };
    assert_eq!(ids(&o1), ids(&o2));
    let chunks = |s: &zhiban_knowledge::Snapshot| -> Vec<String> {
        s.records().iter().map(|r| r.chunk_id.clone()).collect()
    };
    assert_eq!(chunks(&o1), chunks(&o2));
    assert_eq!(o1.load_documents().unwrap(), o2.load_documents().unwrap());
    // Same hits for the same query, apart from the snapshot id.
    let q = SearchRequest::new("持有居住证的外地户籍人员能否申领失业保险金");
    let h1: Vec<(String, String)> = search(&o1, &q)
        .hits
        .into_iter()
        .map(|h| (h.doc_id, h.chunk_id))
        .collect();
    let h2: Vec<(String, String)> = search(&o2, &q)
        .hits
        .into_iter()
        .map(|h| (h.doc_id, h.chunk_id))
        .collect();
    assert!(!h1.is_empty());
    assert_eq!(h1, h2);
    // A changed document gets a new doc id; the others keep theirs.
    let mut changed = corpus().docs;
    let old = changed[5].clone();
    let mut raw: Vec<_> = old
        .chunks
        .iter()
        .map(|c| (c.article.clone(), c.path.clone(), c.text.clone()))
        .collect();
    raw[1].2.push_str("签注可以在线办理。");
    changed[5] = zhiban_knowledge::Document::new(old.meta.clone(), raw);
    assert_ne!(changed[5].meta.doc_id, old.meta.doc_id);
    assert_eq!(changed[0].meta.doc_id, ids(&o1)[0]);
}

#[test]
fn snapshot_ids_sort_in_build_order() {
    let dir = tempfile::tempdir().unwrap();
    let fx = corpus();
    let store = SnapshotStore::new(dir.path());
    let a = store.build(&fx.docs, &options()).unwrap();
    let b = store.build(&fx.docs[1..], &options()).unwrap();
    let c = store.build(&fx.docs, &options()).unwrap();
    assert_ne!(
        a.id, c.id,
        "two builds of the same documents must not collide"
    );
    assert_eq!(store.list().unwrap(), vec![a.id, b.id, c.id]);
}

/// A server holding the current snapshot and a CLI (or a second request handler)
/// opening it again is the normal case; so is rolling back to a snapshot some
/// reader still holds.
#[test]
fn one_snapshot_can_be_opened_by_two_readers_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (store, built) = build_and_publish(dir.path(), &corpus().docs);
    let a = store.open_current().unwrap();
    let b = store.open_current().unwrap();
    let q = request("失业保险金", Mode::Hybrid, None, false);
    assert_eq!(search(&a, &q), search(&b, &q));
    assert_eq!(b.id(), built.id);
    // From another thread, too.
    let s2 = store.clone();
    let c = std::thread::spawn(move || s2.open_current().map(|s| s.id().to_string()))
        .join()
        .unwrap();
    assert_eq!(c.unwrap(), built.id);
}

/// A flipped byte that still parses (any four bytes are an f32) must stop the open,
/// not only `zhiban snapshot verify`.
#[test]
fn open_refuses_a_file_that_differs_from_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let (store, built) = build_and_publish(dir.path(), &corpus().docs);
    let target = store.dir_of(&built.id).join("embedder").join("lsa.f32");
    let mut bytes = fs::read(&target).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    fs::write(&target, &bytes).unwrap();
    match store.open(&built.id) {
        Err(Error::CorruptSnapshot { id, reason }) => {
            assert_eq!(id, built.id);
            assert!(reason.contains("embedder/lsa.f32"), "reason: {reason}");
        }
        other => panic!(
            "expected CorruptSnapshot, got {:?}",
            other.map(|s| s.id().to_string())
        ),
    }
}
