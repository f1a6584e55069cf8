//! zhiban-casesim: a reference case system that behaves like the 受理系统 and its line-department
//! interfaces, so that the tools above it can be tested for real.
//!
//! It owns a SQLite database seeded deterministically with fictional residents (synthetic ID
//! numbers, valid GB 11643 checksums, `synthetic = 1`), road names, cases with trajectories and
//! 好差评 ratings; the eligibility rules of the five agent matters ([`rules::RULES`]); and one
//! operation per tool, spoken over REST (`POST /rest/{op}`) and SOAP 1.1 (`POST /soap`). It records
//! every request and injects faults on demand ([`faults`]). It must never hold real personal data.
//! State is one `Arc<Ops>` (a one-connection pool; submits are serialised) shared by all handlers.
//!
//! ```no_run
//! # async fn demo() -> zhiban_casesim::Result<()> {
//! let sim = zhiban_casesim::start(zhiban_casesim::Config::default()).await?;
//! println!("casesim on {}", sim.base_url());
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod db;
pub mod faults;
pub mod fixtures;
mod http;
pub mod ops;
pub mod rules;
pub mod soap;
pub mod synth;

pub use faults::{FaultSpec, RequestRecord};
pub use fixtures::{Fixture, FixtureError, load_fixtures};
pub use http::{AppState, FAULT_HEADER, IDEMPOTENCY_HEADER, set_faults};

use chrono::NaiveDate;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Errors of the case system itself (not of its operations; those are [`ops::OpError`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite failed.
    #[error("案例系统数据库错误：{0}")]
    Database(#[from] sqlx::Error),
    /// Binding or serving failed.
    #[error("案例系统网络错误：{0}")]
    Io(#[from] std::io::Error),
    /// A test-resident file was refused (nothing of it was loaded).
    #[error(transparent)]
    Fixture(#[from] FixtureError),
    /// A fault spec could not be parsed.
    #[error("故障注入配置无法识别：{part}")]
    InvalidFault {
        /// The offending part.
        part: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How to run the case system.
#[derive(Debug, Clone)]
pub struct Config {
    /// Seed of the synthetic data (default 20240601).
    pub seed: u64,
    /// The simulator's "today": ages, periods and case dates are relative to it (default: the
    /// local date).
    pub today: NaiveDate,
    /// Number of residents to seed (default 5,000).
    pub residents: usize,
    /// SQLite file; `None` keeps the database in memory.
    pub database: Option<PathBuf>,
    /// Fault spec applied to every request that carries no `X-Casesim-Fault` header.
    pub faults: Option<String>,
    /// Address to bind (default 127.0.0.1:0).
    pub bind: SocketAddr,
    /// HMAC-SM3 key; when set, every `/rest` and `/soap` request must carry a valid
    /// `X-Zhiban-Timestamp` / `X-Zhiban-Nonce` / `X-Zhiban-Signature` (replay window 300 s).
    pub signing_key: Option<Vec<u8>>,
    /// Test residents written over the seeded population at start ([`load_fixtures`] reads a
    /// file); a resident whose ID number is already there is replaced with all their rows.
    pub fixtures: Vec<Fixture>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 20_240_601,
            today: chrono::Local::now().date_naive(),
            residents: 5_000,
            database: None,
            faults: None,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            signing_key: None,
            fixtures: Vec::new(),
        }
    }
}

impl Config {
    /// Adds the test residents of a JSONL file.
    ///
    /// # Errors
    /// [`FixtureError`] for an unreadable file or a bad line (then nothing is added).
    pub fn with_fixtures_file(mut self, path: impl AsRef<std::path::Path>) -> Result<Self> {
        self.fixtures.extend(load_fixtures(path)?);
        Ok(self)
    }

    /// Defaults with a fixed `today`, for reproducible tests.
    pub fn fixed(today: NaiveDate) -> Self {
        Config {
            today,
            ..Config::default()
        }
    }
}

/// Open the database and build the shared state.
///
/// # Errors
/// Database errors and a bad `faults` spec.
pub async fn state(cfg: &Config) -> Result<AppState> {
    let default_fault = match &cfg.faults {
        Some(s) => Some((s.clone(), FaultSpec::parse(s)?)),
        None => None,
    };
    let db = db::Db::open(cfg).await?;
    if !cfg.fixtures.is_empty() {
        let n = db.load_fixtures(&cfg.fixtures).await?;
        tracing::info!(residents = n, "casesim test residents loaded");
    }
    let ops = ops::Ops::new(db, cfg.today).await?;
    Ok(AppState {
        ops,
        log: Arc::new(faults::RequestLog::default()),
        default_fault: Arc::new(std::sync::RwLock::new(default_fault)),
        started: Instant::now(),
        signing: cfg
            .signing_key
            .clone()
            .map(|k| Arc::new((k, zhiban_pii::ReplayGuard::new(300)))),
    })
}

/// The HTTP router over a state.
pub fn router(state: AppState) -> axum::Router {
    http::router(state)
}

/// A running in-process case system.
#[derive(Debug)]
pub struct Casesim {
    addr: SocketAddr,
    state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Casesim {
    /// Bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://addr`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// Shared state (operations, database, log).
    pub fn state(&self) -> &AppState {
        &self.state
    }
    /// The database pool, for tests that inspect or pick residents.
    pub fn pool(&self) -> &sqlx::SqlitePool {
        &self.state.ops.db.pool
    }
    /// Every request received so far.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.state.log.all()
    }
    /// Replace the default fault spec (`None` clears it).
    ///
    /// # Errors
    /// [`Error::InvalidFault`].
    pub fn set_faults(&self, spec: Option<&str>) -> Result<()> {
        http::set_faults(&self.state, spec)
    }
    /// Forget the request log.
    pub fn clear_requests(&self) {
        self.state.log.clear()
    }
    /// Stop serving and wait for the server task.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Seed and start the case system in-process on `cfg.bind` (port 0 picks a free port).
///
/// # Errors
/// Database, bind or fault-spec errors.
pub async fn start(cfg: Config) -> Result<Casesim> {
    let st = state(&cfg).await?;
    let listener = tokio::net::TcpListener::bind(cfg.bind).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = router(st.clone());
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = rx.await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "casesim stopped");
        }
    });
    tracing::info!(%addr, "casesim listening");
    Ok(Casesim {
        addr,
        state: st,
        shutdown: Some(tx),
        task,
    })
}

/// Serve until ctrl-c (for `zhiban casesim`).
///
/// # Errors
/// Database, bind or fault-spec errors.
pub async fn serve(cfg: Config) -> Result<()> {
    let st = state(&cfg).await?;
    let listener = tokio::net::TcpListener::bind(cfg.bind).await?;
    tracing::info!(addr = %listener.local_addr()?, "casesim listening");
    eprintln!(
        "casesim 已启动：http://{}（数据均为合成数据）",
        listener.local_addr()?
    );
    axum::serve(listener, router(st))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
