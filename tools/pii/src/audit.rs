//! Append-only audit log of PII decryptions and writes, chained with SM3 and written by group
//! commit.
//!
//! One JSON object per line: `seq`, `time`, `actor`, `session`, `tool`, `action`, `fields`
//! (PII kinds only — never values), `prev` (hash of the previous entry) and `hash` = SM3 of the
//! entry's canonical JSON without `hash`. A small anchor file `<log>.head` records how many entries
//! (`count`, ending at byte `offset`) have been anchored and the last anchored hash, so that
//! deleting the final lines is caught too.
//!
//! Writing. One writer thread owns the file. Callers hand it records over a channel
//! ([`AuditLog::append`] from async code, [`AuditLog::append_blocking`] from plain threads); it
//! takes everything that is queued, chains and writes the batch, `fdatasync`s once, and only then
//! answers each caller with its entry — a caller hears "done" only when its entry is on disk. A
//! write that fails is cut back off the file and reported to every caller of that batch; the
//! sequence never repeats. The anchor is replaced (temp file, fsync, rename) off the callers'
//! path — after 20 ms without new entries, and at least every 200 ms under load — so it may lag
//! the log. Opening re-verifies every entry after the anchor, truncates an incomplete last line (a
//! write cut short by a crash) and brings the anchor up to date.
//!
//! One appender per log: [`AuditLog::open`] takes an exclusive `flock` on `<log>.lock` and holds it
//! until the [`AuditLog`] is dropped, so a second process (or a second open in this one) gets
//! [`Error::AuditLocked`] instead of forking the chain. (The anchor defends against edits of the
//! log alone; an attacker who can rewrite both files needs an external anchor, e.g. periodically
//! signing `last_hash`. Entries appended after the anchor verify as "unanchored", which is also
//! what a crash before the anchor update leaves behind.)

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use std::sync::mpsc;
use tokio::sync::oneshot;

use crate::crypto::sm3_hex;
use crate::error::{Error, Result};
use crate::token::PiiKind;

/// `prev` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Most entries written (and fsynced) as one batch.
const MAX_BATCH: usize = 4096;
/// Longest the anchor may lag while entries keep arriving.
const ANCHOR_EVERY: Duration = Duration::from_millis(200);
/// A pause this long with nothing queued brings the anchor up to date.
const ANCHOR_IDLE: Duration = Duration::from_millis(20);
/// After a failed anchor replacement, wait this long before the next try.
const ANCHOR_RETRY: Duration = Duration::from_secs(1);

/// What happened to PII.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditAction {
    /// PII tokens were opened inside a tool boundary.
    Decrypt,
    /// A write call (提交 etc.) was sent to a line system.
    Write,
    /// The service refused a request (no key, wrong role or scope, bad or replayed signature,
    /// rate limit); `tool` holds the method, route and status, `fields` is empty.
    Denied,
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

    /// Parses one line (without its newline) and checks its own hash and canonical form.
    fn parse_checked(line: &[u8]) -> Option<AuditEntry> {
        let entry: AuditEntry = serde_json::from_slice(line).ok()?;
        let hash_ok = entry.compute_hash().ok()? == entry.hash;
        let canonical = serde_json::to_vec(&entry).ok()? == line;
        (hash_ok && canonical).then_some(entry)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Anchor {
    count: u64,
    last_hash: String,
    /// Byte length of the anchored prefix; absent in anchors written before group commit.
    #[serde(default)]
    offset: Option<u64>,
    updated: String,
}

/// The anchor file path for a log path (`audit.jsonl` → `audit.jsonl.head`).
pub fn anchor_path(log: &Path) -> PathBuf {
    sibling(log, ".head")
}

/// The lock file path for a log path (`audit.jsonl` → `audit.jsonl.lock`).
pub fn lock_path(log: &Path) -> PathBuf {
    sibling(log, ".lock")
}

fn anchor_tmp_path(log: &Path) -> PathBuf {
    sibling(log, ".head.tmp")
}

fn sibling(log: &Path, suffix: &str) -> PathBuf {
    let mut name = log
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    log.with_file_name(name)
}

/// Counters of one appender, for metrics and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AuditStats {
    /// Entries made durable since open.
    pub entries: u64,
    /// Batches written, each with one `fdatasync`.
    pub batches: u64,
    /// Anchor replacements.
    pub anchor_writes: u64,
    /// Anchor replacements that failed (retried with the next batch).
    pub anchor_failures: u64,
}

