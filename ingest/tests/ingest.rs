//! End-to-end ingestion of a mixed folder, malformed inputs and re-ingest reuse.

mod common;

use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use zhiban_ingest::{Error, IngestOptions, PreviousState, ingest_folder};
use zhiban_knowledge::{DocKind, Document, EndReason, Level, Status};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn by_file<'a>(docs: &'a [Document], file: &str) -> &'a Document {
    docs.iter()
        .find(|d| d.meta.source_file == file)
        .unwrap_or_else(|| panic!("no document for {file}"))
}

fn opts() -> IngestOptions {
    IngestOptions {
        threads: 2,
        ..Default::default()
    }
}

#[test]
fn mixed_folder_is_ingested_with_metadata_links_and_masking() {
    let dir = common::mixed_folder();
    let out = ingest_folder(dir.path(), &opts(), None).unwrap();
    let r = &out.report;
    assert_eq!(r.documents.get("policy"), Some(&4), "{r:#?}");
    assert_eq!(r.documents.get("guide"), Some(&1));
    assert_eq!(r.documents.get("case"), Some(&2));
    assert_eq!(r.documents.get("catalog"), Some(&3));
    // The one malformed case line is reported; everything else went in.
    assert_eq!(r.errors.len(), 1, "{:#?}", r.errors);
    assert_eq!(r.errors[0].file, "cases/cases.jsonl");
    assert!(
        r.errors[0].message.contains("第 3 行"),
        "{}",
        r.errors[0].message
    );

    // OCR-style text: furniture gone, confusions repaired, metadata extracted.
    let ocr = by_file(&out.documents, "policies/shiye-ocr.txt");
    let m = &ocr.meta;
    assert_eq!(m.kind, Some(DocKind::Policy));
    assert_eq!(
        m.title,
        "上海市人力资源和社会保障局关于做好失业保险金申领工作的通知"
    );
    assert_eq!(m.doc_number.as_deref(), Some("沪人社规〔2024〕12号"));
    assert_eq!(m.issuer.as_deref(), Some("上海市人力资源和社会保障局"));
    assert_eq!(m.level, Some(Level::NormativeDocument));
    assert_eq!(m.published, Some(d("2024-04-22")));
    assert_eq!(m.effective, Some(d("2024-05-01")));
    assert_eq!(m.expires, Some(d("2029-04-30")));
    let all: String = ocr
        .chunks
        .iter()
        .map(|c| c.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!all.contains("页 共"), "{all}");
    assert_eq!(all.matches("保障局文件").count(), 0, "{all}");
    assert!(all.contains("已经办理失业登记"), "{all}");
    assert!(
        all.contains("在受理之日起五个工作日内"),
        "hard break not rejoined: {all}"
    );
    let labels: Vec<Option<&str>> = ocr.chunks.iter().map(|c| c.article.as_deref()).collect();
    assert_eq!(
        labels,
        vec![
            None,
            Some("一、（一）"),
            Some("一、（二）"),
            Some("二、"),
            Some("三、")
        ]
    );
    assert_eq!(
        ocr.chunks[2].path,
        vec!["一、申领条件".to_string(), "（二）".to_string()]
    );

    // The 2019 rule is repealed by the 2024 notice from its 施行 day on.
    let old = by_file(&out.documents, "policies/shiye-2019.txt");
    assert_eq!(old.meta.ended, Some(d("2024-05-01")));
    assert_eq!(old.meta.end_reason, Some(EndReason::Repealed));
    assert_eq!(
        old.meta.superseded_by.as_deref(),
        Some(ocr.meta.doc_id.as_str())
    );
    assert_eq!(old.meta.status_on(d("2023-01-01")), Status::InForce);
    assert_eq!(old.meta.status_on(d("2024-05-01")), Status::Repealed);
    assert_eq!(old.meta.expires, Some(d("2024-06-30")));

    // Crawled page: chrome dropped, info box and sidecar used, table kept as rows.
    let html = by_file(&out.documents, "policies/yanglao.html");
    assert_eq!(html.meta.title, "上海市养老服务补贴实施细则");
    assert_eq!(html.meta.doc_number.as_deref(), Some("沪民规〔2024〕3号"));
    assert_eq!(html.meta.issuer.as_deref(), Some("上海市民政局"));
    assert_eq!(html.meta.published, Some(d("2024-03-15")));
    assert_eq!(html.meta.effective, Some(d("2024-04-01")));
    assert_eq!(html.meta.keywords, vec!["养老服务补贴", "照护等级"]);
    assert_eq!(html.meta.department.as_deref(), Some("市民政局"));
    assert_eq!(html.article_count(), 4);
    let art3 = html
        .chunks
        .iter()
        .find(|c| c.article.as_deref() == Some("第三条"))
        .unwrap();
    assert_eq!(
        art3.path,
        vec!["第二章 补贴标准".to_string(), "第三条".to_string()]
    );
    assert!(art3.text.contains("二级至三级 | 300元"), "{}", art3.text);
    let html_all: String = html.chunks.iter().map(|c| c.text.as_str()).collect();
    for chrome in [
        "首页",
        "ICP",
        "版权所有",
        "打印本页",
        "相关链接",
        "window.track",
    ] {
        assert!(!html_all.contains(chrome), "{chrome} left in {html_all}");
    }

    // DOCX built in the test: tables in order, metadata from the text.
    let docx = by_file(&out.documents, "policies/jujia-yanghu.docx");
    assert_eq!(docx.meta.doc_number.as_deref(), Some("沪残联规〔2025〕2号"));
    assert_eq!(docx.meta.published, Some(d("2025-03-18")));
    assert!(
        docx.chunks
            .iter()
            .any(|c| c.article.as_deref() == Some("一、") && c.text.contains("一级 | 600元"))
    );
    assert!(!docx.meta.keywords.is_empty() && docx.meta.keywords.len() <= 8);

    // Guide sections.
    let guide = by_file(&out.documents, "guides/SQ-RS-001-01.md");
    assert_eq!(guide.meta.matter_codes, vec!["SQ-RS-001"]);
    assert_eq!(
        guide.meta.extra.get("situation").map(String::as_str),
        Some("首次失业登记")
    );
    let heads: Vec<&str> = guide
        .chunks
        .iter()
        .filter_map(|c| c.article.as_deref())
        .collect();
    assert_eq!(
        heads,
        vec!["一、适用情形", "二、受理系统操作步骤", "三、所需材料"]
    );

    // Cases and tickets are masked.
    let case = by_file(&out.documents, "cases/cases.jsonl#AL-2025-0001");
    let text: String = case.chunks.iter().map(|c| c.text.as_str()).collect();
    assert!(
        !text.contains("张建国") && !text.contains("13812345678") && !text.contains("李明"),
        "{text}"
    );
    assert!(text.contains("张**") && text.contains("[手机号]"), "{text}");
    assert_eq!(
        case.meta.extra.get("case_tags").map(String::as_str),
        Some("反复办理")
    );
    let ticket = by_file(&out.documents, "catalog/tickets.csv#T-0001");
    assert!(!ticket.chunks[0].text.contains("赵小红") && !ticket.chunks[0].text.contains("孙丽"));

    // Alias tables from the catalog.
    assert_eq!(
        out.expansions.get("支内回沪补贴"),
        Some(&vec![
            "本市支援外地建设退休（职）回沪定居人员帮困补助".to_string()
        ])
    );
    assert!(out.dictionary.iter().any(|(w, _, _)| w == "支内回沪补贴"));
    assert!(out.dictionary.iter().any(|(w, _, _)| w == "失业登记"));

    // Every document records its file hash; hashes cover every ingested file.
    assert!(
        out.documents
            .iter()
            .all(|d| d.meta.extra.contains_key("source_hash"))
    );
    assert_eq!(out.file_hashes.len(), 8);
}

