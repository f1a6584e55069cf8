//! Hybrid retrieval over one snapshot: BM25 and vector candidates fused by
//! reciprocal rank fusion, filtered, validity-checked, optionally boosted by 效力位阶,
//! near-duplicates collapsed.
//!
//! RRF scores a chunk `Σ_c w_c / (k + rank_c)` over the channels `c` that returned
//! it. It needs no score calibration between BM25 (unbounded) and cosine (−1..1),
//! which is why it is the default; `k` and the per-channel weights are tunable.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::document::{DocKind, Level, Status};
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::lexical::{AnalyzedQuery, Bm25Params};
use crate::records::minhash_similarity;
use crate::snapshot::Snapshot;

/// Weight of each token that only an alias expansion added to a query, relative to
/// a token the user typed. Chosen a priori (not tuned on any gold set): enough to
/// pull in the official wording, small enough not to override what was asked.
pub const EXPANSION_WEIGHT: f32 = 0.3;

/// Which channels to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// BM25 only.
    Bm25,
    /// Vectors only.
    Vector,
    /// Both, fused.
    #[default]
    Hybrid,
}

impl std::str::FromStr for Mode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "bm25" => Ok(Mode::Bm25),
            "vector" => Ok(Mode::Vector),
            "hybrid" => Ok(Mode::Hybrid),
            other => Err(Error::InvalidArgument {
                what: "mode",
                value: other.to_string(),
                expected: "bm25, vector or hybrid",
            }),
        }
    }
}

/// Fusion parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FusionParams {
    /// RRF constant `k`.
    pub rrf_k: f32,
    /// Weight of the BM25 channel.
    pub bm25_weight: f32,
    /// Weight of the vector channel.
    pub vector_weight: f32,
    /// Candidates taken from each channel before fusion.
    pub candidates: usize,
    /// MinHash similarity at or above which a lower-ranked chunk is dropped as a
    /// near-duplicate of a higher one; `> 1.0` disables collapsing.
    pub dedup_threshold: f32,
    /// Pseudo-relevance feedback for the vector channel in hybrid mode: the query
    /// vector is moved towards the embeddings of the top `prf_docs` BM25 hits
    /// (Rocchio). 0 switches it off.
    pub prf_docs: usize,
    /// Weight of the feedback centroid relative to the query vector.
    pub prf_weight: f32,
}

impl Default for FusionParams {
    fn default() -> Self {
        FusionParams {
            // Tuned on STARD's dev split (see BENCHMARKS.md).
            rrf_k: 20.0,
            bm25_weight: 1.0,
            vector_weight: 0.8,
            candidates: 50,
            dedup_threshold: 0.9,
            prf_docs: 3,
            prf_weight: 2.0,
        }
    }
}

/// One search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// The question, as typed.
    pub query: String,
    /// Channels.
    pub mode: Mode,
    /// Hits wanted.
    pub k: usize,
    /// The date whose rules apply; `None` = today.
    pub as_of: Option<NaiveDate>,
    /// Also return texts that are not in force on `as_of` (each hit still carries
    /// its status, so a caller can label it).
    pub include_not_current: bool,
    /// Kind / 事项 / department restrictions (its `valid_on` is set from `as_of`).
    pub filter: Filter,
    /// Multiply scores by the document's 效力位阶 weight.
    pub level_boost: bool,
    /// Expand 常用名 / 代用名 in the query to the canonical 事项 name.
    pub expand_aliases: bool,
}

impl SearchRequest {
    /// A hybrid search for the 10 best current hits.
    pub fn new(query: impl Into<String>) -> Self {
        SearchRequest {
            query: query.into(),
            mode: Mode::Hybrid,
            k: 10,
            as_of: None,
            include_not_current: false,
            filter: Filter::default(),
            level_boost: false,
            expand_aliases: true,
        }
    }
}

