//! The material reader of the service: the ingest crate's readers (pdftotext, tesseract
//! `chi_sim`) behind `spawn_blocking`, with a deadline, on a private temporary file.

use async_trait::async_trait;
use std::io::Write;
use std::time::Duration;
use zhiban_agent_core::materials::{Attachment, FileKind, MaterialReader};
use zhiban_ingest::external::{ToolOptions, ocr_image, pdf_to_text};

/// OCR through the external tools.
#[derive(Debug, Clone)]
pub struct OcrReader {
    opts: ToolOptions,
}

impl Default for OcrReader {
    fn default() -> Self {
        let opts = ToolOptions {
            timeout: Duration::from_secs(30),
            ..ToolOptions::default()
        };
        OcrReader { opts }
    }
}

#[async_trait]
impl MaterialReader for OcrReader {
    async fn read(&self, a: &Attachment) -> Result<String, String> {
        let kind = a.kind().ok_or_else(|| "文件类型不支持".to_string())?;
        let ext = match kind {
            FileKind::Png => "png",
            FileKind::Jpeg => "jpg",
            FileKind::Tiff => "tif",
            FileKind::Pdf => "pdf",
        };
        let (bytes, opts) = (a.content.clone(), self.opts.clone());
        let task = tokio::task::spawn_blocking(move || -> Result<String, String> {
            let mut f = tempfile::Builder::new()
                .suffix(&format!(".{ext}"))
                .tempfile()
                .map_err(|e| format!("无法写临时文件：{e}"))?;
            f.write_all(&bytes)
                .map_err(|e| format!("无法写临时文件：{e}"))?;
            let path = f.path().to_path_buf();
            let out = match kind {
                FileKind::Pdf => pdf_to_text(&path, &opts).map(|t| t.text),
                _ => ocr_image(&path, &opts),
            };
            out.map_err(|e| e.to_string())
        });
        match tokio::time::timeout(self.opts.timeout + Duration::from_secs(5), task).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err("识别任务异常中止".into()),
            Err(_) => Err("识别超时".into()),
        }
    }
}
