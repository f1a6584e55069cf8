//! Append-only audit log of PII decryptions and writes, chained with SM3.
//!
//! One JSON object per line: `seq`, `time`, `actor`, `session`, `tool`, `action`, `fields`
//! (PII kinds only — never values), `prev` (hash of the previous entry) and `hash` =
//! SM3 of the entry's canonical JSON without `hash`. A small anchor file `<log>.head`, replaced
//! atomically after every append, records the count and last hash so that deleting the final
//! line is caught too. One [`AuditLog`] per process owns the file; appends from many tasks are
//! serialised by a mutex. (The anchor defends against edits of the log alone; an attacker who
//! can rewrite both files needs an external anchor, e.g. periodically signing `last_hash`.)

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::crypto::sm3_hex;
use crate::error::{Error, Result};
use crate::keyring::write_secret_atomically;
use crate::token::PiiKind;

/// `prev` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened to PII.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditAction {
    /// PII tokens were opened inside a tool boundary.
    Decrypt,
    /// A write call (提交 etc.) was sent to a line system.
    Write,
}

/// What the caller records; the log adds sequence, time and chaining.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Who (clerk id, agent, service account).
    pub actor: String,
    /// Session id.
    pub session: String,
    /// Tool name.
    pub tool: String,
    /// Decrypt or write.
    pub action: AuditAction,
    /// Kinds of the PII fields involved (never their values).
    pub fields: Vec<PiiKind>,
}

impl AuditRecord {
    /// A record; `fields` are kinds only.
    pub fn new(
        actor: impl Into<String>,
        session: impl Into<String>,
        tool: impl Into<String>,
        action: AuditAction,
        fields: Vec<PiiKind>,
    ) -> Self {
        Self {
            actor: actor.into(),
            session: session.into(),
            tool: tool.into(),
            action,
            fields,
        }
    }
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// 0-based position in the log.
    pub seq: u64,
    /// RFC 3339 UTC time with milliseconds.
    pub time: String,
    /// Who.
    pub actor: String,
    /// Session id.
    pub session: String,
    /// Tool name.
    pub tool: String,
    /// Decrypt or write.
    pub action: AuditAction,
    /// PII kinds involved.
    pub fields: Vec<PiiKind>,
    /// Hash of the previous entry ([`GENESIS_HASH`] for the first).
    pub prev: String,
    /// SM3 over the canonical JSON of all fields above.
    pub hash: String,
}

/// The hashed part of an entry, in a fixed field order.
#[derive(Serialize)]
struct Body<'a> {
    seq: u64,
    time: &'a str,
    actor: &'a str,
    session: &'a str,
    tool: &'a str,
    action: AuditAction,
    fields: &'a [PiiKind],
    prev: &'a str,
}

impl AuditEntry {
    fn compute_hash(&self) -> Result<String> {
        let body = Body {
            seq: self.seq,
            time: &self.time,
            actor: &self.actor,
            session: &self.session,
            tool: &self.tool,
            action: self.action,
            fields: &self.fields,
            prev: &self.prev,
        };
        Ok(sm3_hex(&serde_json::to_vec(&body)?))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Anchor {
    count: u64,
    last_hash: String,
    updated: String,
}

struct State {
    file: File,
    next_seq: u64,
    last_hash: String,
}

/// The append side of the audit log.
pub struct AuditLog {
    path: PathBuf,
    head_path: PathBuf,
    state: Mutex<State>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The anchor file path for a log path (`audit.jsonl` → `audit.jsonl.head`).
pub fn anchor_path(log: &Path) -> PathBuf {
    let mut name = log
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".head");
    log.with_file_name(name)
}

impl AuditLog {
    /// Opens (or creates) the log, checking that its last line agrees with the anchor.
    ///
    /// # Errors
    /// [`Error::AuditTampered`] if the tail and the anchor disagree (appending would hide the
    /// damage — run `zhiban audit verify`); [`Error::Io`].
    pub fn open(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let head_path = anchor_path(&path);
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let anchor = read_anchor(&head_path)?;
        let tail = last_line(&path)?;
        let tampered = |reason: String| Error::AuditTampered {
            path: path.clone(),
            reason,
        };
        let (next_seq, last_hash) = match (tail, anchor) {
            (None, None) => (0, GENESIS_HASH.to_string()),
            (None, Some(a)) if a.count == 0 => (0, GENESIS_HASH.to_string()),
            (None, Some(a)) => {
                return Err(tampered(format!("锚点记录 {} 条，但日志为空", a.count)));
            }
            (Some(_), None) => return Err(tampered("日志非空但锚点文件缺失".into())),
            (Some(line), Some(a)) => {
                let last: AuditEntry =
                    serde_json::from_str(&line).map_err(|_| tampered("最后一行无法解析".into()))?;
                if last.seq + 1 != a.count || last.hash != a.last_hash {
                    return Err(tampered(format!(
                        "锚点记录 {} 条，日志末条序号为 {}",
                        a.count, last.seq
                    )));
                }
                (a.count, a.last_hash)
            }
        };
        let file = open_append(&path)?;
        Ok(Self {
            path,
            head_path,
            state: Mutex::new(State {
                file,
                next_seq,
                last_hash,
            }),
        })
    }

    /// The log path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one entry (fsynced, then the anchor is replaced atomically) and returns it.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::Poisoned`].
    pub fn append(&self, record: AuditRecord) -> Result<AuditEntry> {
        let mut state = self.state.lock().map_err(|_| Error::Poisoned)?;
        let AuditRecord {
            actor,
            session,
            tool,
            action,
            fields,
        } = record;
        let mut entry = AuditEntry {
            seq: state.next_seq,
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            actor,
            session,
            tool,
            action,
            fields,
            prev: state.last_hash.clone(),
            hash: String::new(),
        };
        entry.hash = entry.compute_hash()?;
        let mut line = serde_json::to_string(&entry)?;
        line.push('\n');
        state
            .file
            .write_all(line.as_bytes())
            .and_then(|()| state.file.sync_data())
            .map_err(|e| Error::io(&self.path, e))?;
        let anchor = Anchor {
            count: entry.seq + 1,
            last_hash: entry.hash.clone(),
            updated: entry.time.clone(),
        };
        write_secret_atomically(&self.head_path, serde_json::to_string(&anchor)?.as_bytes())?;
        state.next_seq = anchor.count;
        state.last_hash = anchor.last_hash;
        Ok(entry)
    }

    /// Checks a log file end to end (see [`VerifyReport`]).
    ///
    /// # Errors
    /// [`Error::Io`] only; tampering is reported in the report, not as an error.
    pub fn verify(path: impl AsRef<Path>) -> Result<VerifyReport> {
        verify(path.as_ref())
    }
}

/// One problem found by [`AuditLog::verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditProblem {
    /// 1-based line number (0 for the anchor file).
    pub line: u64,
    /// What is wrong, in Chinese.
    pub message: String,
}

/// Outcome of verifying a log.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The log checked.
    pub path: PathBuf,
    /// Lines read.
    pub entries: u64,
    /// `true` when the chain and the anchor are consistent.
    pub intact: bool,
    /// Hash of the last entry read.
    pub last_hash: String,
    /// Problems, in file order (at most 100 listed).
    pub problems: Vec<AuditProblem>,
}

