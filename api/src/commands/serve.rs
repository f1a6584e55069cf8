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

use crate::config::Config;
use crate::serve::launch::{ServeOptions, start};

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
    let opts = ServeOptions {
        bind: a.bind,
        today: a.today,
        casesim_fixtures: a.casesim_fixtures,
        casesim_bind: a.casesim_bind,
        casesim_url: a
            .casesim_url
            .or_else(|| Some(cfg.tools.casesim_url.trim().to_string()).filter(|u| !u.is_empty())),
        sessions: a.sessions.unwrap_or_else(|| cfg.sessions.url.clone()),
        ttl: Duration::from_secs(cfg.sessions.ttl_hours.max(1) * 3600),
        var_dir: a.var_dir,
        index_dir: cfg.index.dir.clone(),
        data_dir: cfg.index.data_dir.clone(),
        reader: Arc::new(crate::ocr::OcrReader::default()),
        llm: cfg.llm.client_config(),
        auth: Some(cfg.auth.config()),
        cors_origins: cfg.server.cors_origins.clone(),
        tls: match (&cfg.server.tls_cert, &cfg.server.tls_key) {
            (Some(c), Some(k)) => Some((c.clone(), k.clone())),
            (None, None) => None,
            _ => anyhow::bail!("[server] tls_cert 与 tls_key 须同时配置"),
        },
    };
    let tls_on = opts.tls.is_some();
    rt.block_on(async {
        // Ctrl-C or SIGTERM (what service managers send): stop accepting, let the turns in
        // flight finish (each writes its session before replying), then exit.
        let running = start(cfg, opts, shutdown_signal()).await?;
        let scheme = if tls_on { "https" } else { "http" };
        let mode = if running.development {
            "未配置 API 密钥：开发模式，只服务本机客户端"
        } else {
            "API 密钥已启用"
        };
        eprintln!(
            "zhiban 服务监听 {scheme}://{}（参考受理系统 {}；{mode}）",
            running.addr,
            running.casesim_url.as_deref().unwrap_or("未启动")
        );
        eprintln!(
            "{}",
            walkthrough(&running.addr.to_string(), running.development)
        );
        running.wait().await
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    eprintln!("正在停止：不再接受新请求，等待进行中的请求完成……");
}

/// What the operator sees after start: the clerk page, the docs and two `curl` calls that
/// start a 失业登记 for a test resident and answer its first question (the reply says what to
/// send next, up to 提交).
fn walkthrough(addr: &str, development: bool) -> String {
    let auth = if development {
        String::new()
    } else {
        " -H 'Authorization: Bearer <密钥>'".to_string()
    };
    format!(
        "窗口人员页面：http://{addr}/   接口文档：http://{addr}/docs\n\
         试办一件失业登记（测试居民 陈晓雯，--casesim-fixtures data/fixtures/residents.jsonl）：\n\
         S=$(curl -s{auth} -H 'Content-Type: application/json' \\\n  \
         -d '{{\"metadata\": {{\"applicant\": {{\"name\": \"陈晓雯\", \"id_number\": \"310104199203142629\"}}}}}}' \\\n  \
         http://{addr}/v1/agents/unemployment_registration/sessions | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"session_id\"])')\n\
         for t in 九月一号开始没上班 合同到期没续签 物流仓储 身体健康 要领 确认; do\n  \
         curl -s{auth} -H 'Content-Type: application/json' -d \"{{\\\"text\\\": \\\"$t\\\"}}\" \\\n    \
         http://{addr}/v1/sessions/$S/messages | python3 -c 'import json,sys; v=json.load(sys.stdin); print(v[\"state\"], v[\"reply\"])'\n\
         done"
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_walkthrough_names_the_page_and_a_flow() {
        let w = super::walkthrough("127.0.0.1:8080", true);
        assert!(w.contains("http://127.0.0.1:8080/"));
        assert!(w.contains("/v1/agents/unemployment_registration/sessions"));
        assert!(!w.contains("Bearer"));
        assert!(super::walkthrough("127.0.0.1:8080", false).contains("Bearer"));
    }
}
