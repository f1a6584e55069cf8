//! Tests against a real Qdrant server (gRPC URL in `QDRANT_URL`, e.g.
//! `http://127.0.0.1:6334`; `QDRANT_API_KEY` if the server wants one). Without
//! `QDRANT_URL` every test prints a note and returns.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{corpus, d, doc_ids, request, search};
use zhiban_knowledge::vector::{
    QdrantStore, QdrantStoreConfig, VectorPayload, VectorPoint, VectorStore,
};
use zhiban_knowledge::{
    BuildOptions, DocKind, Error, Filter, Mode, SnapshotStore, Status, VectorBackend,
};

fn server() -> Option<(String, Option<String>)> {
    match std::env::var("QDRANT_URL") {
        Ok(u) if !u.trim().is_empty() => Some((
            u,
            std::env::var("QDRANT_API_KEY")
                .ok()
                .filter(|k| !k.is_empty()),
        )),
        _ => {
            println!("skipped: QDRANT_URL not set");
            None
        }
    }
}

/// A collection name no other run uses.
fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

fn config(url: &str, key: &Option<String>, collection: &str) -> QdrantStoreConfig {
    let mut c = QdrantStoreConfig::new(url, collection);
    c.api_key = key.clone();
    c.batch_size = 3;
    c
}

fn unit(v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / n).collect()
}

fn day(s: &str) -> i64 {
    use chrono::Datelike;
    d(s).num_days_from_ce() as i64
}

/// kind, 事项编码, department, valid from, valid until (exclusive).
type Spec = (
    &'static str,
    &'static [&'static str],
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

fn points() -> Vec<VectorPoint> {
    let specs: [Spec; 6] = [
        ("policy", &[], "", Some("2019-01-01"), Some("2024-07-01")),
        ("policy", &[], "", Some("2024-07-01"), None),
        ("policy", &[], "", Some("2027-01-01"), None),
        (
            "guide",
            &["JC-SY-001"],
            "江川市人力资源和社会保障局",
            Some("2024-07-01"),
            None,
        ),
        (
            "catalog",
            &["JC-SY-001"],
            "江川市人力资源和社会保障局",
            None,
            None,
        ),
        ("catalog", &["JC-GA-002"], "江川市公安局", None, None),
    ];
    specs
        .iter()
        .enumerate()
        .map(|(i, (kind, matter, dept, from, until))| VectorPoint {
            id: i as u64,
            vector: unit(
                (0..8)
                    .map(|j| if j == i { 1.0 } else { 0.1 * (j as f32 + 1.0) })
                    .collect(),
            ),
            payload: VectorPayload {
                kind: kind.to_string(),
                matter: matter.iter().map(|m| m.to_string()).collect(),
                department: dept.to_string(),
                valid_from: from.map_or(-(1i64 << 52), day),
                valid_until: until.map_or(1i64 << 52, day),
                doc_id: format!("x-{i:016}"),
                chunk_id: format!("x-{i:016}.0.00000000"),
            },
        })
        .collect()
}

fn sorted(hits: Vec<(u64, f32)>) -> Vec<u64> {
    let mut v: Vec<u64> = hits.into_iter().map(|h| h.0).collect();
    v.sort();
    v
}