/// One hit, shaped like the `zhiban search --json` contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// Document id.
    pub doc_id: String,
    /// Chunk id.
    pub chunk_id: String,
    /// Kind.
    pub kind: DocKind,
    /// Document title.
    pub title: String,
    /// 文号.
    pub doc_number: Option<String>,
    /// 效力位阶.
    pub level: Option<Level>,
    /// 时效性 on the request's date.
    pub status: Status,
    /// Article label as printed; `None` for whole-document hits.
    pub article: Option<String>,
    /// Heading path.
    pub path: Vec<String>,
    /// Chunk text.
    pub text: String,
    /// Fused score (higher is better).
    pub score: f32,
    /// Source file relative to the ingest folder.
    pub source_file: String,
    /// Snapshot that produced the hit.
    pub snapshot: String,
}

/// Search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    /// Snapshot id.
    pub snapshot: String,
    /// The date the statuses refer to.
    pub as_of: NaiveDate,
    /// The query after alias expansion, when it changed.
    pub expanded_query: Option<String>,
    /// Hits, best first.
    pub hits: Vec<Hit>,
}

/// Reciprocal rank fusion of ranked id lists with per-list weights. Ranks start at 1.
/// Ties are broken by first appearance, so the output is deterministic.
pub fn rrf(lists: &[(&[u32], f32)], k: f32) -> Vec<(u32, f32)> {
    let mut acc: Vec<(u32, f32, usize)> = Vec::new();
    let mut pos: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    for (list, w) in lists {
        for (rank, id) in list.iter().enumerate() {
            let s = w / (k + rank as f32 + 1.0);
            match pos.get(id) {
                Some(&i) => acc[i].1 += s,
                None => {
                    pos.insert(*id, acc.len());
                    acc.push((*id, s, acc.len()));
                }
            }
        }
    }
    acc.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
    acc.into_iter().map(|(id, s, _)| (id, s)).collect()
}

