//! `zhiban casesim --database FILE --fixtures FILE [--today DATE] [--bind ADDR]`: the reference
//! case system on its own, for a `zhiban serve --casesim-url` elsewhere, until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::Args;

/// Arguments of `zhiban casesim`.
#[derive(Debug, Args)]
pub struct CasesimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8089")]
    bind: SocketAddr,
    /// SQLite file (created and seeded when absent; default: in memory).
    #[arg(long)]
    database: Option<PathBuf>,
    /// Test residents, one JSON object a line (a bad line refuses the whole file).
    #[arg(long)]
    fixtures: Option<PathBuf>,
    /// The case system's "today" (YYYY-MM-DD; default: the local date).
    #[arg(long)]
    today: Option<NaiveDate>,
    /// Fault spec applied to every request, e.g. `latency=200ms,error=0.1`.
    #[arg(long)]
    faults: Option<String>,
}

/// Runs the case system until interrupted.
///
/// # Errors
/// An unreadable or refused fixture file, the cipher self-test, database and bind errors.
pub fn run(a: CasesimArgs) -> Result<ExitCode> {
    let mut cfg = zhiban_casesim::Config {
        bind: a.bind,
        database: a.database,
        faults: a.faults,
        ..Default::default()
    };
    if let Some(today) = a.today {
        cfg.today = today;
    }
    if let Some(path) = &a.fixtures {
        cfg.fixtures = zhiban_casesim::load_fixtures(path)?;
        eprintln!(
            "已读取测试居民 {} 名（{}）",
            cfg.fixtures.len(),
            path.display()
        );
    }
    eprintln!(
        "参考受理系统（casesim）监听 http://{}（REST: POST /rest/{{op}}，SOAP: POST /soap，请求记录: GET /_requests），今天按 {} 计",
        a.bind, cfg.today
    );
    // The cipher proves itself before the case system (which verifies request signatures) serves.
    zhiban_pii::selftest()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("无法启动异步运行时")?
        .block_on(zhiban_casesim::serve(cfg))?;
    Ok(ExitCode::SUCCESS)
}
