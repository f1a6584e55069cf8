//! Open time of a published snapshot, and vector search latency of the exact store
//! against qdrant-edge on the same vectors (with `--features qdrant-edge`).
//!
//! ```sh
//! cargo run --release -p zhiban-knowledge --features qdrant-edge --example vector_bench -- INDEX_DIR [QUESTIONS.jsonl]
//! ```
//! The questions file is JSONL with a `question` field (default
//! `data/eval/qa_gold.jsonl`); each question is embedded once and searched with
//! `limit` 50 (the fusion's candidate count), three rounds, one thread.

use std::time::Instant;

use zhiban_knowledge::vector::{ExactStore, VectorPayload, VectorPoint, VectorStore};
use zhiban_knowledge::{DocKind, Filter, SnapshotStore};

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn time_searches(
    store: &dyn VectorStore,
    queries: &[Vec<f32>],
    filter: &Filter,
) -> (f64, f64, Vec<Vec<u64>>) {
    let mut lat = Vec::new();
    let mut tops = Vec::new();
    for round in 0..3 {
        for q in queries {
            let t = Instant::now();
            let hits = store.search(q, filter, 50).expect("search");
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
            if round == 0 {
                tops.push(hits.iter().take(10).map(|h| h.0).collect());
            }
        }
    }
    (pct(&mut lat, 0.5), pct(&mut lat, 0.99), tops)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let index = args
        .next()
        .ok_or("usage: vector_bench INDEX_DIR [QUESTIONS.jsonl]")?;
    let questions = args
        .next()
        .unwrap_or_else(|| "data/eval/qa_gold.jsonl".into());
    let store = SnapshotStore::new(&index);
    let id = store.current_id()?.ok_or("nothing published")?;
    let mut open_ms = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let s = store.open(&id)?;
        open_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        drop(s);
    }
    let snap = store.open(&id)?;
    println!(
        "open {} ({} chunks, format {}): median {:.1} ms, min {:.1} ms",
        id,
        snap.records().len(),
        snap.manifest().format,
        pct(&mut open_ms.clone(), 0.5),
        open_ms.iter().copied().fold(f64::MAX, f64::min)
    );

    let texts: Vec<String> = std::fs::read_to_string(&questions)?
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["question"].as_str().map(String::from))
        .collect();
    let queries: Vec<Vec<f32>> = texts
        .iter()
        .map(|t| snap.embedder().embed_query(t))
        .collect::<Result<_, _>>()?;
    let recs = snap.records();
    let docs = snap.documents();
    let chunk_texts: Vec<String> = recs
        .iter()
        .map(|r| {
            if r.text.starts_with(&r.title) {
                r.text.clone()
            } else {
                format!("{}\n{}", r.title, r.text)
            }
        })
        .collect();
    let refs: Vec<&str> = chunk_texts.iter().map(String::as_str).collect();
    let vectors = snap.embedder().embed_documents(&refs)?;
    let dim = snap.embedder().dim();
    let points: Vec<VectorPoint> = recs
        .iter()
        .zip(vectors)
        .enumerate()
        .map(|(i, (r, v))| VectorPoint {
            id: i as u64,
            vector: v,
            payload: VectorPayload::of(r, &docs[r.doc as usize].doc_id),
        })
        .collect();
    let tmp = tempfile::tempdir()?;
    let exact_dir = tmp.path().join("exact");
    {
        let s = ExactStore::create(&exact_dir, dim)?;
        s.upsert(&points)?;
        s.flush()?;
    }
    let exact = ExactStore::open(&exact_dir, dim)?;
    let today = chrono::Local::now().date_naive();
    let filters = [
        ("no filter", Filter::default()),
        (
            "kind=policy, valid today",
            Filter {
                kinds: vec![DocKind::Policy],
                valid_on: Some(today),
                ..Default::default()
            },
        ),
    ];
    for (name, f) in &filters {
        let (p50, p99, _) = time_searches(&exact, &queries, f);
        println!(
            "exact  {name:<26} {} queries × 3: p50 {p50:.3} ms p99 {p99:.3} ms",
            queries.len()
        );
    }
    #[cfg(feature = "qdrant-edge")]
    {
        use zhiban_knowledge::vector::EdgeStore;
        let edge_dir = tmp.path().join("edge");
        {
            let s = EdgeStore::create(&edge_dir, dim)?;
            s.upsert(&points)?;
            s.flush()?;
        }
        let t = Instant::now();
        let edge = EdgeStore::open(&edge_dir, dim)?;
        println!(
            "edge   open (private copy + load): {:.1} ms",
            t.elapsed().as_secs_f64() * 1000.0
        );
        for (name, f) in &filters {
            let (p50, p99, top_edge) = time_searches(&edge, &queries, f);
            let (_, _, top_exact) = time_searches(&exact, &queries, f);
            let same = top_edge
                .iter()
                .zip(&top_exact)
                .filter(|(a, b)| a == b)
                .count();
            println!(
                "edge   {name:<26} {} queries × 3: p50 {p50:.3} ms p99 {p99:.3} ms; identical top-10 for {same}/{} queries",
                queries.len(),
                queries.len()
            );
        }
    }
    Ok(())
}
