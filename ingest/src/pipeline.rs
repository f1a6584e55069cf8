//! The folder pipeline: walk, read, clean, extract, split, mask, link, report.

use std::collections::{BTreeMap, HashMap};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use zhiban_knowledge::{DocKind, Document, DocumentMeta, Level, Status};

use crate::articles::{Structure, split};
use crate::clean::clean_text_with;
use crate::dates::parse_date;
use crate::docnum::normalize_doc_number;
use crate::error::{Error, Result};
use crate::external::{ToolOptions, ocr_image, pdf_to_text};
use crate::keywords::Keywords;
use crate::link::resolve_supersession;
use crate::meta::{Hints, extract_policy};
use crate::records::{
    case_document, catalog_document, csv_records, guide_document, split_front_matter,
};
use crate::text::decode_text;

/// Progress callback: `(stage, done, total)`. Called from worker threads.
pub type ProgressFn = Arc<dyn Fn(&str, usize, usize) + Send + Sync>;

/// Test hook: called with a file's relative path once it is read, before parsing.
#[doc(hidden)]
pub type ParseHook = Arc<dyn Fn(&str) + Send + Sync>;

/// Options of one ingest run.
#[derive(Clone)]
pub struct IngestOptions {
    /// Files above this size are refused with an error (default 20 MB).
    pub max_file_bytes: u64,
    /// External tool settings (OCR on/off, timeout, language).
    pub tools: ToolOptions,
    /// Turn any file error into a failed run ([`Error::Strict`]).
    pub strict: bool,
    /// Keywords per policy / guide (default 8; 0 disables extraction).
    pub keywords: usize,
    /// Worker threads (default: available cores, at most 4).
    pub threads: usize,
    /// Optional progress callback.
    pub progress: Option<ProgressFn>,
    /// Issuing bodies known by name; `None` is the embedded table, which [`ingest_folder`]
    /// extends with a `bodies.txt` at the source folder's root.
    pub bodies: Option<Arc<crate::bodies::Bodies>>,
    /// For tests only: runs before each file is parsed, e.g. to inject a panic the way a
    /// reader would. `None` in every real run.
    #[doc(hidden)]
    pub before_parse: Option<ParseHook>,
}

impl std::fmt::Debug for IngestOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestOptions")
            .field("max_file_bytes", &self.max_file_bytes)
            .field("tools", &self.tools)
            .field("strict", &self.strict)
            .field("keywords", &self.keywords)
            .field("threads", &self.threads)
            .field("progress", &self.progress.is_some())
            .field("before_parse", &self.before_parse.is_some())
            .finish()
    }
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            max_file_bytes: 20 * 1024 * 1024,
            tools: ToolOptions::default(),
            strict: false,
            keywords: 8,
            threads: std::thread::available_parallelism()
                .map(|n| n.get().min(4))
                .unwrap_or(1),
            progress: None,
            bodies: None,
            before_parse: None,
        }
    }
}

/// A file-level error in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileError {
    /// Path relative to the source folder.
    pub file: String,
    /// Chinese, human-readable.
    pub message: String,
}

/// A warning in the report, with the line when known (1-based, in the cleaned text
/// for policies and in the source file for records).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileWarning {
    /// Path relative to the source folder.
    pub file: String,
    /// Line, when the warning is about one.
    pub line: Option<usize>,
    /// Chinese, human-readable.
    pub message: String,
}

/// A file that was deliberately not ingested (not a failure: `strict` ignores it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSkip {
    /// Path relative to the source folder.
    pub file: String,
    /// Chinese, human-readable.
    pub reason: String,
}

/// The validation report of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IngestReport {
    /// Documents per kind (`policy`, `guide`, `case`, `catalog`).
    pub documents: BTreeMap<String, usize>,
    /// Total chunks.
    pub chunks: usize,
    /// Files reused from the previous state because their hash was unchanged.
    pub skipped_unchanged: usize,
    /// Files looked at (supported types only).
    pub files: usize,
    /// Pages that went through OCR.
    pub ocr_pages: usize,
    /// Seconds spent.
    pub seconds: f64,
    /// Files (or records) that could not be ingested.
    pub errors: Vec<FileError>,
    /// Problems that did not stop ingestion.
    pub warnings: Vec<FileWarning>,
    /// Files not read on purpose (images while OCR is off). Each is also a warning, so a
    /// report printer that knows only `errors` and `warnings` still shows it.
    #[serde(default)]
    pub skipped: Vec<FileSkip>,
}

