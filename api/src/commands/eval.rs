//! `zhiban eval …`: the evaluation suites.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use zhiban_evals::report::RetrievalReport;
use zhiban_evals::{retrieval, stard};
use zhiban_knowledge::{LiveSnapshot, Mode, SnapshotStore};

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
    /// Concurrent searches on one live snapshot while a new one is published
    /// (works on a copy of the published snapshot; the index is not changed).
    Storm(StormArgs),
}

/// Arguments of `zhiban eval storm`.
#[derive(Debug, Args)]
pub struct StormArgs {
    #[command(flatten)]
    index: IndexArg,
    /// Questions to search with (JSONL with `question`).
    #[arg(long, default_value = "data/eval/qa_gold.jsonl")]
    queries: PathBuf,
    /// Concurrent search tasks.
    #[arg(long, default_value_t = 64)]
    tasks: usize,
    /// Searches per task (at least).
    #[arg(long, default_value_t = 100)]
    searches: usize,
    /// bm25, vector or hybrid.
    #[arg(long, default_value = "hybrid")]
    mode: String,
    /// Worker threads of the runtime (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
    /// JSON output.
    #[arg(long)]
    json: bool,
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
    /// Rank with these fusion parameters instead of the built ones: `name=value` pairs,
    /// comma-separated, as for `eval retrieval`.
    #[arg(long, value_delimiter = ',')]
    fusion: Vec<String>,
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
    /// List the queries whose gold is not all in the top 5, with their top 5.
    #[arg(long)]
    misses: bool,
    /// Only these kinds (comma-separated; default all).
    #[arg(long, value_delimiter = ',')]
    kind: Vec<String>,
    /// Only the questions of this split (`dev`, `test`); default all.
    #[arg(long)]
    split: Option<String>,
    /// Rank with these fusion parameters instead of the snapshot's, for tuning on a dev
    /// split: `name=value` pairs, comma-separated (`front_matter_weight=0.6,rrf_k=20`).
    #[arg(long, value_delimiter = ',')]
    fusion: Vec<String>,
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
        EvalCmd::Storm(a) => run_storm(cfg, a),
    }
}

/// Copies the published snapshot of `src` into a fresh index under `tmp`, publishes
/// it there and builds a second snapshot of the same documents, unpublished.
fn storm_index(
    src: &std::path::Path,
    tmp: &std::path::Path,
) -> Result<(SnapshotStore, String, String)> {
    let from = SnapshotStore::new(src);
    let id = from.current_id()?.with_context(|| {
        format!(
            "{} 下还没有发布的知识库快照，请先运行 `zhiban ingest`",
            src.display()
        )
    })?;
    let store = SnapshotStore::new(tmp);
    copy_dir(&from.dir_of(&id), &store.dir_of(&id))?;
    store.publish(&id)?;
    let docs = store.load_documents(&id)?;
    let next = store
        .build(&docs, &store.build_options_of(&id)?)
        .context("构建第二个快照失败")?;
    Ok((store, id, next.id))
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("无法创建 {}", to.display()))?;
    for e in std::fs::read_dir(from).with_context(|| format!("无法读取 {}", from.display()))? {
        let e = e?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type()?.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).with_context(|| format!("无法复制 {}", src.display()))?;
        }
    }
    Ok(())
}

