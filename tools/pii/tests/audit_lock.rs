//! Two processes cannot append to one audit log: the second gets a clear error, not a forked
//! chain. The child is this test binary run again with `AUDIT_LOCK_CHILD` set.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use zhiban_pii::{AuditAction, AuditLog, AuditRecord, Error, PiiKind};

const CHILD_ENV: &str = "AUDIT_LOCK_CHILD";

/// In the child: hold the log open until the parent closes our stdin.
#[test]
fn child_holds_the_log() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return; // Only meaningful as the child of the test below.
    };
    let log = AuditLog::open(&path).unwrap();
    log.append_blocking(AuditRecord::new(
        "child",
        "s",
        "申请人核实",
        AuditAction::Decrypt,
        vec![PiiKind::Name],
    ))
    .unwrap();
    println!("LOCKED");
    std::io::stdout().flush().unwrap();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

#[test]
fn a_second_process_cannot_append_while_the_first_holds_the_log() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["child_holds_the_log", "--exact", "--nocapture"])
        .env(CHILD_ENV, &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "child ended early: {seen}"
        );
        seen.push_str(&line);
        if line.contains("LOCKED") {
            break;
        }
    }
    let err = AuditLog::open(&path).unwrap_err();
    assert!(matches!(err, Error::AuditLocked { .. }), "{err:?}");
    assert!(err.to_string().contains("另一个进程"), "{err}");
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    // Once the child is gone the log opens and continues its chain.
    let log = AuditLog::open(&path).unwrap();
    let e = log
        .append_blocking(AuditRecord::new(
            "parent",
            "s",
            "申请人核实",
            AuditAction::Decrypt,
            vec![PiiKind::Name],
        ))
        .unwrap();
    assert_eq!(e.seq, 1);
}
