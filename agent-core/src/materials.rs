//! Materials: an uploaded image or PDF is read (OCR behind [`MaterialReader`]), recognised as
//! the kind of document the step asks for, and — for the 月养老金收入证明 — its fields are
//! extracted: issuer, 月基本养老金, 出具日期, and the name, matched against the applicant.
//!
//! A material is rejected with a specific reason when it is illegible, of the wrong kind, too
//! old for the rule, or issued for someone else; the resident then sees what was read and may
//! upload again.

use async_trait::async_trait;
use base64::Engine as _;
use chrono::NaiveDate;
use regex::Regex;
use serde_json::{Map, Value, json};
use std::sync::LazyLock;
use zeroize::Zeroizing;

use crate::engine::{EngineError, MAX_ATTACHMENT_BYTES};
use crate::session::Material;
use crate::spec::Step;

/// An attachment as a message carries it.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// The client's reference (`A1`).
    pub reference: String,
    /// File name (a fallback for the type).
    pub filename: String,
    /// MIME type.
    pub mime: String,
    /// Bytes.
    pub content: Vec<u8>,
}

/// The kinds of file a material may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// TIFF.
    Tiff,
    /// PDF.
    Pdf,
}

impl Attachment {
    /// From the contract's JSON fields.
    ///
    /// # Errors
    /// [`EngineError::BadInput`] for bad base64.
    pub fn from_base64(
        reference: &str,
        filename: &str,
        mime: &str,
        b64: &str,
    ) -> Result<Self, EngineError> {
        let content = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|_| {
                EngineError::BadInput(format!(
                    "附件 {reference} 的 content_base64 不是有效的 Base64 编码"
                ))
            })?;
        Ok(Attachment {
            reference: reference.to_string(),
            filename: filename.to_string(),
            mime: mime.to_string(),
            content,
        })
    }

    /// The file's kind: the MIME type decides, the file name is a fallback.
    pub fn kind(&self) -> Option<FileKind> {
        let by_mime = match self.mime.trim().to_ascii_lowercase().as_str() {
            "image/png" => Some(FileKind::Png),
            "image/jpeg" | "image/jpg" => Some(FileKind::Jpeg),
            "image/tiff" => Some(FileKind::Tiff),
            "application/pdf" => Some(FileKind::Pdf),
            _ => None,
        };
        by_mime.or_else(|| {
            let f = self.filename.to_ascii_lowercase();
            if f.ends_with(".png") {
                Some(FileKind::Png)
            } else if f.ends_with(".jpg") || f.ends_with(".jpeg") {
                Some(FileKind::Jpeg)
            } else if f.ends_with(".tif") || f.ends_with(".tiff") {
                Some(FileKind::Tiff)
            } else if f.ends_with(".pdf") {
                Some(FileKind::Pdf)
            } else {
                None
            }
        })
    }

    /// Bounds of the contract: PNG, JPEG, TIFF or PDF, at most 10 MB.
    ///
    /// # Errors
    /// [`EngineError::BadInput`].
    pub fn check(&self) -> Result<(), EngineError> {
        if self.content.len() > MAX_ATTACHMENT_BYTES {
            return Err(EngineError::BadInput(format!(
                "附件 {} 超过 10 MB",
                self.reference
            )));
        }
        if self.content.is_empty() {
            return Err(EngineError::BadInput(format!(
                "附件 {} 是空文件",
                self.reference
            )));
        }
        if self.kind().is_none() {
            return Err(EngineError::BadInput(format!(
                "附件 {} 的类型不支持：只接受 PNG、JPEG、TIFF 图片或 PDF",
                self.reference
            )));
        }
        Ok(())
    }
}

/// Reads the text of an attachment (OCR for images and scans, the text layer of a PDF).
#[async_trait]
pub trait MaterialReader: Send + Sync + std::fmt::Debug {
    /// The text, or why it could not be read (Chinese).
    async fn read(&self, a: &Attachment) -> Result<String, String>;
}

/// A reader for tests and for deployments without OCR: a PDF's text layer is not parsed, only
/// bytes that are UTF-8 text (a scanned test fixture written as text) are read.
#[derive(Debug, Default, Clone)]
pub struct TextOnlyReader;

#[async_trait]
impl MaterialReader for TextOnlyReader {
    async fn read(&self, a: &Attachment) -> Result<String, String> {
        match std::str::from_utf8(&a.content) {
            Ok(t) if !t.trim().is_empty() => Ok(t.to_string()),
            _ => Err("未配置 OCR，无法读取图片内容".into()),
        }
    }
}

static AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    // OCR puts stray separators into amounts (`3,.500.00`, `3 500;00`), so the number is taken
    // loosely here and rebuilt by `ocr_amount`.
    Regex::new(r"(?:月基本养老金|基本养老金|月养老金|养老金月?(?:发放)?(?:金额|标准)?)[^0-9０-９]{0,12}([0-9０-９][0-9０-９,，.．;；:：'’`]*[0-9０-９])\s*元").unwrap_or_else(|_| unreachable_regex())
});
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([12][0-9]{3})\s*[年\-/.]\s*([0-9]{1,2})\s*[月\-/.]\s*([0-9]{1,2})\s*日?")
        .unwrap_or_else(|_| unreachable_regex())
});
static ISSUER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([\p{Han}]{2,30}(?:社会保险事业管理(?:局|中心)|社会保险(?:经办)?(?:中心|局|处)|人力资源和社会保障局|社保(?:局|中心)|养老保险(?:经办)?(?:中心|局)))").unwrap_or_else(|_| unreachable_regex())
});
static NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:姓\s*名|兹证明|证明)[：:\s]*([\p{Han}]{2,4}?)(?:[，,（(\s]|同志|先生|女士|，身份|身份证|系)").unwrap_or_else(|_| unreachable_regex())
});

// The patterns above are literals checked by the tests; this keeps the request path free of
// `unwrap` while a typo would still fail loudly in CI.
fn unreachable_regex() -> Regex {
    Regex::new("$^").unwrap_or_else(|_| std::process::abort())
}

fn ascii_digits(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
            '．' => Some('.'),
            ',' | '，' => None,
            c => Some(c),
        })
        .collect()
}

fn is_han(c: char) -> bool {
    zhiban_knowledge::analysis::is_cjk(c) || matches!(c, '（' | '）')
}

/// An amount as OCR printed it: separators anywhere, the decimal point (if any) being the last
/// separator followed by one or two digits at the end (`3,.500.00` → 3500, `4 800;00` → 4800).
fn ocr_amount(raw: &str) -> Option<f64> {
    let s = ascii_digits(raw);
    let sep = |c: char| !c.is_ascii_digit();
    let (int_part, frac) = match s.rfind(sep) {
        Some(i) if (1..=2).contains(&(s.len() - i - 1)) => (&s[..i], &s[i + 1..]),
        _ => (s.as_str(), ""),
    };
    let digits: String = int_part.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 7 {
        return None;
    }
    format!("{digits}.{}", if frac.is_empty() { "0" } else { frac })
        .parse()
        .ok()
}

/// The issuing body. The full name anywhere in the text first; then the signature zone (落款):
/// from the end, the first short line without digits that names a social-insurance body. A seal
/// printed over the signature often eats the end of the name (`贵州省社会保险剂`), and the
/// resident is shown what was read.
fn issuer(text: &str, compact: &str) -> Option<String> {
    if let Some(m) = ISSUER.captures(compact).and_then(|c| c.get(1)) {
        return Some(m.as_str().to_string());
    }
    const BODIES: [&str; 4] = ["社会保险", "社保", "人力资源和社会保障", "养老保险"];
    text.lines()
        .rev()
        .filter(|l| !l.trim().is_empty())
        .take(4)
        .find_map(|l| {
            // OCR surrounds the name with digits and marks from the seal and the date line
            // (`1   本 贵州省社会保险刘业管车`): the name is the run of Chinese (spaces allowed,
            // as in `上海市 社会保险 事业管理`) that holds the body's word.
            l.split(|c: char| !(is_han(c) || c.is_whitespace()))
                .map(|seg| seg.split_whitespace().collect::<String>())
                .find(|seg| {
                    (4..=30).contains(&seg.chars().count())
                        && BODIES.iter().any(|k| seg.contains(k))
                })
        })
}