/// One jieba user-dictionary entry: `(word, freq, tag)`.
pub type DictEntry = (String, usize, String);

/// What a run produces.
#[derive(Debug, Clone, Default)]
pub struct IngestOutput {
    /// All documents, in path order (records in file order).
    pub documents: Vec<Document>,
    /// Content hash per source file (relative path → hex), covering a
    /// `.meta.toml` sidecar too.
    pub file_hashes: BTreeMap<String, String>,
    /// The report.
    pub report: IngestReport,
    /// jieba user dictionary from the catalog: names and aliases of 事项.
    pub dictionary: Vec<DictEntry>,
    /// Query expansion: alias (or short name) → canonical 事项 names.
    pub expansions: BTreeMap<String, Vec<String>>,
    /// Query expansion: lay word → statute words (embedded table plus the source
    /// folder's `lay_terms.txt`).
    pub lay_terms: BTreeMap<String, String>,
}

/// Documents of an earlier run, keyed by source file and content hash, so
/// unchanged files are reused without being read again.
#[derive(Debug, Clone, Default)]
pub struct PreviousState {
    files: HashMap<String, (String, Vec<Document>, Vec<FileWarning>)>,
}

/// `extra` key under which every document records its source file's hash.
pub const SOURCE_HASH_KEY: &str = "source_hash";

/// The file part of a `source_file` (`catalog/m.jsonl#SQ-1` → `catalog/m.jsonl`).
pub fn file_of(source_file: &str) -> &str {
    source_file.split('#').next().unwrap_or(source_file)
}

impl PreviousState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the documents of one file under its hash.
    pub fn insert(
        &mut self,
        file: impl Into<String>,
        hash: impl Into<String>,
        documents: Vec<Document>,
    ) {
        self.files
            .insert(file.into(), (hash.into(), documents, Vec::new()));
    }

    /// The state a finished run leaves (documents, hashes, and warnings to replay).
    pub fn from_output(out: &IngestOutput) -> Self {
        let mut s = Self::from_documents(out.documents.iter().cloned());
        for w in &out.report.warnings {
            if let Some(e) = s.files.get_mut(&w.file) {
                e.2.push(w.clone());
            }
        }
        s
    }

    /// Rebuilds the state from stored documents alone, using the hash each one
    /// carries in `extra["source_hash"]` (e.g. documents loaded from a snapshot).
    pub fn from_documents(docs: impl IntoIterator<Item = Document>) -> Self {
        let mut s = Self::default();
        for d in docs {
            let Some(hash) = d.meta.extra.get(SOURCE_HASH_KEY).cloned() else {
                continue;
            };
            let file = file_of(&d.meta.source_file).to_string();
            let e = s
                .files
                .entry(file)
                .or_insert_with(|| (hash.clone(), Vec::new(), Vec::new()));
            if e.0 == hash {
                e.1.push(d);
            }
        }
        s
    }

    /// Number of files known.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no file is known.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Policy,
    Guide,
    Cases,
    Catalog,
}

struct Job {
    abs: PathBuf,
    rel: String,
    ext: String,
    route: Route,
    sidecar: Option<PathBuf>,
}

#[derive(Default)]
struct FileResult {
    docs: Vec<Document>,
    errors: Vec<String>,
    /// Why the file was deliberately not read (OCR off for an image).
    skipped: Option<String>,
    warnings: Vec<(Option<usize>, String)>,
    ocr_pages: usize,
    reused: bool,
    hash: String,
}

/// The list of issuing bodies a source folder may carry at its root (not a document).
const BODIES_FILE: &str = "bodies.txt";
/// The lay-vocabulary table a source folder may carry at its root (not a document).
const LAY_TERMS_FILE: &str = "lay_terms.txt";
const SKIP_DIRS: &[&str] = &["eval", "tools", "target", "node_modules", "__pycache__"];
const TEXT_EXT: &[&str] = &["txt", "md", "markdown"];
const HTML_EXT: &[&str] = &["html", "htm", "shtml", "xhtml"];
const IMAGE_EXT: &[&str] = &["png", "jpg", "jpeg", "tif", "tiff", "bmp"];
const RECORD_EXT: &[&str] = &["jsonl", "csv", "json"];

