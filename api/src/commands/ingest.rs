//! `zhiban ingest` and `zhiban eval metadata`'s shared pipeline run.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::json;
use zhiban_ingest::{IngestOptions, IngestOutput, IngestReport, PreviousState};
use zhiban_knowledge::embed::OpenAiEmbedderConfig;
use zhiban_knowledge::snapshot::{EmbeddingBackend, VectorBackend};
use zhiban_knowledge::vector::QdrantStoreConfig;
use zhiban_knowledge::{BuildOptions, SnapshotStore};

use super::print_json;
use crate::cli::IndexArg;
use crate::config::Config;

/// Arguments of `zhiban ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Source folders (policies/, guides/, cases/, catalog/ … inside).
    #[arg(required = true)]
    sources: Vec<PathBuf>,
    #[command(flatten)]
    index: IndexArg,
    /// Fail (exit 1, nothing published) when any file has an error.
    #[arg(long)]
    strict: bool,
    /// Skip OCR of images and image-only PDF pages.
    #[arg(long)]
    no_ocr: bool,
    /// Re-read every file even if unchanged.
    #[arg(long)]
    full: bool,
    /// JSON report on stdout (contract).
    #[arg(long)]
    json: bool,
}

/// Progress bars per stage on stderr (hidden when stderr is not a terminal).
fn progress() -> (
    zhiban_ingest::ProgressFn,
    Arc<Mutex<HashMap<String, ProgressBar>>>,
) {
    let multi = MultiProgress::new();
    let bars: Arc<Mutex<HashMap<String, ProgressBar>>> = Arc::default();
    let style = ProgressStyle::with_template("{prefix:>6} [{bar:30}] {pos}/{len} {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let b = bars.clone();
    let f: zhiban_ingest::ProgressFn = Arc::new(move |stage: &str, done: usize, total: usize| {
        let Ok(mut map) = b.lock() else { return };
        let bar = map.entry(stage.to_string()).or_insert_with(|| {
            let pb = multi.add(ProgressBar::new(total as u64));
            pb.set_style(style.clone());
            pb.set_prefix(stage.to_string());
            pb
        });
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        if done >= total {
            bar.finish();
        }
    });
    (f, bars)
}

/// Runs the ingest pipeline over `sources`, reusing unchanged files from the
/// published snapshot unless `full`.
pub fn run_pipeline(
    store: &SnapshotStore,
    sources: &[PathBuf],
    mut opts: IngestOptions,
    full: bool,
) -> Result<IngestOutput> {
    let previous = if full {
        None
    } else {
        match store.current_id()? {
            // Only the documents are needed: reading them does not open the
            // index, so a snapshot of an older format still seeds an incremental run.
            Some(id) => Some(PreviousState::from_documents(store.load_documents(&id)?)),
            None => None,
        }
    };
    let (cb, _bars) = progress();
    opts.progress = Some(cb);
    let mut merged = IngestOutput::default();
    for src in sources {
        if !src.is_dir() {
            anyhow::bail!("源目录 {} 不存在或不是目录", src.display());
        }
        let out = match zhiban_ingest::ingest_folder(src, &opts, previous.as_ref()) {
            Ok(o) => o,
            Err(zhiban_ingest::Error::Strict {
                count,
                first,
                report,
            }) => {
                return Err(StrictFailure {
                    count,
                    first,
                    report: *report,
                }
                .into());
            }
            Err(e) => return Err(e).with_context(|| format!("导入 {} 失败", src.display())),
        };
        merge(&mut merged, out);
    }
    Ok(merged)
}

/// A `--strict` run that met errors: carries the report so it can still be printed.
#[derive(Debug, thiserror::Error)]
#[error("严格模式下有 {count} 个文件出错（第一个：{first}），未发布新快照")]
pub struct StrictFailure {
    count: usize,
    first: String,
    report: IngestReport,
}

fn merge(into: &mut IngestOutput, out: IngestOutput) {
    into.documents.extend(out.documents);
    into.file_hashes.extend(out.file_hashes);
    into.dictionary.extend(out.dictionary);
    for (k, v) in out.expansions {
        into.expansions.entry(k).or_default().extend(v);
    }
    // Every source folder carries the embedded table; a folder's own words extend it.
    zhiban_ingest::lay_terms::extend(&mut into.lay_terms, out.lay_terms);
    let r = &mut into.report;
    for (k, n) in out.report.documents {
        *r.documents.entry(k).or_insert(0) += n;
    }
    r.chunks += out.report.chunks;
    r.skipped_unchanged += out.report.skipped_unchanged;
    r.files += out.report.files;
    r.ocr_pages += out.report.ocr_pages;
    r.seconds += out.report.seconds;
    r.errors.extend(out.report.errors);
    r.warnings.extend(out.report.warnings);
    r.skipped.extend(out.report.skipped);
}

/// Build options from configuration and the pipeline's dictionary and aliases.
pub fn build_options(cfg: &Config, out: &IngestOutput) -> BuildOptions {
    let mut o = BuildOptions {
        user_words: out
            .dictionary
            .iter()
            .map(|(w, f, t)| (w.clone(), Some(*f), Some(t.clone())))
            .collect(),
        expansions: out
            .expansions
            .iter()
            .flat_map(|(alias, names)| names.iter().map(move |n| (alias.clone(), n.clone())))
            .collect(),
        lay_terms: out
            .lay_terms
            .iter()
            .map(|(lay, words)| (lay.clone(), words.clone()))
            .collect(),
        sources: out.file_hashes.clone(),
        ..BuildOptions::default()
    };
    if !cfg.embedding.base_url.is_empty() {
        let mut e = OpenAiEmbedderConfig::new(
            &cfg.embedding.base_url,
            &cfg.embedding.model,
            cfg.embedding.dim,
        );
        e.api_key = cfg.embedding.api_key.clone();
        o.embedding = EmbeddingBackend::OpenAi(e);
    }
    if !cfg.qdrant.url.is_empty() {
        let name = if cfg.qdrant.collection.is_empty() {
            "zhiban"
        } else {
            &cfg.qdrant.collection
        };
        let mut q = QdrantStoreConfig::new(&cfg.qdrant.url, name);
        q.api_key = (!cfg.qdrant.api_key.is_empty()).then(|| cfg.qdrant.api_key.clone());
        o.vectors = VectorBackend::Qdrant(q);
    }
    o
}

/// Ingests, builds a snapshot and publishes it; returns the report with the snapshot id.
pub fn ingest_and_publish(
    cfg: &Config,
    index: &Path,
    sources: &[PathBuf],
    opts: IngestOptions,
    full: bool,
) -> Result<(String, IngestReport)> {
    let store = SnapshotStore::new(index);
    let out = run_pipeline(&store, sources, opts, full)?;
    if out.documents.is_empty() {
        anyhow::bail!("没有可导入的文档：{} 个文件出错", out.report.errors.len());
    }
    let built = store
        .build(&out.documents, &build_options(cfg, &out))
        .context("构建知识库快照失败")?;
    store.publish(&built.id)?;
    let removed = store.gc(cfg.index.keep.max(2))?;
    tracing::info!(snapshot = %built.id, removed = removed.len(), "snapshot published");
    Ok((built.id, out.report))
}

/// Runs `zhiban ingest`.
pub fn run(cfg: &Config, a: IngestArgs) -> Result<ExitCode> {
    let mut opts = IngestOptions {
        strict: a.strict,
        ..IngestOptions::default()
    };
    opts.tools.ocr = !a.no_ocr;
    let index = a.index.resolve(cfg);
    let started = std::time::Instant::now();
    let (snapshot, mut report) = match ingest_and_publish(cfg, &index, &a.sources, opts, a.full) {
        Ok(x) => x,
        Err(e) => {
            if let Some(s) = e.downcast_ref::<StrictFailure>() {
                if a.json {
                    print_json(&report_json(None, &s.report))?;
                } else {
                    print_summary("-", &s.report);
                }
                eprintln!("错误：{e}");
                return Ok(ExitCode::from(1));
            }
            return Err(e);
        }
    };
    report.seconds = started.elapsed().as_secs_f64();
    if a.json {
        print_json(&report_json(Some(&snapshot), &report))?;
    } else {
        print_summary(&snapshot, &report);
    }
    Ok(ExitCode::SUCCESS)
}

fn report_json(snapshot: Option<&str>, r: &IngestReport) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap_or_else(|_| json!({}));
    v["snapshot"] = json!(snapshot);
    v
}