#[derive(Debug, Default)]
struct Counters {
    entries: AtomicU64,
    batches: AtomicU64,
    anchor_writes: AtomicU64,
    anchor_failures: AtomicU64,
}

enum Reply {
    Async(oneshot::Sender<Result<AuditEntry>>),
    Blocking(std::sync::mpsc::SyncSender<Result<AuditEntry>>),
}

impl Reply {
    fn send(self, r: Result<AuditEntry>) {
        // A caller that stopped waiting (cancelled request) simply does not hear back; its entry
        // is on disk all the same.
        match self {
            Reply::Async(tx) => {
                let _ = tx.send(r);
            }
            Reply::Blocking(tx) => {
                let _ = tx.send(r);
            }
        }
    }
}

struct Job {
    record: AuditRecord,
    reply: Reply,
}

/// The append side of the audit log: a handle to its writer thread.
pub struct AuditLog {
    path: PathBuf,
    tx: Option<mpsc::Sender<Job>>,
    writer: Option<std::thread::JoinHandle<()>>,
    counters: Arc<Counters>,
    #[cfg(test)]
    hooks: Arc<TestHooks>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[derive(Debug, Default)]
struct TestHooks {
    /// Number of upcoming batches whose write fails halfway.
    fail_writes: AtomicU64,
}

impl AuditLog {
    /// Opens (or creates) the log: takes the appender lock, re-verifies the entries after the
    /// anchor, truncates an incomplete last line, and starts the writer thread. Blocking (file
    /// I/O and fsync): from async code call it inside `spawn_blocking`.
    ///
    /// # Errors
    /// [`Error::AuditLocked`] when another appender holds the log; [`Error::AuditTampered`] if the
    /// anchored prefix and the anchor disagree, or an entry after the anchor does not continue the
    /// chain (appending would hide the damage — run `zhiban audit verify`); [`Error::Io`].
    pub fn open(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let lock = acquire_lock(&path)?;
        let tail = recover(&path)?;
        let counters = Arc::new(Counters::default());
        let mut writer = Writer {
            head: anchor_path(&path),
            tmp: anchor_tmp_path(&path),
            path: path.clone(),
            file: tail.file,
            _lock: lock,
            len: tail.len,
            next_seq: tail.next_seq,
            last_hash: tail.last_hash,
            anchored: tail.anchored,
            last_anchor: Instant::now(),
            retry_after: None,
            broken: None,
            counters: Arc::clone(&counters),
            #[cfg(test)]
            hooks: Arc::default(),
        };
        if writer.anchored != Some(writer.next_seq) {
            writer.write_anchor()?;
            if tail.created {
                sync_parent(&path);
            }
        }
        #[cfg(test)]
        let hooks = Arc::clone(&writer.hooks);
        let (tx, rx) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("zhiban-audit".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| Error::io(&path, e))?;
        Ok(Self {
            path,
            tx: Some(tx),
            writer: Some(handle),
            counters,
            #[cfg(test)]
            hooks,
        })
    }

    /// The log path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Counters since open.
    pub fn stats(&self) -> AuditStats {
        let c = &self.counters;
        AuditStats {
            entries: c.entries.load(Ordering::Relaxed),
            batches: c.batches.load(Ordering::Relaxed),
            anchor_writes: c.anchor_writes.load(Ordering::Relaxed),
            anchor_failures: c.anchor_failures.load(Ordering::Relaxed),
        }
    }

    /// Appends one entry and resolves once it is durable (written and fsynced with its batch).
    /// Never blocks the calling thread. If the future is dropped after it was first polled, the
    /// entry may still be written: an audit log records too much rather than too little.
    ///
    /// # Errors
    /// [`Error::Io`] when the batch could not be written (nothing of it stays in the log),
    /// [`Error::AuditUnavailable`] when the writer has stopped.
    pub async fn append(&self, record: AuditRecord) -> Result<AuditEntry> {
        let (tx, rx) = oneshot::channel();
        self.submit(Job {
            record,
            reply: Reply::Async(tx),
        })?;
        rx.await.map_err(|_| self.stopped())?
    }