fn rel_path(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn walk(
    root: &Path,
    dir: &Path,
    jobs: &mut Vec<Job>,
    skipped: &mut Vec<FileWarning>,
) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::SourceDir {
        path: dir.to_path_buf(),
        source: e,
    })?;
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        if p.is_dir() {
            if !SKIP_DIRS.contains(&name.as_str()) {
                walk(root, &p, jobs, skipped)?;
            }
            continue;
        }
        let lower = name.to_lowercase();
        if (dir == root && (lower == BODIES_FILE || lower == LAY_TERMS_FILE))
            || lower.ends_with(".meta.toml")
            || lower.starts_with("readme")
            || lower.starts_with("license")
        {
            continue;
        }
        let rel = rel_path(root, &p);
        let ext = p
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let parts: Vec<&str> = rel.split('/').collect();
        let in_dir = |d: &str| parts[..parts.len().saturating_sub(1)].contains(&d);
        let route = if RECORD_EXT.contains(&ext.as_str()) {
            if in_dir("catalog") {
                Route::Catalog
            } else if in_dir("cases") {
                Route::Cases
            } else {
                skipped.push(FileWarning {
                    file: rel,
                    line: None,
                    message: "结构化记录文件应放在 catalog/ 或 cases/ 目录下，已跳过".into(),
                });
                continue;
            }
        } else if TEXT_EXT.contains(&ext.as_str())
            || HTML_EXT.contains(&ext.as_str())
            || IMAGE_EXT.contains(&ext.as_str())
            || ext == "docx"
            || ext == "pdf"
        {
            if in_dir("guides") {
                Route::Guide
            } else {
                Route::Policy
            }
        } else {
            skipped.push(FileWarning {
                file: rel,
                line: None,
                message: format!("不支持的文件类型（.{ext}），已跳过"),
            });
            continue;
        };
        let stem = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let sidecar = [
            p.with_file_name(format!("{name}.meta.toml")),
            p.with_file_name(format!("{stem}.meta.toml")),
        ]
        .into_iter()
        .find(|s| s.is_file());
        jobs.push(Job {
            abs: p,
            rel,
            ext,
            route,
            sidecar,
        });
    }
    Ok(())
}

fn hash_of(bytes: &[u8], sidecar: Option<&[u8]>) -> String {
    let mut h = blake3::Hasher::new();
    h.update(bytes);
    if let Some(s) = sidecar {
        h.update(b"\0meta\0");
        h.update(s);
    }
    h.finalize().to_hex().as_str()[..32].to_string()
}

/// Overrides from a `.meta.toml` (or non-guide front matter) applied to metadata.
fn apply_overrides(
    meta: &mut DocumentMeta,
    t: &toml::Table,
    warnings: &mut Vec<(Option<usize>, String)>,
) {
    let s = |v: &toml::Value| match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let date = |v: &toml::Value, warnings: &mut Vec<(Option<usize>, String)>, k: &str| {
        let d = parse_date(&s(v));
        if d.is_none() && !s(v).is_empty() {
            warnings.push((None, format!("元数据文件中 {k} 的日期无法解析：{}", s(v))));
        }
        d
    };
    for (k, v) in t {
        match k.as_str() {
            "title" => meta.title = s(v),
            "doc_number" => {
                meta.doc_number = Some(normalize_doc_number(&s(v))).filter(|x| !x.is_empty())
            }
            "issuer" => meta.issuer = Some(s(v)),
            "level" => match s(v).parse::<Level>() {
                Ok(l) => meta.level = Some(l),
                Err(_) => {
                    warnings.push((None, format!("元数据文件中的效力位阶无法识别：{}", s(v))))
                }
            },
            "published" => meta.published = date(v, warnings, k),
            "effective" => meta.effective = date(v, warnings, k),
            "expires" => meta.expires = date(v, warnings, k),
            "status" => match s(v).parse::<Status>() {
                Ok(st) => meta.status_override = Some(st),
                Err(_) => {
                    warnings.push((None, format!("元数据文件中的时效状态无法识别：{}", s(v))))
                }
            },
            "supersedes" => {
                meta.supersedes = match v {
                    toml::Value::Array(a) => a.iter().map(s).collect(),
                    other => vec![s(other)],
                }
            }
            "keywords" => {
                if let toml::Value::Array(a) = v {
                    meta.keywords = a.iter().map(s).collect();
                }
            }
            "department" => meta.department = Some(s(v)),
            "matter_code" | "matter_codes" => {
                meta.matter_codes = match v {
                    toml::Value::Array(a) => a.iter().map(s).collect(),
                    other => vec![s(other)],
                }
            }
            _ => {
                meta.extra.insert(k.clone(), s(v));
            }
        }
    }
}