/// Read, recognise and (for certificates) extract one material.
pub async fn recognise(
    reader: &dyn MaterialReader,
    step: &Step,
    a: &Attachment,
    today: NaiveDate,
    applicant_name: &Option<Zeroizing<String>>,
) -> Material {
    let rejected = |reason: String| Material {
        kind: step.id.clone(),
        reference: a.reference.clone(),
        status: "rejected".into(),
        reason: Some(reason),
        extracted: None,
    };
    let text = match reader.read(a).await {
        Ok(t) => t,
        Err(why) => {
            return rejected(format!(
                "无法识别文件内容（{why}），请上传清晰的照片或扫描件"
            ));
        }
    };
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.chars().count() < 8 {
        return rejected("文件内容无法辨认，请在光线充足处重新拍摄，保证文字清晰完整".into());
    }
    if !step.keywords.is_empty() && !step.keywords.iter().any(|k| compact.contains(k.as_str())) {
        return rejected(format!(
            "上传的文件看起来不是{}（未找到“{}”等字样），请确认后重新上传",
            step.id,
            step.keywords.join("”“")
        ));
    }
    let mut extracted = Map::new();
    if step.recognise.as_deref() == Some("pension_certificate") {
        let amount = AMOUNT
            .captures(&compact)
            .and_then(|c| c.get(1))
            .and_then(|m| ocr_amount(m.as_str()));
        let Some(amount) = amount else {
            return rejected("证明上没有识别到月基本养老金金额，请上传完整的养老金收入证明".into());
        };
        let issued = DATE
            .captures_iter(&ascii_digits(&compact))
            .filter_map(|c| {
                let y = c.get(1)?.as_str().parse().ok()?;
                let m = c.get(2)?.as_str().parse().ok()?;
                let d = c.get(3)?.as_str().parse().ok()?;
                NaiveDate::from_ymd_opt(y, m, d)
            })
            .filter(|d| *d <= today)
            .max();
        let Some(issued) = issued else {
            return rejected("证明上没有识别到出具日期，请上传带出具日期和盖章的证明".into());
        };
        if let Some(max) = step.max_age_days
            && (today - issued).num_days() > max
        {
            return rejected(format!(
                "证明出具于 {issued}，已超过 {max} 天，请提供近期出具的月养老金收入证明"
            ));
        }
        if let Some(issuer) = issuer(&text, &compact) {
            extracted.insert("出具单位".into(), Value::String(issuer));
        } else {
            return rejected(
                "证明上没有识别到出具单位（社保经办机构），请上传盖章完整的证明".into(),
            );
        }
        let name = NAME
            .captures(&compact)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_string());
        match (name, applicant_name) {
            (Some(n), Some(app)) if n != app.as_str() => {
                return rejected(
                    "证明上的姓名与申请人不一致，请上传申请人本人的养老金收入证明".into(),
                );
            }
            (Some(n), _) => {
                extracted.insert("姓名".into(), Value::String(n));
            }
            (None, _) => {
                return rejected("证明上没有识别到姓名，请上传完整的证明".into());
            }
        }
        extracted.insert("月基本养老金".into(), json!(amount));
        extracted.insert("出具日期".into(), Value::String(issued.to_string()));
    }
    Material {
        kind: step.id.clone(),
        reference: a.reference.clone(),
        status: "accepted".into(),
        reason: None,
        extracted: (!extracted.is_empty()).then_some(Value::Object(extracted)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step() -> Step {
        let spec = crate::spec::builtin().unwrap();
        spec.iter()
            .find(|f| f.id == "zhinei_hardship_subsidy")
            .unwrap()
            .step("月养老金")
            .unwrap()
            .clone()
    }

    fn att(text: &str) -> Attachment {
        Attachment {
            reference: "A1".into(),
            filename: "cert.png".into(),
            mime: "image/png".into(),
            content: text.as_bytes().to_vec(),
        }
    }

    const CERT: &str = "养老金收入证明\n兹证明 周建华 同志，身份证号码 520102195403120013，\n系我省企业退休人员，自2014年4月起按月领取基本养老金。\n2026年10月月基本养老金为 3,650.00 元。\n特此证明。\n贵州省社会保险事业管理局\n2026年11月3日";

    #[tokio::test]
    async fn a_pension_certificate_yields_issuer_amount_and_date() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let name = Some(Zeroizing::new("周建华".to_string()));
        let m = recognise(&TextOnlyReader, &step(), &att(CERT), today, &name).await;
        assert_eq!(m.status, "accepted", "{:?}", m.reason);
        let e = m.extracted.unwrap();
        assert_eq!(e["月基本养老金"], json!(3650.0));
        assert_eq!(e["出具日期"], json!("2026-11-03"));
        assert_eq!(e["出具单位"], json!("贵州省社会保险事业管理局"));
    }

    #[tokio::test]
    async fn someone_elses_or_an_old_certificate_is_rejected_with_the_reason() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let other = Some(Zeroizing::new("李桂英".to_string()));
        let m = recognise(&TextOnlyReader, &step(), &att(CERT), today, &other).await;
        assert_eq!(m.status, "rejected");
        assert!(m.reason.unwrap().contains("姓名"));
        let later = NaiveDate::from_ymd_opt(2027, 9, 1).unwrap();
        let name = Some(Zeroizing::new("周建华".to_string()));
        let m = recognise(&TextOnlyReader, &step(), &att(CERT), later, &name).await;
        assert!(m.reason.unwrap().contains("已超过"));
    }

    #[tokio::test]
    async fn the_wrong_kind_of_document_is_named() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let m = recognise(
            &TextOnlyReader,
            &step(),
            &att("上海市居住证 有效期限 2024年至2027年 持证人信息"),
            today,
            &None,
        )
        .await;
        assert!(m.reason.unwrap().contains("不是月养老金"));
    }

    /// What tesseract 5 (`chi_sim`) printed for the rendered scans of
    /// `api/tests/data/materials` (a seal over the issuer, 日 read as 昌, a stray separator).
    const OCR_HUANG: &str = "“养老金收入证明\n\n效证明黄建华 (居民身份证号码 : 31011019440812455X) ，\n系我省企业退休人员，自2004年9月起按月领取基本养老金 ，\n2026年10月月 基本养老金为3,.500.00元。\n特此证明。\n\n贵州省社会保险剂\n2026年11月3日";
    const OCR_MA: &str = "养老金收入证明\n\n效证明马秀兰 (居民身份证号码 : 310109194801260624) ，\n\n“系我省企业退休人人员，自2003年2月起按月领取基本养老金 ，\n2026年10月月基本养老金为4,800.00元。\n特此证明。\n\n江西省社会保险\n2026年10月28昌";

    #[tokio::test]
    async fn ocr_damage_in_amount_date_and_issuer_is_read_through() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 15).unwrap();
        let name = Some(Zeroizing::new("黄建华".to_string()));
        let m = recognise(&TextOnlyReader, &step(), &att(OCR_HUANG), today, &name).await;
        assert_eq!(m.status, "accepted", "{:?}", m.reason);
        let e = m.extracted.unwrap();
        assert_eq!(e["月基本养老金"], json!(3500.0));
        assert_eq!(e["出具日期"], json!("2026-11-03"));
        assert_eq!(e["出具单位"], json!("贵州省社会保险剂"));
        let name = Some(Zeroizing::new("马秀兰".to_string()));
        let m = recognise(&TextOnlyReader, &step(), &att(OCR_MA), today, &name).await;
        assert_eq!(m.status, "accepted", "{:?}", m.reason);
        let e = m.extracted.unwrap();
        assert_eq!(e["月基本养老金"], json!(4800.0));
        assert_eq!(e["出具日期"], json!("2026-10-28"));
    }

    #[test]
    fn amounts_are_rebuilt_from_ocr_separators() {
        for (raw, want) in [
            ("3,.500.00", Some(3500.0)),
            ("3500", Some(3500.0)),
            ("3,650.5", Some(3650.5)),
            ("4 800;00", Some(4800.0)),
            ("４，８００．００", Some(4800.0)),
            ("12,345,678", None),
        ] {
            assert_eq!(ocr_amount(raw), want, "{raw}");
        }
    }

    #[test]
    fn the_issuer_is_taken_from_the_signature_zone_not_the_body() {
        let body = "兹证明某某参加基本养老保险\n2026年10月月基本养老金为3500元\n特此证明\n上海市某区某街道\n2026年11月1日";
        assert_eq!(issuer(body, &body.replace('\n', "")), None);
        let signed = "特此证明\n  上海市 社会保险 事业管理\n2026年11月1日";
        assert_eq!(
            issuer(signed, &signed.replace(['\n', ' '], "")).as_deref(),
            Some("上海市社会保险事业管理")
        );
        let noisy = "”特此证明。   Ta      AN\n\n  1   本 贵州省社会保险刘业管车\n0   ”2026年11月3日N    人";
        assert_eq!(
            issuer(noisy, &noisy.replace(['\n', ' '], "")).as_deref(),
            Some("本贵州省社会保险刘业管车")
        );
    }

    #[test]
    fn the_mime_decides_and_the_file_name_is_a_fallback() {
        let mut a = att("x");
        a.mime = "application/octet-stream".into();
        a.filename = "scan.PDF".into();
        assert_eq!(a.kind(), Some(FileKind::Pdf));
        a.filename = "scan.docx".into();
        assert!(a.check().is_err());
    }
}
