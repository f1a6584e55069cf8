//! `zhiban eval metadata`: extracted policy metadata against a gold file
//! (`data/eval/metadata_gold.jsonl`), per-field exact-match rates and mismatches.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zhiban_knowledge::Document;

use crate::dates::fmt_date;
use crate::error::{Error, Result};

/// Fields scored, in report order.
pub const FIELDS: [&str; 9] = [
    "title",
    "doc_number",
    "issuer",
    "level",
    "published",
    "effective",
    "expires",
    "status",
    "article_count",
];

/// One field that differs from the gold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mismatch {
    /// Gold `source_file`.
    pub source_file: String,
    /// Field name.
    pub field: String,
    /// Gold value (`null` when absent).
    pub expected: Value,
    /// Extracted value (`null` when absent or the document is missing).
    pub got: Value,
}

/// Scores of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetadataScore {
    /// Gold lines scored.
    pub n_gold: usize,
    /// Gold lines with no matching document.
    pub missing: Vec<String>,
    /// Exact-match rate per field (0..=1).
    pub per_field: BTreeMap<String, f64>,
    /// Every mismatch.
    pub mismatches: Vec<Mismatch>,
}

fn date_val(d: Option<NaiveDate>) -> Value {
    d.map(|d| Value::String(fmt_date(d))).unwrap_or(Value::Null)
}

fn opt_str(s: Option<&str>) -> Value {
    s.map(|s| Value::String(s.to_string()))
        .unwrap_or(Value::Null)
}

/// The extracted value of `field` for `doc`, as the gold spells it.
pub fn field_value(doc: &Document, field: &str, as_of: Option<NaiveDate>) -> Value {
    let m = &doc.meta;
    match field {
        "title" => Value::String(m.title.clone()),
        "doc_number" => opt_str(m.doc_number.as_deref()),
        "issuer" => opt_str(m.issuer.as_deref()),
        "level" => opt_str(m.level.map(|l| l.as_str())),
        "published" => date_val(m.published),
        "effective" => date_val(m.effective),
        "expires" => date_val(m.expires),
        "status" => as_of
            .map(|d| Value::String(m.status_on(d).as_str().to_string()))
            .unwrap_or(Value::Null),
        "article_count" => Value::from(doc.article_count() as u64),
        _ => Value::Null,
    }
}

/// The top-level unit of an article label: `二、（一）` → `二、`; `第八条` stays.
pub fn top_label(label: &str) -> &str {
    match label.find('、') {
        Some(i) if label[..i].chars().all(crate::numerals::is_numeral_char) => {
            &label[..i + '、'.len_utf8()]
        }
        _ => label,
    }
}

fn matches_file(doc_file: &str, gold_file: &str) -> bool {
    doc_file == gold_file
        || gold_file.ends_with(&format!("/{doc_file}"))
        || doc_file.ends_with(&format!("/{gold_file}"))
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.trim() == y.trim(),
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Scores `docs` against a gold jsonl file.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, [`Error::BadGold`] for a bad line.
pub fn score_metadata(docs: &[Document], gold_path: &Path) -> Result<MetadataScore> {
    let text = std::fs::read_to_string(gold_path)?;
    let mut gold = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| Error::BadGold {
            path: gold_path.to_path_buf(),
            line: i + 1,
            message: e.to_string(),
        })?;
        gold.push(v);
    }
    Ok(score_against(docs, &gold))
}

/// Scores `docs` against parsed gold objects.
pub fn score_against(docs: &[Document], gold: &[Value]) -> MetadataScore {
    let mut score = MetadataScore {
        n_gold: gold.len(),
        ..Default::default()
    };
    let mut hits: BTreeMap<&str, usize> = FIELDS.iter().map(|f| (*f, 0)).collect();
    for g in gold {
        let file = g.get("source_file").and_then(Value::as_str).unwrap_or("");
        let as_of = g
            .get("status_as_of")
            .and_then(Value::as_str)
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
        let doc = docs
            .iter()
            .find(|d| matches_file(&d.meta.source_file, file));
        if doc.is_none() {
            score.missing.push(file.to_string());
        }
        for f in FIELDS {
            let Some(expected) = g.get(f) else { continue };
            let got = doc.map(|d| field_value(d, f, as_of)).unwrap_or(Value::Null);
            if doc.is_some() && same(expected, &got) {
                *hits.entry(f).or_default() += 1;
            } else {
                score.mismatches.push(Mismatch {
                    source_file: file.to_string(),
                    field: f.to_string(),
                    expected: expected.clone(),
                    got,
                });
            }
        }
    }
    for f in FIELDS {
        let n = gold.iter().filter(|g| g.get(f).is_some()).count();
        if n > 0 {
            score.per_field.insert(
                f.to_string(),
                hits.get(f).copied().unwrap_or(0) as f64 / n as f64,
            );
        }
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;
    use zhiban_knowledge::{DocKind, DocumentMeta, Level};

    #[test]
    fn units_count_top_level_items() {
        assert_eq!(top_label("二、（一）"), "二、");
        assert_eq!(top_label("第八条"), "第八条");
        let doc = Document::new(
            DocumentMeta::default(),
            vec![
                (None, vec![], "前言".into()),
                (Some("一、".into()), vec![], "a".into()),
                (Some("二、（一）".into()), vec![], "b".into()),
                (Some("二、（二）".into()), vec![], "c".into()),
            ],
        );
        assert_eq!(doc.article_count(), 2);
    }

    #[test]
    fn scores_fields_and_lists_mismatches() {
        let meta = DocumentMeta {
            kind: Some(DocKind::Policy),
            source_file: "policies/a.txt".into(),
            title: "某某办法".into(),
            level: Some(Level::GovernmentRule),
            effective: NaiveDate::from_ymd_opt(2024, 5, 1),
            expires: NaiveDate::from_ymd_opt(2025, 4, 30),
            ..Default::default()
        };
        let doc = Document::new(
            meta,
            vec![(
                Some("第一条".into()),
                vec!["第一条".into()],
                "第一条 内容".into(),
            )],
        );
        let gold: Vec<Value> = vec![
            serde_json::json!({"source_file":"policies/a.txt","title":"某某办法","doc_number":null,"level":"政府规章","effective":"2024-05-01","expires":"2025-04-30","status":"已失效","status_as_of":"2026-11-29","article_count":2}),
            serde_json::json!({"source_file":"policies/missing.txt","title":"缺失"}),
        ];
        let s = score_against(&[doc], &gold);
        assert_eq!(s.per_field["title"], 0.5);
        assert_eq!(s.per_field["status"], 1.0);
        assert_eq!(s.per_field["doc_number"], 1.0);
        assert_eq!(s.per_field["article_count"], 0.0);
        assert_eq!(s.missing, vec!["policies/missing.txt"]);
        assert!(
            s.mismatches
                .iter()
                .any(|m| m.field == "article_count" && m.got == 1u64)
        );
    }
}