/// Reads a policy-like file into raw text plus a title hint; counts OCR pages.
fn read_text(
    job: &Job,
    bytes: &[u8],
    opts: &IngestOptions,
    ocr_pages: &mut usize,
) -> Result<(String, Option<String>)> {
    let ext = job.ext.as_str();
    if TEXT_EXT.contains(&ext) {
        return Ok((decode_text(bytes)?, None));
    }
    if HTML_EXT.contains(&ext) {
        let h = crate::html::html_to_text(&decode_text(bytes)?)?;
        return Ok((h.text, h.title));
    }
    if ext == "docx" {
        return Ok((crate::docx::docx_to_text(bytes)?, None));
    }
    if ext == "pdf" {
        let p = pdf_to_text(&job.abs, &opts.tools)?;
        *ocr_pages += p.ocr_pages;
        if p.text.trim().is_empty() {
            // A PDF without a text layer is a scan: with OCR off it is skipped, like an image.
            return Err(if opts.tools.ocr {
                Error::Empty
            } else {
                Error::OcrDisabled
            });
        }
        return Ok((p.text, None));
    }
    if IMAGE_EXT.contains(&ext) {
        if !opts.tools.ocr {
            return Err(Error::OcrDisabled);
        }
        let t = ocr_image(&job.abs, &opts.tools)?;
        *ocr_pages += 1;
        if t.trim().is_empty() {
            return Err(Error::Empty);
        }
        return Ok((t, None));
    }
    Err(Error::NotText)
}

#[allow(clippy::too_many_arguments)]
fn policy_document(
    job: &Job,
    raw: &str,
    title_hint: Option<String>,
    fm: Option<&toml::Table>,
    sidecar: Option<&toml::Table>,
    kw: Option<&Keywords>,
    opts: &IngestOptions,
    r: &mut FileResult,
) {
    // Markdown heading marks are layout, not text: "## 一、服务对象" is item 一、.
    let unmarked;
    let raw = if job.ext == "md" || job.ext == "markdown" {
        unmarked = raw
            .lines()
            .map(|l| {
                // Emphasis marks too: "**第一条**　…" is article 第一条.
                l.trim_start()
                    .trim_start_matches('#')
                    .trim_start()
                    .replace("**", "")
                    .replace("__", "")
            })
            .collect::<Vec<_>>()
            .join("\n");
        unmarked.as_str()
    } else {
        raw
    };
    let paragraphs = HTML_EXT.contains(&job.ext.as_str()) || job.ext == "docx";
    let cleaned = clean_text_with(raw, !paragraphs);
    // Scans and their text: a known name misread by one character is put right before
    // the issuer and the title are read from it.
    let cleaned = if paragraphs {
        cleaned
    } else {
        let bodies = opts
            .bodies
            .clone()
            .unwrap_or_else(crate::bodies::Bodies::embedded);
        cleaned
            .lines()
            .map(|l| bodies.repair_names(l))
            .collect::<Vec<_>>()
            .join("\n")
    };
    if cleaned.trim().is_empty() {
        r.errors.push(Error::Empty.to_string());
        return;
    }
    let (f, warns) = extract_policy(
        &cleaned,
        &Hints {
            title: title_hint,
            bodies: opts.bodies.clone(),
        },
    );
    r.warnings.extend(warns);
    let (structure, chunks) = split(&cleaned);
    let mut meta = DocumentMeta {
        kind: Some(DocKind::Policy),
        source_file: job.rel.clone(),
        title: f.title.clone().unwrap_or_default(),
        doc_number: f.doc_number,
        issuer: f.issuer,
        level: f.level,
        published: f.published,
        effective: f.effective,
        expires: f.expires,
        status_override: f.status_override,
        supersedes: f.supersedes,
        ..Default::default()
    };
    for t in [fm, sidecar].into_iter().flatten() {
        apply_overrides(&mut meta, t, &mut r.warnings);
    }
    if meta.title.is_empty() {
        r.warnings
            .push((Some(1), "未识别到标题，暂用文件名".into()));
        meta.title = job
            .abs
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
    }
    if meta.doc_number.is_none()
        && !matches!(
            meta.level,
            Some(Level::Interpretation | Level::ServiceGuide)
        )
    {
        r.warnings.push((None, "未找到文号".into()));
    }
    if meta.published.is_none() {
        r.warnings.push((None, "未找到成文/发布日期".into()));
    }
    if structure == Structure::None {
        r.warnings.push((
            None,
            "未找到条款编号（第X条 / 一、），全文作为一个片段".into(),
        ));
    }
    meta.extra
        .insert("structure".into(), format!("{structure:?}").to_lowercase());
    meta.extra.insert(SOURCE_HASH_KEY.into(), r.hash.clone());
    if let Some(kw) = kw
        && meta.keywords.is_empty()
        && opts.keywords > 0
    {
        meta.keywords = kw.extract(&cleaned, opts.keywords);
    }
    r.docs.push(Document::new(meta, chunks));
}