impl Snapshot {
    /// Runs `req` against this snapshot.
    ///
    /// # Errors
    /// Index or vector-store failures, or a remote embedder failing.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResult> {
        let as_of = req
            .as_of
            .unwrap_or_else(|| chrono::Local::now().date_naive());
        let mut filter = req.filter.clone();
        filter.valid_on = if req.include_not_current {
            None
        } else {
            Some(as_of)
        };
        let expanded = if req.expand_aliases {
            self.expansions().expand(&req.query)
        } else {
            None
        };
        let analyzed = self.analyze(&req.query, expanded.as_deref(), true);
        let ranked = self.rank_analyzed(
            &req.query,
            &analyzed,
            req.mode,
            &filter,
            req.k,
            req.level_boost,
            &self.fusion(),
            &self.bm25(),
        )?;
        let hits = ranked
            .into_iter()
            .map(|(i, score)| self.hit(i, score, as_of))
            .collect();
        Ok(SearchResult {
            snapshot: self.id().to_string(),
            as_of,
            expanded_query: expanded,
            hits,
        })
    }

    /// Ranked chunk positions for `text`; the core of [`Snapshot::search`], exposed
    /// for the evaluation harness, which needs ids only.
    ///
    /// # Errors
    /// As [`Snapshot::search`].
    pub fn rank(
        &self,
        text: &str,
        mode: Mode,
        filter: &Filter,
        k: usize,
        level_boost: bool,
    ) -> Result<Vec<(u32, f32)>> {
        self.rank_with(
            text,
            mode,
            filter,
            k,
            level_boost,
            &self.fusion(),
            &self.bm25(),
        )
    }

    /// [`Snapshot::rank`] with explicit fusion and BM25 parameters, for tuning on a
    /// dev split without rebuilding.
    ///
    /// # Errors
    /// As [`Snapshot::search`].
    #[allow(clippy::too_many_arguments)]
    pub fn rank_with(
        &self,
        text: &str,
        mode: Mode,
        filter: &Filter,
        k: usize,
        level_boost: bool,
        fusion: &FusionParams,
        bm25: &Bm25Params,
    ) -> Result<Vec<(u32, f32)>> {
        let want_grams = bm25.grams > 0.0 || mode != Mode::Bm25;
        let analyzed = AnalyzedQuery::new(self.analyzer(), text, want_grams);
        self.rank_analyzed(text, &analyzed, mode, filter, k, level_boost, fusion, bm25)
    }

    /// Analyses a query, adding the canonical names of any aliases it contains
    /// (`expanded`, from [`crate::expansion::QueryExpansion::expand`]) at
    /// [`EXPANSION_WEIGHT`].
    pub fn analyze(&self, query: &str, expanded: Option<&str>, with_grams: bool) -> AnalyzedQuery {
        let base = AnalyzedQuery::new(self.analyzer(), query, with_grams);
        match expanded.and_then(|e| e.strip_prefix(query)) {
            Some(extra) if !extra.trim().is_empty() => base.merge_weighted(
                AnalyzedQuery::new(self.analyzer(), extra, with_grams),
                EXPANSION_WEIGHT,
            ),
            _ => base,
        }
    }

    /// [`Snapshot::rank_with`] over an already analysed query.
    ///
    /// # Errors
    /// As [`Snapshot::search`].
    #[allow(clippy::too_many_arguments)]
    pub fn rank_analyzed(
        &self,
        text: &str,
        analyzed: &AnalyzedQuery,
        mode: Mode,
        filter: &Filter,
        k: usize,
        level_boost: bool,
        fusion: &FusionParams,
        bm25: &Bm25Params,
    ) -> Result<Vec<(u32, f32)>> {
        let n = fusion.candidates.max(k);
        let mut fused: Vec<(u32, f32)> = match mode {
            Mode::Bm25 => self.lexical().search(&analyzed, filter, n, bm25)?,
            Mode::Vector => self.vector_channel(text, &analyzed, filter, n)?,
            Mode::Hybrid => {
                let lex = self.lexical().search(&analyzed, filter, n, bm25)?;
                let feedback: Vec<u32> =
                    lex.iter().take(fusion.prf_docs).map(|(i, _)| *i).collect();
                let vec = self.vector_channel_prf(
                    text,
                    &analyzed,
                    filter,
                    n,
                    &feedback,
                    fusion.prf_weight,
                )?;
                let a: Vec<u32> = lex.iter().map(|(i, _)| *i).collect();
                let b: Vec<u32> = vec.iter().map(|(i, _)| *i).collect();
                rrf(
                    &[(&a, fusion.bm25_weight), (&b, fusion.vector_weight)],
                    fusion.rrf_k,
                )
            }
        };
        if level_boost {
            for (i, s) in &mut fused {
                let w = self.records()[*i as usize]
                    .level
                    .map_or(1.0, Level::authority_weight);
                *s *= w;
            }
            fused.sort_by(|a, b| b.1.total_cmp(&a.1));
        }
        Ok(self.collapse(fused, k, fusion.dedup_threshold))
    }

    fn vector_channel(
        &self,
        text: &str,
        analyzed: &AnalyzedQuery,
        filter: &Filter,
        n: usize,
    ) -> Result<Vec<(u32, f32)>> {
        self.vector_channel_prf(text, analyzed, filter, n, &[], 0.0)
    }

    fn vector_channel_prf(
        &self,
        text: &str,
        analyzed: &AnalyzedQuery,
        filter: &Filter,
        n: usize,
        feedback: &[u32],
        weight: f32,
    ) -> Result<Vec<(u32, f32)>> {
        let mut v = self.embedder().embed_analyzed(text, analyzed)?;
        if !feedback.is_empty() && weight > 0.0 {
            let texts: Vec<String> = feedback
                .iter()
                .map(|&i| crate::snapshot::embed_text(&self.records()[i as usize]))
                .collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let docs = self.embedder().embed_documents(&refs)?;
            // Earlier feedback documents count more (1, 1/2, 1/3 …).
            let total: f32 = (1..=docs.len()).map(|r| 1.0 / r as f32).sum();
            for (r, d) in docs.iter().enumerate() {
                let w = weight / (r as f32 + 1.0) / total;
                for (x, y) in v.iter_mut().zip(d) {
                    *x += w * y;
                }
            }
            crate::embed::l2_normalize(&mut v);
        }
        if v.iter().all(|x| *x == 0.0) {
            // Nothing in the query is known to the model: no vector evidence at all.
            return Ok(Vec::new());
        }
        Ok(self
            .vectors()
            .search(&v, filter, n)?
            .into_iter()
            .filter(|(id, _)| (*id as usize) < self.records().len())
            .map(|(id, s)| (id as u32, s))
            .collect())
    }

    fn collapse(&self, ranked: Vec<(u32, f32)>, k: usize, threshold: f32) -> Vec<(u32, f32)> {
        if threshold > 1.0 || k == 0 {
            return ranked.into_iter().take(k).collect();
        }
        let recs = self.records();
        let mut kept: Vec<(u32, f32)> = Vec::with_capacity(k);
        for (i, s) in ranked {
            let r = &recs[i as usize];
            // Only texts with the same validity window are duplicates of each other:
            // an unchanged article of an amended rule must not hide the version in force.
            let duplicate = kept.iter().any(|(j, _)| {
                let o = &recs[*j as usize];
                o.valid_from == r.valid_from
                    && o.valid_until == r.valid_until
                    && minhash_similarity(&r.minhash, &o.minhash) >= threshold
            });
            if duplicate {
                continue;
            }
            kept.push((i, s));
            if kept.len() == k {
                break;
            }
        }
        kept
    }

    fn hit(&self, i: u32, score: f32, as_of: NaiveDate) -> Hit {
        let r = &self.records()[i as usize];
        let m = &self.documents()[r.doc as usize];
        Hit {
            doc_id: m.doc_id.clone(),
            chunk_id: r.chunk_id.clone(),
            kind: r.kind,
            title: r.title.clone(),
            doc_number: m.doc_number.clone(),
            level: m.level,
            status: m.status_on(as_of),
            article: r.article.clone(),
            path: r.path.clone(),
            text: r.text.clone(),
            score,
            source_file: m.source_file.clone(),
            snapshot: self.id().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rrf_sums_reciprocal_ranks() {
        let a = [1u32, 2, 3];
        let b = [3u32, 1];
        let out = rrf(&[(&a, 1.0), (&b, 1.0)], 60.0);
        // 1: 1/61 + 1/62; 3: 1/63 + 1/61; 2: 1/62.
        assert_eq!(out.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 3, 2]);
        assert!((out[0].1 - (1.0 / 61.0 + 1.0 / 62.0)).abs() < 1e-6);
    }

    #[test]
    fn rrf_weights_and_k_change_the_order() {
        let a = [1u32, 2];
        let b = [2u32, 1];
        let even = rrf(&[(&a, 1.0), (&b, 1.0)], 60.0);
        assert_eq!(even[0].0, 1, "ties keep first appearance");
        let favour_b = rrf(&[(&a, 1.0), (&b, 2.0)], 60.0);
        assert_eq!(favour_b[0].0, 2);
        // A small k makes rank 1 dominate more.
        let sharp = rrf(&[(&[5u32, 6], 1.0), (&[6u32], 0.3)], 1.0);
        assert_eq!(sharp[0].0, 5);
        let flat = rrf(&[(&[5u32, 6], 1.0), (&[6u32], 0.3)], 100.0);
        assert_eq!(flat[0].0, 6);
    }

    #[test]
    fn rrf_of_nothing_is_empty() {
        assert!(rrf(&[], 60.0).is_empty());
        assert!(rrf(&[(&[], 1.0)], 60.0).is_empty());
    }
}
