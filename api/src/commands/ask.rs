//! `zhiban ask`: the main job on the embedded default. Builds the knowledge base from
//! the corpus when none is published, then answers a clerk's question through the 学习问答
//! agent: the articles that answer it, each cited by title, 文号, article and 时效性, a warning
//! when a cited text is not in force, a refusal when the knowledge base has no basis.
//! `--json` prints the contract's answer object (the same as `POST /v1/qa`).

use std::process::ExitCode;

use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::Args;
use zhiban_agent_core::{QaAgent, QaConfig, QaRequest};
use zhiban_ingest::IngestOptions;
use zhiban_knowledge::{DocKind, LiveSnapshot, SearchRequest, SnapshotStore};

use super::{explain_open_error, ingest, print_json, search::print_hits, secrets};
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
    let question = a.question.unwrap_or_else(|| SAMPLE_QUESTION.to_string());
    let today = chrono::Local::now().date_naive();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("无法启动异步运行时")?;
    let (answer, guides) = rt.block_on(async {
        let live = Arc::new(
            LiveSnapshot::open_async(store, secrets(cfg))
                .await
                .map_err(|e| explain_open_error(&index, e))?,
        );
        let agent = QaAgent::new(live.clone(), QaConfig::default());
        let req = QaRequest {
            question: question.clone(),
            as_of: a.as_of,
            k: Some(a.k.clamp(1, 10)),
        };
        let answer = agent.answer(&req, today).await?;
        // Guides answer "how do I do it in the 受理系统"; they are listed apart so that 300 guides
        // cannot crowd the binding text out.
        let mut sr = SearchRequest::new(&question);
        sr.k = 3;
        sr.as_of = a.as_of;
        sr.filter.kinds = vec![DocKind::Guide];
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let guides = live.search(&sr, deadline).await?;
        anyhow::Ok((answer, guides))
    })?;
    if a.json {
        return print_json(&answer).map(|_| ExitCode::SUCCESS);
    }
    println!("问题：{question}");
    println!("{}", answer.answer);
    for w in &answer.warnings {
        println!("⚠ {w}");
    }
    if !answer.refused {
        println!("【引用】");
        for (i, c) in answer.citations.iter().enumerate() {
            println!(
                "[{}] 《{}》{} {}（{}，{}）",
                i + 1,
                c.title,
                c.doc_number.as_deref().unwrap_or(""),
                c.article.as_deref().unwrap_or(""),
                c.status,
                c.source_file
            );
        }
    }
    println!("【操作指南】");
    print_hits(&guides);
    println!("（知识库快照 {}）", answer.snapshot);
    Ok(ExitCode::SUCCESS)
}