/// The bytes of one source file and its sidecar, and their content hash.
struct Input {
    bytes: Vec<u8>,
    sidecar: Option<Vec<u8>>,
    hash: String,
}

/// Stage 1: size cap, the file's bytes, the sidecar's bytes, the hash.
fn read_input(job: &Job, opts: &IngestOptions) -> Result<Input> {
    let size = std::fs::metadata(&job.abs)?.len();
    if size > opts.max_file_bytes {
        return Err(Error::TooLarge {
            size,
            limit: opts.max_file_bytes,
        });
    }
    let bytes = std::fs::read(&job.abs)?;
    let sidecar = job.sidecar.as_ref().and_then(|p| std::fs::read(p).ok());
    let hash = hash_of(&bytes, sidecar.as_deref());
    Ok(Input {
        bytes,
        sidecar,
        hash,
    })
}

/// Stage 2: the documents and warnings of an earlier run, when the hash is unchanged.
fn reuse(job: &Job, previous: Option<&PreviousState>, r: &mut FileResult) -> bool {
    let Some((h, docs, warns)) = previous.and_then(|p| p.files.get(&job.rel)) else {
        return false;
    };
    if *h != r.hash {
        return false;
    }
    r.docs = docs.clone();
    r.warnings = warns.iter().map(|w| (w.line, w.message.clone())).collect();
    r.reused = true;
    true
}

/// Stage 3: the `.meta.toml` sidecar; a broken one is a warning, not a failed file.
fn parse_sidecar(
    bytes: Option<&[u8]>,
    warnings: &mut Vec<(Option<usize>, String)>,
) -> Option<toml::Table> {
    let parsed = decode_text(bytes?).and_then(|t| {
        t.parse::<toml::Table>()
            .map_err(|e| Error::BadToml(e.message().to_string()))
    });
    match parsed {
        Ok(t) => Some(t),
        Err(e) => {
            warnings.push((None, format!("元数据文件无法读取，已忽略：{e}")));
            None
        }
    }
}

/// Stage 4a: a policy or guide: read (decode, HTML, DOCX, PDF, OCR), front matter, then
/// either a guide document or clean → metadata → split into a policy document.
fn text_document(
    job: &Job,
    bytes: &[u8],
    sidecar: Option<&toml::Table>,
    kw: Option<&Keywords>,
    opts: &IngestOptions,
    r: &mut FileResult,
) -> Result<()> {
    let (raw, hint) = read_text(job, bytes, opts, &mut r.ocr_pages)?;
    let fm = if job.ext == "md" || job.ext == "markdown" {
        split_front_matter(&raw)?
    } else {
        None
    };
    match fm {
        Some((table, body)) if job.route == Route::Guide || table.contains_key("matter_code") => {
            let d = guide(job, &table, body, sidecar, kw, opts, r);
            r.docs.push(d);
        }
        Some((table, body)) => policy_document(job, body, None, Some(&table), sidecar, kw, opts, r),
        None => policy_document(job, &raw, hint, None, sidecar, kw, opts, r),
    }
    Ok(())
}

