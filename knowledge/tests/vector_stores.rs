//! The embedded vector stores — [`ExactStore`] always, `EdgeStore` with the
//! `qdrant-edge` feature — through one set of checks: create, upsert with payloads,
//! nearest-neighbour search, payload filters, reopening from disk, dimension errors;
//! and, with the feature, the two stores agreeing on the same data.

mod common;

use std::path::Path;

use chrono::{Datelike, NaiveDate};
use common::d;
use zhiban_knowledge::vector::{ExactStore, VectorPayload, VectorPoint, VectorStore};
use zhiban_knowledge::{DocKind, Error, Filter};

/// How to make and reopen one kind of store.
trait Kind {
    fn create(dir: &Path) -> Box<dyn VectorStore>;
    fn open(dir: &Path) -> zhiban_knowledge::Result<Box<dyn VectorStore>>;
}

struct Exact;
impl Kind for Exact {
    fn create(dir: &Path) -> Box<dyn VectorStore> {
        Box::new(ExactStore::create(dir, DIM).unwrap())
    }
    fn open(dir: &Path) -> zhiban_knowledge::Result<Box<dyn VectorStore>> {
        Ok(Box::new(ExactStore::open(dir, DIM)?))
    }
}

#[cfg(feature = "qdrant-edge")]
struct Edge;
#[cfg(feature = "qdrant-edge")]
impl Kind for Edge {
    fn create(dir: &Path) -> Box<dyn VectorStore> {
        Box::new(zhiban_knowledge::vector::EdgeStore::create(dir, DIM).unwrap())
    }
    fn open(dir: &Path) -> zhiban_knowledge::Result<Box<dyn VectorStore>> {
        Ok(Box::new(zhiban_knowledge::vector::EdgeStore::open(
            dir, DIM,
        )?))
    }
}

const DIM: usize = 8;

fn day(date: NaiveDate) -> i64 {
    date.num_days_from_ce() as i64
}

fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= n);
    v
}

/// A deterministic, well-spread unit vector for point `i`.
fn vector(i: u64) -> Vec<f32> {
    unit(
        (0..DIM)
            .map(|j| (((i + 1) * (j as u64 + 3) * 2654435761) % 1000) as f32 / 1000.0 - 0.5)
            .collect(),
    )
}

struct Spec {
    kind: DocKind,
    matter: &'static [&'static str],
    department: &'static str,
    from: Option<&'static str>,
    until: Option<&'static str>,
}

/// Ten points: policies with validity windows, guides/catalog with matters and departments.
fn specs() -> Vec<Spec> {
    use DocKind::*;
    vec![
        Spec {
            kind: Policy,
            matter: &[],
            department: "",
            from: Some("2019-01-01"),
            until: Some("2024-07-01"),
        },
        Spec {
            kind: Policy,
            matter: &[],
            department: "",
            from: Some("2024-07-01"),
            until: None,
        },
        Spec {
            kind: Policy,
            matter: &[],
            department: "",
            from: Some("2027-01-01"),
            until: None,
        },
        Spec {
            kind: Policy,
            matter: &[],
            department: "",
            from: Some("2021-01-01"),
            until: Some("2024-01-01"),
        },
        Spec {
            kind: Guide,
            matter: &["JC-SY-001"],
            department: "江川市人力资源和社会保障局",
            from: Some("2024-07-01"),
            until: None,
        },
        Spec {
            kind: Guide,
            matter: &["JC-GA-002"],
            department: "江川市公安局",
            from: Some("2020-01-01"),
            until: None,
        },
        Spec {
            kind: Case,
            matter: &["JC-SY-001"],
            department: "江川市人力资源和社会保障局",
            from: Some("2025-03-10"),
            until: None,
        },
        Spec {
            kind: Catalog,
            matter: &["JC-SY-001"],
            department: "江川市人力资源和社会保障局",
            from: None,
            until: None,
        },
        Spec {
            kind: Catalog,
            matter: &["JC-GA-002"],
            department: "江川市公安局",
            from: None,
            until: None,
        },
        Spec {
            kind: Catalog,
            matter: &["JC-SY-001", "JC-GA-002"],
            department: "江川市政务服务中心",
            from: None,
            until: None,
        },
    ]
}