#[test]
fn store_round_trip_with_filters() {
    let Some((url, key)) = server() else { return };
    let name = unique("zhiban_test_store");
    let store = QdrantStore::connect(config(&url, &key, &name), 8, true).unwrap();
    assert_eq!(store.count().unwrap(), 0);
    let pts = points();
    store.upsert(&pts).unwrap();
    store.flush().unwrap();
    assert_eq!(store.count().unwrap(), pts.len());
    for p in &pts {
        let hits = store.search(&p.vector, &Filter::default(), 2).unwrap();
        assert_eq!(hits[0].0, p.id);
        assert!((hits[0].1 - 1.0).abs() < 1e-3);
    }
    let q = &pts[0].vector;
    let f = |kinds: Vec<DocKind>, matters: Vec<&str>, depts: Vec<&str>, on: Option<&str>| Filter {
        kinds,
        matter_codes: matters.into_iter().map(String::from).collect(),
        departments: depts.into_iter().map(String::from).collect(),
        valid_on: on.map(d),
    };
    let cases: Vec<(Filter, Vec<u64>)> = vec![
        (
            f(vec![DocKind::Policy], vec![], vec![], None),
            vec![0, 1, 2],
        ),
        (f(vec![DocKind::Catalog], vec![], vec![], None), vec![4, 5]),
        (f(vec![], vec!["JC-SY-001"], vec![], None), vec![3, 4]),
        (f(vec![], vec![], vec!["江川市公安局"], None), vec![5]),
        (f(vec![], vec![], vec![], Some("2024-06-30")), vec![0, 4, 5]),
        (
            f(vec![], vec![], vec![], Some("2024-07-01")),
            vec![1, 3, 4, 5],
        ),
        (
            f(vec![], vec![], vec![], Some("2027-01-01")),
            vec![1, 2, 3, 4, 5],
        ),
        (
            f(vec![DocKind::Policy], vec![], vec![], Some("2018-01-01")),
            vec![],
        ),
    ];
    for (filter, want) in cases {
        assert_eq!(
            sorted(store.search(q, &filter, 10).unwrap()),
            want,
            "{filter:?}"
        );
    }
    assert!(matches!(
        store.search(&[1.0; 7], &Filter::default(), 3),
        Err(Error::DimensionMismatch { .. })
    ));
    let mut bad = points();
    bad[0].vector.pop();
    assert!(matches!(
        store.upsert(&bad),
        Err(Error::DimensionMismatch { .. })
    ));

    // A second connection without `create` sees the same data.
    let again = QdrantStore::connect(config(&url, &key, &name), 8, false).unwrap();
    assert_eq!(again.count().unwrap(), pts.len());
    again.drop_collection().unwrap();
}

#[test]
fn snapshot_with_the_qdrant_backend() {
    let Some((url, key)) = server() else { return };
    let fx = corpus();
    let prefix = unique("zhiban_test_snap");
    let options = BuildOptions {
        vectors: VectorBackend::Qdrant(config(&url, &key, &prefix)),
        ..BuildOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::new(dir.path());
    let built = store.build(&fx.docs, &options).unwrap();
    store.publish(&built.id).unwrap();
    // No local vectors; the API key is not in the manifest.
    assert!(!store.dir_of(&built.id).join("vectors").exists());
    match &built.manifest.options.vectors {
        VectorBackend::Qdrant(c) => assert!(c.api_key.is_none()),
        other => panic!("{other:?}"),
    }
    let snap = store.open_with(&built.id, None, key.as_deref()).unwrap();
    assert_eq!(snap.vectors().count().unwrap(), snap.records().len());
    for mode in [Mode::Vector, Mode::Hybrid] {
        let r = search(
            &snap,
            &request(
                "失业保险金申领条件和发放标准",
                mode,
                Some(d("2021-06-01")),
                false,
            ),
        );
        let ids = doc_ids(&r);
        assert!(
            ids.contains(&fx.ids.old_rule) && !ids.contains(&fx.ids.new_rule),
            "{mode:?}: {ids:?}"
        );
        assert!(
            r.hits
                .iter()
                .all(|h| h.status == Status::InForce && h.snapshot == built.id)
        );
        let mut req = request("居住证签注", mode, None, false);
        req.filter.departments = vec![common::DEPT_GA.into()];
        let r = search(&snap, &req);
        assert!(!r.hits.is_empty());
        assert!(r.hits.iter().all(|h| {
            [&fx.ids.guide_ga, &fx.ids.catalog_ga, &fx.ids.residence_rule].contains(&&h.doc_id)
        }));
    }
    // Clean up the per-snapshot collection on the server.
    let collection = format!(
        "{}_{}",
        prefix,
        built.id.replace(['-', 'T'], "_").to_lowercase()
    );
    let mut cfg = config(&url, &key, &collection);
    cfg.api_key = key.clone();
    QdrantStore::connect(cfg, built.manifest.dim, false)
        .unwrap()
        .drop_collection()
        .unwrap();
}
