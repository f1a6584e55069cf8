//! `zhiban ask`: the main job on the embedded default. Builds the knowledge base from
//! the corpus when none is published, then answers a clerk's question with the
//! passages it rests on, each cited by title, 文号, article and 时效性.

use std::process::ExitCode;

use anyhow::Result;
use chrono::NaiveDate;
use clap::Args;
use zhiban_ingest::IngestOptions;
use zhiban_knowledge::{DocKind, SearchRequest, SnapshotStore};

use super::{ingest, open_current, print_json, search::print_hits};
use crate::cli::IndexArg;
use crate::config::Config;

/// The question asked when none is given.
pub const SAMPLE_QUESTION: &str =
    "外地户口的人在上海失业了，能在这边办失业登记吗？要满足什么条件？";

/// Arguments of `zhiban ask`.
#[derive(Debug, Args)]
pub struct AskArgs {
    #[command(flatten)]
    index: IndexArg,
    /// The rules of this date apply (default today).
    #[arg(long)]
    as_of: Option<NaiveDate>,
    /// Number of passages.
    #[arg(long, default_value_t = 5)]
    k: usize,
    /// JSON output.
    #[arg(long)]
    json: bool,
    /// The question (default: a sample clerk question).
    question: Option<String>,
}

/// Runs `zhiban ask`.
pub fn run(cfg: &Config, a: AskArgs) -> Result<ExitCode> {
    let index = a.index.resolve(cfg);
    let store = SnapshotStore::new(&index);
    if store.current_id()?.is_none() {
        eprintln!(
            "首次运行：从 {} 构建知识库到 {} ……",
            cfg.index.data_dir.display(),
            index.display()
        );
        let (id, report) = ingest::ingest_and_publish(
            cfg,
            &index,
            std::slice::from_ref(&cfg.index.data_dir),
            IngestOptions::default(),
            false,
        )?;
        eprintln!(
            "已发布快照 {id}：{} 份文档、{} 个切块，{} 个错误，用时 {:.1} 秒",
            report.documents.values().sum::<usize>(),
            report.chunks,
            report.errors.len(),
            report.seconds
        );
    }
    let snap = open_current(cfg, &index)?;
    let question = a.question.unwrap_or_else(|| SAMPLE_QUESTION.to_string());
    // Policies answer "may I / what are the conditions"; guides answer "how do I
    // do it in the 受理系统". Each list is ranked separately so that 300 guides and
    // 10,000 catalog records cannot crowd the binding text out.
    let mut req = SearchRequest::new(&question);
    req.k = a.k.clamp(1, 20);
    req.as_of = a.as_of;
    req.level_boost = true;
    req.filter.kinds = vec![DocKind::Policy];
    let policies = snap.search(&req)?;
    req.k = 3;
    req.level_boost = false;
    req.filter.kinds = vec![DocKind::Guide];
    let guides = snap.search(&req)?;
    if a.json {
        return print_json(
            &serde_json::json!({"question": question, "policies": policies, "guides": guides}),
        )
        .map(|_| ExitCode::SUCCESS);
    }
    println!("问题：{question}");
    println!(
        "【政策依据】截至 {}，仅列当日现行有效的文本：",
        policies.as_of
    );
    print_hits(&policies);
    println!("【操作指南】");
    print_hits(&guides);
    if policies.hits.is_empty() {
        println!("知识库中没有现行有效的政策依据，无法回答。");
    }
    Ok(ExitCode::SUCCESS)
}
