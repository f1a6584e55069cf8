//! `zhiban search` and `zhiban docs`.

use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::Args;
use serde_json::json;
use zhiban_knowledge::{DocKind, Filter, Mode, SearchRequest, SearchResult};

use super::{open_current, print_json};
use crate::cli::IndexArg;
use crate::config::Config;

/// Arguments of `zhiban search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(flatten)]
    index: IndexArg,
    /// The rules of this date apply (YYYY-MM-DD; default today).
    #[arg(long)]
    as_of: Option<NaiveDate>,
    /// Only these kinds (comma-separated: policy,guide,case,catalog).
    #[arg(long, value_delimiter = ',')]
    kind: Vec<String>,
    /// Only these 事项编码.
    #[arg(long, value_delimiter = ',')]
    matter: Vec<String>,
    /// Only these departments.
    #[arg(long, value_delimiter = ',')]
    department: Vec<String>,
    /// bm25, vector or hybrid.
    #[arg(long, default_value = "hybrid")]
    mode: String,
    /// Number of hits.
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// Also show texts not in force on that date (repealed, expired, not yet effective).
    #[arg(long)]
    all_versions: bool,
    /// Rank binding texts above interpretations when scores are close (效力位阶).
    #[arg(long)]
    level_boost: bool,
    /// Do not expand 常用名/代用名 to the official 事项 name.
    #[arg(long)]
    no_expand: bool,
    /// JSON output (contract).
    #[arg(long)]
    json: bool,
    /// The question.
    query: String,
}

/// Arguments of `zhiban docs`.
#[derive(Debug, Args)]
pub struct DocsArgs {
    #[command(flatten)]
    index: IndexArg,
    /// Statuses as of this date (default today).
    #[arg(long)]
    as_of: Option<NaiveDate>,
    /// JSON output (contract).
    #[arg(long)]
    json: bool,
}

/// Builds the library request from CLI arguments.
pub fn request(a: &SearchArgs) -> Result<SearchRequest> {
    let kinds = a
        .kind
        .iter()
        .map(|k| k.parse::<DocKind>())
        .collect::<Result<Vec<_>, _>>()
        .context("--kind 只能是 policy、guide、case、catalog")?;
    let mode: Mode = a
        .mode
        .parse()
        .context("--mode 只能是 bm25、vector、hybrid")?;
    if a.query.trim().is_empty() {
        anyhow::bail!("请输入要检索的问题");
    }
    Ok(SearchRequest {
        query: a.query.clone(),
        mode,
        k: a.k.clamp(1, 100),
        as_of: a.as_of,
        include_not_current: a.all_versions,
        filter: Filter {
            kinds,
            matter_codes: a.matter.clone(),
            departments: a.department.clone(),
            valid_on: None,
        },
        level_boost: a.level_boost,
        expand_aliases: !a.no_expand,
    })
}

/// Runs `zhiban search`.
pub fn run(cfg: &Config, a: SearchArgs) -> Result<ExitCode> {
    let req = request(&a)?;
    let snap = open_current(cfg, &a.index.resolve(cfg))?;
    let res = snap.search(&req)?;
    if a.json {
        print_json(&res)?;
    } else {
        print_hits(&res);
    }
    Ok(ExitCode::SUCCESS)
}

/// Human-readable hits with their citations.
pub fn print_hits(res: &SearchResult) {
    if let Some(q) = &res.expanded_query {
        println!("（已按事项别名扩展检索：{q}）");
    }
    if res.hits.is_empty() {
        println!("知识库中没有找到依据（截至 {}）。", res.as_of);
        return;
    }
    for (i, h) in res.hits.iter().enumerate() {
        let number = h
            .doc_number
            .as_deref()
            .map(|n| format!("（{n}）"))
            .unwrap_or_default();
        let article = h.article.as_deref().unwrap_or("全文");
        println!(
            "{}. 《{}》{} {} 〔{}〕 score={:.4}",
            i + 1,
            h.title,
            number,
            article,
            h.status,
            h.score
        );
        let snippet: String = h.text.chars().take(120).collect();
        println!("   {}", snippet.replace('\n', " "));
        println!("   来源：{}", h.source_file);
    }
    println!("快照：{}", res.snapshot);
}

/// Runs `zhiban docs`.
pub fn docs(cfg: &Config, a: DocsArgs) -> Result<ExitCode> {
    let snap = open_current(cfg, &a.index.resolve(cfg))?;
    let as_of = a.as_of.unwrap_or_else(|| chrono::Local::now().date_naive());
    let counts: std::collections::HashMap<usize, usize> =
        snap.records().iter().fold(Default::default(), |mut m, r| {
            if r.article.is_some() {
                *m.entry(r.doc as usize).or_insert(0) += 1;
            }
            m
        });
    let docs: Vec<_> = snap
        .documents()
        .iter()
        .enumerate()
        .map(|(i, d)| {
            json!({
                "doc_id": d.doc_id,
                "kind": d.kind,
                "source_file": d.source_file,
                "title": d.title,
                "doc_number": d.doc_number,
                "issuer": d.issuer,
                "level": d.level,
                "published": d.published,
                "effective": d.effective,
                "expires": d.expires,
                "status": d.status_on(as_of),
                "supersedes": d.supersedes,
                "superseded_by": d.superseded_by,
                "keywords": d.keywords,
                "matter_codes": d.matter_codes,
                "article_count": counts.get(&i).copied().unwrap_or(0),
            })
        })
        .collect();
    if a.json {
        print_json(&json!({"snapshot": snap.id(), "as_of": as_of, "documents": docs}))?;
    } else {
        for d in &docs {
            println!(
                "{}\t{}\t{}\t{}\t{}",
                d["kind"].as_str().unwrap_or(""),
                d["status"].as_str().unwrap_or(""),
                d["doc_number"].as_str().unwrap_or("-"),
                d["title"].as_str().unwrap_or(""),
                d["source_file"].as_str().unwrap_or("")
            );
        }
        println!("快照 {}：{} 份文档", snap.id(), docs.len());
    }
    Ok(ExitCode::SUCCESS)
}
