//! The embedded default tool stack: the PII keyring and the audit log under a data directory,
//! and the reference case system started in-process unless a URL points at one that runs
//! elsewhere (production points at the real line systems).
//!
//! This assembly lives here, not in `zhiban-tools`, so that the tool runtime never links the
//! simulator: api → {agent-core, casesim}, agent-core → tools. Everything that blocks (the cipher
//! self-test, reading the keyring, opening and recovering the audit log) runs on the blocking pool.
//!
//! ```no_run
//! # async fn demo() -> Result<(), zhiban_api::embedded::EmbeddedError> {
//! use zhiban_tools::{CallContext, Transport};
//! let stack = zhiban_api::embedded::start("var".as_ref(), None, Transport::Rest).await?;
//! let ctx = CallContext::new("local", "session-1", "operator");
//! let args = serde_json::json!({"query": "长宁"});
//! let roads = stack.runtime.invoke(&ctx, "路名库查询", args).await?;
//! # let _ = roads;
//! stack.shutdown().await;
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use zhiban_pii::{AuditLog, Keyring, KeyringOrigin, Vault};
use zhiban_tools::{AdapterConfig, Registry, ToolRuntime, Transport};

/// File name of the audit log inside the data directory.
pub const AUDIT_LOG_FILE: &str = "audit.log";

/// Why the embedded stack did not start.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// The cipher self-test, the keyring or the audit log failed (message in Chinese).
    #[error(transparent)]
    Pii(#[from] zhiban_pii::Error),
    /// The data directory could not be created.
    #[error("无法创建数据目录 {path}：{source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The reference case system did not start.
    #[error("无法启动参考业务系统：{0}")]
    Casesim(#[from] zhiban_casesim::Error),
    /// The tool runtime could not be built.
    #[error(transparent)]
    Tools(#[from] zhiban_tools::Error),
    /// A test-resident file was refused (line number and reason, in Chinese).
    #[error(transparent)]
    Fixtures(#[from] zhiban_casesim::fixtures::FixtureError),
    /// A start-up task on the blocking pool ended abnormally.
    #[error("启动任务异常中止")]
    Startup,
}

/// A running embedded stack.
#[derive(Debug)]
pub struct Embedded {
    /// The tool runtime; share it across tasks.
    pub runtime: Arc<ToolRuntime>,
    /// The in-process case system, if one was started.
    pub casesim: Option<zhiban_casesim::Casesim>,
    /// Where the keyring came from (a freshly created one should be reported to the operator).
    pub keyring_origin: KeyringOrigin,
}

impl Embedded {
    /// Stop the in-process case system, if any. The audit log closes (its last batch anchored)
    /// when the last reference to the runtime is dropped.
    pub async fn shutdown(self) {
        if let Some(sim) = self.casesim {
            sim.stop().await;
        }
    }
}

/// Start the embedded stack: keyring (`ZHIBAN_PII__KEYRING`, else `var_dir/pii-keyring.json`,
/// created on first run) and audit log (`var_dir/audit.log`), and the case system — in-process
/// unless `casesim_url` is given.
///
/// # Errors
/// [`EmbeddedError`]; a second process on the same `var_dir` gets
/// [`zhiban_pii::Error::AuditLocked`].
pub async fn start(
    var_dir: &Path,
    casesim_url: Option<&str>,
    transport: Transport,
) -> Result<Embedded, EmbeddedError> {
    start_with(
        var_dir,
        casesim_url,
        transport,
        zhiban_casesim::Config::default(),
    )
    .await
}

/// [`start`] with the in-process case system configured by `sim` (its clock, address and test
/// residents); `sim` is ignored when `casesim_url` names one that runs elsewhere.
///
/// # Errors
/// As [`start`].
pub async fn start_with(
    var_dir: &Path,
    casesim_url: Option<&str>,
    transport: Transport,
    sim: zhiban_casesim::Config,
) -> Result<Embedded, EmbeddedError> {
    let dir = var_dir.to_path_buf();
    let (keyring, keyring_origin, audit) =
        tokio::task::spawn_blocking(move || -> Result<_, EmbeddedError> {
            // GB/T 39786 expects the cipher to prove itself before use: a failed known-answer
            // test stops start-up before any key is loaded or any PII is touched.
            zhiban_pii::selftest()?;
            std::fs::create_dir_all(&dir).map_err(|source| EmbeddedError::DataDir {
                path: dir.clone(),
                source,
            })?;
            let (keyring, origin) = Keyring::load_or_create(&dir)?;
            let audit = AuditLog::open(dir.join(AUDIT_LOG_FILE))?;
            Ok((keyring, origin, audit))
        })
        .await
        .map_err(|_| EmbeddedError::Startup)??;
    let (url, casesim) = match casesim_url {
        Some(u) => (u.to_string(), None),
        None => {
            let sim = zhiban_casesim::start(sim).await?;
            (sim.base_url(), Some(sim))
        }
    };
    let runtime = ToolRuntime::new(
        Registry::builtin(),
        Vault::new(Arc::new(keyring)),
        Arc::new(audit),
        AdapterConfig::all_at(&url, transport),
    )?;
    Ok(Embedded {
        runtime: Arc::new(runtime),
        casesim,
        keyring_origin,
    })
}

/// Load `--casesim-fixtures` into `sim` (the contract's test residents).
///
/// # Errors
/// A bad fixture line, with its line number; nothing is loaded then.
pub fn apply_fixtures(
    sim: &mut zhiban_casesim::Config,
    path: Option<&Path>,
) -> Result<(), EmbeddedError> {
    if let Some(p) = path {
        sim.fixtures = zhiban_casesim::fixtures::load_fixtures(p)?;
    }
    Ok(())
}