#[test]
fn malformed_inputs_each_get_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("policies");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(
        p.join("good.txt"),
        "某某通知\n沪民规〔2024〕1号\n一、内容\n甲。\n二、施行\n本通知自2024年1月1日起施行。",
    )
    .unwrap();
    let docx =
        zhiban_ingest::docx::build_docx(&[zhiban_ingest::docx::DocxBlock::Para("内容")]).unwrap();
    std::fs::write(p.join("truncated.docx"), &docx[..docx.len() / 2]).unwrap();
    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(p.join("binary.txt"), junk).unwrap();
    std::fs::write(p.join("empty.txt"), "").unwrap();
    let big = std::fs::File::create(p.join("huge.txt")).unwrap();
    big.set_len(50 * 1024 * 1024).unwrap();
    drop(big);

    let out = ingest_folder(dir.path(), &opts(), None).unwrap();
    assert_eq!(out.report.documents.get("policy"), Some(&1));
    let msg = |f: &str| {
        out.report
            .errors
            .iter()
            .find(|e| e.file == format!("policies/{f}"))
            .map(|e| e.message.clone())
            .unwrap_or_default()
    };
    assert_eq!(out.report.errors.len(), 4, "{:#?}", out.report.errors);
    assert!(
        msg("truncated.docx").contains("DOCX"),
        "{}",
        msg("truncated.docx")
    );
    assert!(
        msg("binary.txt").contains("不是可识别的文本"),
        "{}",
        msg("binary.txt")
    );
    assert!(msg("empty.txt").contains("为空"), "{}", msg("empty.txt"));
    assert!(msg("huge.txt").contains("过大"), "{}", msg("huge.txt"));

    let strict = IngestOptions {
        strict: true,
        ..opts()
    };
    match ingest_folder(dir.path(), &strict, None) {
        Err(Error::Strict { count, report, .. }) => {
            assert_eq!(count, 4);
            assert_eq!(report.documents.get("policy"), Some(&1));
        }
        other => panic!(
            "strict run should fail, got {:?}",
            other.map(|o| o.report.errors.len())
        ),
    }
}