const MAX_PROBLEMS: usize = 100;

fn verify(path: &Path) -> Result<VerifyReport> {
    fn push(problems: &mut Vec<AuditProblem>, line: u64, message: String) {
        if problems.len() < MAX_PROBLEMS {
            problems.push(AuditProblem { line, message });
        }
    }
    let mut problems = Vec::new();
    let mut entries = 0u64;
    let mut expected_seq = 0u64;
    let mut prev = GENESIS_HASH.to_string();
    match File::open(path) {
        Ok(f) => {
            for (i, line) in BufReader::new(f).lines().enumerate() {
                let n = i as u64 + 1;
                let line = line.map_err(|e| Error::io(path, e))?;
                entries += 1;
                let entry: AuditEntry = match serde_json::from_str(&line) {
                    Ok(e) => e,
                    Err(_) => {
                        push(
                            &mut problems,
                            n,
                            "无法解析为审计记录（行被改写或插入）".into(),
                        );
                        continue;
                    }
                };
                if entry.seq != expected_seq {
                    push(
                        &mut problems,
                        n,
                        format!(
                            "序号应为 {expected_seq}，实际为 {}（有记录被插入或删除）",
                            entry.seq
                        ),
                    );
                }
                if entry.prev != prev {
                    push(
                        &mut problems,
                        n,
                        "prev 与上一条记录的哈希不符（链条断开）".into(),
                    );
                }
                if entry.compute_hash()? != entry.hash {
                    push(&mut problems, n, "内容与哈希不符（记录被修改）".into());
                } else if serde_json::to_string(&entry)? != line {
                    push(
                        &mut problems,
                        n,
                        "行的字节与规范格式不同（记录被改动）".into(),
                    );
                }
                // Re-synchronise on this entry so one edit is not reported for every later line.
                expected_seq = entry.seq + 1;
                prev = entry.hash;
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(path, e)),
    }
    match read_anchor(&anchor_path(path))? {
        None if entries > 0 => push(
            &mut problems,
            0,
            "锚点文件缺失，无法确认末尾记录未被删除".into(),
        ),
        None => {}
        Some(a) => {
            if a.count != entries {
                push(
                    &mut problems,
                    0,
                    format!(
                        "锚点记录 {} 条，日志实有 {entries} 条（末尾记录被删除或追加）",
                        a.count
                    ),
                );
            } else if a.last_hash != prev {
                push(&mut problems, 0, "锚点中的末条哈希与日志不符".into());
            }
        }
    }
    Ok(VerifyReport {
        path: path.to_path_buf(),
        entries,
        intact: problems.is_empty(),
        last_hash: prev,
        problems,
    })
}

fn open_append(path: &Path) -> Result<File> {
    let mut opts = OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path).map_err(|e| Error::io(path, e))
}

