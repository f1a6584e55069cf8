//! Measures the 学习问答 agent's refusal on the QA gold sets.
//!
//! Runs [`QaAgent::answer`] (default [`QaConfig`]) on every question of each JSONL split given
//! and prints, per split: answerable questions wrongly refused, unanswerable questions correctly
//! refused (refusal precision and recall), and how often an answered, answerable question cites
//! one of its gold articles (`source_file` + `article`, exact; a gold without article = any
//! chunk of the file).
//!
//! The snapshot is built from the repository's `data/` the way `zhiban ask` builds it:
//!
//! ```sh
//! export CARGO_TARGET_DIR=/var/tmp/t-qa CARGO_INCREMENTAL=0
//! cargo run -p zhiban-api --bin zhiban -- ingest data --index /var/tmp/qa-eval/index
//! cargo run -p zhiban-agent-core --example qa_refusal -- --index /var/tmp/qa-eval/index \
//!     data/eval/qa_gold.part-a.jsonl data/eval/qa_gold.part-b.jsonl
//! ```
//!
//! `-v` lists every wrong outcome (and `-vv` every question) with its evidence.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::Deserialize;
use zhiban_agent_core::{QaAgent, QaConfig, QaRequest};
use zhiban_knowledge::{LiveSnapshot, Secrets, SnapshotStore};

#[derive(Debug, Deserialize)]
struct Gold {
    source_file: String,
    article: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Row {
    id: String,
    question: String,
    as_of: Option<NaiveDate>,
    #[serde(default)]
    gold: Vec<Gold>,
    answerable: bool,
}

#[derive(Debug, Default)]
struct Tally {
    answerable: usize,
    unanswerable: usize,
    wrongly_refused: usize,
    correctly_refused: usize,
    answered: usize,
    gold_cited: usize,
}

fn pct(a: usize, b: usize) -> String {
    if b == 0 {
        "–".into()
    } else {
        format!("{:.1}%", 100.0 * a as f64 / b as f64)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut index = PathBuf::from("var/index");
    let mut splits = Vec::new();
    let mut verbose = 0;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--index" => index = PathBuf::from(args.next().ok_or("--index DIR")?),
            "-v" => verbose = 1,
            "-vv" => verbose = 2,
            _ => splits.push(PathBuf::from(a)),
        }
    }
    if splits.is_empty() {
        return Err("usage: qa_refusal [--index DIR] [-v|-vv] SPLIT.jsonl...".into());
    }
    let live = Arc::new(LiveSnapshot::open(
        SnapshotStore::new(&index),
        Secrets::default(),
    )?);
    let agent = QaAgent::new(live.clone(), QaConfig::default());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    println!("snapshot {} ({})", live.snapshot().id(), index.display());
    for split in &splits {
        let text = std::fs::read_to_string(split)?;
        let mut t = Tally::default();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let row: Row = serde_json::from_str(line)?;
            let as_of = row
                .as_of
                .unwrap_or_else(|| chrono::Local::now().date_naive());
            let req = QaRequest {
                question: row.question.clone(),
                as_of: Some(as_of),
                k: None,
            };
            let ans = rt.block_on(agent.answer(&req, as_of))?;
            let cited = ans.citations.iter().any(|c| {
                row.gold.iter().any(|g| {
                    g.source_file.trim_start_matches("policies/")
                        == c.source_file.trim_start_matches("policies/")
                        && (g.article.is_none() || g.article == c.article)
                })
            });
            let wrong = if row.answerable {
                t.answerable += 1;
                if ans.refused {
                    t.wrongly_refused += 1;
                } else {
                    t.answered += 1;
                    t.gold_cited += usize::from(cited);
                }
                ans.refused || !cited
            } else {
                t.unanswerable += 1;
                t.correctly_refused += usize::from(ans.refused);
                !ans.refused
            };
            if verbose >= 2 || (verbose == 1 && wrong) {
                let top: Vec<String> = ans
                    .citations
                    .iter()
                    .map(|c| {
                        format!(
                            "{}#{}",
                            c.source_file.trim_start_matches("policies/"),
                            c.article.as_deref().unwrap_or("")
                        )
                    })
                    .collect();
                let why: String = if ans.refused {
                    ans.answer.chars().take(24).collect()
                } else {
                    top.join(" ")
                };
                println!(
                    "  {} {} {} ev={:.3} {} | {}",
                    if wrong { "✗" } else { "✓" },
                    row.id,
                    if ans.refused { "REFUSED" } else { "answered" },
                    ans.evidence,
                    row.question,
                    why
                );
            }
        }
        let refused = t.wrongly_refused + t.correctly_refused;
        println!(
            "{}: answerable {} wrongly refused {} ({}); unanswerable {} correctly refused {} \
             (recall {}, precision {}); gold article cited {}/{} answered ({}), {}/{} answerable ({})",
            split.display(),
            t.answerable,
            t.wrongly_refused,
            pct(t.wrongly_refused, t.answerable),
            t.unanswerable,
            t.correctly_refused,
            pct(t.correctly_refused, t.unanswerable),
            pct(t.correctly_refused, refused),
            t.gold_cited,
            t.answered,
            pct(t.gold_cited, t.answered),
            t.gold_cited,
            t.answerable,
            pct(t.gold_cited, t.answerable),
        );
    }
    Ok(())
}
