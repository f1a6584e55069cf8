//! `zhiban serve`: the agent service on the embedded default — the published snapshot (built
//! from `[index] data_dir` when there is none), the reference case system in-process, sessions in
//! `[sessions] url`, the deterministic understanding path.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::Args;
use zhiban_agent_core::{Engine, QaAgent, QaConfig};
use zhiban_ingest::IngestOptions;
use zhiban_knowledge::{LiveSnapshot, SnapshotStore};
use zhiban_tools::Transport;

use super::{ingest, secrets};
use crate::config::Config;
use crate::serve::{AppState, router};

/// Arguments of `zhiban serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Fix the clock of the whole embedded stack (QA).
    #[arg(long)]
    pub today: Option<NaiveDate>,
    /// Test residents for the in-process case system (JSONL, contract format).
    #[arg(long)]
    pub casesim_fixtures: Option<PathBuf>,
    /// Where the in-process case system listens (its request log is at /_requests).
    #[arg(long)]
    pub casesim_bind: Option<SocketAddr>,
    /// A case system that runs elsewhere (instead of starting one).
    #[arg(long)]
    pub casesim_url: Option<String>,
    /// Session store URL (default: [sessions] url, `sqlite://var/sessions.db`).
    #[arg(long)]
    pub sessions: Option<String>,
    /// Directory of the keyring and audit log.
    #[arg(long, default_value = "var")]
    pub var_dir: PathBuf,
}

/// Runs the service until Ctrl-C.
///
/// # Errors
/// Start-up failures (snapshot, case system, session store, bind), in Chinese.
pub fn run(cfg: &Config, a: ServeArgs) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("无法启动异步运行时")?;
    rt.block_on(serve(cfg.clone(), a))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(cfg: Config, a: ServeArgs) -> Result<()> {
    let index = cfg.index.dir.clone();
    let store = SnapshotStore::new(&index);
    if store.current_id()?.is_none() {
        eprintln!("首次运行：从 {} 构建知识库到 {} ……", cfg.index.data_dir.display(), index.display());
        let (c, i) = (cfg.clone(), index.clone());
        let (id, _) = tokio::task::spawn_blocking(move || {
            ingest::ingest_and_publish(&c, &i, std::slice::from_ref(&c.index.data_dir), IngestOptions::default(), false)
        })
        .await
        .context("构建知识库的任务异常中止")??;
        eprintln!("已发布快照 {id}");
    }
    let live = Arc::new(
        LiveSnapshot::open_async(store, secrets(&cfg))
            .await
            .context("打开知识库快照失败")?,
    );
    let _watch = live.watch(Duration::from_secs(2));

    let mut sim = zhiban_casesim::Config::default();
    if let Some(t) = a.today {
        sim.today = t;
    }
    if let Some(b) = a.casesim_bind {
        sim.bind = b;
    }
    crate::embedded::apply_fixtures(&mut sim, a.casesim_fixtures.as_deref())?;
    let stack = crate::embedded::start_with(&a.var_dir, a.casesim_url.as_deref(), Transport::Rest, sim)
        .await
        .context("启动工具运行时失败")?;
    let casesim_url = match (&a.casesim_url, &stack.casesim) {
        (Some(u), _) => Some(u.clone()),
        (None, Some(s)) => Some(s.base_url()),
        _ => None,
    };
    let url = a.sessions.clone().unwrap_or_else(|| cfg.sessions.url.clone());
    let sessions = zhiban_agent_core::store::open(&url, Duration::from_secs(cfg.sessions.ttl_hours.max(1) * 3600))
        .await
        .with_context(|| format!("打开会话库 {url} 失败"))?;
    let flows = zhiban_agent_core::spec::builtin()?;
    let qa = QaAgent::new(live.clone(), QaConfig::default());
    let reader: Arc<dyn zhiban_agent_core::materials::MaterialReader> = Arc::new(crate::ocr::OcrReader::default());
    let engine = Engine::new(flows, stack.runtime.clone(), sessions, Some(qa), reader).with_today(a.today);
    let app = router(AppState { engine: Arc::new(engine), casesim_url: casesim_url.clone() });
    let listener = tokio::net::TcpListener::bind(a.bind)
        .await
        .with_context(|| format!("无法监听 {}", a.bind))?;
    eprintln!(
        "zhiban 服务监听 http://{}（参考受理系统 {}，会话库 {url}）",
        listener.local_addr().map(|a| a.to_string()).unwrap_or_default(),
        casesim_url.as_deref().unwrap_or("未启动")
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("服务异常退出")?;
    stack.shutdown().await;
    Ok(())
}
