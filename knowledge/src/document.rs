//! The document model: what a policy, guide, case or catalog record is once ingested.
//!
//! A [`Document`] is metadata plus an ordered list of [`Chunk`]s. A chunk is the unit
//! that is indexed and cited: one article of a policy (`第八条`, `二、（一）`), one
//! section of an operation guide, one paragraph group of a case, one catalog record.
//! Each chunk keeps the path of headings above it (`["第二章 申领条件", "第八条"]`)
//! and its label as printed in the source, so an answer can cite it exactly.
//!
//! Ids are derived from content ([`doc_id_for`], [`chunk_id_for`]): re-ingesting the
//! same file yields the same ids, and a changed file yields new ones.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What kind of source a document came from. Serialised in lower case
/// (`policy`, `guide`, `case`, `catalog`) as in the CLI contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocKind {
    /// A law, regulation, normative document, interpretation or service guide text.
    Policy,
    /// An operation guide for one 情形 of one 事项.
    Guide,
    /// A closed, desensitised case.
    Case,
    /// A catalog record: 事项, 材料 or historical ticket.
    Catalog,
}

impl DocKind {
    /// All kinds, in a stable order.
    pub const ALL: [DocKind; 4] = [
        DocKind::Policy,
        DocKind::Guide,
        DocKind::Case,
        DocKind::Catalog,
    ];

    /// The lower-case name used on the wire and in the index.
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Policy => "policy",
            DocKind::Guide => "guide",
            DocKind::Case => "case",
            DocKind::Catalog => "catalog",
        }
    }
}

impl fmt::Display for DocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DocKind {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s.trim() {
            "policy" => Ok(DocKind::Policy),
            "guide" => Ok(DocKind::Guide),
            "case" => Ok(DocKind::Case),
            "catalog" => Ok(DocKind::Catalog),
            other => Err(crate::Error::InvalidArgument {
                what: "kind",
                value: other.to_string(),
                expected: "policy, guide, case or catalog",
            }),
        }
    }
}

/// 效力位阶: the legal rank of a policy document, highest first.
///
/// Serialised with its Chinese name, as documents and the contract spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    /// 法律
    #[serde(rename = "法律")]
    Law,
    /// 行政法规
    #[serde(rename = "行政法规")]
    AdministrativeRegulation,
    /// 地方性法规
    #[serde(rename = "地方性法规")]
    LocalRegulation,
    /// 政府规章
    #[serde(rename = "政府规章")]
    GovernmentRule,
    /// 规范性文件
    #[serde(rename = "规范性文件")]
    NormativeDocument,
    /// 政策解读
    #[serde(rename = "政策解读")]
    Interpretation,
    /// 办事指南
    #[serde(rename = "办事指南")]
    ServiceGuide,
}

impl Level {
    /// All levels, highest rank first.
    pub const ALL: [Level; 7] = [
        Level::Law,
        Level::AdministrativeRegulation,
        Level::LocalRegulation,
        Level::GovernmentRule,
        Level::NormativeDocument,
        Level::Interpretation,
        Level::ServiceGuide,
    ];

    /// The Chinese name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Law => "法律",
            Level::AdministrativeRegulation => "行政法规",
            Level::LocalRegulation => "地方性法规",
            Level::GovernmentRule => "政府规章",
            Level::NormativeDocument => "规范性文件",
            Level::Interpretation => "政策解读",
            Level::ServiceGuide => "办事指南",
        }
    }

    /// A multiplier in `[1.0, 1.3]` used by the optional 效力位阶 boost: binding
    /// texts rank above interpretations and guides when scores are close.
    pub fn authority_weight(self) -> f32 {
        match self {
            Level::Law => 1.30,
            Level::AdministrativeRegulation => 1.25,
            Level::LocalRegulation => 1.20,
            Level::GovernmentRule => 1.15,
            Level::NormativeDocument => 1.10,
            Level::Interpretation => 1.0,
            Level::ServiceGuide => 1.0,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s.trim())
            .ok_or_else(|| crate::Error::InvalidArgument {
                what: "level",
                value: s.to_string(),
                expected: "法律 / 行政法规 / 地方性法规 / 政府规章 / 规范性文件 / 政策解读 / 办事指南",
            })
    }
}