fn points() -> Vec<VectorPoint> {
    specs()
        .into_iter()
        .enumerate()
        .map(|(i, s)| VectorPoint {
            id: i as u64,
            vector: vector(i as u64),
            payload: VectorPayload {
                kind: s.kind.as_str().into(),
                matter: s.matter.iter().map(|m| m.to_string()).collect(),
                department: s.department.into(),
                // The same open-end encoding as VectorPayload::of.
                valid_from: s.from.map_or(-(1i64 << 52), |x| day(d(x))),
                valid_until: s.until.map_or(1i64 << 52, |x| day(d(x))),
                doc_id: format!("x-{i:016}"),
                chunk_id: format!("x-{i:016}.0.00000000"),
            },
        })
        .collect()
}

/// Ids that pass `filter`, computed from the specs by hand.
fn expected(filter: &Filter) -> Vec<u64> {
    specs()
        .iter()
        .enumerate()
        .filter(|(_, s)| filter.kinds.is_empty() || filter.kinds.contains(&s.kind))
        .filter(|(_, s)| {
            filter.matter_codes.is_empty()
                || s.matter
                    .iter()
                    .any(|m| filter.matter_codes.iter().any(|f| f == m))
        })
        .filter(|(_, s)| {
            filter.departments.is_empty() || filter.departments.iter().any(|f| f == s.department)
        })
        .filter(|(_, s)| {
            filter.valid_on.is_none_or(|on| {
                s.from.is_none_or(|f| d(f) <= on) && s.until.is_none_or(|u| on < d(u))
            })
        })
        .map(|(i, _)| i as u64)
        .collect()
}

fn ids(hits: &[(u64, f32)]) -> Vec<u64> {
    let mut v: Vec<u64> = hits.iter().map(|h| h.0).collect();
    v.sort();
    v
}

fn filters() -> Vec<Filter> {
    let f = |kinds: Vec<DocKind>, matters: Vec<&str>, depts: Vec<&str>, on: Option<&str>| Filter {
        kinds,
        matter_codes: matters.into_iter().map(String::from).collect(),
        departments: depts.into_iter().map(String::from).collect(),
        valid_on: on.map(d),
    };
    vec![
        f(vec![], vec![], vec![], None),
        f(vec![DocKind::Policy], vec![], vec![], None),
        f(vec![DocKind::Guide, DocKind::Catalog], vec![], vec![], None),
        f(vec![], vec!["JC-SY-001"], vec![], None),
        f(vec![], vec!["JC-GA-002"], vec![], None),
        f(vec![], vec![], vec!["江川市公安局"], None),
        f(vec![DocKind::Catalog], vec!["JC-GA-002"], vec![], None),
        f(vec![], vec!["JC-NONE-000"], vec![], None),
        // Validity boundaries.
        f(vec![], vec![], vec![], Some("2018-12-31")),
        f(vec![], vec![], vec![], Some("2019-01-01")),
        f(vec![], vec![], vec![], Some("2023-12-31")),
        f(vec![], vec![], vec![], Some("2024-01-01")),
        f(vec![], vec![], vec![], Some("2024-06-30")),
        f(vec![], vec![], vec![], Some("2024-07-01")),
        f(vec![], vec![], vec![], Some("2026-12-31")),
        f(vec![], vec![], vec![], Some("2027-01-01")),
        f(vec![DocKind::Policy], vec![], vec![], Some("2024-07-01")),
        f(vec![], vec!["JC-SY-001"], vec![], Some("2025-01-01")),
    ]
}

