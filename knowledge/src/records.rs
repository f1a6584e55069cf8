//! The chunk table: one flat record per indexed chunk, shared by every channel.
//!
//! Both the lexical index and the vector store return positions into this table,
//! so fusion works on plain integers and a hit is materialised once, at the end.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::document::{DocKind, Document, DocumentMeta, Level, Status};
use crate::filter::Filter;

/// What every channel needs to know about one chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkRecord {
    /// Position of the owning document in the snapshot's document list.
    pub doc: u32,
    /// Chunk id.
    pub chunk_id: String,
    /// Document kind.
    pub kind: DocKind,
    /// Document title.
    pub title: String,
    /// Article label, if any.
    pub article: Option<String>,
    /// Heading path.
    pub path: Vec<String>,
    /// Chunk text.
    pub text: String,
    /// 事项编码 of the owning document.
    pub matter_codes: Vec<String>,
    /// Department of the owning document.
    pub department: Option<String>,
    /// First day in force (inclusive), `None` = always.
    pub valid_from: Option<NaiveDate>,
    /// First day no longer in force (exclusive), `None` = open-ended.
    pub valid_until: Option<NaiveDate>,
    /// 效力位阶 of the owning document.
    pub level: Option<Level>,
    /// MinHash signature of the text's character 3-grams, for near-duplicate collapse.
    pub minhash: Vec<u32>,
}

impl ChunkRecord {
    /// Flattens a document into records; `doc` is its position in the document list.
    pub fn from_document(doc: u32, d: &Document) -> Vec<ChunkRecord> {
        let mut out = Self::from_document_unhashed(doc, d);
        for r in &mut out {
            r.minhash = minhash(&r.text);
        }
        out
    }

    /// [`ChunkRecord::from_document`] without the MinHash signatures (left empty),
    /// for callers that stored them.
    pub fn from_document_unhashed(doc: u32, d: &Document) -> Vec<ChunkRecord> {
        let (valid_from, valid_until) = validity(&d.meta);
        d.chunks
            .iter()
            .map(|c| ChunkRecord {
                doc,
                chunk_id: c.chunk_id.clone(),
                kind: d.meta.kind.unwrap_or(DocKind::Policy),
                title: d.meta.title.clone(),
                article: c.article.clone(),
                path: c.path.clone(),
                text: c.text.clone(),
                matter_codes: d.meta.matter_codes.clone(),
                department: d.meta.department.clone(),
                valid_from,
                valid_until,
                level: d.meta.level,
                minhash: Vec::new(),
            })
            .collect()
    }

    /// Whether the record passes `filter`.
    pub fn passes(&self, filter: &Filter) -> bool {
        (filter.kinds.is_empty() || filter.kinds.contains(&self.kind))
            && (filter.matter_codes.is_empty()
                || self
                    .matter_codes
                    .iter()
                    .any(|m| filter.matter_codes.contains(m)))
            && (filter.departments.is_empty()
                || self
                    .department
                    .as_ref()
                    .is_some_and(|d| filter.departments.contains(d)))
            && filter.valid_on.is_none_or(|day| {
                self.valid_from.is_none_or(|f| f <= day) && self.valid_until.is_none_or(|u| day < u)
            })
    }
}

/// The validity window `[from, until)` indexed for a document. An explicit
/// non-current status without dates makes the window empty, so such a text never
/// passes a "current" filter.
pub fn validity(meta: &DocumentMeta) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let from = meta.valid_from();
    let until = meta.valid_until();
    match meta.status_override {
        Some(Status::InForce) | None => (from, until),
        Some(Status::NotYetEffective) => (from.or(Some(NaiveDate::MAX)), until),
        Some(_) => (
            from.or(Some(NaiveDate::MIN)),
            Some(from.unwrap_or(NaiveDate::MIN)),
        ),
    }
}

/// Length of a MinHash signature.
pub const MINHASH_LEN: usize = 16;

/// MinHash over character 3-grams: two texts' signatures agree in a fraction of
/// positions that estimates the Jaccard similarity of their 3-gram sets.
pub fn minhash(text: &str) -> Vec<u32> {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut sig = vec![u32::MAX; MINHASH_LEN];
    if chars.is_empty() {
        return sig;
    }
    let grams = chars.windows(3.min(chars.len()));
    for g in grams {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for c in g {
            h ^= *c as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for (i, s) in sig.iter_mut().enumerate() {
            // Independent hash functions from one base hash (splitmix-style mixing).
            let mut x = h ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            x ^= x >> 31;
            *s = (*s).min(x as u32);
        }
    }
    sig
}

/// Estimated Jaccard similarity of two MinHash signatures.
pub fn minhash_similarity(a: &[u32], b: &[u32]) -> f32 {
    if a.is_empty() || a.len() != b.len() {
        return 0.0;
    }
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f32 / a.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minhash_separates_near_duplicates_from_different_texts() {
        let a = minhash(
            "第八条 失业人员符合下列条件的，可以申领失业保险金：（一）按照规定参加失业保险",
        );
        let b =
            minhash("第八条 失业人员符合下列条件的，可以申领失业保险金：（一）按规定参加失业保险");
        let c = minhash("第三条 养老服务补贴按照老年照护需求评估等级确定补贴标准");
        assert!(minhash_similarity(&a, &b) >= 0.6);
        assert!(minhash_similarity(&a, &c) <= 0.2);
    }
}