/// 时效性 of a document on a given date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// 现行有效: in force on that date.
    #[serde(rename = "现行有效")]
    InForce,
    /// 已修订: replaced by a revised version of itself.
    #[serde(rename = "已修订")]
    Amended,
    /// 已废止: repealed.
    #[serde(rename = "已废止")]
    Repealed,
    /// 尚未生效: published but its 施行 date is still ahead.
    #[serde(rename = "尚未生效")]
    NotYetEffective,
    /// 已失效: its 有效期 ran out without a replacement.
    #[serde(rename = "已失效")]
    Expired,
}

impl Status {
    /// The Chinese name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::InForce => "现行有效",
            Status::Amended => "已修订",
            Status::Repealed => "已废止",
            Status::NotYetEffective => "尚未生效",
            Status::Expired => "已失效",
        }
    }

    /// Whether a text with this status may be presented as the current rule.
    pub fn is_current(self) -> bool {
        self == Status::InForce
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        [
            Status::InForce,
            Status::Amended,
            Status::Repealed,
            Status::NotYetEffective,
            Status::Expired,
        ]
        .into_iter()
        .find(|x| x.as_str() == s.trim())
        .ok_or_else(|| crate::Error::InvalidArgument {
            what: "status",
            value: s.to_string(),
            expected: "现行有效 / 已修订 / 已废止 / 尚未生效 / 已失效",
        })
    }
}

/// How a document stopped being current, when another one replaced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndReason {
    /// Replaced by a revised version (`已修订`).
    Amended,
    /// Repealed outright (`已废止`).
    Repealed,
}

/// Metadata of one document. Fields follow `shared/design/contracts.md`; every
/// optional field is `None` when the source does not say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DocumentMeta {
    /// Content-derived id, see [`doc_id_for`].
    pub doc_id: String,
    /// Which kind of source.
    pub kind: Option<DocKind>,
    /// Path of the source file relative to the source folder given to ingest
    /// (for catalog/case records: `file#record-id`).
    pub source_file: String,
    /// Title without the 文号.
    pub title: String,
    /// 文号, normalised to 〔〕 brackets (`沪人社规〔2024〕12号`).
    pub doc_number: Option<String>,
    /// 发文单位; several joined by "、".
    pub issuer: Option<String>,
    /// 效力位阶.
    pub level: Option<Level>,
    /// 成文 / 公布 date.
    pub published: Option<NaiveDate>,
    /// 施行 date. A document with none counts as effective from `published`.
    pub effective: Option<NaiveDate>,
    /// 有效期至 (inclusive: the last day it is valid).
    pub expires: Option<NaiveDate>,
    /// First day on which a later document replaced this one, if any.
    pub ended: Option<NaiveDate>,
    /// Why it ended, when `ended` is set.
    pub end_reason: Option<EndReason>,
    /// A status stated explicitly (front matter or `.meta.toml`), which wins over dates.
    pub status_override: Option<Status>,
    /// Documents this one repeals or revises, by title and/or 文号 as written.
    pub supersedes: Vec<String>,
    /// `doc_id` of the document that replaced this one, once resolved.
    pub superseded_by: Option<String>,
    /// Keywords (TF-IDF / TextRank over jieba, or given by the source).
    pub keywords: Vec<String>,
    /// 事项编码 this document belongs to (guides, cases, catalog records).
    pub matter_codes: Vec<String>,
    /// Responsible department (catalog, guides).
    pub department: Option<String>,
    /// Any further source fields worth keeping (情形, 事项名称, tags …).
    pub extra: BTreeMap<String, String>,
}

impl DocumentMeta {
    /// The first day the document applies.
    pub fn valid_from(&self) -> Option<NaiveDate> {
        self.effective.or(self.published)
    }