#[test]
fn reingest_reuses_unchanged_files_and_replaces_changed_ones() {
    let dir = common::mixed_folder();
    let first = ingest_folder(dir.path(), &opts(), None).unwrap();
    assert_eq!(first.report.skipped_unchanged, 0);

    let prev = PreviousState::from_output(&first);
    let second = ingest_folder(dir.path(), &opts(), Some(&prev)).unwrap();
    assert_eq!(second.report.skipped_unchanged, first.file_hashes.len());
    let ids = |o: &zhiban_ingest::IngestOutput| {
        o.documents
            .iter()
            .map(|d| d.meta.doc_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&first), ids(&second));
    // Links are recomputed, not lost, on reuse.
    let old = by_file(&second.documents, "policies/shiye-2019.txt");
    assert_eq!(old.meta.end_reason, Some(EndReason::Repealed));

    // Change one file: only it is re-read; its old chunks are gone.
    let f = dir.path().join("policies/shiye-2019.txt");
    let text = std::fs::read_to_string(&f)
        .unwrap()
        .replace("制定本办法。", "制定本办法（修改后）。");
    std::fs::write(&f, text).unwrap();
    let prev = PreviousState::from_documents(second.documents.clone());
    let third = ingest_folder(dir.path(), &opts(), Some(&prev)).unwrap();
    assert_eq!(third.report.skipped_unchanged, first.file_hashes.len() - 1);
    let before = by_file(&second.documents, "policies/shiye-2019.txt");
    let after = by_file(&third.documents, "policies/shiye-2019.txt");
    assert_ne!(before.meta.doc_id, after.meta.doc_id);
    assert!(after.chunks.iter().any(|c| c.text.contains("修改后")));
    assert_eq!(
        third
            .documents
            .iter()
            .filter(|d| d.meta.source_file == "policies/shiye-2019.txt")
            .count(),
        1
    );
    assert_ne!(
        first.file_hashes["policies/shiye-2019.txt"],
        third.file_hashes["policies/shiye-2019.txt"]
    );

    // A removed file simply leaves the output.
    std::fs::remove_file(&f).unwrap();
    let fourth = ingest_folder(
        dir.path(),
        &opts(),
        Some(&PreviousState::from_output(&third)),
    )
    .unwrap();
    assert!(
        fourth
            .documents
            .iter()
            .all(|d| d.meta.source_file != "policies/shiye-2019.txt")
    );
}

#[test]
fn progress_callback_sees_every_file() {
    let dir = common::mixed_folder();
    let seen: Arc<Mutex<Vec<(String, usize, usize)>>> = Arc::default();
    let s2 = seen.clone();
    let o = IngestOptions {
        progress: Some(Arc::new(move |stage: &str, done, total| {
            s2.lock().unwrap().push((stage.to_string(), done, total))
        })),
        ..opts()
    };
    let out = ingest_folder(dir.path(), &o, None).unwrap();
    let seen = seen.lock().unwrap();
    let reads: Vec<_> = seen.iter().filter(|(s, _, _)| s == "read").collect();
    assert_eq!(reads.len(), out.report.files);
    assert!(reads.iter().any(|(_, d, t)| d == t));
    assert!(seen.iter().any(|(s, _, _)| s == "link"));
}

