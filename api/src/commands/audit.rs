//! `zhiban audit verify`: checks the SM3-chained audit log of PII decryptions and writes.
//!
//! Exit codes: 0 when the chain and its anchor agree, 1 when an entry was edited, inserted or
//! deleted, or the last line is incomplete (the problems are listed), 2 when the log cannot be
//! read at all. Entries after the anchor that continue the chain are reported as unanchored, not
//! as a problem: the anchor of a running service lags its log by design.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use zhiban_pii::AuditLog;
use zhiban_pii::audit::anchor_path;

use super::print_json;
use crate::config::Config;

/// Where the embedded default writes the audit log.
pub const DEFAULT_AUDIT_LOG: &str = "var/audit.log";

/// The most problems the library lists; more than that are summarised.
const LISTED_PROBLEMS: usize = 100;

/// Audit subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Recompute the SM3 chain of the audit log and compare it with its anchor file
    /// (`<log>.head`); exit 1 if an entry was edited, inserted or deleted.
    Verify(VerifyArgs),
}

/// Arguments of `zhiban audit verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The log file.
    #[arg(long, default_value = DEFAULT_AUDIT_LOG)]
    log: PathBuf,
    /// JSON output: path, entries, intact, last_hash, problems.
    #[arg(long)]
    json: bool,
}

/// Runs an audit subcommand.
///
/// # Errors
/// The log (or its anchor) cannot be read, or neither exists — a mistyped path must not pass
/// as an intact empty log.
pub fn run(_cfg: &Config, cmd: AuditCmd) -> Result<ExitCode> {
    match cmd {
        AuditCmd::Verify(a) => verify(&a),
    }
}

fn verify(a: &VerifyArgs) -> Result<ExitCode> {
    if !a.log.exists() && !anchor_path(&a.log).exists() {
        bail!(
            "找不到审计日志 {}（也没有锚点文件 {}）：路径是否写错？尚未产生审计记录时无需校验",
            a.log.display(),
            anchor_path(&a.log).display()
        );
    }
    let report = AuditLog::verify(&a.log)
        .with_context(|| format!("无法校验审计日志 {}", a.log.display()))?;
    if a.json {
        print_json(&report)?;
    } else {
        println!("审计日志：{}", report.path.display());
        println!("记录条数：{}", report.entries);
        println!("末条哈希：{}", report.last_hash);
        if report.unanchored > 0 {
            println!(
                "未锚定：锚点之后还有 {} 条记录，链条完整（服务仍在写入，或上次未正常关闭；下次打开日志时会核对并补记锚点）",
                report.unanchored
            );
        }
        if report.intact {
            println!("结论：完整，SM3 哈希链与锚点文件一致");
        } else {
            println!("发现 {} 处问题：", report.problems.len());
            for p in &report.problems {
                if p.line == 0 {
                    println!("  锚点文件：{}", p.message);
                } else {
                    println!("  第 {} 行：{}", p.line, p.message);
                }
            }
            if report.problems.len() >= LISTED_PROBLEMS {
                println!("  （只列出前 {LISTED_PROBLEMS} 处）");
            }
            println!("结论：审计日志已被改动（记录被修改、插入或删除），请按安全事件处理");
        }
    }
    Ok(if report.intact {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use zhiban_pii::{AuditAction, AuditRecord, PiiKind};

    use super::*;

    fn args(log: PathBuf) -> VerifyArgs {
        VerifyArgs { log, json: false }
    }

    #[test]
    fn an_intact_log_exits_0_and_a_deleted_tail_exits_1() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let log = AuditLog::open(&path).unwrap();
        for tool in ["申请人核实", "失业登记提交"] {
            log.append_blocking(AuditRecord::new(
                "clerk-07",
                "s-1",
                tool,
                AuditAction::Decrypt,
                vec![PiiKind::IdCard],
            ))
            .unwrap();
        }
        drop(log);
        assert_eq!(verify(&args(path.clone())).unwrap(), ExitCode::SUCCESS);

        // Drop the last line: only the anchor can notice.
        let text = std::fs::read_to_string(&path).unwrap();
        let first = text.lines().next().unwrap();
        std::fs::write(&path, format!("{first}\n")).unwrap();
        assert_eq!(verify(&args(path)).unwrap(), ExitCode::from(1));
    }

    #[test]
    fn a_missing_log_is_an_error_not_a_pass() {
        let dir = tempfile::tempdir().unwrap();
        let err = verify(&args(dir.path().join("nope.log")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("找不到审计日志"), "{err}");
    }

    #[test]
    fn default_path_is_under_var() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from(["zhiban", "audit", "verify"]).unwrap();
        match cli.command {
            crate::cli::Command::Audit(AuditCmd::Verify(a)) => {
                assert_eq!(a.log, PathBuf::from("var/audit.log"));
                assert!(!a.json);
            }
            other => panic!("{other:?}"),
        }
    }
}