    /// The first day the document no longer applies (exclusive end), from
    /// `expires` and `ended`, whichever comes first.
    pub fn valid_until(&self) -> Option<NaiveDate> {
        let after_expiry = self.expires.and_then(|d| d.succ_opt());
        match (after_expiry, self.ended) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// 时效性 as of `date`.
    ///
    /// A document is in force on `date` when `valid_from <= date < valid_until`.
    /// Boundaries: it is in force on its 施行 day and on its 有效期至 day, and no
    /// longer on the day its replacement takes effect.
    pub fn status_on(&self, date: NaiveDate) -> Status {
        if let Some(s) = self.status_override {
            // An explicit "repealed" or "amended" stays so; an explicit "in force"
            // still respects the dates it carries.
            if s != Status::InForce {
                return s;
            }
        }
        if let Some(from) = self.valid_from()
            && date < from
        {
            return Status::NotYetEffective;
        }
        if let Some(ended) = self.ended
            && date >= ended
            // A replacement that takes effect the day after expiry still repeals it.
            && self.expires.is_none_or(|e| e.succ_opt().is_none_or(|next| next >= ended))
        {
            return match self.end_reason {
                Some(EndReason::Amended) => Status::Amended,
                _ => Status::Repealed,
            };
        }
        if let Some(exp) = self.expires
            && date > exp
        {
            return Status::Expired;
        }
        Status::InForce
    }
}

/// One indexed and citable unit of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// Content-derived id, see [`chunk_id_for`].
    pub chunk_id: String,
    /// Position in the document, from 0.
    pub ordinal: u32,
    /// The article label as printed (`第八条`, `二、（一）`), `None` for whole-document
    /// or unlabelled chunks.
    pub article: Option<String>,
    /// Headings from the document root down to this chunk, label last
    /// (`["第二章 申领条件", "第八条"]`).
    pub path: Vec<String>,
    /// The chunk text, cleaned, label included.
    pub text: String,
}

/// A document: metadata plus chunks in reading order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Metadata.
    pub meta: DocumentMeta,
    /// Chunks in reading order.
    pub chunks: Vec<Chunk>,
}

impl Document {
    /// Builds a document and derives every id from the content, so callers never
    /// assemble ids by hand.
    pub fn new(mut meta: DocumentMeta, chunks: Vec<(Option<String>, Vec<String>, String)>) -> Self {
        let kind = meta.kind.map(DocKind::as_str).unwrap_or("policy");
        let bodies: Vec<&str> = chunks.iter().map(|(_, _, t)| t.as_str()).collect();
        meta.doc_id = doc_id_for(kind, &meta.title, &bodies);
        let chunks = chunks
            .into_iter()
            .enumerate()
            .map(|(i, (article, path, text))| Chunk {
                chunk_id: chunk_id_for(&meta.doc_id, i as u32, &text),
                ordinal: i as u32,
                article,
                path,
                text,
            })
            .collect();
        Document { meta, chunks }
    }

    /// Number of articles: 第X条 labels, or, in a document numbered 一、（一）, its top-level
    /// items (a chunk labelled `二、（一）` counts towards `二、`, once).
    pub fn article_count(&self) -> usize {
        let mut seen: Vec<&str> = Vec::new();
        for a in self.chunks.iter().filter_map(|c| c.article.as_deref()) {
            let top = a.find('、').map_or(a, |i| &a[..i + '、'.len_utf8()]);
            if !seen.contains(&top) {
                seen.push(top);
            }
        }
        seen.len()
    }
}

/// A stable document id: `kind` + 16 hex digits of BLAKE3 over title and bodies.
///
/// Ids depend on content only (not on file name or ingest time), so re-ingesting an
/// unchanged file keeps every id, and hits cited yesterday still resolve.
pub fn doc_id_for(kind: &str, title: &str, bodies: &[&str]) -> String {
    let mut h = blake3::Hasher::new();
    h.update(kind.as_bytes());
    h.update(&[0]);
    h.update(title.as_bytes());
    for b in bodies {
        h.update(&[0]);
        h.update(b.as_bytes());
    }
    let hex = h.finalize().to_hex();
    // The first character, not byte: a kind is free text in meta files.
    let initial = kind.chars().next().unwrap_or('x');
    format!("{initial}-{}", &hex.as_str()[..16])
}

