//! `zhiban tool list|call`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use zhiban_tools::adapter::Transport;
use zhiban_tools::registry::Registry;
use zhiban_tools::runtime::{CallContext, ToolRuntime};

use super::print_json;
use crate::config::Config;

/// Tool subcommands.
#[derive(Debug, Subcommand)]
pub enum ToolCmd {
    /// List the registered tools with their schemas.
    List,
    /// Call a tool: plaintext PII arguments are tokenised first, as the LLM side would send them.
    Call(CallArgs),
}

/// Arguments of `zhiban tool call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// Tool id or Chinese name.
    name: String,
    /// Arguments as a JSON object.
    #[arg(long)]
    args: String,
    /// Session the tokens are bound to.
    #[arg(long, default_value = "cli")]
    session: String,
    /// Tenant the tokens are bound to.
    #[arg(long, default_value = "zhiban")]
    tenant: String,
    /// Also print the result with PII decrypted (audited).
    #[arg(long)]
    reveal: bool,
    /// Base URL of the case system (default: start the reference case system in-process).
    #[arg(long)]
    casesim_url: Option<String>,
    /// rest or soap.
    #[arg(long, default_value = "rest")]
    transport: String,
    /// Directory for the keyring and audit log.
    #[arg(long, default_value = "var")]
    var_dir: PathBuf,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("无法启动异步运行时")
}

/// Runs a tool subcommand.
pub fn run(_cfg: &Config, cmd: ToolCmd) -> Result<ExitCode> {
    match cmd {
        ToolCmd::List => {
            print_json(&zhiban_tools::cli::tool_list(&Registry::builtin()))?;
            Ok(ExitCode::SUCCESS)
        }
        ToolCmd::Call(a) => {
            let transport = match a.transport.as_str() {
                "rest" => Transport::Rest,
                "soap" => Transport::Soap,
                other => anyhow::bail!("--transport 只能是 rest 或 soap，收到 {other}"),
            };
            runtime()?.block_on(async {
                let emb =
                    crate::embedded::start(&a.var_dir, a.casesim_url.as_deref(), transport).await?;
                let ctx = CallContext::new(&a.tenant, &a.session, "cli");
                let out = tool_call(&emb.runtime, &ctx, &a.name, &a.args, a.reveal).await;
                emb.shutdown().await;
                print_json(&out?)?;
                Ok(ExitCode::SUCCESS)
            })
        }
    }
}

/// `zhiban tool call NAME --args JSON [--session S] [--reveal]`: tokenise the plaintext
/// arguments as the agent side would, call the tool, and return `{tool, name, session, arguments,
/// result}` with tokens; with `reveal`, also `result_plain` (audited as a decryption by
/// `ctx.actor`).
///
/// # Errors
/// Bad JSON, unknown tool, and everything [`ToolRuntime::invoke`] returns.
pub async fn tool_call(
    rt: &ToolRuntime,
    ctx: &CallContext,
    name: &str,
    args_json: &str,
    reveal_plain: bool,
) -> zhiban_tools::Result<Value> {
    let args: Value = serde_json::from_str(args_json)?;
    let spec = rt
        .registry()
        .get(name)
        .ok_or_else(|| zhiban_tools::Error::UnknownTool {
            name: name.to_string(),
        })?;
    let tokenised = zhiban_agent_core::tokenize_args(rt, ctx, name, args).await?;
    let result = rt.invoke(ctx, spec.id, tokenised.clone()).await?;
    let mut out = json!({"tool": spec.id, "name": spec.name, "session": ctx.session,
        "arguments": tokenised, "result": result});
    if reveal_plain {
        out["result_plain"] = rt.reveal(ctx, spec.id, &out["result"]).await?;
    }
    Ok(out)
}