    /// [`AuditLog::append`] for plain threads (the CLI, `spawn_blocking`): waits for durability by
    /// blocking. Do not call it on an async worker thread.
    ///
    /// # Errors
    /// As [`AuditLog::append`].
    pub fn append_blocking(&self, record: AuditRecord) -> Result<AuditEntry> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.submit(Job {
            record,
            reply: Reply::Blocking(tx),
        })?;
        rx.recv().map_err(|_| self.stopped())?
    }

    fn submit(&self, job: Job) -> Result<()> {
        match &self.tx {
            Some(tx) => tx.send(job).map_err(|_| self.stopped()),
            None => Err(self.stopped()),
        }
    }

    fn stopped(&self) -> Error {
        Error::AuditUnavailable {
            path: self.path.clone(),
            reason: "写入线程已停止".into(),
        }
    }

    /// Checks a log file end to end (see [`VerifyReport`]).
    ///
    /// # Errors
    /// [`Error::Io`] only; tampering is reported in the report, not as an error.
    pub fn verify(path: impl AsRef<Path>) -> Result<VerifyReport> {
        verify(path.as_ref())
    }
}

impl Drop for AuditLog {
    /// Lets the writer finish what is queued, anchor it and release the lock.
    fn drop(&mut self) {
        self.tx.take();
        if let Some(h) = self.writer.take() {
            let _ = h.join();
        }
    }
}