fn check_all(store: &dyn VectorStore) {
    assert_eq!(store.count().unwrap(), 10);
    // Each point finds itself first with cosine ~1.
    for p in points() {
        let hits = store.search(&p.vector, &Filter::default(), 3).unwrap();
        assert_eq!(hits[0].0, p.id, "nearest to point {}", p.id);
        assert!((hits[0].1 - 1.0).abs() < 1e-4, "cosine {}", hits[0].1);
        assert!(hits.len() == 3 && hits[1].1 <= hits[0].1 && hits[2].1 <= hits[1].1);
    }
    for f in filters() {
        let want = expected(&f);
        let hits = store.search(&vector(0), &f, 100).unwrap();
        assert_eq!(ids(&hits), want, "filter {f:?}");
        // Scores come back best first.
        assert!(
            hits.windows(2).all(|w| w[0].1 >= w[1].1),
            "order under {f:?}"
        );
    }
}

fn round_trip<K: Kind>() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vectors");
    let store = K::create(&path);
    assert_eq!(store.count().unwrap(), 0);
    assert!(
        store
            .search(&vector(0), &Filter::default(), 5)
            .unwrap()
            .is_empty()
    );
    store.upsert(&points()).unwrap();
    store.flush().unwrap();
    check_all(store.as_ref());
    let before: Vec<Vec<(u64, f32)>> = filters()
        .iter()
        .map(|f| store.search(&vector(3), f, 5).unwrap())
        .collect();
    drop(store);

    let reopened = K::open(&path).unwrap();
    check_all(reopened.as_ref());
    let after: Vec<Vec<(u64, f32)>> = filters()
        .iter()
        .map(|f| reopened.search(&vector(3), f, 5).unwrap())
        .collect();
    assert_eq!(before, after, "reopened store answers differently");
}

fn upsert_replaces<K: Kind>() {
    let dir = tempfile::tempdir().unwrap();
    let store = K::create(&dir.path().join("v"));
    store.upsert(&points()).unwrap();
    let mut p = points().remove(4);
    p.vector = vector(99);
    p.payload.kind = "catalog".into();
    store.upsert(std::slice::from_ref(&p)).unwrap();
    assert_eq!(store.count().unwrap(), 10);
    let hits = store
        .search(
            &vector(99),
            &Filter {
                kinds: vec![DocKind::Catalog],
                ..Default::default()
            },
            1,
        )
        .unwrap();
    assert_eq!(hits[0].0, 4);
    assert!((hits[0].1 - 1.0).abs() < 1e-4);
    let guides = store
        .search(
            &vector(99),
            &Filter {
                kinds: vec![DocKind::Guide],
                ..Default::default()
            },
            10,
        )
        .unwrap();
    assert_eq!(ids(&guides), vec![5]);
}

fn wrong_dimension<K: Kind>() {
    let dir = tempfile::tempdir().unwrap();
    let store = K::create(&dir.path().join("v"));
    let mut bad = points();
    bad[3].vector.push(0.0);
    match store.upsert(&bad) {
        Err(Error::DimensionMismatch { expected, got }) => {
            assert_eq!((expected, got), (DIM, DIM + 1))
        }
        other => panic!("expected DimensionMismatch, got {other:?}"),
    }
    match store.search(&[1.0; DIM - 1], &Filter::default(), 3) {
        Err(Error::DimensionMismatch { expected, got }) => {
            assert_eq!((expected, got), (DIM, DIM - 1))
        }
        other => panic!("expected DimensionMismatch, got {other:?}"),
    }
    assert!(matches!(
        store.search(&[], &Filter::default(), 3),
        Err(Error::DimensionMismatch { .. })
    ));
    // The store still works afterwards.
    store.upsert(&points()).unwrap();
    assert_eq!(
        store.search(&vector(2), &Filter::default(), 1).unwrap()[0].0,
        2
    );
}