/// A guide from its front matter and `##` sections, with sidecar overrides and keywords.
fn guide(
    job: &Job,
    table: &toml::Table,
    body: &str,
    sidecar: Option<&toml::Table>,
    kw: Option<&Keywords>,
    opts: &IngestOptions,
    r: &mut FileResult,
) -> Document {
    let mut d = guide_document(&job.rel, table, body);
    if let Some(s) = sidecar {
        apply_overrides(&mut d.meta, s, &mut r.warnings);
    }
    if d.chunks.is_empty() {
        r.warnings.push((None, "操作指南没有 ## 小节".into()));
    }
    d.meta.extra.insert(SOURCE_HASH_KEY.into(), r.hash.clone());
    if let Some(kw) = kw
        && d.meta.keywords.is_empty()
        && opts.keywords > 0
    {
        d.meta.keywords = kw.extract(body, opts.keywords);
    }
    d
}

/// The rows of a record file with their 1-based lines: CSV, a JSON array (or one
/// object), or JSON lines.
fn record_rows(job: &Job, text: &str) -> Vec<(usize, Result<serde_json::Value>)> {
    if job.ext == "csv" {
        return csv_records(text);
    }
    if job.ext == "json" {
        return match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Array(a)) => a
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i + 1, Ok(v)))
                .collect(),
            Ok(v) => vec![(1, Ok(v))],
            Err(e) => vec![(
                e.line(),
                Err(Error::BadRecord {
                    line: e.line(),
                    message: e.to_string(),
                }),
            )],
        };
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            (
                i + 1,
                serde_json::from_str(l).map_err(|e| Error::BadRecord {
                    line: i + 1,
                    message: format!("JSON 格式错误：{e}"),
                }),
            )
        })
        .collect()
}

/// Stage 4b: cases or catalog records, one document per row (masked in `records`); a
/// bad row is one error, a repeated record id one warning.
fn record_documents(job: &Job, bytes: &[u8], r: &mut FileResult) -> Result<()> {
    let text = decode_text(bytes)?;
    let mut seen = std::collections::HashSet::new();
    for (line, row) in record_rows(job, &text) {
        let doc = row.and_then(|v| {
            if job.route == Route::Cases {
                case_document(&job.rel, line, &v)
            } else {
                catalog_document(&job.rel, line, &v)
            }
        });
        match doc {
            Ok(mut d) => {
                if !seen.insert(d.meta.source_file.clone()) {
                    r.warnings.push((
                        Some(line),
                        format!("记录编号重复：{}，已跳过", d.meta.source_file),
                    ));
                    continue;
                }
                d.meta.extra.insert(SOURCE_HASH_KEY.into(), r.hash.clone());
                r.docs.push(d);
            }
            Err(e) => r.errors.push(e.to_string()),
        }
    }
    Ok(())
}

/// One file through the stages: input → reuse → sidecar → documents.
fn process(
    job: &Job,
    opts: &IngestOptions,
    kw: Option<&Keywords>,
    previous: Option<&PreviousState>,
) -> FileResult {
    let mut r = FileResult::default();
    let input = match read_input(job, opts) {
        Ok(i) => i,
        Err(e) => {
            r.errors.push(e.to_string());
            return r;
        }
    };
    r.hash = input.hash;
    if reuse(job, previous, &mut r) {
        return r;
    }
    if input.bytes.is_empty() {
        r.errors.push(Error::Empty.to_string());
        return r;
    }
    let sidecar = parse_sidecar(input.sidecar.as_deref(), &mut r.warnings);
    if let Some(hook) = &opts.before_parse {
        hook(&job.rel);
    }
    let done = match job.route {
        Route::Policy | Route::Guide => {
            text_document(job, &input.bytes, sidecar.as_ref(), kw, opts, &mut r)
        }
        Route::Cases | Route::Catalog => record_documents(job, &input.bytes, &mut r),
    };
    match done {
        Ok(()) => {}
        Err(Error::OcrDisabled) => r.skipped = Some(Error::OcrDisabled.to_string()),
        Err(e) => r.errors.push(e.to_string()),
    }
    r
}