fn acquire_lock(path: &Path) -> Result<File> {
    let lp = lock_path(path);
    let mut opts = OpenOptions::new();
    opts.create(true).truncate(false).read(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let lock = opts.open(&lp).map_err(|e| Error::io(&lp, e))?;
    // Fully qualified: std's own `File::try_lock` is newer than the workspace's MSRV.
    match fs4::fs_std::FileExt::try_lock_exclusive(&lock) {
        Ok(true) => Ok(lock),
        Ok(false) => Err(Error::AuditLocked {
            path: path.to_path_buf(),
            lock: lp,
        }),
        Err(e) => Err(Error::io(&lp, e)),
    }
}

/// Best effort: make a newly created file's directory entry durable.
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(parent) = path.parent() {
        let dir = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// What [`recover`] found.
struct Tail {
    file: File,
    len: u64,
    next_seq: u64,
    last_hash: String,
    /// Entry count the anchor on disk covers with an offset (`None`: no anchor, or an old one).
    anchored: Option<u64>,
    created: bool,
}

fn recover(path: &Path) -> Result<Tail> {
    let head = anchor_path(path);
    let anchor = read_anchor(&head)?;
    let existed = path.exists();
    let mut opts = OpenOptions::new();
    opts.create(true).read(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let tampered = |reason: String| Error::AuditTampered {
        path: path.to_path_buf(),
        reason,
    };
    let (start, mut next_seq, mut last_hash, anchored) = match &anchor {
        None if len == 0 => (0, 0, GENESIS_HASH.to_string(), None),
        None => return Err(tampered("日志非空但锚点文件缺失".into())),
        Some(a) => {
            let offset = match a.offset {
                Some(o) => o,
                None => legacy_offset(&mut file, path, a.count)?
                    .ok_or_else(|| tampered(format!("锚点记录 {} 条，日志行数不足", a.count)))?,
            };
            if offset > len {
                return Err(tampered(format!(
                    "锚点记录 {} 条（{offset} 字节），日志只有 {len} 字节（末尾记录被删除）",
                    a.count
                )));
            }
            if a.count == 0 {
                if offset != 0 || a.last_hash != GENESIS_HASH {
                    return Err(tampered("锚点记录 0 条，但位置或哈希不是初始值".into()));
                }
            } else {
                let line = line_ending_at(&mut file, path, offset)?
                    .ok_or_else(|| tampered("锚点位置不在一行的末尾".into()))?;
                let last = AuditEntry::parse_checked(&line)
                    .ok_or_else(|| tampered("锚定的末条记录无法解析或哈希不符".into()))?;
                if last.seq + 1 != a.count || last.hash != a.last_hash {
                    return Err(tampered(format!(
                        "锚点记录 {} 条，日志中锚定位置的记录序号为 {}",
                        a.count, last.seq
                    )));
                }
            }
            (
                offset,
                a.count,
                a.last_hash.clone(),
                a.offset.map(|_| a.count),
            )
        }
    };
    // Everything after the anchor must continue the chain; only a last line without its newline
    // (a write cut short) is dropped.
    file.seek(SeekFrom::Start(start))
        .map_err(|e| Error::io(path, e))?;
    let mut rest = Vec::new();
    file.read_to_end(&mut rest)
        .map_err(|e| Error::io(path, e))?;
    let mut good = start;
    let mut adopted = 0u64;
    let mut cursor = &rest[..];
    while let Some(nl) = cursor.iter().position(|b| *b == b'\n') {
        let ok = AuditEntry::parse_checked(&cursor[..nl])
            .filter(|e| e.seq == next_seq && e.prev == last_hash);
        let Some(entry) = ok else {
            return Err(tampered(format!(
                "锚点之后的第 {} 条记录无法通过校验（被改写、插入或删除）",
                adopted + 1
            )));
        };
        next_seq += 1;
        last_hash = entry.hash;
        good += nl as u64 + 1;
        adopted += 1;
        cursor = &cursor[nl + 1..];
    }
    if !cursor.is_empty() {
        file.set_len(good)
            .and_then(|()| file.sync_data())
            .map_err(|e| Error::io(path, e))?;
        tracing::warn!(
            path = %path.display(),
            bytes = cursor.len(),
            "审计日志末行不完整（上次写入被中断），已截去"
        );
    }
    if adopted > 0 {
        tracing::info!(path = %path.display(), entries = adopted, "审计日志：锚点之后的记录已核对并补记锚点");
    }
    Ok(Tail {
        file,
        len: good,
        next_seq,
        last_hash,
        anchored,
        created: !existed,
    })
}

/// Byte offset after the first `count` lines (for anchors without an offset).
fn legacy_offset(file: &mut File, path: &Path, count: u64) -> Result<Option<u64>> {
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::new(&mut *file);
    let mut offset = 0u64;
    let mut buf = Vec::new();
    for _ in 0..count {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::io(path, e))?;
        if n == 0 || buf.last() != Some(&b'\n') {
            return Ok(None);
        }
        offset += n as u64;
    }
    Ok(Some(offset))
}

/// The line (without newline) whose newline is the byte just before `end`.
fn line_ending_at(file: &mut File, path: &Path, end: u64) -> Result<Option<Vec<u8>>> {
    let mut window = 4096u64;
    loop {
        let start = end.saturating_sub(window);
        file.seek(SeekFrom::Start(start))
            .map_err(|e| Error::io(path, e))?;
        let mut buf = vec![0u8; (end - start) as usize];
        file.read_exact(&mut buf).map_err(|e| Error::io(path, e))?;
        if buf.last() != Some(&b'\n') {
            return Ok(None);
        }
        let body = &buf[..buf.len() - 1];
        match body.iter().rposition(|b| *b == b'\n') {
            Some(pos) => return Ok(Some(body[pos + 1..].to_vec())),
            None if start == 0 => return Ok(Some(body.to_vec())),
            None => window *= 4,
        }
    }
}

/// The writer thread's state: the only code that touches the log file after open.
struct Writer {
    path: PathBuf,
    head: PathBuf,
    tmp: PathBuf,
    file: File,
    _lock: File,
    /// Length of the file up to the last durable batch.
    len: u64,
    next_seq: u64,
    last_hash: String,
    /// Entry count of the anchor on disk, if it has an offset.
    anchored: Option<u64>,
    last_anchor: Instant,
    /// No anchor attempt before this, after a failed one.
    retry_after: Option<Instant>,
    /// Set when a failed write could not be cut back off the file: nothing more is appended
    /// until the log is reopened (which recovers the tail).
    broken: Option<String>,
    counters: Arc<Counters>,
    #[cfg(test)]
    hooks: Arc<TestHooks>,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Job>) {
        let mut batch = Vec::new();
        loop {
            let job = if self.anchored == Some(self.next_seq) {
                rx.recv().ok()
            } else {
                // Behind: anchor when nothing arrives for a moment, or when it has lagged long
                // enough (never sooner than a failed attempt allows).
                let now = Instant::now();
                let due = (now + ANCHOR_IDLE)
                    .min(self.last_anchor + ANCHOR_EVERY)
                    .max(self.retry_after.unwrap_or(now));
                match rx.recv_timeout(due.saturating_duration_since(now)) {
                    Ok(job) => Some(job),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        self.anchor_logged();
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => None,
                }
            };
            let Some(job) = job else { break };
            batch.push(job);
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            self.commit(&mut batch);
            let now = Instant::now();
            if self.anchored != Some(self.next_seq)
                && now >= self.last_anchor + ANCHOR_EVERY
                && self.retry_after.is_none_or(|t| now >= t)
            {
                self.anchor_logged();
            }
        }
        // Closed: anchor what was written, whatever an earlier failure said about retrying.
        if self.anchored != Some(self.next_seq) {
            self.anchor_logged();
        }
    }

    fn commit(&mut self, batch: &mut Vec<Job>) {
        if let Some(reason) = &self.broken {
            for job in batch.drain(..) {
                job.reply.send(Err(Error::AuditUnavailable {
                    path: self.path.clone(),
                    reason: reason.clone(),
                }));
            }
            return;
        }
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut buf = Vec::with_capacity(batch.len() * 320);
        let mut entries = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        let mut prev = self.last_hash.clone();
        let mut failure = None;
        for (i, job) in batch.drain(..).enumerate() {
            let AuditRecord {
                actor,
                session,
                tool,
                action,
                fields,
            } = job.record;
            replies.push(job.reply);
            let mut entry = AuditEntry {
                seq: self.next_seq + i as u64,
                time: time.clone(),
                actor,
                session,
                tool,
                action,
                fields,
                prev: std::mem::take(&mut prev),
                hash: String::new(),
            };
            match entry.compute_hash().and_then(|h| {
                entry.hash = h;
                Ok(serde_json::to_vec(&entry)?)
            }) {
                Ok(line) => {
                    buf.extend_from_slice(&line);
                    buf.push(b'\n');
                }
                Err(e) => failure = Some(e),
            }
            prev = entry.hash.clone();
            entries.push(entry);
        }
        let outcome = match failure {
            Some(e) => Err(e),
            None => self.write_durably(&buf),
        };
        match outcome {
            Ok(()) => {
                self.len += buf.len() as u64;
                self.next_seq += entries.len() as u64;
                self.last_hash = prev;
                self.counters
                    .entries
                    .fetch_add(entries.len() as u64, Ordering::Relaxed);
                self.counters.batches.fetch_add(1, Ordering::Relaxed);
                for (entry, reply) in entries.into_iter().zip(replies) {
                    reply.send(Ok(entry));
                }
            }
            Err(e) => {
                // Cut the file back to the last durable batch, so that neither a torn line nor
                // entries whose callers heard "failed" stay in the chain.
                let restored = self
                    .file
                    .set_len(self.len)
                    .and_then(|()| self.file.sync_data());
                if let Err(cut) = restored {
                    tracing::error!(path = %self.path.display(), error = %cut, "审计日志写入失败且无法截回，停止追加，需重新打开");
                    self.broken = Some(format!("写入失败后无法截回到上一批记录末尾：{cut}"));
                }
                tracing::warn!(path = %self.path.display(), error = %e, entries = replies.len(), "审计日志写入失败，本批记录未写入");
                for reply in replies {
                    reply.send(Err(copy_error(&self.path, &e)));
                }
            }
        }
    }

    fn write_durably(&mut self, buf: &[u8]) -> Result<()> {
        #[cfg(test)]
        if self
            .hooks
            .fail_writes
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            // A write that stops halfway, as a full disk or a yanked volume would leave it.
            let half = &buf[..buf.len() / 2];
            self.file
                .write_all(half)
                .map_err(|e| Error::io(&self.path, e))?;
            return Err(Error::io(
                &self.path,
                std::io::Error::other("injected write failure"),
            ));
        }
        self.file
            .write_all(buf)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| Error::io(&self.path, e))
    }

    fn anchor_logged(&mut self) {
        if let Err(e) = self.write_anchor() {
            self.retry_after = Some(Instant::now() + ANCHOR_RETRY);
            self.counters
                .anchor_failures
                .fetch_add(1, Ordering::Relaxed);
            tracing::warn!(path = %self.head.display(), error = %e, "审计日志锚点更新失败（日志本身已落盘），稍后重试");
        }
    }

    fn write_anchor(&mut self) -> Result<()> {
        let anchor = Anchor {
            count: self.next_seq,
            last_hash: self.last_hash.clone(),
            offset: Some(self.len),
            updated: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        };
        let bytes = serde_json::to_vec(&anchor)?;
        let mut opts = OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&self.tmp).map_err(|e| Error::io(&self.tmp, e))?;
        f.write_all(&bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| Error::io(&self.tmp, e))?;
        drop(f);
        std::fs::rename(&self.tmp, &self.head).map_err(|e| Error::io(&self.head, e))?;
        self.anchored = Some(anchor.count);
        self.last_anchor = Instant::now();
        self.retry_after = None;
        self.counters.anchor_writes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// `Error` is not `Clone` (it holds an `io::Error`); every caller of a failed batch gets its own.
