//! Shared fixtures for the knowledge integration tests: a small corpus of fictional
//! 江川市 policies, guides, cases and catalog records, written for these tests.
//!
//! The corpus is built so that every validity case has one document that a query
//! reaches lexically and semantically:
//!
//! * two versions of one rule (失业保险金申领和发放办法): the old one in force
//!   2019-01-01 … 2024-06-30 and amended on 2024-07-01, the new one from 2024-07-01;
//! * a rule not yet in force (长期护理保险, effective 2027-01-01);
//! * a rule that ran out (稳岗返还, 有效期至 2023-12-31);
//! * a rule repealed outright (灵活就业社保补贴, ended 2022-03-01);
//! * guides, a case and catalog records with 事项编码 and departments.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::Path;

use chrono::NaiveDate;
use zhiban_knowledge::{
    BuildOptions, Built, DocKind, Document, DocumentMeta, EndReason, Level, Mode, SearchRequest,
    SearchResult, Snapshot, SnapshotStore,
};

/// 事项编码 of 失业保险金申领.
pub const MATTER_SY: &str = "JC-SY-001";
/// 事项编码 of 居住证签注.
pub const MATTER_GA: &str = "JC-GA-002";
/// Department of the unemployment matter.
pub const DEPT_RS: &str = "江川市人力资源和社会保障局";
/// Department of the residence-permit matter.
pub const DEPT_GA: &str = "江川市公安局";

/// Parses `YYYY-MM-DD`.
pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

/// The doc ids of the fixture corpus, by role.
#[derive(Debug, Clone)]
pub struct Ids {
    pub old_rule: String,
    pub new_rule: String,
    pub future_rule: String,
    pub expired_rule: String,
    pub repealed_rule: String,
    pub residence_rule: String,
    pub guide_sy: String,
    pub guide_ga: String,
    pub case_sy: String,
    pub catalog_sy: String,
    pub catalog_ga: String,
}

/// The corpus and its ids.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub docs: Vec<Document>,
    pub ids: Ids,
}

type RawChunk = (Option<String>, Vec<String>, String);

fn article(chapter: &str, label: &str, text: &str) -> RawChunk {
    let mut path = Vec::new();
    if !chapter.is_empty() {
        path.push(chapter.to_string());
    }
    path.push(label.to_string());
    (Some(label.to_string()), path, text.to_string())
}

fn section(heading: &str, text: &str) -> RawChunk {
    (None, vec![heading.to_string()], text.to_string())
}

fn policy(title: &str, number: &str, issuer: &str, level: Level) -> DocumentMeta {
    DocumentMeta {
        kind: Some(DocKind::Policy),
        source_file: format!("policies/{title}.md"),
        title: title.into(),
        doc_number: Some(number.into()),
        issuer: Some(issuer.into()),
        level: Some(level),
        ..Default::default()
    }
}

const SY_TITLE: &str = "江川市失业保险金申领和发放办法";

