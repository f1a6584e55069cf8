//! Every piece of synthetic PII that the corpus generator deliberately left in cases
//! and tickets (listed in `data/tools/gen/pii_manifest.json`) is masked by ingest.

use std::path::Path;

use zhiban_ingest::{IngestOptions, ingest_folder};

#[test]
fn leftover_pii_in_cases_and_tickets_never_reaches_a_document() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data.join("tools/gen/pii_manifest.json")).unwrap(),
    )
    .unwrap();
    // Only the record folders: policies (OCR) are not needed here.
    let tmp = tempfile::tempdir().unwrap();
    for sub in ["cases", "catalog"] {
        let to = tmp.path().join(sub);
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(data.join(sub)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
    let out = ingest_folder(tmp.path(), &IngestOptions::default(), None).unwrap();
    assert!(out.report.errors.is_empty(), "{:?}", out.report.errors);
    let mut all = String::new();
    for d in &out.documents {
        all.push_str(&d.meta.title);
        for c in &d.chunks {
            all.push_str(&c.text);
            all.push('\n');
        }
    }
    let mut checked = 0;
    for section in ["cases", "tickets"] {
        for entry in manifest[section].as_array().unwrap() {
            for (kind, value) in entry["values"].as_object().unwrap() {
                let v = value.as_str().unwrap();
                // Names are checked only when at least three characters long: a
                // two-character name can occur as an ordinary word.
                if kind == "name" && v.chars().count() < 3 {
                    continue;
                }
                checked += 1;
                assert!(!all.contains(v), "{section} {kind} {v} was not masked");
            }
        }
    }
    assert!(checked > 1000, "only {checked} values checked");
}
