//! Materials read by real OCR: the scanned 月养老金收入证明 fixtures of `tests/data/materials`
//! (rendered by `scripts/render_certificates.py`: grey paper, rotation, speckle, a seal over the
//! issuer) go through the service's reader — tesseract `chi_sim`, and pdftoppm for a scanned PDF
//! — and then the recogniser of the 支内 flow, as an upload in a session would.

use chrono::NaiveDate;
use serde_json::json;
use zeroize::Zeroizing;
use zhiban_agent_core::materials::{Attachment, recognise};
use zhiban_agent_core::session::Material;
use zhiban_agent_core::spec::{Step, builtin};
use zhiban_api::ocr::OcrReader;

const REQUIRE_ENV: &str = "ZHIBAN_REQUIRE_EXTERNAL";

fn tools_present() -> bool {
    let have = |t: &str| std::process::Command::new(t).arg("-v").output().is_ok();
    if have("tesseract") && have("pdftoppm") {
        return true;
    }
    let why = "skipped: tesseract or pdftoppm is not installed (scripts/setup.sh installs them)";
    assert!(
        std::env::var(REQUIRE_ENV).as_deref() != Ok("1"),
        "{why}, and {REQUIRE_ENV}=1 requires them"
    );
    eprintln!("{why}");
    false
}

fn pension_step() -> Step {
    builtin()
        .unwrap()
        .into_iter()
        .find(|f| f.id == "zhinei_hardship_subsidy")
        .unwrap()
        .step("月养老金")
        .unwrap()
        .clone()
}

async fn read(file: &str, mime: &str, applicant: &str) -> Material {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/materials")
        .join(file);
    let a = Attachment {
        reference: "A1".into(),
        filename: file.into(),
        mime: mime.into(),
        content: std::fs::read(&path).unwrap(),
    };
    let today = NaiveDate::from_ymd_opt(2026, 11, 15).unwrap();
    let name = Some(Zeroizing::new(applicant.to_string()));
    recognise(&OcrReader::default(), &pension_step(), &a, today, &name).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photographed_certificate_is_read_and_its_fields_extracted() {
    if !tools_present() {
        return;
    }
    let m = read("pension_huang.png", "image/png", "黄建华").await;
    assert_eq!(m.status, "accepted", "{:?}", m.reason);
    let e = m.extracted.unwrap();
    assert_eq!(e["月基本养老金"], json!(3500.0));
    assert_eq!(e["出具日期"], json!("2026-11-03"));
    assert_eq!(e["姓名"], json!("黄建华"));
    assert!(
        e["出具单位"]
            .as_str()
            .unwrap()
            .starts_with("贵州省社会保险"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scanned_pdf_without_a_text_layer_is_read_by_ocr() {
    if !tools_present() {
        return;
    }
    let m = read("pension_huang_scan.pdf", "application/pdf", "黄建华").await;
    assert_eq!(m.status, "accepted", "{:?}", m.reason);
    assert_eq!(m.extracted.unwrap()["月基本养老金"], json!(3500.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_elses_certificate_and_an_illegible_photo_are_rejected_with_the_reason() {
    if !tools_present() {
        return;
    }
    let m = read("pension_ma.png", "image/png", "黄建华").await;
    assert_eq!(m.status, "rejected");
    assert!(
        m.reason.as_deref().unwrap().contains("姓名与申请人不一致"),
        "{m:?}"
    );
    // The same scan for its holder is accepted: the rejection was the name, not the OCR.
    let m = read("pension_ma.png", "image/png", "马秀兰").await;
    assert_eq!(m.status, "accepted", "{:?}", m.reason);
    assert_eq!(m.extracted.unwrap()["月基本养老金"], json!(4800.0));

    let m = read("pension_huang_blurred.png", "image/png", "黄建华").await;
    assert_eq!(m.status, "rejected");
    let why = m.reason.unwrap();
    assert!(
        why.contains("无法辨认") || why.contains("无法识别"),
        "an illegible photo must be asked again, got: {why}"
    );
}