/// A stable chunk id derived from its document, position and text.
pub fn chunk_id_for(doc_id: &str, ordinal: u32, text: &str) -> String {
    let mut h = blake3::Hasher::new();
    h.update(doc_id.as_bytes());
    h.update(&ordinal.to_le_bytes());
    h.update(text.as_bytes());
    let hex = h.finalize().to_hex();
    format!("{doc_id}.{ordinal}.{}", &hex.as_str()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn meta() -> DocumentMeta {
        DocumentMeta {
            effective: Some(d("2021-05-01")),
            expires: Some(d("2026-04-30")),
            ..Default::default()
        }
    }

    #[test]
    fn validity_boundaries_are_inclusive_of_effective_and_expiry_days() {
        let m = meta();
        assert_eq!(m.status_on(d("2021-04-30")), Status::NotYetEffective);
        assert_eq!(m.status_on(d("2021-05-01")), Status::InForce);
        assert_eq!(m.status_on(d("2026-04-30")), Status::InForce);
        assert_eq!(m.status_on(d("2026-05-01")), Status::Expired);
    }

    #[test]
    fn replacement_ends_validity_on_its_effective_day() {
        let mut m = meta();
        m.ended = Some(d("2024-01-01"));
        m.end_reason = Some(EndReason::Amended);
        assert_eq!(m.status_on(d("2023-12-31")), Status::InForce);
        assert_eq!(m.status_on(d("2024-01-01")), Status::Amended);
        m.end_reason = Some(EndReason::Repealed);
        assert_eq!(m.status_on(d("2025-06-01")), Status::Repealed);
        assert_eq!(m.valid_until(), Some(d("2024-01-01")));
    }

    #[test]
    fn article_count_counts_top_level_items_once() {
        let c = |a: &str| (Some(a.to_string()), Vec::new(), "x".to_string());
        let notice = Document::new(
            meta(),
            vec![
                (None, Vec::new(), "序言".into()),
                c("一、"),
                c("二、（一）"),
                c("二、（二）"),
                c("三、（一）"),
            ],
        );
        assert_eq!(notice.article_count(), 3);
        let rule = Document::new(meta(), vec![c("第一条"), c("第二条")]);
        assert_eq!(rule.article_count(), 2);
    }

    #[test]
    fn explicit_repeal_wins_over_dates() {
        let mut m = meta();
        m.status_override = Some(Status::Repealed);
        assert_eq!(m.status_on(d("2022-01-01")), Status::Repealed);
    }

    #[test]
    fn doc_ids_of_odd_kinds_do_not_panic() {
        assert!(doc_id_for("", "标题", &["正文"]).starts_with("x-"));
        assert!(doc_id_for("政策", "标题", &["正文"]).starts_with("政-"));
        assert_eq!(
            doc_id_for("policy", "标题", &[]),
            doc_id_for("policy", "标题", &[])
        );
    }

    #[test]
    fn ids_are_stable_and_content_derived() {
        let m = DocumentMeta {
            kind: Some(DocKind::Policy),
            title: "上海市失业保险办法".into(),
            ..Default::default()
        };
        let chunks = vec![(
            Some("第一条".to_string()),
            vec!["第一条".to_string()],
            "第一条 为了……".to_string(),
        )];
        let a = Document::new(m.clone(), chunks.clone());
        let b = Document::new(m.clone(), chunks);
        assert_eq!(a.meta.doc_id, b.meta.doc_id);
        assert_eq!(a.chunks[0].chunk_id, b.chunks[0].chunk_id);
        let c = Document::new(m, vec![(None, vec![], "改过的内容".to_string())]);
        assert_ne!(a.meta.doc_id, c.meta.doc_id);
        assert!(a.meta.doc_id.starts_with("p-"));
    }
}
