//! PDFs and images through external programs: `pdftotext` for the text layer,
//! `pdftoppm` + `tesseract -l chi_sim` for pages without one. Every call runs with a
//! timeout and writes to a temporary directory, so a stuck tool cannot block a run.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

use crate::error::{Error, Result};

const POPPLER_HINT: &str = "apt-get install -y poppler-utils";
const TESSERACT_HINT: &str = "apt-get install -y tesseract-ocr tesseract-ocr-chi-sim";

/// A page needs OCR when its text layer has fewer visible characters than this.
const MIN_PAGE_CHARS: usize = 10;

/// Settings for the external tools.
#[derive(Debug, Clone)]
pub struct ToolOptions {
    /// Run OCR at all (images and text-less PDF pages).
    pub ocr: bool,
    /// Limit per tool invocation.
    pub timeout: Duration,
    /// tesseract language.
    pub ocr_lang: String,
    /// Program names or paths (overridable so deployments and tests can point
    /// elsewhere).
    pub tesseract: String,
    /// See `tesseract`.
    pub pdftotext: String,
    /// See `tesseract`.
    pub pdftoppm: String,
}

impl Default for ToolOptions {
    fn default() -> Self {
        ToolOptions {
            ocr: true,
            timeout: Duration::from_secs(120),
            ocr_lang: "chi_sim".into(),
            tesseract: "tesseract".into(),
            pdftotext: "pdftotext".into(),
            pdftoppm: "pdftoppm".into(),
        }
    }
}

fn run(tool: &'static str, hint: &'static str, cmd: &mut Command, timeout: Duration) -> Result<()> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::MissingTool { tool, hint }
            } else {
                Error::ToolFailed {
                    tool,
                    message: e.to_string(),
                }
            }
        })?;
    match child.wait_timeout(timeout)? {
        Some(status) if status.success() => Ok(()),
        Some(status) => {
            let mut err = String::new();
            if let Some(mut s) = child.stderr.take() {
                use std::io::Read;
                let _ = s.read_to_string(&mut err);
            }
            let msg: String = err.lines().take(3).collect::<Vec<_>>().join("；");
            Err(Error::ToolFailed {
                tool,
                message: format!("退出码 {status}：{msg}"),
            })
        }
        None => {
            let _ = child.kill();
            let _ = child.wait();
            Err(Error::ToolFailed {
                tool,
                message: format!("超过 {} 秒未完成，已终止", timeout.as_secs()),
            })
        }
    }
}

/// Whether a program can be started (used by tests to skip politely).
pub fn tool_available(tool: &str) -> bool {
    Command::new(tool)
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// OCRs one image file with tesseract.
///
/// # Errors
/// [`Error::MissingTool`] when tesseract is absent, [`Error::ToolFailed`] on failure
/// or timeout.
pub fn ocr_image(path: &Path, opts: &ToolOptions) -> Result<String> {
    let dir = tempfile::tempdir()?;
    let base = dir.path().join("ocr");
    // A PNG in colour goes to tesseract with its red seals lifted; any other image,
    // or one the PNG reader cannot take, goes as it is.
    let lifted = dir.path().join("lifted.ppm");
    let liftable = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png") || e.eq_ignore_ascii_case("ppm"));
    let input = if liftable && crate::seal::lift_seals(path, &lifted).unwrap_or(false) {
        lifted.as_path()
    } else {
        path
    };
    run(
        "tesseract",
        TESSERACT_HINT,
        Command::new(&opts.tesseract)
            .env("OMP_THREAD_LIMIT", "1")
            .arg(input)
            .arg(&base)
            .args(["-l", &opts.ocr_lang, "--psm", "6"]),
        opts.timeout,
    )?;
    let text = std::fs::read_to_string(base.with_extension("txt"))?;
    Ok(text)
}

/// Result of reading a PDF.
#[derive(Debug, Clone, Default)]
pub struct PdfText {
    /// Pages separated by form feeds.
    pub text: String,
    /// Number of pages.
    pub pages: usize,
    /// Pages that went through OCR.
    pub ocr_pages: usize,
}

/// Reads a PDF's text layer; pages with (almost) no text are rendered at 300 dpi
/// and OCRed.
///
/// # Errors
/// [`Error::MissingTool`] when pdftotext is absent (or, for scanned pages, pdftoppm
/// or tesseract), [`Error::ToolFailed`] for broken PDFs.
pub fn pdf_to_text(path: &Path, opts: &ToolOptions) -> Result<PdfText> {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("layer.txt");
    run(
        "pdftotext",
        POPPLER_HINT,
        Command::new(&opts.pdftotext)
            .args(["-layout", "-enc", "UTF-8"])
            .arg(path)
            .arg(&out),
        opts.timeout,
    )?;
    let layer = std::fs::read_to_string(&out)?;
    let mut pages: Vec<String> = layer.split('\u{c}').map(str::to_string).collect();
    // pdftotext ends the last page with a form feed too.
    if pages.len() > 1 && pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    let mut ocr_pages = 0;
    for (i, page) in pages.iter_mut().enumerate() {
        if page.chars().filter(|c| !c.is_whitespace()).count() >= MIN_PAGE_CHARS {
            continue;
        }
        if !opts.ocr {
            continue;
        }
        let n = (i + 1).to_string();
        let prefix = dir.path().join(format!("p{n}"));
        run(
            "pdftoppm",
            POPPLER_HINT,
            Command::new(&opts.pdftoppm)
                .args([
                    "-r",
                    "300",
                    // In colour, so that the seals can be told from the text; as PPM,
                    // which costs no compression on the way to tesseract.
                    "-f",
                    &n,
                    "-l",
                    &n,
                    "-singlefile",
                ])
                .arg(path)
                .arg(&prefix),
            opts.timeout,
        )?;
        *page = ocr_image(&prefix.with_extension("ppm"), opts)?;
        ocr_pages += 1;
    }
    Ok(PdfText {
        pages: pages.len(),
        text: pages.join("\u{c}"),
        ocr_pages,
    })
}
