//! `zhiban keys add|list|revoke`: API keys for MAP, clerks, data staff, QA and operators. A new
//! key is printed once; the keys file keeps only its verifier (see `auth::keys`). Running
//! replicas pick up the change within seconds.

use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use serde_json::json;

use crate::auth::{KeysFile, NewKey, Role};
use crate::config::Config;

/// `zhiban keys …`
#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// Issue a key (printed once).
    Add {
        /// Client name (goes to the audit log).
        #[arg(long)]
        client: String,
        /// Roles, comma-separated: map, clerk, admin, data, qa.
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        /// Agents the key may use (default all).
        #[arg(long, value_delimiter = ',')]
        agents: Vec<String>,
        /// Tool registry ids the key may call (default all).
        #[arg(long, value_delimiter = ',')]
        tools: Vec<String>,
        /// Requests per minute (default [auth] rate_per_minute).
        #[arg(long)]
        rate: Option<u32>,
        /// Require an HMAC-SM3 signature on every request.
        #[arg(long)]
        sign: bool,
        /// Print `{"client", "key", "roles"}`.
        #[arg(long)]
        json: bool,
    },
    /// List clients (never keys).
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Revoke every key of a client.
    Revoke {
        /// Client name.
        client: String,
    },
}

/// Runs a keys command against `[auth] keys_file`.
///
/// # Errors
/// Bad roles, a duplicate client, an unreadable or unwritable keys file.
pub fn run(cfg: &Config, cmd: KeysCmd) -> Result<ExitCode> {
    let path = cfg.auth.keys_file.clone();
    let mut file = KeysFile::load(&path)?;
    match cmd {
        KeysCmd::Add {
            client,
            roles,
            agents,
            tools,
            rate,
            sign,
            json,
        } => {
            let mut set = BTreeSet::new();
            for r in roles.iter().filter(|r| !r.trim().is_empty()) {
                match Role::parse(r) {
                    Some(role) => {
                        set.insert(role);
                    }
                    None => bail!("未知角色 {r}：应为 map、clerk、admin、data、qa"),
                }
            }
            if rate == Some(0) {
                bail!("--rate 须大于 0");
            }
            let key = file.add(NewKey {
                client: client.clone(),
                roles: set.clone(),
                agents,
                tools,
                rate_per_minute: rate,
                require_signature: sign,
            })?;
            file.save(&path)
                .with_context(|| format!("写入 {} 失败", path.display()))?;
            if json {
                let roles: Vec<&str> = set.iter().map(|r| r.as_str()).collect();
                println!("{}", json!({"client": client, "key": key, "roles": roles}));
            } else {
                println!("{key}");
                eprintln!(
                    "已为 {client} 发放密钥（只显示这一次），保存在 {}",
                    path.display()
                );
            }
        }
        KeysCmd::List { json } => {
            let rows: Vec<serde_json::Value> = file
                .clients
                .iter()
                .map(|c| {
                    json!({
                        "client": c.client, "key_id": c.key_id,
                        "roles": c.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                        "agents": c.agents, "tools": c.tools,
                        "rate_per_minute": c.rate_per_minute,
                        "require_signature": c.require_signature,
                        "created": c.created, "revoked": c.revoked,
                    })
                })
                .collect();
            if json {
                println!("{}", json!({"clients": rows}));
            } else if rows.is_empty() {
                println!("（尚无密钥：服务处于开发模式，只服务本机）");
            } else {
                for c in &file.clients {
                    let roles: Vec<&str> = c.roles.iter().map(|r| r.as_str()).collect();
                    println!(
                        "{}\t{}\t{}\t{}",
                        c.client,
                        roles.join(","),
                        if c.revoked { "已吊销" } else { "有效" },
                        c.created
                    );
                }
            }
        }
        KeysCmd::Revoke { client } => {
            let n = file.revoke(&client);
            if n == 0 {
                bail!("没有客户端 {client} 的有效密钥");
            }
            file.save(&path)
                .with_context(|| format!("写入 {} 失败", path.display()))?;
            println!("已吊销 {client} 的 {n} 个密钥");
        }
    }
    Ok(ExitCode::SUCCESS)
}