#[test]
fn gb18030_and_bom_text_files_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let text = "关于某项补贴的通知\n沪民规〔2023〕2号\n一、对象\n本市户籍老人。\n二、施行\n本通知自2023年3月1日起施行。";
    let (gb, _, _) = encoding_rs::GB18030.encode(text);
    std::fs::write(dir.path().join("gb.txt"), &gb).unwrap();
    let mut bom = vec![0xef, 0xbb, 0xbf];
    bom.extend_from_slice(text.replace("2号", "3号").as_bytes());
    std::fs::write(dir.path().join("bom.txt"), bom).unwrap();
    let out = ingest_folder(dir.path(), &opts(), None).unwrap();
    assert!(out.report.errors.is_empty(), "{:?}", out.report.errors);
    let numbers: Vec<_> = out
        .documents
        .iter()
        .filter_map(|d| d.meta.doc_number.clone())
        .collect();
    assert_eq!(numbers, vec!["沪民规〔2023〕3号", "沪民规〔2023〕2号"]);
}

#[test]
fn duplicates_and_stem_sidecars_are_reported_and_applied() {
    let dir = tempfile::tempdir().unwrap();
    let text = "关于某项补贴的通知\n沪民规〔2022〕4号\n一、对象\n本市户籍老人。\n二、施行\n本通知自2022年3月1日起施行。\n上海市民政局\n2022年2月1日";
    std::fs::write(dir.path().join("a.txt"), text).unwrap();
    // Same text with different line breaks and spacing: still a duplicate.
    std::fs::write(dir.path().join("b.txt"), text.replace('\n', "\n\n")).unwrap();
    std::fs::write(
        dir.path().join("a.meta.toml"),
        "status = \"已废止\"\nissuer = \"上海市民政局、上海市财政局\"\n",
    )
    .unwrap();
    let out = ingest_folder(dir.path(), &opts(), None).unwrap();
    assert_eq!(out.documents.len(), 1);
    let w = out
        .report
        .warnings
        .iter()
        .find(|w| w.file == "b.txt")
        .expect("duplicate warning");
    assert!(
        w.message.contains("重复") && w.message.contains("a.txt"),
        "{}",
        w.message
    );
    let m = &out.documents[0].meta;
    assert_eq!(m.status_override, Some(Status::Repealed));
    assert_eq!(m.issuer.as_deref(), Some("上海市民政局、上海市财政局"));
    assert_eq!(m.status_on(d("2022-06-01")), Status::Repealed);
}

#[test]
fn a_panicking_reader_costs_only_its_own_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("policies");
    std::fs::create_dir_all(&p).unwrap();
    let policy = "关于某项补贴的通知\n沪民规〔2024〕1号\n一、对象\n本市户籍老人。\n二、施行\n本通知自2024年1月1日起施行。";
    std::fs::write(p.join("good.txt"), policy).unwrap();
    std::fs::write(p.join("bad.txt"), policy.replace("1号", "2号")).unwrap();
    std::fs::create_dir_all(dir.path().join("cases")).unwrap();
    std::fs::write(
        dir.path().join("cases/a.jsonl"),
        r#"{"case_id":"AL-1","description":"申请人来电。"}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("cases/b.jsonl"),
        r#"{"case_id":"AL-2","description":"申请人来电13812345678。"}"#,
    )
    .unwrap();
    // The way a reader fails: a literal message, and a formatted one quoting the input.
    let quoted = "申请人来电13812345678".to_string();
    let hook: zhiban_ingest::pipeline::ParseHook = Arc::new(move |rel: &str| match rel {
        "policies/bad.txt" => panic!("injected reader failure"),
        "cases/b.jsonl" => panic!("byte index 3 is not a char boundary in `{quoted}`"),
        _ => {}
    });
    let o = IngestOptions {
        before_parse: Some(hook),
        ..opts()
    };
    let out = ingest_folder(dir.path(), &o, None).unwrap();
    let r = &out.report;
    assert_eq!(r.files, 4);
    let mut failed: Vec<&str> = r.errors.iter().map(|e| e.file.as_str()).collect();
    failed.sort_unstable();
    assert_eq!(failed, vec!["cases/b.jsonl", "policies/bad.txt"], "{r:#?}");
    for e in &r.errors {
        assert!(
            e.message.contains("内部出错") && e.message.contains("未导入"),
            "{}",
            e.message
        );
        // A formatted panic message may quote the input: it never reaches the report.
        assert!(!e.message.contains("13812345678"), "{}", e.message);
    }
    let bad = r
        .errors
        .iter()
        .find(|e| e.file == "policies/bad.txt")
        .unwrap();
    assert!(
        bad.message.contains("injected reader failure"),
        "{}",
        bad.message
    );
    // Nothing of the failed files is kept: no document, no warning, no hash.
    let sources: Vec<&str> = out
        .documents
        .iter()
        .map(|d| d.meta.source_file.as_str())
        .collect();
    assert_eq!(sources, vec!["cases/a.jsonl#AL-1", "policies/good.txt"]);
    assert!(
        r.warnings
            .iter()
            .all(|w| w.file != "policies/bad.txt" && w.file != "cases/b.jsonl")
    );
    assert_eq!(
        out.file_hashes.keys().collect::<Vec<_>>(),
        vec!["cases/a.jsonl", "policies/good.txt"]
    );
    // Under --strict the caught panics are ordinary file errors.
    let strict = IngestOptions { strict: true, ..o };
    match ingest_folder(dir.path(), &strict, None) {
        Err(Error::Strict { count, .. }) => assert_eq!(count, 2),
        other => panic!(
            "expected a strict failure, got {:?}",
            other.map(|o| o.report)
        ),
    }
}

