//! Assembling the service: snapshot, case system, tool runtime, session store, engine, router,
//! listener. `zhiban serve` and the end-to-end tests start it the same way.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use zhiban_agent_core::materials::MaterialReader;
use zhiban_agent_core::{Engine, QaAgent, QaConfig};
use zhiban_ingest::IngestOptions;
use zhiban_knowledge::{LiveSnapshot, SnapshotStore};
use zhiban_tools::Transport;

use super::{AppState, router};
use crate::commands::{ingest, secrets};
use crate::config::Config;
use crate::embedded::Embedded;

/// What to start.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Listen address.
    pub bind: SocketAddr,
    /// The whole stack's clock.
    pub today: Option<NaiveDate>,
    /// Test residents for the in-process case system.
    pub casesim_fixtures: Option<PathBuf>,
    /// Where the in-process case system listens.
    pub casesim_bind: Option<SocketAddr>,
    /// A case system elsewhere.
    pub casesim_url: Option<String>,
    /// Session store URL.
    pub sessions: String,
    /// Session TTL.
    pub ttl: Duration,
    /// Keyring and audit log directory.
    pub var_dir: PathBuf,
    /// Snapshot directory.
    pub index_dir: PathBuf,
    /// Corpus built when no snapshot is published.
    pub data_dir: PathBuf,
    /// Reads materials (OCR).
    pub reader: Arc<dyn MaterialReader>,
    /// The model, when `[llm] base_url` is set.
    pub llm: Option<zhiban_agent_core::llm::LlmConfig>,
    /// Keys and limits (`None`: the keys file `keys.json` under `var_dir`, default limits).
    pub auth: Option<crate::auth::AuthConfig>,
    /// Browser origins allowed by CORS (empty: none).
    pub cors_origins: Vec<String>,
    /// PEM certificate chain and key: HTTPS only.
    pub tls: Option<(PathBuf, PathBuf)>,
}

/// A running service.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The case system's base URL (its request log is `/_requests`).
    pub casesim_url: Option<String>,
    /// The engine.
    pub engine: Arc<Engine>,
    /// Whether no API key is configured (loopback-only development mode).
    pub development: bool,
    stack: Embedded,
    keys_watch: tokio::task::JoinHandle<()>,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    watch: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stop serving (requests in flight finish) and stop the case system.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
        self.watch.abort();
        self.keys_watch.abort();
        self.stack.shutdown().await;
    }

    /// Wait until the server ends (Ctrl-C, or a fatal error).
    ///
    /// # Errors
    /// The server's I/O error.
    pub async fn wait(self) -> Result<()> {
        let Running {
            server,
            stack,
            watch,
            stop,
            keys_watch,
            ..
        } = self;
        let r = server.await;
        drop(stop);
        watch.abort();
        keys_watch.abort();
        stack.shutdown().await;
        r.context("服务任务异常中止")?.context("服务异常退出")
    }
}

/// Start the service described by `opts`.
///
/// # Errors
/// Start-up failures in Chinese: snapshot, case system, fixtures, session store, bind.
pub async fn start(
    cfg: &Config,
    opts: ServeOptions,
    until: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Running> {
    let auth_cfg = opts
        .auth
        .clone()
        .unwrap_or_else(|| crate::auth::AuthConfig {
            keys_file: opts.var_dir.join("keys.json"),
            ..crate::auth::AuthConfig::default()
        });
    let auth = Arc::new(crate::auth::Auth::open(auth_cfg).context("读取 API 密钥失败")?);
    auth.check_bind(opts.bind).map_err(anyhow::Error::msg)?;
    let store = SnapshotStore::new(&opts.index_dir);
    if store.current_id()?.is_none() {
        eprintln!(
            "首次运行：从 {} 构建知识库到 {} ……",
            opts.data_dir.display(),
            opts.index_dir.display()
        );
        let (c, i, d) = (cfg.clone(), opts.index_dir.clone(), opts.data_dir.clone());
        let (id, _) = tokio::task::spawn_blocking(move || {
            ingest::ingest_and_publish(
                &c,
                &i,
                std::slice::from_ref(&d),
                IngestOptions::default(),
                false,
            )
        })
        .await
        .context("构建知识库的任务异常中止")??;
        eprintln!("已发布快照 {id}");
    }
    let live = Arc::new(
        LiveSnapshot::open_async(store, secrets(cfg))
            .await
            .context("打开知识库快照失败")?,
    );
    let watch = live.watch(Duration::from_secs(2));

    let mut sim = zhiban_casesim::Config::default();
    if let Some(t) = opts.today {
        sim.today = t;
    }
    if let Some(b) = opts.casesim_bind {
        sim.bind = b;
    }
    crate::embedded::apply_fixtures(&mut sim, opts.casesim_fixtures.as_deref())?;
    let stack = crate::embedded::start_with(
        &opts.var_dir,
        opts.casesim_url.as_deref(),
        Transport::Rest,
        sim,
    )
    .await
    .context("启动工具运行时失败")?;
    let casesim_url = match (&opts.casesim_url, &stack.casesim) {
        (Some(u), _) => Some(u.clone()),
        (None, Some(s)) => Some(s.base_url()),
        _ => None,
    };
    let sessions = zhiban_agent_core::store::open(&opts.sessions, opts.ttl)
        .await
        .with_context(|| format!("打开会话库 {} 失败", opts.sessions))?;
    let flows = zhiban_agent_core::spec::builtin()?;
    let llm = match opts.llm.clone() {
        Some(c) => Some(zhiban_agent_core::llm::LlmClient::new(c).context("[llm] 配置有误")?),
        None => None,
    };
    let qa = QaAgent::new(live.clone(), QaConfig::default()).with_llm(llm.clone());
    let engine = Arc::new(
        Engine::new(
            flows,
            stack.runtime.clone(),
            sessions,
            Some(qa),
            opts.reader.clone(),
        )
        .with_today(opts.today)
        .with_llm(llm),
    );
    let development = auth.development();
    let keys_watch = auth.watch(Duration::from_secs(2));
    let mut app = router(AppState {
        engine: engine.clone(),
        casesim_url: casesim_url.clone(),
        auth,
        metrics: Arc::default(),
    });
    if !opts.cors_origins.is_empty() {
        app = app.layer(super::cors(&opts.cors_origins)?);
    }
    let listener = tokio::net::TcpListener::bind(opts.bind)
        .await
        .with_context(|| format!("无法监听 {}", opts.bind))?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        tokio::select! {
            _ = stopped => {}
            _ = until => {}
        }
    };
    let server = match &opts.tls {
        None => tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown)
            .await
        }),
        Some((cert, key)) => {
            use axum::serve::ListenerExt;
            let acceptor = super::tls::acceptor(cert, key)?;
            // tap_io gives the TLS listener axum's ConnectInfo<SocketAddr>.
            let tls = super::tls::listen(listener, acceptor)?.tap_io(|_| {});
            tokio::spawn(async move {
                axum::serve(tls, app.into_make_service_with_connect_info::<SocketAddr>())
                    .with_graceful_shutdown(shutdown)
                    .await
            })
        }
    };
    Ok(Running {
        addr,
        casesim_url,
        engine,
        development,
        stack,
        keys_watch,
        stop,
        server,
        watch,
    })
}
