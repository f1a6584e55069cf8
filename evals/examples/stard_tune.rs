//! Parameter sweep on STARD's dev split (never on the query texts themselves).
//!
//! Run with `cargo run --release -p zhiban-evals --example stard_tune [STARD_DIR]`.

use zhiban_evals::stard;
use zhiban_knowledge::Mode;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(stard::default_dir);
    let bench = stard::Stard::load(&dir)?;
    let tmp = tempfile::tempdir()?;
    let mut opts = bench.build_options();
    if let Ok(a) = std::env::var("LSA_ALPHA") {
        opts.lsa.alpha = a.parse()?;
    }
    if let Ok(d) = std::env::var("LSA_DIM") {
        opts.lsa.dim = d.parse()?;
    }
    let (snap, build_s) = stard::build(&bench, tmp.path(), &opts)?;
    println!("build {build_s:.3} s");
    let b = snap.bm25();
    let base = snap.fusion();
    for prf_docs in [0usize, 3, 5] {
        for prf_weight in [0.5f32, 1.0, 2.0] {
            if prf_docs == 0 && prf_weight != 0.5 {
                continue;
            }
            for k in [20.0f32, 60.0] {
                for vw in [0.5f32, 0.8, 1.0] {
                    let mut f = base;
                    f.prf_docs = prf_docs;
                    f.prf_weight = prf_weight;
                    f.rrf_k = k;
                    f.vector_weight = vw;
                    let r = &stard::run_with(&bench, &snap, Mode::Hybrid, build_s, &f, &b)?;
                    println!(
                        "prf_docs={prf_docs} prf_w={prf_weight} k={k} vw={vw} dev ndcg={:.4} all ndcg={:.4} p50={:.3}",
                        r[1].ndcg_10, r[0].ndcg_10, r[1].latency_ms_p50
                    );
                }
            }
        }
    }
    Ok(())
}
