//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use zhiban_ingest::docx::{DocxBlock, build_docx};

/// The mixed fixture folder shipped with the crate.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mixed")
}

/// Copies a folder tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// The mixed fixtures plus a DOCX made in the test, in a fresh temp dir.
pub fn mixed_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixtures(), dir.path());
    let docx = build_docx(&[
        DocxBlock::Para("上海市残疾人联合会关于调整居家养护服务补贴标准的通知"),
        DocxBlock::Para("沪残联规〔2025〕2号"),
        DocxBlock::Para("各区残联："),
        DocxBlock::Para("一、补贴标准"),
        DocxBlock::Table(&[
            &["养护等级", "月补贴"],
            &["一级", "600元"],
            &["二级", "400元"],
        ]),
        DocxBlock::Para("二、施行日期"),
        DocxBlock::Para("本通知自2025年5月1日起施行。"),
        DocxBlock::Para("上海市残疾人联合会"),
        DocxBlock::Para("2025年3月18日"),
    ])
    .unwrap();
    std::fs::write(dir.path().join("policies/jujia-yanghu.docx"), docx).unwrap();
    dir
}