fn run_storm(cfg: &Config, a: StormArgs) -> Result<ExitCode> {
    let mode: Mode = a
        .mode
        .parse()
        .context("--mode 只能是 bm25、vector、hybrid")?;
    let questions: Vec<String> = retrieval::load(&a.queries)?
        .into_iter()
        .map(|q| q.question)
        .collect();
    let tmp = tempfile::tempdir()?;
    let (store, first, second) = storm_index(&a.index.resolve(cfg), tmp.path())?;
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(w) = a.workers {
        rt.worker_threads(w.max(1));
    }
    let rt = rt.build().context("无法启动异步运行时")?;
    let secrets = super::secrets(cfg);
    let opts = zhiban_evals::storm::StormOptions {
        tasks: a.tasks.max(1),
        searches_per_task: a.searches.max(1),
        publish_after: a.tasks.max(1) * a.searches.max(1) / 3,
        mode,
        ..Default::default()
    };
    let report = rt.block_on(async {
        let live = LiveSnapshot::open_async(store.clone(), secrets).await?;
        let publisher = store.clone();
        let next = second.clone();
        zhiban_evals::storm::run(
            live,
            questions,
            move || publisher.publish(&next).map(|_| next),
            &opts,
        )
        .await
    })?;
    let ok = report.failures == 0
        && report.inconsistent_hits == 0
        && report.served_by.contains_key(&first)
        && report.served_by.contains_key(&second);
    if a.json {
        print_json(&report)?;
    } else {
        println!(
            "storm tasks={} mode={} searches={} failures={} inconsistent_hits={} {:.0} searches/s p50 {:.3} ms p99 {:.3} ms swap {} s",
            opts.tasks,
            a.mode,
            report.searches,
            report.failures,
            report.inconsistent_hits,
            report.searches_per_s,
            report.latency_ms_p50,
            report.latency_ms_p99,
            report.swap_s.map_or("-".to_string(), |s| format!("{s:.3}"))
        );
        for (id, n) in &report.served_by {
            println!("  served by {id}: {n}");
        }
    }
    if !ok {
        eprintln!("错误：检索风暴中有失败的检索、快照标识不一致，或新快照未被启用");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
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
            return Err(anyhow::Error::new(e).context(format!(
                "找不到 STARD 基准数据目录 {}（应含 queries.json，位于 ../shared/benchmarks/stard）",
                a.stard_dir.display()
            )));
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
    let fusion = fusion_override(snap.fusion(), &a.fusion)?;
    for r in stard::run_with(&bench, &snap, mode, build_s, &fusion, &snap.bm25())? {
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
    let mut set = retrieval::load(&a.queries)?;
    if let Some(split) = &a.split {
        set.retain(|q| q.split.as_deref() == Some(split.as_str()));
        if set.is_empty() {
            bail!("{} 中没有 split 为 {split} 的问题", a.queries.display());
        }
    }
    let snap = open_current(cfg, &a.index.resolve(cfg))?;
    let fusion = if a.fusion.is_empty() {
        None
    } else {
        Some(fusion_override(snap.fusion(), &a.fusion)?)
    };
    let opts = retrieval::HarnessOptions {
        fusion,
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
        // Anything short of full recall@5 is a miss worth reading: a question with
        // two gold articles that finds one of them is half answered.
        for o in outcomes.iter().filter(|o| o.scores.recall[2] < 1.0) {
            eprintln!("miss {} (R@5 {:.2})", o.id, o.scores.recall[2]);
            eprintln!("  gold {:?}", o.gold);
            eprintln!("  top5 {:?}", &o.top[..o.top.len().min(5)]);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Applies `name=value` pairs to `base` through its serde form, so every field of
/// [`zhiban_knowledge::FusionParams`] can be set and a misspelt name is an error.
fn fusion_override(
    base: zhiban_knowledge::FusionParams,
    pairs: &[String],
) -> Result<zhiban_knowledge::FusionParams> {
    let mut value = serde_json::to_value(base)?;
    let Some(fields) = value.as_object_mut() else {
        bail!("融合参数不是对象");
    };
    for pair in pairs {
        let Some((name, v)) = pair.split_once('=') else {
            bail!("--fusion 的每一项应为 名称=数值，收到 {pair}");
        };
        let name = name.trim();
        if !fields.contains_key(name) {
            let known: Vec<&str> = fields.keys().map(String::as_str).collect();
            bail!("没有名为 {name} 的融合参数（可用：{}）", known.join("、"));
        }
        let v: f64 = v
            .trim()
            .parse()
            .with_context(|| format!("--fusion {name} 的值不是数：{v}"))?;
        // Integral values go in as integers so that count fields (`candidates`) take them.
        let v = if v.fract() == 0.0 && v.abs() < 1e15 {
            serde_json::json!(v as i64)
        } else {
            serde_json::json!(v)
        };
        fields.insert(name.to_string(), v);
    }
    serde_json::from_value(value).context("融合参数取值无效")
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