fn copy_error(path: &Path, e: &Error) -> Error {
    match e {
        Error::Io { path, source } => Error::Io {
            path: path.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        other => Error::AuditUnavailable {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
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
    /// Complete lines read.
    pub entries: u64,
    /// `true` when the chain and the anchor are consistent.
    pub intact: bool,
    /// Hash of the last entry read.
    pub last_hash: String,
    /// Entries after the anchor that continue the chain: written while the service runs, or
    /// left by a crash before the anchor update (the next open anchors them). Not a problem.
    pub unanchored: u64,
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
    let anchor = read_anchor(&anchor_path(path))?;
    let mut problems = Vec::new();
    let mut entries = 0u64;
    let mut expected_seq = 0u64;
    let mut prev = GENESIS_HASH.to_string();
    let mut offset = 0u64;
    // (offset, hash) after `anchor.count` lines, once reached.
    let mut at_anchor = match &anchor {
        Some(a) if a.count == 0 => Some((0u64, GENESIS_HASH.to_string())),
        _ => None,
    };
    match File::open(path) {
        Ok(f) => {
            let mut reader = BufReader::new(f);
            let mut raw = Vec::new();
            loop {
                raw.clear();
                let n = reader
                    .read_until(b'\n', &mut raw)
                    .map_err(|e| Error::io(path, e))?;
                if n == 0 {
                    break;
                }
                let line_no = entries + 1;
                if raw.last() != Some(&b'\n') {
                    push(
                        &mut problems,
                        line_no,
                        "最后一行不完整（写入被中断）；重新打开日志时会被截去".into(),
                    );
                    break;
                }
                entries += 1;
                offset += n as u64;
                let line = &raw[..raw.len() - 1];
                let entry: AuditEntry = match serde_json::from_slice(line) {
                    Ok(e) => e,
                    Err(_) => {
                        push(
                            &mut problems,
                            line_no,
                            "无法解析为审计记录（行被改写或插入）".into(),
                        );
                        continue;
                    }
                };
                if entry.seq != expected_seq {
                    push(
                        &mut problems,
                        line_no,
                        format!(
                            "序号应为 {expected_seq}，实际为 {}（有记录被插入或删除）",
                            entry.seq
                        ),
                    );
                }
                if entry.prev != prev {
                    push(
                        &mut problems,
                        line_no,
                        "prev 与上一条记录的哈希不符（链条断开）".into(),
                    );
                }
                if entry.compute_hash()? != entry.hash {
                    push(
                        &mut problems,
                        line_no,
                        "内容与哈希不符（记录被修改）".into(),
                    );
                } else if serde_json::to_vec(&entry)? != line {
                    push(
                        &mut problems,
                        line_no,
                        "行的字节与规范格式不同（记录被改动）".into(),
                    );
                }
                // Re-synchronise on this entry so one edit is not reported for every later line.
                expected_seq = entry.seq + 1;
                prev = entry.hash;
                if anchor.as_ref().is_some_and(|a| a.count == entries) {
                    at_anchor = Some((offset, prev.clone()));
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(path, e)),
    }
    let mut unanchored = 0;
    match (&anchor, at_anchor) {
        (None, _) if entries > 0 => push(
            &mut problems,
            0,
            "锚点文件缺失，无法确认末尾记录未被删除".into(),
        ),
        (None, _) => {}
        (Some(a), None) => push(
            &mut problems,
            0,
            format!(
                "锚点记录 {} 条，日志只有 {entries} 条（末尾记录被删除）",
                a.count
            ),
        ),
        (Some(a), Some((end, hash))) => {
            if hash != a.last_hash {
                push(
                    &mut problems,
                    0,
                    format!("锚点中的末条哈希与日志第 {} 条不符", a.count),
                );
            } else if a.offset.is_some_and(|o| o != end) {
                push(
                    &mut problems,
                    0,
                    "锚点记录的字节位置与日志不符（记录被改动）".into(),
                );
            }
            unanchored = entries - a.count;
        }
    }
    Ok(VerifyReport {
        path: path.to_path_buf(),
        entries,
        intact: problems.is_empty(),
        last_hash: prev,
        unanchored,
        problems,
    })
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
        let a = log.append_blocking(rec(0)).unwrap();
        let b = log.append_blocking(rec(1)).unwrap();
        assert_eq!(a.prev, GENESIS_HASH);
        assert_eq!(b.prev, a.hash);
        drop(log);
        let log = AuditLog::open(&path).unwrap();
        let c = log.append_blocking(rec(2)).unwrap();
        assert_eq!((c.seq, c.prev.as_str()), (2, b.hash.as_str()));
        drop(log);
        let report = AuditLog::verify(&path).unwrap();
        assert!(report.intact, "{:?}", report.problems);
        assert_eq!((report.entries, report.unanchored), (3, 0));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"fields\":[\"NAME\",\"ID_CARD\"]"));
        assert!(text.contains("\"action\":\"write\""));
    }

    /// The anchor is replaced after callers are answered; wait until it covers `count` entries.
    fn wait_anchor(path: &Path, count: u64) {
        for _ in 0..500 {
            if read_anchor(&anchor_path(path))
                .ok()
                .flatten()
                .is_some_and(|a| a.count == count)
                && !anchor_tmp_path(path).exists()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("anchor never reached {count}");
    }

    fn write_log(n: usize) -> (tempfile::TempDir, PathBuf, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        let log = AuditLog::open(&path).unwrap();
        for i in 0..n {
            log.append_blocking(rec(i)).unwrap();
        }
        drop(log);
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
        AuditLog::open(&path).unwrap();
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
        // A freshly opened log anchors its empty state at once.
        let path = dir.path().join("fresh.jsonl");
        drop(AuditLog::open(&path).unwrap());
        assert!(anchor_path(&path).exists());
        let r = AuditLog::verify(&path).unwrap();
        assert!(r.intact && r.entries == 0, "{r:?}");
    }

    #[test]
    fn a_failed_anchor_write_does_not_repeat_a_sequence_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        let log = AuditLog::open(&path).unwrap();
        let mut seqs = vec![log.append_blocking(rec(0)).unwrap().seq];
        wait_anchor(&path, 1);
        // A directory where the anchor's temp file goes: every anchor replacement fails.
        std::fs::create_dir(anchor_tmp_path(&path)).unwrap();
        for i in 1..4 {
            seqs.push(log.append_blocking(rec(i)).unwrap().seq);
        }
        for _ in 0..500 {
            if log.stats().anchor_failures >= 1 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(log.stats().anchor_failures >= 1, "{:?}", log.stats());
        std::fs::remove_dir(anchor_tmp_path(&path)).unwrap();
        for i in 4..6 {
            seqs.push(log.append_blocking(rec(i)).unwrap().seq);
        }
        assert_eq!(seqs, (0..6).collect::<Vec<u64>>());
        drop(log);
        let r = AuditLog::verify(&path).unwrap();
        assert!(r.intact && r.entries == 6 && r.unanchored == 0, "{r:?}");
        let log = AuditLog::open(&path).unwrap();
        assert_eq!(log.append_blocking(rec(6)).unwrap().seq, 6);
    }

    #[test]
    fn an_anchor_left_behind_by_a_crash_is_caught_up_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        let log = AuditLog::open(&path).unwrap();
        for i in 0..2 {
            log.append_blocking(rec(i)).unwrap();
        }
        wait_anchor(&path, 2);
        let early_anchor = std::fs::read(anchor_path(&path)).unwrap();
        for i in 2..5 {
            log.append_blocking(rec(i)).unwrap();
        }
        drop(log);
        // As if the process died after fsyncing entries 2..5 but before replacing the anchor.
        std::fs::write(anchor_path(&path), &early_anchor).unwrap();
        let r = AuditLog::verify(&path).unwrap();
        assert!(r.intact && r.unanchored == 3, "{r:?}");
        let log = AuditLog::open(&path).unwrap();
        assert_eq!(log.append_blocking(rec(5)).unwrap().seq, 5);
        drop(log);
        let r = AuditLog::verify(&path).unwrap();
        assert!(r.intact && r.entries == 6 && r.unanchored == 0, "{r:?}");

        // An edited entry after the anchor is not adopted.
        std::fs::write(anchor_path(&path), &early_anchor).unwrap();
        let mut lines: Vec<String> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        lines[3] = lines[3].replace("clerk-3", "clerk-8");
        rewrite(&path, &lines);
        assert!(matches!(
            AuditLog::open(&path),
            Err(Error::AuditTampered { .. })
        ));
    }

    #[test]
    fn a_partial_last_line_is_reported_and_truncated_on_open() {
        let (_d, path, lines) = write_log(3);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"seq":3,"time":"2026-11-"#).unwrap();
        drop(f);
        let r = AuditLog::verify(&path).unwrap();
        assert!(!r.intact);
        assert_eq!(r.problems[0].line, 4);
        assert!(r.problems[0].message.contains("不完整"), "{r:?}");
        let log = AuditLog::open(&path).unwrap();
        let e = log.append_blocking(rec(3)).unwrap();
        assert_eq!(e.seq, 3);
        assert_eq!(
            e.prev,
            serde_json::from_str::<AuditEntry>(&lines[2]).unwrap().hash
        );
        drop(log);
        let r = AuditLog::verify(&path).unwrap();
        assert!(r.intact && r.entries == 4, "{r:?}");
    }

    #[test]
    fn a_failed_write_is_cut_back_and_the_sequence_continues() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        let log = AuditLog::open(&path).unwrap();
        log.append_blocking(rec(0)).unwrap();
        log.hooks.fail_writes.store(1, Ordering::SeqCst);
        assert!(matches!(log.append_blocking(rec(1)), Err(Error::Io { .. })));
        let e = log.append_blocking(rec(2)).unwrap();
        assert_eq!(
            e.seq, 1,
            "the failed entry's number is reused, nothing is skipped"
        );
        drop(log);
        let r = AuditLog::verify(&path).unwrap();
        assert!(r.intact && r.entries == 2, "{r:?}");
        assert!(!std::fs::read_to_string(&path).unwrap().contains("clerk-1"));
    }

    #[test]
    fn a_second_appender_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        let first = AuditLog::open(&path).unwrap();
        first.append_blocking(rec(0)).unwrap();
        let err = AuditLog::open(&path).unwrap_err();
        assert!(matches!(err, Error::AuditLocked { .. }), "{err:?}");
        assert!(err.to_string().contains("另一个"), "{err}");
        drop(first);
        let second = AuditLog::open(&path).unwrap();
        assert_eq!(second.append_blocking(rec(1)).unwrap().seq, 1);
    }

    #[test]
    fn an_anchor_from_before_group_commit_still_opens() {
        let (_d, path, lines) = write_log(3);
        let last: AuditEntry = serde_json::from_str(&lines[2]).unwrap();
        std::fs::write(
            anchor_path(&path),
            serde_json::json!({"count": 3, "last_hash": last.hash, "updated": last.time})
                .to_string(),
        )
        .unwrap();
        assert!(AuditLog::verify(&path).unwrap().intact);
        let log = AuditLog::open(&path).unwrap();
        assert_eq!(log.append_blocking(rec(3)).unwrap().seq, 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn async_appends_resolve_only_when_durable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        let log = AuditLog::open(&path).unwrap();
        let e = log.append(rec(0)).await.unwrap();
        // Durable means on disk by the time the caller hears back.
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(&e.hash));
    }
}