#[test]
fn images_are_skipped_not_failed_when_ocr_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("policies");
    std::fs::create_dir_all(&p).unwrap();
    for name in ["a.png", "b.JPG", "c.tif"] {
        std::fs::write(p.join(name), b"\x89PNG\r\n\x1a\nnot really").unwrap();
    }
    std::fs::write(p.join("d.txt"), "某某通知\n一、甲。\n二、乙。").unwrap();
    let mut o = opts();
    o.tools.ocr = false;
    o.strict = true;
    let out = ingest_folder(dir.path(), &o, None).unwrap();
    let r = &out.report;
    assert!(r.errors.is_empty(), "{:#?}", r.errors);
    let skipped: Vec<&str> = r.skipped.iter().map(|s| s.file.as_str()).collect();
    assert_eq!(
        skipped,
        vec!["policies/a.png", "policies/b.JPG", "policies/c.tif"]
    );
    for s in &r.skipped {
        assert!(
            s.reason.contains("OCR") && s.reason.contains("跳过"),
            "{}",
            s.reason
        );
        // Reported once, as a skip, not again as a warning.
        assert!(r.warnings.iter().all(|w| w.file != s.file));
    }
    assert_eq!(r.documents.get("policy"), Some(&1));
    assert_eq!(r.ocr_pages, 0);
    // The report's JSON carries the new field; an older report without it still reads.
    let v = serde_json::to_value(r).unwrap();
    assert_eq!(v["skipped"][0]["file"], "policies/a.png");
    let mut old = v.clone();
    old.as_object_mut().unwrap().remove("skipped");
    let back: zhiban_ingest::IngestReport = serde_json::from_value(old).unwrap();
    assert!(back.skipped.is_empty());
}

#[test]
fn a_source_folders_bodies_list_splits_issuers_it_names_and_is_not_a_document() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("policies");
    std::fs::create_dir_all(&p).unwrap();
    // 学会 is no shape of 机关 the embedded table can guess: only the folder's list names it.
    let text = "关于开展老年友好社区评选工作的通知\n沪民规〔2025〕8号\n一、对象\n甲。\n二、程序\n乙。\n上海市老年学学会上海市民政局\n2025年6月3日";
    std::fs::write(p.join("notice.txt"), text).unwrap();
    let without = ingest_folder(dir.path(), &opts(), None).unwrap();
    let issuer = |docs: &[Document]| by_file(docs, "policies/notice.txt").meta.issuer.clone();
    assert_ne!(
        issuer(&without.documents).as_deref(),
        Some("上海市老年学学会、上海市民政局")
    );
    std::fs::write(
        dir.path().join("bodies.txt"),
        "# 本目录补充\n上海市老年学学会\n",
    )
    .unwrap();
    let with = ingest_folder(dir.path(), &opts(), None).unwrap();
    assert_eq!(
        issuer(&with.documents).as_deref(),
        Some("上海市老年学学会、上海市民政局")
    );
    assert_eq!(with.report.documents.get("policy"), Some(&1));
    assert!(with.report.warnings.iter().all(|w| w.file != "bodies.txt"));
}