/// Builds the fixture corpus.
pub fn corpus() -> Fixture {
    // The old version of the unemployment-benefit rule.
    let mut old_meta = policy(
        SY_TITLE,
        "江人社规〔2018〕9号",
        DEPT_RS,
        Level::NormativeDocument,
    );
    old_meta.source_file = "policies/失业保险金办法-2018.md".into();
    old_meta.published = Some(d("2018-11-20"));
    old_meta.effective = Some(d("2019-01-01"));
    old_meta.ended = Some(d("2024-07-01"));
    old_meta.end_reason = Some(EndReason::Amended);
    old_meta.keywords = vec!["失业保险金".into(), "失业登记".into()];
    let mut old_rule = Document::new(
        old_meta,
        vec![
            article(
                "第一章 总则",
                "第一条",
                "第一条 为规范本市失业保险金的申领和发放，保障失业人员失业期间的基本生活，根据有关法律法规，结合本市实际，制定本办法。",
            ),
            article(
                "第二章 申领条件",
                "第五条",
                "第五条 失业人员同时符合下列条件的，可以申领失业保险金：（一）失业前用人单位和本人已经缴纳失业保险费满一年；（二）非因本人意愿中断就业；（三）已经进行失业登记，并有求职要求。",
            ),
            article(
                "第三章 发放标准",
                "第九条",
                "第九条 失业保险金按月发放，标准为本市最低工资标准的百分之七十，由失业保险经办机构直接划入失业人员本人的银行账户。",
            ),
            article(
                "第四章 办理程序",
                "第十二条",
                "第十二条 失业人员应当在终止或者解除劳动合同之日起六十日内，持身份证件到户籍所在地的街道社区事务受理服务中心办理失业登记和申领手续。",
            ),
        ],
    );

    // The new version, in force from the day the old one ends.
    let mut new_meta = policy(
        SY_TITLE,
        "江人社规〔2024〕5号",
        DEPT_RS,
        Level::NormativeDocument,
    );
    new_meta.source_file = "policies/失业保险金办法-2024.md".into();
    new_meta.published = Some(d("2024-05-20"));
    new_meta.effective = Some(d("2024-07-01"));
    new_meta.supersedes = vec!["江人社规〔2018〕9号".into()];
    new_meta.keywords = vec!["失业保险金".into(), "居住证".into(), "一网通办".into()];
    let new_rule = Document::new(
        new_meta,
        vec![
            article(
                "第一章 总则",
                "第一条",
                "第一条 为做好失业保险金申领发放工作，切实保障失业人员基本生活，促进其尽快实现再就业，依据相关法律法规，结合本市实际，制定本办法。",
            ),
            article(
                "第二章 申领条件",
                "第五条",
                "第五条 失业人员符合下列条件的，可以申请领取失业保险金：（一）失业前累计缴纳失业保险费满一年；（二）非因本人意愿中断就业；（三）已办理失业登记。本市户籍和持有本市居住证的外地户籍失业人员均可在常住地申领。",
            ),
            article(
                "第三章 发放标准",
                "第九条",
                "第九条 失业保险金按月发放，标准调整为本市最低工资标准的百分之九十，通过社会保障卡银行账户发放，可在一网通办平台查询发放记录。",
            ),
            article(
                "第四章 办理程序",
                "第十二条",
                "第十二条 失业人员可以通过一网通办平台在线申领，也可以到常住地任一街道社区事务受理服务中心办理，无需提交纸质材料。",
            ),
        ],
    );
    old_rule.meta.superseded_by = Some(new_rule.meta.doc_id.clone());

    // Published, but in force only from 2027-01-01.
    let mut future_meta = policy(
        "江川市长期护理保险办法",
        "江府规〔2026〕3号",
        "江川市人民政府",
        Level::GovernmentRule,
    );
    future_meta.published = Some(d("2026-10-15"));
    future_meta.effective = Some(d("2027-01-01"));
    let future_rule = Document::new(
        future_meta,
        vec![
            article(
                "第一章 总则",
                "第三条",
                "第三条 参加本市职工基本医疗保险的人员，年满六十周岁并经评估达到失能等级二级以上的，可以申请享受长期护理保险待遇。",
            ),
            article(
                "第三章 待遇",
                "第十条",
                "第十条 长期护理保险基金按照以收定支、收支平衡的原则筹集，居家护理服务费用由长期护理保险基金支付百分之九十。",
            ),
        ],
    );

    // Ran out on its 有效期至 date without a replacement.
    let mut expired_meta = policy(
        "江川市企业稳岗返还补贴实施细则",
        "江人社发〔2021〕2号",
        DEPT_RS,
        Level::NormativeDocument,
    );
    expired_meta.published = Some(d("2020-12-15"));
    expired_meta.effective = Some(d("2021-01-01"));
    expired_meta.expires = Some(d("2023-12-31"));
    let expired_rule = Document::new(
        expired_meta,
        vec![
            article(
                "",
                "第二条",
                "第二条 上年度未裁员或者裁员率低于全市城镇调查失业率的参保企业，可以申请稳岗返还补贴，返还标准为企业上年度实际缴纳失业保险费的百分之六十。",
            ),
            article(
                "",
                "第六条",
                "第六条 稳岗返还补贴由企业通过一网通办平台申请，无需提交材料，经审核后直接拨付至企业对公账户。",
            ),
        ],
    );

    // Repealed outright, no replacement.
    let mut repealed_meta = policy(
        "江川市灵活就业人员社会保险补贴办法",
        "江人社规〔2017〕4号",
        DEPT_RS,
        Level::NormativeDocument,
    );
    repealed_meta.published = Some(d("2018-04-02"));
    repealed_meta.effective = Some(d("2018-05-01"));
    repealed_meta.ended = Some(d("2022-03-01"));
    repealed_meta.end_reason = Some(EndReason::Repealed);
    let repealed_rule = Document::new(
        repealed_meta,
        vec![
            article(
                "",
                "第四条",
                "第四条 就业困难人员以灵活就业方式就业并缴纳社会保险费的，可以按照规定申请灵活就业社会保险补贴，补贴标准为实际缴费额的三分之二。",
            ),
            article(
                "",
                "第八条",
                "第八条 灵活就业社会保险补贴每半年申请一次，申请人应当提交灵活就业登记证明和缴费凭证。",
            ),
        ],
    );

    // In force since 2018 with no end.
    let mut residence_meta = policy(
        "江川市居住证管理办法",
        "江川市人民政府令第12号",
        "江川市人民政府",
        Level::GovernmentRule,
    );
    residence_meta.published = Some(d("2018-01-10"));
    residence_meta.effective = Some(d("2018-03-01"));
    residence_meta.department = Some(DEPT_GA.into());
    let residence_rule = Document::new(
        residence_meta,
        vec![
            article(
                "第二章 申领",
                "第八条",
                "第八条 在本市合法稳定居住满半年，并有合法稳定就业或者合法稳定住所的外地户籍人员，可以申领居住证。",
            ),
            article(
                "第三章 签注",
                "第十五条",
                "第十五条 居住证有效期为一年，持证人应当在有效期满前三十日内到居住地派出所办理签注手续。",
            ),
        ],
    );

    let guide_sy = Document::new(
        DocumentMeta {
            kind: Some(DocKind::Guide),
            source_file: "guides/失业保险金申领.md".into(),
            title: "失业保险金申领操作指南".into(),
            issuer: Some(DEPT_RS.into()),
            level: Some(Level::ServiceGuide),
            published: Some(d("2024-06-25")),
            effective: Some(d("2024-07-01")),
            matter_codes: vec![MATTER_SY.into()],
            department: Some(DEPT_RS.into()),
            ..Default::default()
        },
        vec![
            section(
                "一、申领条件",
                "一、申领条件 已办理失业登记、失业前缴纳失业保险费满一年且非因本人意愿中断就业的失业人员，可以申领失业保险金。",
            ),
            section(
                "二、办理材料",
                "二、办理材料 本人身份证件或者社会保障卡；外地户籍人员另需提供有效期内的江川市居住证。",
            ),
            section(
                "三、办理渠道",
                "三、办理渠道 一网通办平台线上申领，或者到常住地街道社区事务受理服务中心窗口办理，办结时限为五个工作日。",
            ),
        ],
    );

    let guide_ga = Document::new(
        DocumentMeta {
            kind: Some(DocKind::Guide),
            source_file: "guides/居住证签注.md".into(),
            title: "居住证签注办理指南".into(),
            issuer: Some(DEPT_GA.into()),
            level: Some(Level::ServiceGuide),
            published: Some(d("2019-12-20")),
            effective: Some(d("2020-01-01")),
            matter_codes: vec![MATTER_GA.into()],
            department: Some(DEPT_GA.into()),
            ..Default::default()
        },
        vec![
            section(
                "一、办理条件",
                "一、办理条件 居住证有效期满需要继续在本市居住的，持证人应当在有效期满前三十日内申请签注。",
            ),
            section(
                "二、办理地点",
                "二、办理地点 居住地派出所户籍窗口，或者通过一网通办平台在线申请居住证签注。",
            ),
        ],
    );

    let case_sy = Document::new(
        DocumentMeta {
            kind: Some(DocKind::Case),
            source_file: "cases/cases.jsonl#case-0007".into(),
            title: "外地户籍失业人员申领失业保险金案例".into(),
            published: Some(d("2025-03-10")),
            matter_codes: vec![MATTER_SY.into()],
            department: Some(DEPT_RS.into()),
            ..Default::default()
        },
        vec![
            section(
                "案情",
                "申请人王某某（虚构人物），外地户籍，持有江川市居住证，2024年9月被用人单位解除劳动合同后到街道社区事务受理服务中心申领失业保险金，窗口以非本市户籍为由未予受理。",
            ),
            section(
                "处理结果",
                "经复核，依据新施行的失业保险金申领和发放办法第五条，持有本市居住证的外地户籍失业人员可以在常住地申领，中心当日受理并补发失业保险金。",
            ),
        ],
    );

    let catalog_sy = Document::new(
        DocumentMeta {
            kind: Some(DocKind::Catalog),
            source_file: "catalog/matters.jsonl#JC-SY-001".into(),
            title: "失业保险金申领".into(),
            matter_codes: vec![MATTER_SY.into()],
            department: Some(DEPT_RS.into()),
            ..Default::default()
        },
        vec![(None, vec![], "事项名称：失业保险金申领；事项编码：JC-SY-001；实施主体：江川市人力资源和社会保障局；办理形式：线上办理、窗口办理；承诺时限：5个工作日；常用名：领失业金。".into())],
    );

    let catalog_ga = Document::new(
        DocumentMeta {
            kind: Some(DocKind::Catalog),
            source_file: "catalog/matters.jsonl#JC-GA-002".into(),
            title: "居住证签注".into(),
            matter_codes: vec![MATTER_GA.into()],
            department: Some(DEPT_GA.into()),
            ..Default::default()
        },
        vec![(None, vec![], "事项名称：居住证签注；事项编码：JC-GA-002；实施主体：江川市公安局；办理形式：窗口办理、线上办理；承诺时限：即时办结；常用名：居住证续期。".into())],
    );

    let ids = Ids {
        old_rule: old_rule.meta.doc_id.clone(),
        new_rule: new_rule.meta.doc_id.clone(),
        future_rule: future_rule.meta.doc_id.clone(),
        expired_rule: expired_rule.meta.doc_id.clone(),
        repealed_rule: repealed_rule.meta.doc_id.clone(),
        residence_rule: residence_rule.meta.doc_id.clone(),
        guide_sy: guide_sy.meta.doc_id.clone(),
        guide_ga: guide_ga.meta.doc_id.clone(),
        case_sy: case_sy.meta.doc_id.clone(),
        catalog_sy: catalog_sy.meta.doc_id.clone(),
        catalog_ga: catalog_ga.meta.doc_id.clone(),
    };
    let docs = vec![
        old_rule,
        new_rule,
        future_rule,
        expired_rule,
        repealed_rule,
        residence_rule,
        guide_sy,
        guide_ga,
        case_sy,
        catalog_sy,
        catalog_ga,
    ];
    Fixture { docs, ids }
}

