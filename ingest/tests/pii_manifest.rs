//! Every piece of synthetic PII that the corpus generator deliberately left in cases
//! and tickets (listed in `data/tools/gen/pii_manifest.json`) is masked by ingest, in
//! titles, chunks, `extra` fields and keywords; the 办件编号 beside them are kept.

use std::collections::HashSet;
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
    // Everything a document carries into the index and the answers: the title, the
    // chunks, the `extra` fields (case tags, district, ticket fields …) and keywords.
    let mut all = String::new();
    for d in &out.documents {
        all.push_str(&d.meta.title);
        all.push('\n');
        for c in &d.chunks {
            all.push_str(&c.text);
            all.push('\n');
        }
        for (k, v) in &d.meta.extra {
            all.push_str(k);
            all.push('=');
            all.push_str(v);
            all.push('\n');
        }
        for k in &d.meta.keywords {
            all.push_str(k);
            all.push('\n');
        }
    }
    // The record fields really are there, so the check below covers them.
    assert!(
        out.documents
            .iter()
            .any(|d| d.meta.extra.contains_key("problem"))
    );
    assert!(out.documents.iter().any(|d| !d.meta.keywords.is_empty()));
    let mut values = Vec::new();
    for section in ["cases", "tickets"] {
        for entry in manifest[section].as_array().unwrap() {
            for (kind, value) in entry["values"].as_object().unwrap() {
                let v = value.as_str().unwrap();
                // Names are checked only when at least three characters long: a
                // two-character name can occur as an ordinary word.
                if kind == "name" && v.chars().count() < 3 {
                    continue;
                }
                values.push((section, kind.clone(), v.to_string()));
            }
        }
    }
    assert!(values.len() > 1000, "only {} values checked", values.len());
    // One pass over the text for all values (a literal alternation), not one scan each.
    let any_value = regex::Regex::new(
        &values
            .iter()
            .map(|(_, _, v)| regex::escape(v))
            .collect::<Vec<_>>()
            .join("|"),
    )
    .unwrap();
    let leaked: Vec<String> = any_value
        .find_iter(&all)
        .map(|m| {
            let (section, kind, v) = values.iter().find(|(_, _, v)| v == m.as_str()).unwrap();
            format!("{section} {kind} {v}")
        })
        .collect();
    assert!(leaked.is_empty(), "not masked: {leaked:?}");

    // Case numbers (SL-…) are not PII, though many of their digit strings pass the ID or
    // Luhn check: the generator put them there to catch over-masking.
    let case_number = regex::Regex::new(r"SL-\d{6}-\d{8}-\d{4}").unwrap();
    let tickets = std::fs::read_to_string(data.join("catalog/tickets.csv")).unwrap();
    let kept: HashSet<&str> = case_number.find_iter(&all).map(|m| m.as_str()).collect();
    let source: HashSet<&str> = case_number
        .find_iter(&tickets)
        .map(|m| m.as_str())
        .collect();
    assert!(
        source.len() > 100,
        "only {} case numbers checked",
        source.len()
    );
    let masked: Vec<&&str> = source.difference(&kept).collect();
    assert!(masked.is_empty(), "case numbers masked: {masked:?}");
}
