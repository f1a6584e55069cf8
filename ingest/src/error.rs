//! Errors of the ingest pipeline. Messages are Chinese because they end up in the
//! validation report that data staff read.

use std::path::PathBuf;

/// Everything that can go wrong while reading or parsing one source file, or the run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The source folder itself cannot be read.
    #[error("无法读取源目录 {path}：{source}")]
    SourceDir {
        /// The folder.
        path: PathBuf,
        /// The I/O cause.
        source: std::io::Error,
    },
    /// A file could not be read from disk.
    #[error("无法读取文件：{0}")]
    Io(#[from] std::io::Error),
    /// The file is empty (or holds only whitespace).
    #[error("文件为空")]
    Empty,
    /// The file exceeds the size cap.
    #[error("文件过大（{size} 字节，上限 {limit} 字节），未处理")]
    TooLarge {
        /// Size in bytes.
        size: u64,
        /// Configured cap in bytes.
        limit: u64,
    },
    /// Bytes that are not text in any supported encoding.
    #[error("文件不是可识别的文本（既非 UTF-8 也非 GB18030，疑似二进制文件改了扩展名）")]
    NotText,
    /// A DOCX that is not a valid zip / Word document.
    #[error("DOCX 文件损坏或不完整：{0}")]
    BadDocx(String),
    /// HTML that yields no content.
    #[error("HTML 页面中没有找到正文")]
    NoHtmlContent,
    /// An external tool (tesseract, pdftotext, pdftoppm) is not installed.
    #[error("未找到外部程序 {tool}，无法处理此文件；请安装：{hint}")]
    MissingTool {
        /// Program name.
        tool: &'static str,
        /// How to install it.
        hint: &'static str,
    },
    /// An image or a scanned PDF needs OCR and OCR is switched off: the file is skipped, not
    /// failed.
    #[error("OCR 已关闭，图片或扫描件需要 OCR 才能读取，已跳过")]
    OcrDisabled,
    /// An external tool failed or timed out.
    #[error("外部程序 {tool} 处理失败：{message}")]
    ToolFailed {
        /// Program name.
        tool: &'static str,
        /// What happened.
        message: String,
    },
    /// A structured record (jsonl / csv line) could not be parsed.
    #[error("第 {line} 行记录无法解析：{message}")]
    BadRecord {
        /// 1-based line.
        line: usize,
        /// Parser message.
        message: String,
    },
    /// The front matter or a `.meta.toml` is not valid TOML.
    #[error("TOML 元数据无法解析：{0}")]
    BadToml(String),
    /// A gold file for the metadata evaluation is malformed.
    #[error("评测标注文件 {path} 第 {line} 行无法解析：{message}")]
    BadGold {
        /// Gold file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// Parser message.
        message: String,
    },
    /// `strict` was set and the run produced errors.
    #[error("严格模式：{count} 个文件处理失败（首个：{first}）")]
    Strict {
        /// Number of errors.
        count: usize,
        /// The first error, `file: message`.
        first: String,
        /// The full report, so a CLI can still print it.
        report: Box<crate::pipeline::IngestReport>,
    },
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
