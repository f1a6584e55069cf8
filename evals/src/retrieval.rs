//! The generic retrieval harness: a JSONL query set with gold ids in, the ranking
//! metrics and latency out.
//!
//! Each line is an object with a `question` (or `query`), an optional `as_of` date
//! (`YYYY-MM-DD`; the rules of that day apply), an optional `answerable` flag
//! (unanswerable questions are counted but not scored), and `gold`: a list whose
//! items are either strings — a chunk id, a doc id, or `source_file#article` — or
//! objects `{"source_file": …, "article": …}` (article `null` = any chunk of that
//! file).

use std::path::Path;
use std::time::Instant;

use chrono::NaiveDate;
use serde::Deserialize;
use zhiban_knowledge::{Filter, FusionParams, Mode, Snapshot};

use crate::metrics::{QueryScores, mean, score};
use crate::report::RetrievalReport;
use crate::{Error, Result};

/// One gold item.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Gold {
    /// A chunk id, doc id or `source_file#article`.
    Id(String),
    /// A file and, optionally, an article label in it.
    Article {
        /// Source file relative to the ingest folder.
        source_file: String,
        /// Article label as printed; `None` = any chunk of the file.
        article: Option<String>,
    },
}

/// One query of a set.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GoldQuery {
    /// Query id.
    #[serde(default)]
    pub id: String,
    /// The question.
    #[serde(alias = "query")]
    pub question: String,
    /// The date whose rules apply.
    #[serde(default)]
    pub as_of: Option<NaiveDate>,
    /// False for questions the knowledge base has no answer to.
    #[serde(default = "yes")]
    pub answerable: bool,
    /// Relevant items.
    #[serde(default)]
    pub gold: Vec<Gold>,
    /// The split the question belongs to (`dev` to tune on, `test` held back), when the
    /// set has one.
    #[serde(default)]
    pub split: Option<String>,
}

fn yes() -> bool {
    true
}

/// Reads a JSONL query set.
///
/// # Errors
/// Unreadable file or a malformed line (with its number).
pub fn load(path: &Path) -> Result<Vec<GoldQuery>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| Error::BadLine {
                path: path.to_path_buf(),
                line: i + 1,
                message: e.to_string(),
            })
        })
        .collect()
}

/// Options of a harness run.
#[derive(Debug, Clone, PartialEq)]
pub struct HarnessOptions {
    /// Channels.
    pub mode: Mode,
    /// Expand aliases in queries.
    pub expand_aliases: bool,
    /// Date for queries without `as_of`.
    pub default_as_of: NaiveDate,
    /// Split name in the report.
    pub split: String,
    /// Only these kinds (empty = all).
    pub kinds: Vec<zhiban_knowledge::DocKind>,
    /// Fusion parameters to rank with instead of the snapshot's own (tuning on a dev
    /// split without rebuilding the snapshot).
    pub fusion: Option<FusionParams>,
}

/// Per-query outcome, for reports that list failures.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryOutcome {
    /// Query id.
    pub id: String,
    /// Scores.
    pub scores: QueryScores,
    /// Keys of the top hits (`source_file#article`).
    pub top: Vec<String>,
    /// Keys of the gold items, in the set's order.
    pub gold: Vec<String>,
}

fn keys_of(g: &Gold) -> String {
    match g {
        Gold::Id(s) => s.clone(),
        Gold::Article {
            source_file,
            article: Some(a),
        } => format!("{source_file}#{a}"),
        Gold::Article {
            source_file,
            article: None,
        } => source_file.clone(),
    }
}

/// Runs the answerable queries of `set` against `snapshot`.
///
/// # Errors
/// Retrieval failures.
pub fn run(
    set: &[GoldQuery],
    snapshot: &Snapshot,
    opts: &HarnessOptions,
) -> Result<(RetrievalReport, Vec<QueryOutcome>)> {
    let mut scores = Vec::new();
    let mut lat = Vec::new();
    let mut outcomes = Vec::new();
    let docs = snapshot.documents();
    for q in set.iter().filter(|q| q.answerable && !q.gold.is_empty()) {
        let gold: Vec<String> = q.gold.iter().map(keys_of).collect();
        let as_of = q.as_of.unwrap_or(opts.default_as_of);
        let filter = Filter {
            valid_on: Some(as_of),
            kinds: opts.kinds.clone(),
            ..Default::default()
        };
        let t = Instant::now();
        let analyzed = snapshot.analyze(&q.question, opts.expand_aliases, true);
        let ranked = snapshot.rank_analyzed(
            &q.question,
            &analyzed,
            opts.mode,
            &filter,
            10,
            false,
            &opts.fusion.unwrap_or_else(|| snapshot.fusion()),
            &snapshot.bm25(),
        )?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        let top: Vec<String> = ranked
            .iter()
            .map(|(i, _)| {
                let r = &snapshot.records()[*i as usize];
                let m = &docs[r.doc as usize];
                let candidates = [
                    r.chunk_id.clone(),
                    m.doc_id.clone(),
                    format!(
                        "{}#{}",
                        m.source_file,
                        r.article.clone().unwrap_or_default()
                    ),
                    m.source_file.clone(),
                ];
                // A gold label naming a whole item ("二、") also covers its sub-items
                // ("二、（一）"): the answer is spread over them.
                candidates
                    .iter()
                    .find(|c| gold.contains(c))
                    .cloned()
                    .or_else(|| {
                        gold.iter()
                            .find(|g| g.contains('#') && candidates[2].starts_with(g.as_str()))
                            .cloned()
                    })
                    .unwrap_or_else(|| candidates[2].clone())
            })
            .collect();
        let s = score(&top, &gold);
        scores.push(s);
        outcomes.push(QueryOutcome {
            id: q.id.clone(),
            scores: s,
            top,
            gold,
        });
    }
    let mode = format!("{:?}", opts.mode).to_lowercase();
    let report = RetrievalReport::new(
        "retrieval",
        &opts.split,
        &mode,
        mean(&scores),
        scores.len(),
        docs.len(),
        &lat,
        0.0,
    );
    Ok((report, outcomes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gold_accepts_strings_and_objects() {
        let q: GoldQuery = serde_json::from_str(
            r#"{"id":"q1","question":"失业登记","as_of":"2021-06-01","gold":["p-1",{"source_file":"a.txt","article":"第八条"},{"source_file":"b.txt","article":null}]}"#,
        )
        .unwrap();
        assert!(q.answerable);
        let keys: Vec<String> = q.gold.iter().map(keys_of).collect();
        assert_eq!(keys, vec!["p-1", "a.txt#第八条", "b.txt"]);
        assert_eq!(q.as_of, NaiveDate::from_ymd_opt(2021, 6, 1));
    }
}
