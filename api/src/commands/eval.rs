//! `zhiban eval …`: the evaluation suites.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use zhiban_evals::report::RetrievalReport;
use zhiban_evals::{retrieval, stard};
use zhiban_knowledge::Mode;

use super::{open_current, print_json};
use crate::cli::IndexArg;
use crate::config::Config;

/// Evaluation subcommands.
#[derive(Debug, Subcommand)]
pub enum EvalCmd {
    /// STARD-mini statute retrieval (shared/benchmarks/README.md).
    Stard(StardArgs),
    /// Retrieval over a JSONL gold set (e.g. data/eval/qa_gold.jsonl).
    Retrieval(RetrievalArgs),
    /// Metadata extraction scored against data/eval/metadata_gold.jsonl.
    Metadata(MetadataArgs),
}

/// Arguments of `zhiban eval metadata`.
#[derive(Debug, Args)]
pub struct MetadataArgs {
    /// Source folder to ingest (nothing is published).
    #[arg(long, default_value = "data")]
    source: PathBuf,
    /// Gold file.
    #[arg(long, default_value = "data/eval/metadata_gold.jsonl")]
    gold: PathBuf,
    /// Skip OCR (scanned documents then score as missing).
    #[arg(long)]
    no_ocr: bool,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

/// Arguments of `zhiban eval stard`.
#[derive(Debug, Args)]
pub struct StardArgs {
    /// Directory with queries.json, qrels.dev.tsv, cn_stopwords.txt.
    #[arg(long, default_value = "../shared/benchmarks/stard")]
    stard_dir: PathBuf,
    /// bm25, vector or hybrid.
    #[arg(long, default_value = "hybrid")]
    mode: String,
    /// Where to build the benchmark index (default: a temporary directory).
    #[arg(long)]
    index: Option<PathBuf>,
    /// JSON lines output (contract).
    #[arg(long)]
    json: bool,
    /// Local embedder dimension.
    #[arg(long)]
    lsa_dim: Option<usize>,
    /// Local embedder singular-value exponent.
    #[arg(long)]
    lsa_alpha: Option<f32>,
    /// Print a parameter sweep on the dev split instead of the report.
    #[arg(long)]
    sweep: bool,
}

/// Arguments of `zhiban eval retrieval`.
#[derive(Debug, Args)]
pub struct RetrievalArgs {
    #[command(flatten)]
    index: IndexArg,
    /// JSONL gold set.
    #[arg(long, default_value = "data/eval/qa_gold.jsonl")]
    queries: PathBuf,
    /// bm25, vector or hybrid.
    #[arg(long, default_value = "hybrid")]
    mode: String,
    /// Do not expand aliases.
    #[arg(long)]
    no_expand: bool,
    /// Date for queries without as_of (default today).
    #[arg(long)]
    as_of: Option<NaiveDate>,
    /// List the queries whose gold is not in the top 10.
    #[arg(long)]
    misses: bool,
    /// Only these kinds (comma-separated; default all).
    #[arg(long, value_delimiter = ',')]
    kind: Vec<String>,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

/// Runs an eval subcommand.
pub fn run(cfg: &Config, cmd: EvalCmd) -> Result<ExitCode> {
    match cmd {
        EvalCmd::Stard(a) => run_stard(a),
        EvalCmd::Retrieval(a) => run_retrieval(cfg, a),
        EvalCmd::Metadata(a) => run_metadata(a),
    }
}

fn print_report(r: &RetrievalReport, json: bool) -> Result<()> {
    if json {
        print_json(r)
    } else {
        println!(
            "{} {:<4} {:<6} n={:<5} R@1 {:.4} R@3 {:.4} R@5 {:.4} R@10 {:.4} MRR@10 {:.4} nDCG@10 {:.4} p50 {:.3} ms p99 {:.3} ms build {:.3} s",
            r.suite,
            r.split,
            r.mode,
            r.n_queries,
            r.recall_1,
            r.recall_3,
            r.recall_5,
            r.recall_10,
            r.mrr_10,
            r.ndcg_10,
            r.latency_ms_p50,
            r.latency_ms_p99,
            r.build_s
        );
        Ok(())
    }
}

fn run_stard(a: StardArgs) -> Result<ExitCode> {
    let mode: Mode = a
        .mode
        .parse()
        .context("--mode 只能是 bm25、vector、hybrid")?;
    let bench = match stard::Stard::load(&a.stard_dir) {
        Ok(b) => b,
        Err(e @ zhiban_evals::Error::MissingBenchmark(_)) => {
            eprintln!("跳过 STARD：{e}");
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(e.into()),
    };
    let tmp;
    let dir = match &a.index {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let mut opts = bench.build_options();
    if let Some(d) = a.lsa_dim {
        opts.lsa.dim = d;
    }
    if let Some(x) = a.lsa_alpha {
        opts.lsa.alpha = x;
    }
    let (snap, build_s) = stard::build(&bench, &dir, &opts)?;
    if a.sweep {
        return sweep(&bench, &snap, build_s);
    }
    for r in stard::run(&bench, &snap, mode, build_s)? {
        print_report(&r, a.json)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A small grid over the fusion and BM25 parameters, scored on the dev split only.
fn sweep(
    bench: &stard::Stard,
    snap: &zhiban_knowledge::Snapshot,
    build_s: f64,
) -> Result<ExitCode> {
    let base_f = snap.fusion();
    let base_b = snap.bm25();
    for title in [0.0f32, 0.25, 0.5, 1.0] {
        for grams in [0.0f32, 0.2, 0.35, 0.5, 0.8] {
            let mut b = base_b;
            b.title = title;
            b.grams = grams;
            let r = &stard::run_with(bench, snap, Mode::Bm25, build_s, &base_f, &b)?[1];
            println!(
                "bm25 title={title} grams={grams} dev ndcg@10={:.4} R@5={:.4}",
                r.ndcg_10, r.recall_5
            );
        }
    }
    for k in [10.0f32, 30.0, 60.0] {
        for vw in [0.3f32, 0.5, 0.7, 1.0] {
            let mut f = base_f;
            f.rrf_k = k;
            f.vector_weight = vw;
            let r = &stard::run_with(bench, snap, Mode::Hybrid, build_s, &f, &base_b)?[1];
            println!(
                "hybrid k={k} vector_weight={vw} dev ndcg@10={:.4} R@5={:.4}",
                r.ndcg_10, r.recall_5
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_retrieval(cfg: &Config, a: RetrievalArgs) -> Result<ExitCode> {
    let mode: Mode = a
        .mode
        .parse()
        .context("--mode 只能是 bm25、vector、hybrid")?;
    let set = retrieval::load(&a.queries)?;
    let snap = open_current(cfg, &a.index.resolve(cfg))?;
    let opts = retrieval::HarnessOptions {
        mode,
        expand_aliases: !a.no_expand,
        default_as_of: a.as_of.unwrap_or_else(|| chrono::Local::now().date_naive()),
        split: format!(
            "{}{}",
            if a.no_expand { "no-expand" } else { "expand" },
            if a.kind.is_empty() {
                String::new()
            } else {
                format!(":{}", a.kind.join("+"))
            }
        ),
        kinds: a
            .kind
            .iter()
            .map(|k| k.parse())
            .collect::<Result<Vec<_>, _>>()
            .context("--kind 只能是 policy、guide、case、catalog")?,
    };
    let (report, outcomes) = retrieval::run(&set, &snap, &opts)?;
    print_report(&report, a.json)?;
    if a.misses {
        for o in outcomes.iter().filter(|o| o.scores.recall[3] == 0.0) {
            eprintln!("miss {}: top3 {:?}", o.id, &o.top[..o.top.len().min(3)]);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_metadata(a: MetadataArgs) -> Result<ExitCode> {
    let mut opts = zhiban_ingest::IngestOptions::default();
    opts.tools.ocr = !a.no_ocr;
    let out = zhiban_ingest::ingest_folder(&a.source, &opts, None)?;
    let score = zhiban_ingest::score_metadata(&out.documents, &a.gold)?;
    let exact_articles = score.per_field.get("article_count").copied().unwrap_or(0.0);
    if a.json {
        print_json(&serde_json::json!({
            "n_gold": score.n_gold,
            "missing": score.missing,
            "per_field": score.per_field,
            "mismatches": score.mismatches.iter().map(|m| serde_json::json!({
                "source_file": m.source_file, "field": m.field, "expected": m.expected, "got": m.got
            })).collect::<Vec<_>>(),
        }))?;
    } else {
        println!(
            "metadata n_gold={} missing={}",
            score.n_gold,
            score.missing.len()
        );
        for (field, rate) in &score.per_field {
            println!("  {field:<14} {rate:.3}");
        }
        for m in &score.mismatches {
            println!(
                "  ✗ {} {}: expected {} got {}",
                m.source_file, m.field, m.expected, m.got
            );
        }
        println!(
            "article counts exact on {:.1}% of documents",
            exact_articles * 100.0
        );
    }
    Ok(ExitCode::SUCCESS)
}
