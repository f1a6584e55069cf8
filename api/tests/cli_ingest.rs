//! `zhiban ingest` through the binary: images with OCR off are reported as skipped (and the run
//! succeeds), and a second run over the same folder reuses the published documents.

use std::process::Command;

fn zhiban() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zhiban"));
    c.env_remove("ZHIBAN_CONFIG").env("RUST_LOG", "error");
    c
}

fn ingest_json(src: &std::path::Path, index: &std::path::Path) -> serde_json::Value {
    let out = zhiban()
        .arg("ingest")
        .arg(src)
        .arg("--index")
        .arg(index)
        .args(["--no-ocr", "--json", "--strict"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn images_without_ocr_are_skipped_and_a_second_run_reuses_the_snapshot() {
    let src = tempfile::tempdir().unwrap();
    let policies = src.path().join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::write(policies.join("scan.png"), b"\x89PNG\r\n\x1a\nnot really").unwrap();
    std::fs::write(
        policies.join("notice.txt"),
        "关于做好失业登记工作的通知\n一、登记地点为户籍地社区事务受理服务中心。\n二、本通知自发布之日起施行。\n",
    )
    .unwrap();
    let index = tempfile::tempdir().unwrap();

    let first = ingest_json(src.path(), index.path());
    assert_eq!(
        first["skipped"][0]["file"], "policies/scan.png",
        "{first:#}"
    );
    assert_eq!(
        first["errors"].as_array().map(Vec::len),
        Some(0),
        "{first:#}"
    );
    assert_eq!(first["documents"]["policy"], 1);
    assert!(first["snapshot"].is_string());

    let second = ingest_json(src.path(), index.path());
    assert_eq!(second["skipped_unchanged"], 1, "{second:#}");
    assert_eq!(second["documents"]["policy"], 1);
    assert_ne!(second["snapshot"], first["snapshot"]);
}