/// [`process`], with a panic in any reader (zip, quick-xml, scraper, jieba …) turned into
/// one error for this file. The file's partial result is dropped with the unwound stack,
/// so none of its documents, warnings or hash reach the output (a later run re-reads it).
/// `AssertUnwindSafe` holds: the shared inputs (`opts`, `kw`, `previous`) are only read.
fn process_isolated(
    job: &Job,
    opts: &IngestOptions,
    kw: Option<&Keywords>,
    previous: Option<&PreviousState>,
) -> FileResult {
    std::panic::catch_unwind(AssertUnwindSafe(|| process(job, opts, kw, previous))).unwrap_or_else(
        |payload| {
            // Only a literal message (`&'static str`) is quoted: a formatted one may carry
            // the text being parsed (str slicing panics quote it), and cases hold PII.
            let detail = payload
                .downcast_ref::<&'static str>()
                .map(|m| format!("：{}", m.chars().take(200).collect::<String>()))
                .unwrap_or_default();
            tracing::error!(file = %job.rel, "reader panicked; file skipped");
            FileResult {
                errors: vec![format!(
                    "读取或解析此文件时程序内部出错{detail}；此文件未导入，其他文件不受影响"
                )],
                ..Default::default()
            }
        },
    )
}

fn normalised_body(d: &Document) -> String {
    d.chunks
        .iter()
        .flat_map(|c| c.text.chars())
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// Builds the jieba dictionary and the alias → 事项 table from catalog matters.
pub fn alias_tables(docs: &[Document]) -> (Vec<DictEntry>, BTreeMap<String, Vec<String>>) {
    let mut dict: BTreeMap<String, (usize, String)> = BTreeMap::new();
    let mut exp: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let strip_parens = |s: &str| -> String {
        let mut out = String::new();
        let mut depth = 0;
        for c in s.chars() {
            match c {
                '（' | '(' => depth += 1,
                '）' | ')' => depth -= 1,
                _ if depth <= 0 => out.push(c),
                _ => {}
            }
        }
        out
    };
    for d in docs {
        if d.meta.kind != Some(DocKind::Catalog)
            || d.meta.extra.get("record_type").map(String::as_str) != Some("matter")
        {
            continue;
        }
        let name = d.meta.title.trim().to_string();
        if name.is_empty() {
            continue;
        }
        let short = strip_parens(&name);
        for w in [name.clone(), short.clone()] {
            if w.chars().count() >= 2 && !w.contains(['（', '(', ' ']) {
                dict.entry(w).or_insert((20_000, "nz".into()));
            }
        }
        let mut aliases: Vec<String> = d
            .meta
            .extra
            .get("aliases")
            .map(|a| a.split('、').map(str::to_string).collect())
            .unwrap_or_default();
        if short != name {
            aliases.push(short);
        }
        for a in aliases {
            let a = a.trim().to_string();
            if a.is_empty() || a == name {
                continue;
            }
            if a.chars().count() >= 2 && !a.contains(['（', '(', ' ']) {
                dict.entry(a.clone()).or_insert((20_000, "nz".into()));
            }
            let v = exp.entry(a).or_default();
            if !v.contains(&name) {
                v.push(name.clone());
            }
        }
    }
    (dict.into_iter().map(|(w, (f, t))| (w, f, t)).collect(), exp)
}

/// Ingests every supported file under `src`.
///
/// One bad file never stops the others: its error goes into the report. Files whose
/// content hash matches `previous` are reused without being read again. After
/// reading, supersession links are resolved across all policies, duplicates are
/// reported, and the alias tables are built from the catalog.
///
/// # Errors
/// [`Error::SourceDir`] when `src` cannot be listed; [`Error::Strict`] when
/// `opts.strict` is set and any file failed.
pub fn ingest_folder(
    src: &Path,
    opts: &IngestOptions,
    previous: Option<&PreviousState>,
) -> Result<IngestOutput> {
    let started = Instant::now();
    let progress = |stage: &str, done: usize, total: usize| {
        if let Some(p) = &opts.progress {
            p(stage, done, total);
        }
    };
    // A source folder's own list of issuing bodies extends the embedded one.
    let local;
    let opts = match std::fs::read_to_string(src.join(BODIES_FILE)) {
        Ok(text) if opts.bodies.is_none() => {
            let mut b = crate::bodies::Bodies::default();
            b.extend(&text);
            let mut o = opts.clone();
            o.bodies = Some(Arc::new(b));
            local = o;
            &local
        }
        _ => opts,
    };
    let mut jobs = Vec::new();
    let mut report = IngestReport::default();
    walk(src, src, &mut jobs, &mut report.warnings)?;
    progress("scan", jobs.len(), jobs.len());
    report.files = jobs.len();

    let kw = (opts.keywords > 0).then(Keywords::new);
    let results: Vec<Mutex<Option<FileResult>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let threads = opts.threads.max(1).min(jobs.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = jobs.get(i) else { break };
                    let r = process_isolated(job, opts, kw.as_ref(), previous);
                    if let Ok(mut slot) = results[i].lock() {
                        *slot = Some(r);
                    }
                    let d = done.fetch_add(1, Ordering::SeqCst) + 1;
                    progress("read", d, jobs.len());
                }
            });
        }
    });

    let mut out = IngestOutput::default();
    let mut ocr_pages = 0;
    for (job, slot) in jobs.iter().zip(results) {
        let r = slot
            .into_inner()
            .ok()
            .flatten()
            .unwrap_or_else(|| FileResult {
                errors: vec!["处理线程异常退出".into()],
                ..Default::default()
            });
        ocr_pages += r.ocr_pages;
        if r.reused {
            report.skipped_unchanged += 1;
        }
        if !r.hash.is_empty() {
            out.file_hashes.insert(job.rel.clone(), r.hash.clone());
        }
        for e in r.errors {
            report.errors.push(FileError {
                file: job.rel.clone(),
                message: e,
            });
        }
        if let Some(reason) = r.skipped {
            report.skipped.push(FileSkip {
                file: job.rel.clone(),
                reason,
            });
        }
        for (line, message) in r.warnings {
            report.warnings.push(FileWarning {
                file: job.rel.clone(),
                line,
                message,
            });
        }
        out.documents.extend(r.docs);
    }
    report.ocr_pages = ocr_pages;

    // Duplicates: the same normalised policy text under two names.
    progress("link", 0, 1);
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut keep = Vec::with_capacity(out.documents.len());
    for d in std::mem::take(&mut out.documents) {
        if d.meta.kind == Some(DocKind::Policy) {
            let key = blake3::hash(normalised_body(&d).as_bytes())
                .to_hex()
                .to_string();
            if let Some(first) = seen.get(&key) {
                report.warnings.push(FileWarning {
                    file: d.meta.source_file.clone(),
                    line: None,
                    message: format!("与 {first} 内容重复，已跳过"),
                });
                continue;
            }
            seen.insert(key, d.meta.source_file.clone());
        }
        keep.push(d);
    }
    out.documents = keep;
    for (i, entry) in resolve_supersession(&mut out.documents) {
        let file = out.documents[i].meta.source_file.clone();
        report.warnings.push(FileWarning {
            file,
            line: None,
            message: format!("所废止/替代的文件未在本次入库中找到：{entry}"),
        });
    }
    progress("link", 1, 1);

    let (dict, exp) = alias_tables(&out.documents);
    let mut lay = crate::lay_terms::embedded();
    if let Ok(text) = std::fs::read_to_string(src.join(LAY_TERMS_FILE)) {
        crate::lay_terms::extend(&mut lay, crate::lay_terms::parse(&text));
    }
    out.dictionary = dict;
    out.expansions = exp;
    out.lay_terms = lay;
    for d in &out.documents {
        *report
            .documents
            .entry(
                d.meta
                    .kind
                    .map(DocKind::as_str)
                    .unwrap_or("policy")
                    .to_string(),
            )
            .or_default() += 1;
        report.chunks += d.chunks.len();
    }
    report.seconds = started.elapsed().as_secs_f64();
    if opts.strict && !report.errors.is_empty() {
        let first = report
            .errors
            .first()
            .map(|e| format!("{}: {}", e.file, e.message))
            .unwrap_or_default();
        return Err(Error::Strict {
            count: report.errors.len(),
            first,
            report: Box::new(report),
        });
    }
    out.report = report;
    Ok(out)
}
