//! Ingest throughput: the whole of data/ without OCR, and OCR pages per second.
//!
//! `cargo bench -p zhiban-ingest --bench ingest`. Falls back to the test fixtures
//! when data/ is absent; the OCR bench is skipped without tesseract.

use std::path::{Path, PathBuf};
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use zhiban_ingest::external::{ToolOptions, ocr_image, tool_available};
use zhiban_ingest::{IngestOptions, ingest_folder};

fn corpus() -> PathBuf {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
    if data.join("policies").is_dir() {
        data
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mixed")
    }
}

fn bench_ingest(c: &mut Criterion) {
    let dir = corpus();
    let opts = IngestOptions {
        tools: ToolOptions {
            ocr: false,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut g = c.benchmark_group("ingest");
    g.sample_size(10);
    g.bench_function("data_without_ocr", |b| {
        b.iter(|| {
            let out = ingest_folder(&dir, &opts, None).expect("ingest");
            assert!(!out.documents.is_empty());
            out.documents.len()
        })
    });
    g.finish();
}

fn bench_ocr(_c: &mut Criterion) {
    let img = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data/policies/rs-daling-gangwei-butie-2020-scan.png");
    if !tool_available("tesseract") || !img.is_file() {
        println!("ocr: SKIPPED (tesseract or sample scan missing)");
        return;
    }
    let opts = ToolOptions::default();
    let n = 3;
    let t = Instant::now();
    for _ in 0..n {
        let text = ocr_image(&img, &opts).expect("ocr");
        assert!(!text.trim().is_empty());
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "ocr: {n} pages in {s:.2} s = {:.3} pages/s (tesseract chi_sim, 1 thread)",
        n as f64 / s
    );
}

criterion_group!(benches, bench_ingest, bench_ocr);
criterion_main!(benches);