/// A document added to the corpus for a second, different snapshot.
pub fn extra_document() -> Document {
    Document::new(
        DocumentMeta {
            kind: Some(DocKind::Policy),
            source_file: "policies/江川市就业见习补贴办法.md".into(),
            title: "江川市就业见习补贴办法".into(),
            doc_number: Some("江人社规〔2025〕1号".into()),
            level: Some(Level::NormativeDocument),
            published: Some(d("2025-01-06")),
            effective: Some(d("2025-02-01")),
            ..Default::default()
        },
        vec![article(
            "",
            "第三条",
            "第三条 吸纳离校未就业高校毕业生参加就业见习的单位，按照每人每月当地最低工资标准的百分之六十享受就业见习补贴。",
        )],
    )
}

/// Default build options (local LSA embedder, qdrant-edge).
pub fn options() -> BuildOptions {
    BuildOptions::default()
}

/// Builds `docs` into `root` and publishes the result.
pub fn build_and_publish(root: &Path, docs: &[Document]) -> (SnapshotStore, Built) {
    let store = SnapshotStore::new(root);
    let built = store.build(docs, &options()).expect("build");
    store.publish(&built.id).expect("publish");
    (store, built)
}

/// A search request with everything spelled out.
pub fn request(
    query: &str,
    mode: Mode,
    as_of: Option<NaiveDate>,
    include_not_current: bool,
) -> SearchRequest {
    let mut r = SearchRequest::new(query);
    r.mode = mode;
    r.k = 50;
    r.as_of = as_of;
    r.include_not_current = include_not_current;
    r
}

/// Doc ids of a result's hits.
pub fn doc_ids(result: &SearchResult) -> BTreeSet<String> {
    result.hits.iter().map(|h| h.doc_id.clone()).collect()
}

/// Searches and panics with context on failure.
pub fn search(snapshot: &Snapshot, req: &SearchRequest) -> SearchResult {
    snapshot
        .search(req)
        .unwrap_or_else(|e| panic!("search {:?} ({:?}) failed: {e}", req.query, req.mode))
}

/// All three retrieval modes.
pub const MODES: [Mode; 3] = [Mode::Bm25, Mode::Vector, Mode::Hybrid];