#[test]
fn exact_round_trip_search_filters_and_reopen() {
    round_trip::<Exact>();
}

#[test]
fn exact_upsert_replaces_points_with_the_same_id() {
    upsert_replaces::<Exact>();
}

#[test]
fn exact_wrong_dimension_is_an_error_not_a_panic() {
    wrong_dimension::<Exact>();
}

#[test]
fn opening_a_missing_exact_store_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        Exact::open(&dir.path().join("nothing-here")),
        Err(Error::Io { .. })
    ));
}

#[cfg(feature = "qdrant-edge")]
#[test]
fn edge_round_trip_search_filters_and_reopen() {
    round_trip::<Edge>();
}

#[cfg(feature = "qdrant-edge")]
#[test]
fn edge_upsert_replaces_points_with_the_same_id() {
    upsert_replaces::<Edge>();
}

#[cfg(feature = "qdrant-edge")]
#[test]
fn edge_wrong_dimension_is_an_error_not_a_panic() {
    wrong_dimension::<Edge>();
}

#[cfg(feature = "qdrant-edge")]
#[test]
fn opening_a_missing_edge_store_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        Edge::open(&dir.path().join("nothing-here")),
        Err(Error::Io { .. })
    ));
}

/// The exact store returns what qdrant-edge returns on the same points: the same
/// neighbours in the same order, scores equal to float precision.
#[cfg(feature = "qdrant-edge")]
#[test]
fn exact_and_edge_agree() {
    let dir = tempfile::tempdir().unwrap();
    let exact = Exact::create(&dir.path().join("exact"));
    let edge = Edge::create(&dir.path().join("edge"));
    let many: Vec<VectorPoint> = (0..300u64)
        .map(|i| {
            let mut p = points()[(i % 10) as usize].clone();
            p.id = i;
            p.vector = vector(i * 7 + 1);
            p
        })
        .collect();
    exact.upsert(&many).unwrap();
    edge.upsert(&many).unwrap();
    for q in 0..20u64 {
        for f in filters() {
            let a = exact.search(&vector(1000 + q), &f, 10).unwrap();
            let b = edge.search(&vector(1000 + q), &f, 10).unwrap();
            assert_eq!(a.len(), b.len(), "{f:?}");
            for (x, y) in a.iter().zip(&b) {
                assert!((x.1 - y.1).abs() < 1e-5, "{f:?}: {a:?} vs {b:?}");
                // Ties may come back in either order; a different id needs an equal score.
                assert!(
                    x.0 == y.0 || (x.1 - y.1).abs() < 1e-6,
                    "{f:?}: {a:?} vs {b:?}"
                );
            }
        }
    }
}

#[test]
fn payload_of_a_chunk_record_matches_the_filter_encoding() {
    // VectorPayload::of must encode open ends so a valid_on filter passes them and
    // closed ends as exclusive day numbers.
    let fx = common::corpus();
    let old = &fx.docs[0];
    let recs = zhiban_knowledge::records::ChunkRecord::from_document(0, old);
    let p = VectorPayload::of(&recs[0], &old.meta.doc_id);
    assert_eq!(p.kind, "policy");
    assert_eq!(p.valid_from, day(d("2019-01-01")));
    assert_eq!(p.valid_until, day(d("2024-07-01")));
    assert_eq!(p.doc_id, old.meta.doc_id);
    assert_eq!(p.chunk_id, old.chunks[0].chunk_id);
    let catalog = &fx.docs[9];
    let recs = zhiban_knowledge::records::ChunkRecord::from_document(9, catalog);
    let p = VectorPayload::of(&recs[0], &catalog.meta.doc_id);
    assert!(p.valid_from < day(d("0001-01-02")) && p.valid_until > day(d("9999-12-31")));
    assert_eq!(p.matter, vec![common::MATTER_SY.to_string()]);
    assert_eq!(p.department, common::DEPT_RS);
}
