//! Quality gate on STARD-mini: BM25 must stay above every peer of
//! `shared/benchmarks/README.md` (nDCG@10 0.489). Needs `../shared`; without it the
//! test prints why it skipped, and fails instead when `ZHIBAN_REQUIRE_SHARED=1`
//! (`.ci/run` sets it when `../shared` is beside the clone, so a lost input cannot
//! pass silently there, while a bare clone still passes).

use std::path::Path;

use zhiban_evals::stard;
use zhiban_knowledge::Mode;

fn external_inputs_required() -> bool {
    std::env::var("ZHIBAN_REQUIRE_SHARED").is_ok_and(|v| v.trim() == "1")
}

#[test]
fn bm25_and_hybrid_beat_the_peers_on_stard() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/benchmarks/stard");
    let bench = match stard::Stard::load(&dir) {
        Ok(b) => b,
        Err(zhiban_evals::Error::MissingBenchmark(p)) => {
            let why = format!(
                "STARD benchmark not found at {} (it lives in ../shared)",
                p.display()
            );
            if external_inputs_required() {
                panic!("{why}, and ZHIBAN_REQUIRE_SHARED=1 requires it");
            }
            // Both streams: nextest shows stdout of passing tests with
            // --success-output, cargo test with --nocapture.
            println!("skipped: {why}");
            eprintln!("skipped: {why}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    assert_eq!(bench.corpus.len(), 1445);
    assert_eq!(bench.queries.len(), 1543);
    assert_eq!(bench.dev.len(), 308);
    let tmp = tempfile::tempdir().unwrap();
    let (snap, _) = stard::build(&bench, tmp.path(), &bench.build_options()).unwrap();
    let bm25 = stard::run(&bench, &snap, Mode::Bm25, 0.0).unwrap();
    assert!(
        bm25[0].ndcg_10 >= 0.489,
        "BM25 nDCG@10 {} fell below the peers' 0.489",
        bm25[0].ndcg_10
    );
    let hybrid = stard::run(&bench, &snap, Mode::Hybrid, 0.0).unwrap();
    assert!(
        hybrid[0].ndcg_10 >= 0.50,
        "hybrid nDCG@10 {}",
        hybrid[0].ndcg_10
    );
}

#[test]
fn a_missing_benchmark_is_its_own_error() {
    let dir = tempfile::tempdir().unwrap();
    match stard::Stard::load(dir.path()) {
        Err(zhiban_evals::Error::MissingBenchmark(p)) => assert_eq!(p, dir.path()),
        other => panic!(
            "expected MissingBenchmark, got {:?}",
            other.map(|b| b.queries.len())
        ),
    }
}
