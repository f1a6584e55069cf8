//! `zhiban chat --agent ID`: a terminal session a tester can drive — the same engine as
//! `zhiban serve`, in-process. `/attach PATH` sends a file as a material, `/state` prints the
//! session object, `/quit` ends.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::Args;
use zhiban_agent_core::materials::Attachment;
use zhiban_agent_core::{ApplicantIn, Message, NewSession, SessionView};

use crate::config::Config;
use crate::serve::launch::{ServeOptions, start};

/// Arguments of `zhiban chat`.
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// Agent id (`zhiban chat --agent unemployment_registration`; `qa` for 学习问答).
    #[arg(long)]
    pub agent: String,
    /// The applicant's name, as MAP's login would give it.
    #[arg(long)]
    pub name: Option<String>,
    /// The applicant's ID number.
    #[arg(long)]
    pub id_number: Option<String>,
    /// Fix the clock.
    #[arg(long)]
    pub today: Option<NaiveDate>,
    /// Test residents for the in-process case system.
    #[arg(long)]
    pub casesim_fixtures: Option<PathBuf>,
    /// Directory of the keyring, audit log and sessions.
    #[arg(long, default_value = "var")]
    pub var_dir: PathBuf,
}

fn mime_of(p: &std::path::Path) -> &'static str {
    match p
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("tif" | "tiff") => "image/tiff",
        Some("pdf") => "application/pdf",
        _ => "application/octet-stream",
    }
}

fn show(v: &SessionView) {
    println!("智办：{}", v.reply);
    println!(
        "   （状态 {:?}，交互 {}/{}{}）",
        v.state,
        v.interactions,
        v.max_interactions,
        v.awaiting
            .as_ref()
            .map(|a| format!("，待{}", a.field))
            .unwrap_or_default()
    );
}

/// Runs the terminal session.
///
/// # Errors
/// Start-up failures; I/O on the terminal.
pub fn run(cfg: &Config, a: ChatArgs) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("无法启动异步运行时")?;
    let opts = ServeOptions {
        bind: "127.0.0.1:0".parse()?,
        today: a.today,
        casesim_fixtures: a.casesim_fixtures.clone(),
        casesim_bind: None,
        casesim_url: None,
        sessions: cfg.sessions.url.clone(),
        ttl: Duration::from_secs(cfg.sessions.ttl_hours.max(1) * 3600),
        var_dir: a.var_dir.clone(),
        index_dir: cfg.index.dir.clone(),
        data_dir: cfg.index.data_dir.clone(),
        reader: Arc::new(crate::ocr::OcrReader::default()),
        llm: cfg.llm.client_config(),
        auth: None,
        cors_origins: Vec::new(),
        tls: None,
    };
    rt.block_on(async move {
        let running = start(cfg, opts, std::future::pending()).await?;
        let engine = running.engine.clone();
        let stdin = std::io::stdin();
        if a.agent == zhiban_agent_core::engine::QA_AGENT {
            let qa = engine.qa().context("知识库尚未加载")?.clone();
            println!("学习问答：请输入问题（/quit 退出）");
            for line in stdin.lock().lines() {
                let line = line?;
                if line.trim() == "/quit" {
                    break;
                }
                if line.trim().is_empty() {
                    continue;
                }
                let req = zhiban_agent_core::QaRequest {
                    question: line,
                    as_of: a.today,
                    k: None,
                };
                match qa.answer(&req, engine.today()).await {
                    Ok(ans) => {
                        println!("{}", ans.answer);
                        for w in ans.warnings {
                            println!("⚠ {w}");
                        }
                    }
                    Err(e) => println!("出错：{e}"),
                }
            }
            running.stop().await;
            return anyhow::Ok(());
        }
        let applicant = a.id_number.clone().map(|id| ApplicantIn {
            name: a.name.clone(),
            id_type: None,
            id_number: Some(id),
        });
        let v = engine
            .create(
                &a.agent,
                NewSession {
                    as_of: a.today,
                    channel: Some("cli".into()),
                    applicant,
                    operator: None,
                    client: Some("cli".into()),
                },
            )
            .await?;
        let id = v.session_id.clone();
        show(&v);
        let mut out = std::io::stdout();
        loop {
            print!("居民：");
            out.flush()?;
            let mut line = String::new();
            if stdin.lock().read_line(&mut line)? == 0 {
                break;
            }
            let line = line.trim();
            let mut msg = Message::default();
            match line {
                "" => continue,
                "/quit" => break,
                "/state" => {
                    println!("{}", serde_json::to_string_pretty(&engine.get(&id).await?)?);
                    continue;
                }
                l if l.starts_with("/attach ") => {
                    let path = PathBuf::from(l.trim_start_matches("/attach ").trim());
                    let content = match std::fs::read(&path) {
                        Ok(c) => c,
                        Err(e) => {
                            println!("无法读取 {}：{e}", path.display());
                            continue;
                        }
                    };
                    msg.attachments.push(Attachment {
                        reference: format!("A{}", 1),
                        filename: path
                            .file_name()
                            .map(|f| f.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                        mime: mime_of(&path).into(),
                        content,
                    });
                }
                l => msg.text = l.to_string(),
            }
            match engine.message(&id, msg).await {
                Ok(v) => {
                    show(&v);
                    if !v.state.is_open() {
                        break;
                    }
                }
                Err(e) => println!("出错：{e}"),
            }
        }
        running.stop().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