fn print_summary(snapshot: &str, r: &IngestReport) {
    let kinds: BTreeMap<&str, usize> = r.documents.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    println!("{:<10} {:>8}", "类别", "文档数");
    for (k, label) in [
        ("policy", "政策文件"),
        ("guide", "操作指南"),
        ("case", "办结案例"),
        ("catalog", "目录记录"),
    ] {
        println!("{:<10} {:>8}", label, kinds.get(k).copied().unwrap_or(0));
    }
    println!("{:<10} {:>8}", "切块", r.chunks);
    println!("{:<10} {:>8}", "未变跳过", r.skipped_unchanged);
    println!("{:<10} {:>8}", "OCR 页数", r.ocr_pages);
    println!("{:<10} {:>8}", "未处理跳过", r.skipped.len());
    println!("{:<10} {:>8}", "错误", r.errors.len());
    println!("{:<10} {:>8}", "警告", r.warnings.len());
    println!("耗时 {:.2} 秒，快照 {snapshot}", r.seconds);
    for e in &r.errors {
        eprintln!("错误 {}: {}", e.file, e.message);
    }
    for s in &r.skipped {
        eprintln!("跳过 {}: {}", s.file, s.reason);
    }
    for w in r.warnings.iter().take(30) {
        match w.line {
            Some(l) => eprintln!("警告 {}:{}: {}", w.file, l, w.message),
            None => eprintln!("警告 {}: {}", w.file, w.message),
        }
    }
    if r.warnings.len() > 30 {
        eprintln!("……另有 {} 条警告（--json 查看全部）", r.warnings.len() - 30);
    }
}