fn read_anchor(path: &Path) -> Result<Option<Anchor>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(serde_json::from_str(&text).map_err(|_| {
            Error::AuditTampered {
                path: path.to_path_buf(),
                reason: "锚点文件无法解析".into(),
            }
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// The last non-empty line, reading only the file's tail.
fn last_line(path: &Path) -> Result<Option<String>> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut window = 4096u64;
    loop {
        let start = len.saturating_sub(window);
        f.seek(SeekFrom::Start(start))
            .map_err(|e| Error::io(path, e))?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).map_err(|e| Error::io(path, e))?;
        let text = String::from_utf8_lossy(&buf);
        let trimmed = text.trim_end_matches(['\n', '\r']);
        if trimmed.is_empty() {
            return Ok(None);
        }
        match trimmed.rfind('\n') {
            Some(pos) => return Ok(Some(trimmed[pos + 1..].to_string())),
            None if start == 0 => return Ok(Some(trimmed.to_string())),
            None => window *= 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(i: usize) -> AuditRecord {
        AuditRecord::new(
            format!("clerk-{i}"),
            "sess-1",
            "申请人核实",
            if i.is_multiple_of(2) {
                AuditAction::Decrypt
            } else {
                AuditAction::Write
            },
            vec![PiiKind::Name, PiiKind::IdCard],
        )
    }

    #[test]
    fn chain_links_and_reopen_continues() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit").join("pii-audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        let a = log.append(rec(0)).unwrap();
        let b = log.append(rec(1)).unwrap();
        assert_eq!(a.prev, GENESIS_HASH);
        assert_eq!(b.prev, a.hash);
        drop(log);
        let log = AuditLog::open(&path).unwrap();
        let c = log.append(rec(2)).unwrap();
        assert_eq!((c.seq, c.prev.as_str()), (2, b.hash.as_str()));
        let report = AuditLog::verify(&path).unwrap();
        assert!(report.intact, "{:?}", report.problems);
        assert_eq!(report.entries, 3);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"fields\":[\"NAME\",\"ID_CARD\"]"));
        assert!(text.contains("\"action\":\"write\""));
    }

    fn write_log(n: usize) -> (tempfile::TempDir, PathBuf, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        let log = AuditLog::open(&path).unwrap();
        for i in 0..n {
            log.append(rec(i)).unwrap();
        }
        let lines = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        (dir, path, lines)
    }

    fn rewrite(path: &Path, lines: &[String]) {
        std::fs::write(
            path,
            lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
        )
        .unwrap();
    }

    #[test]
    fn edited_line_is_caught() {
        let (_d, path, mut lines) = write_log(5);
        lines[2] = lines[2].replace("clerk-2", "clerk-9");
        rewrite(&path, &lines);
        let r = AuditLog::verify(&path).unwrap();
        assert!(!r.intact);
        assert_eq!(r.problems[0].line, 3);
        assert!(r.problems[0].message.contains("哈希"));
    }

    #[test]
    fn inserted_line_is_caught_even_with_a_recomputed_hash() {
        let (_d, path, mut lines) = write_log(4);
        let mut forged: AuditEntry = serde_json::from_str(&lines[1]).unwrap();
        forged.actor = "intruder".into();
        forged.seq = 2;
        forged.prev = serde_json::from_str::<AuditEntry>(&lines[1]).unwrap().hash;
        forged.hash = forged.compute_hash().unwrap();
        lines.insert(2, serde_json::to_string(&forged).unwrap());
        rewrite(&path, &lines);
        let r = AuditLog::verify(&path).unwrap();
        assert!(!r.intact);
        assert!(r.problems.iter().any(|p| p.line == 4), "{:?}", r.problems);
    }

    #[test]
    fn deleted_middle_and_last_lines_are_caught() {
        let (_d, path, lines) = write_log(5);
        let mut middle = lines.clone();
        middle.remove(2);
        rewrite(&path, &middle);
        let r = AuditLog::verify(&path).unwrap();
        assert!(!r.intact);
        assert_eq!(r.problems[0].line, 3);

        let mut last = lines.clone();
        last.pop();
        rewrite(&path, &last);
        let r = AuditLog::verify(&path).unwrap();
        assert!(!r.intact);
        assert!(r.problems.iter().all(|p| p.line == 0), "{:?}", r.problems);
        // And the appender refuses to continue over the damage.
        assert!(matches!(
            AuditLog::open(&path),
            Err(Error::AuditTampered { .. })
        ));

        rewrite(&path, &lines);
        assert!(AuditLog::verify(&path).unwrap().intact);
        assert!(AuditLog::open(&path).is_ok());
    }

    #[test]
    fn missing_anchor_is_reported() {
        let (_d, path, _) = write_log(2);
        std::fs::remove_file(anchor_path(&path)).unwrap();
        assert!(!AuditLog::verify(&path).unwrap().intact);
        assert!(matches!(
            AuditLog::open(&path),
            Err(Error::AuditTampered { .. })
        ));
    }

    #[test]
    fn empty_or_absent_log_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let r = AuditLog::verify(dir.path().join("none.jsonl")).unwrap();
        assert!(r.intact);
        assert_eq!(r.entries, 0);
    }
}
