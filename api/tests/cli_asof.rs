//! End to end through the binary: ingest the committed policies, then ask the same
//! question under the rules of 2021 and of today (issue 3: the as-of test).

use std::path::Path;
use std::process::Command;

fn zhiban() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zhiban"));
    c.env_remove("ZHIBAN_CONFIG").env("RUST_LOG", "error");
    c
}

fn top_sources(index: &Path, as_of: &str, query: &str) -> Vec<(String, String)> {
    let out = zhiban()
        .args(["search", "--index"])
        .arg(index)
        .args([
            "--as-of",
            as_of,
            "--kind",
            "policy",
            "--k",
            "5",
            "--level-boost",
            "--json",
            query,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["source_file"].as_str().unwrap().to_string(),
                h["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_same_question_follows_the_rule_in_force_on_each_date() {
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/policies");
    let dir = tempfile::tempdir().unwrap();
    let out = zhiban()
        .arg("ingest")
        .arg(&policies)
        .arg("--index")
        .arg(dir.path())
        .args(["--no-ocr", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["documents"]["policy"].as_u64().unwrap() >= 40,
        "{report}"
    );
    assert!(report["snapshot"].as_str().is_some());

    let q = "老人护理评估二级，养老服务补贴一个月多少钱";
    let old = top_sources(dir.path(), "2021-06-01", q);
    assert_eq!(old[0].0, "mz-yanglao-butie-2019.txt", "{old:?}");
    assert!(
        old.iter()
            .all(|(f, s)| f != "mz-yanglao-butie-2024.html" && s == "现行有效"),
        "{old:?}"
    );
    let new = top_sources(dir.path(), "2026-11-29", q);
    assert!(
        new.iter().any(|(f, _)| f == "mz-yanglao-butie-2024.html"),
        "{new:?}"
    );
    assert!(
        new.iter().all(|(f, _)| f != "mz-yanglao-butie-2019.txt"),
        "repealed text shown as current: {new:?}"
    );

    // Asked for explicitly, the repealed text comes back labelled as such.
    let out = zhiban()
        .args(["search", "--index"])
        .arg(dir.path())
        .args([
            "--as-of",
            "2026-11-29",
            "--kind",
            "policy",
            "--all-versions",
            "--k",
            "20",
            "--json",
            q,
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let old_hit = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["source_file"] == "mz-yanglao-butie-2019.txt")
        .expect("the 2019 rule is returned when all versions are asked for");
    // The 2024 办法 of the same name replaces it: a new version, 已修订 (not a repeal).
    assert_eq!(old_hit["status"], "已修订");
}

#[test]
fn search_without_a_snapshot_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = zhiban()
        .args(["search", "--index"])
        .arg(dir.path())
        .arg("失业登记")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("zhiban ingest"), "{err}");
    assert!(!err.contains("panicked"));
}
