//! Hybrid retrieval over one snapshot: BM25 and vector candidates fused by
//! reciprocal rank fusion, filtered, validity-checked, optionally boosted by 效力位阶,
//! near-duplicates collapsed.
//!
//! RRF scores a chunk `Σ_c w_c / (k + rank_c)` over the channels `c` that returned
//! it. It needs no score calibration between BM25 (unbounded) and cosine (−1..1),
//! which is why it is the default; `k` and the per-channel weights are tunable.
//!
//! # Sync and async
//!
//! [`Snapshot::search`] is synchronous: CPU work (microseconds to a millisecond)
//! plus, for remote backends, network calls made through the crate's blocking
//! boundary. [`Snapshot::search_async`] is what a server calls: the CPU stages run
//! in `spawn_blocking`, the remote embedder and the Qdrant server are awaited on the
//! caller's runtime, and the whole request — retries included — ends by its
//! deadline with [`Error::DeadlineExceeded`].

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::document::{DocKind, Level, Status};
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::lexical::{AnalyzedQuery, Bm25Params};
use crate::records::minhash_similarity;
use crate::snapshot::{Snapshot, SnapshotEmbedder, SnapshotVectors};

/// The deadline of a synchronous [`Snapshot::search`], which takes none.
pub const DEFAULT_SEARCH_DEADLINE: Duration = Duration::from_secs(10);

/// Weight of each token that only an alias expansion added to a query, relative to
/// a token the user typed. Chosen a priori (not tuned on any gold set): enough to
/// pull in the official wording, small enough not to override what was asked.
pub const EXPANSION_WEIGHT: f32 = 0.3;

/// Weight of each token that only the lay-vocabulary table added (`过世` → `死亡`).
/// Higher than [`EXPANSION_WEIGHT`]: a lay word itself matches no statute, so its
/// statute words carry what the question asks (how long, how much, who), where an
/// alias's canonical name only repeats the 事项 the query already names. Chosen on the
/// dev split of the blind clerk questions and the old clerk questions together: 1.0
/// gained on the first and lost on the second (BENCHMARKS.md, issue 9).
pub const LAY_TERM_WEIGHT: f32 = 0.7;

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
    /// Score multiplier for front matter: unlabelled chunks (preamble, 印发通知 cover,
    /// an item's lead-in, attachments) of documents that have labelled articles. Their
    /// words overlap every question about the document — the cover repeats the title
    /// and summarises the whole — so without it they outrank the article that answers,
    /// and they cannot be cited by article. 1 switches it off. Snapshots written
    /// before the field existed read it as 1 (unchanged ranking).
    #[serde(default = "no_demotion")]
    pub front_matter_weight: f32,
    /// Weight of the document's other evidence: each chunk's fused score gains this
    /// times the best score of another chunk of the same document. A question about a
    /// matter touches several articles of the rule that governs it (conditions,
    /// materials, 期限) but only one article of a rule that merely names the matter, so
    /// the document that answers rises as a whole; the order inside a document is
    /// unchanged. 0 switches it off, and snapshots written before the field read 0.
    #[serde(default)]
    pub sibling_weight: f32,
    /// Weight of aspect coverage: each chunk's fused score is multiplied by
    /// `1 + coverage_weight × c`, where `c` is the idf-weighted share of the query's
    /// words that the chunk holds, counting only words absent from its document's
    /// title. The title words name the subject, which every article of the document
    /// shares; the words left (费用, 期限, 收入, 户籍地…) name what is asked about it, and
    /// they decide which article answers. BM25 and hybrid modes only (vector mode keeps
    /// its cosine). 0 switches it off; older snapshots read 0.
    #[serde(default)]
    pub coverage_weight: f32,
}

fn no_demotion() -> f32 {
    1.0
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
            front_matter_weight: 0.6,
            // Chosen on the blind dev split and the old clerk questions (BENCHMARKS.md,
            // issue 9 fourth pass); the held-back split was not consulted.
            sibling_weight: 0.2,
            coverage_weight: 1.0,
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
    /// Kind / 事项 / department restrictions. Its `valid_on`, when set, is used as
    /// given; when unset it becomes `as_of` (or stays unset with
    /// `include_not_current`).
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

/// What the CPU stage of a search hands to the vector stage.
struct Planned {
    as_of: NaiveDate,
    filter: Filter,
    expanded: Option<String>,
    analyzed: AnalyzedQuery,
}

/// The channels' candidates before fusion.
struct Candidates {
    lexical: Vec<(u32, f32)>,
    /// `None` in BM25 mode.
    vector: Option<Vec<(u32, f32)>>,
    /// The query's words with their weights, for the coverage rerank.
    words: Vec<(String, f32)>,
}

impl Snapshot {
    /// Runs `req` against this snapshot, blocking the calling thread (remote calls
    /// included, bounded by [`DEFAULT_SEARCH_DEADLINE`]).
    ///
    /// # Errors
    /// Index or vector-store failures, a remote backend failing or
    /// [`Error::DeadlineExceeded`].
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResult> {
        self.search_within(req, Instant::now() + DEFAULT_SEARCH_DEADLINE)
    }

    /// [`Snapshot::search`] with an explicit deadline.
    ///
    /// # Errors
    /// As [`Snapshot::search`].
    pub fn search_within(&self, req: &SearchRequest, deadline: Instant) -> Result<SearchResult> {
        if Instant::now() >= deadline {
            return Err(Error::DeadlineExceeded);
        }
        let plan = self.plan(req);
        let fusion = self.fusion();
        let cands = self.candidates_blocking(
            &req.query,
            &plan.analyzed,
            req.mode,
            &plan.filter,
            fusion.candidates.max(req.k),
            &fusion,
            &self.bm25(),
            deadline,
        )?;
        Ok(self.finish(req, plan, cands, &fusion))
    }

    /// Runs `req` from async code without blocking an async worker: CPU work in
    /// `spawn_blocking`, network calls awaited natively, everything done by
    /// `deadline`. The snapshot is cloned into the blocking task (an `Arc` clone),
    /// so a caller may drop its handle at any time.
    ///
    /// # Errors
    /// As [`Snapshot::search`]; [`Error::DeadlineExceeded`] when the deadline passes
    /// first (the request is then abandoned; it leaves no state behind).
    pub async fn search_async(
        &self,
        req: &SearchRequest,
        deadline: Instant,
    ) -> Result<SearchResult> {
        // `timeout_at` polls the inner future before it looks at the clock, so a
        // deadline already past would still start (and might finish) the work.
        if Instant::now() >= deadline {
            return Err(Error::DeadlineExceeded);
        }
        let at = tokio::time::Instant::from_std(deadline);
        match tokio::time::timeout_at(at, self.search_async_inner(req.clone(), deadline)).await {
            Ok(r) => r,
            Err(_) => Err(Error::DeadlineExceeded),
        }
    }

    async fn search_async_inner(
        &self,
        req: SearchRequest,
        deadline: Instant,
    ) -> Result<SearchResult> {
        if !self.is_remote() {
            let snap = self.clone();
            return blocking(move || snap.search_within(&req, deadline)).await;
        }
        let fusion = self.fusion();
        let bm25 = self.bm25();
        let n = fusion.candidates.max(req.k);
        // CPU: analysis, BM25 and, for the local embedder, the query vector.
        let (snap, r) = (self.clone(), req.clone());
        let (plan, lexical, local_vector) = blocking(move || {
            let plan = snap.plan(&r);
            let lexical = if r.mode == Mode::Vector {
                Vec::new()
            } else {
                snap.lexical()
                    .search(&plan.analyzed, &plan.filter, n, &bm25)?
            };
            let local = match (snap.embedder_backend(), r.mode) {
                (_, Mode::Bm25) | (SnapshotEmbedder::Remote(_), _) => None,
                (SnapshotEmbedder::Local(_), mode) => {
                    let fb = feedback(mode, &lexical, &fusion);
                    Some(snap.query_vector_blocking(
                        &r.query,
                        &plan.analyzed,
                        &fb,
                        fusion.prf_weight,
                        deadline,
                    )?)
                }
            };
            Ok((plan, lexical, local))
        })
        .await?;
        let vector = if req.mode == Mode::Bm25 {
            None
        } else {
            let v = match (local_vector, self.embedder_backend()) {
                (Some(v), _) => v,
                (None, SnapshotEmbedder::Remote(e)) => {
                    let fb = feedback(req.mode, &lexical, &fusion);
                    let (texts, stored) = self.feedback_inputs(&req.query, &fb);
                    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                    let embedded = e.embed_async(&refs, deadline).await?;
                    mix_feedback(embedded, stored, fusion.prf_weight)?
                }
                (None, SnapshotEmbedder::Local(_)) => {
                    return Err(Error::Runtime("local query vector missing".into()));
                }
            };
            Some(if v.iter().all(|x| *x == 0.0) {
                Vec::new()
            } else {
                let hits = match self.vector_backend() {
                    SnapshotVectors::Qdrant(q) => {
                        q.search_async(&v, &plan.filter, n, deadline).await?
                    }
                    _ => {
                        let (snap, filter) = (self.clone(), plan.filter.clone());
                        blocking(move || snap.vectors().search(&v, &filter, n)).await?
                    }
                };
                self.checked_positions(hits)
            })
        };
        // Fusion, collapsing and hit materialisation: microseconds over ≤ 2n items.
        let words = plan.analyzed.words.clone();
        Ok(self.finish(
            &req,
            plan,
            Candidates {
                lexical,
                vector,
                words,
            },
            &fusion,
        ))
    }

    fn plan(&self, req: &SearchRequest) -> Planned {
        let as_of = req
            .as_of
            .unwrap_or_else(|| chrono::Local::now().date_naive());
        let mut filter = req.filter.clone();
        if filter.valid_on.is_none() && !req.include_not_current {
            filter.valid_on = Some(as_of);
        }
        let expanded = if req.expand_aliases {
            self.expanded_query(&req.query)
        } else {
            None
        };
        let analyzed = self.analyze(&req.query, req.expand_aliases, true);
        Planned {
            as_of,
            filter,
            expanded,
            analyzed,
        }
    }

    fn finish(
        &self,
        req: &SearchRequest,
        plan: Planned,
        c: Candidates,
        fusion: &FusionParams,
    ) -> SearchResult {
        let ranked = self.fuse(c, req.mode, req.k, req.level_boost, fusion);
        let hits = ranked
            .into_iter()
            .filter_map(|(i, score)| self.hit(i, score, plan.as_of))
            .collect();
        SearchResult {
            snapshot: self.id().to_string(),
            as_of: plan.as_of,
            expanded_query: plan.expanded,
            hits,
        }
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

    /// The query as expanded by both tables (事项 aliases, then lay words), for
    /// display; `None` when neither adds anything.
    pub fn expanded_query(&self, query: &str) -> Option<String> {
        let aliases = self.expansions().expand(query);
        let base = aliases.as_deref().unwrap_or(query);
        match self
            .lay_terms()
            .expand(query)
            .as_deref()
            .and_then(|l| l.strip_prefix(query))
        {
            Some(extra) => Some(format!("{base}{extra}")),
            None => aliases,
        }
    }

    /// Analyses a query. With `expand`, the canonical names of the aliases it contains
    /// are added at [`EXPANSION_WEIGHT`] and the statute words of its lay words at
    /// [`LAY_TERM_WEIGHT`].
    pub fn analyze(&self, query: &str, expand: bool, with_grams: bool) -> AnalyzedQuery {
        let mut q = AnalyzedQuery::new(self.analyzer(), query, with_grams);
        if !expand {
            return q;
        }
        for (table, weight) in [
            (self.expansions(), EXPANSION_WEIGHT),
            (self.lay_terms(), LAY_TERM_WEIGHT),
        ] {
            // `expand` returns the query followed by what it adds.
            if let Some(extra) = table
                .expand(query)
                .as_deref()
                .and_then(|e| e.strip_prefix(query))
                && !extra.trim().is_empty()
            {
                q = q.merge_weighted(
                    AnalyzedQuery::new(self.analyzer(), extra, with_grams),
                    weight,
                );
            }
        }
        q
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
        let deadline = Instant::now() + DEFAULT_SEARCH_DEADLINE;
        let c =
            self.candidates_blocking(text, analyzed, mode, filter, n, fusion, bm25, deadline)?;
        Ok(self.fuse(c, mode, k, level_boost, fusion))
    }

    #[allow(clippy::too_many_arguments)]
    fn candidates_blocking(
        &self,
        text: &str,
        analyzed: &AnalyzedQuery,
        mode: Mode,
        filter: &Filter,
        n: usize,
        fusion: &FusionParams,
        bm25: &Bm25Params,
        deadline: Instant,
    ) -> Result<Candidates> {
        let lexical = if mode == Mode::Vector {
            Vec::new()
        } else {
            self.lexical().search(analyzed, filter, n, bm25)?
        };
        let vector = if mode == Mode::Bm25 {
            None
        } else {
            let fb = feedback(mode, &lexical, fusion);
            let v = self.query_vector_blocking(text, analyzed, &fb, fusion.prf_weight, deadline)?;
            Some(if v.iter().all(|x| *x == 0.0) {
                // Nothing in the query is known to the model: no vector evidence.
                Vec::new()
            } else {
                let hits = match self.vector_backend() {
                    SnapshotVectors::Qdrant(q) => q.search_within(&v, filter, n, deadline)?,
                    _ => self.vectors().search(&v, filter, n)?,
                };
                self.checked_positions(hits)
            })
        };
        Ok(Candidates {
            lexical,
            vector,
            words: analyzed.words.clone(),
        })
    }

    /// The query vector, moved towards the feedback chunks (Rocchio).
    fn query_vector_blocking(
        &self,
        text: &str,
        analyzed: &AnalyzedQuery,
        feedback: &[u32],
        weight: f32,
        deadline: Instant,
    ) -> Result<Vec<f32>> {
        let feedback = if weight > 0.0 { feedback } else { &[] };
        match self.embedder_backend() {
            SnapshotEmbedder::Local(e) => {
                use crate::embed::Embedder;
                let q = e.embed_analyzed(text, analyzed)?;
                let (texts, stored) = self.feedback_inputs(text, feedback);
                // `texts[0]` is the query itself, already embedded above.
                let refs: Vec<&str> = texts[1..].iter().map(String::as_str).collect();
                let mut all = vec![q];
                all.extend(e.embed_documents(&refs)?);
                mix_feedback(all, stored, weight)
            }
            SnapshotEmbedder::Remote(e) => {
                let (texts, stored) = self.feedback_inputs(text, feedback);
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                mix_feedback(e.embed_within(&refs, deadline)?, stored, weight)
            }
        }
    }

    /// What must be embedded for a query with feedback: the query text first, then
    /// the feedback chunks whose vectors the store cannot hand back; and the stored
    /// vectors of the others, each with its feedback rank.
    fn feedback_inputs(
        &self,
        text: &str,
        feedback: &[u32],
    ) -> (Vec<String>, Vec<(usize, Vec<f32>)>) {
        let mut texts = vec![text.to_string()];
        let mut stored = Vec::new();
        for (rank, &i) in feedback.iter().enumerate() {
            let kept = match self.vector_backend() {
                SnapshotVectors::Exact(x) => x.vector(i as u64),
                _ => None,
            };
            match (kept, self.records().get(i as usize)) {
                (Some(v), _) => stored.push((rank, v)),
                (None, Some(r)) => texts.push(crate::snapshot::embed_text(r)),
                (None, None) => {}
            }
        }
        (texts, stored)
    }

    /// Drops positions that are not in the chunk table (a store out of step with
    /// the snapshot must not make a search panic).
    fn checked_positions(&self, hits: Vec<(u64, f32)>) -> Vec<(u32, f32)> {
        let n = self.records().len() as u64;
        hits.into_iter()
            .filter(|(id, _)| *id < n)
            .map(|(id, s)| (id as u32, s))
            .collect()
    }

    fn fuse(
        &self,
        c: Candidates,
        mode: Mode,
        k: usize,
        level_boost: bool,
        fusion: &FusionParams,
    ) -> Vec<(u32, f32)> {
        let mut fused: Vec<(u32, f32)> = match (mode, c.vector) {
            (Mode::Bm25, _) | (_, None) => c.lexical,
            (Mode::Vector, Some(v)) => v,
            (Mode::Hybrid, Some(v)) => {
                let a: Vec<u32> = c.lexical.iter().map(|(i, _)| *i).collect();
                let b: Vec<u32> = v.iter().map(|(i, _)| *i).collect();
                rrf(
                    &[(&a, fusion.bm25_weight), (&b, fusion.vector_weight)],
                    fusion.rrf_k,
                )
            }
        };
        let demote = fusion.front_matter_weight < 1.0;
        if level_boost || demote {
            for (i, s) in &mut fused {
                if level_boost {
                    *s *= self
                        .records()
                        .get(*i as usize)
                        .and_then(|r| r.level)
                        .map_or(1.0, Level::authority_weight);
                }
                if demote && self.is_front_matter(*i) {
                    *s *= fusion.front_matter_weight.max(0.0);
                }
            }
            // Stable: equal scores keep the channels' order.
            fused.sort_by(|a, b| b.1.total_cmp(&a.1));
        }
        // Vector mode stays the bare semantic channel: its score is a cosine.
        let lexical_evidence = mode != Mode::Vector;
        if lexical_evidence && fusion.coverage_weight > 0.0 {
            self.weigh_coverage(&mut fused, &c.words, fusion.coverage_weight);
        }
        if lexical_evidence && fusion.sibling_weight > 0.0 {
            self.add_sibling_evidence(&mut fused, fusion.sibling_weight);
        }
        self.collapse(fused, k, fusion.dedup_threshold)
    }

    /// Multiplies each score by `1 + weight × coverage` (see
    /// [`FusionParams::coverage_weight`]), then re-sorts.
    fn weigh_coverage(&self, ranked: &mut [(u32, f32)], words: &[(String, f32)], weight: f32) {
        let recs = self.records();
        // idf as BM25 computes it; a word no chunk holds weighs nothing here (it cannot
        // tell candidates apart).
        let weighted: Vec<(&str, f32)> = words
            .iter()
            .filter_map(|(w, n)| {
                let (df, total) = self.lexical().doc_freq(w);
                (df > 0).then(|| {
                    let (df, total) = (df as f32, total as f32);
                    let idf = (1.0 + (total - df + 0.5) / (df + 0.5)).ln();
                    (w.as_str(), n * idf)
                })
            })
            .collect();
        if weighted.is_empty() {
            return;
        }
        for (i, s) in ranked.iter_mut() {
            let Some(r) = recs.get(*i as usize) else {
                continue;
            };
            let title = crate::analysis::normalize(&r.title);
            let text = crate::analysis::normalize(&r.text);
            let (mut held, mut asked) = (0.0f32, 0.0f32);
            for (w, wt) in &weighted {
                if title.contains(w) {
                    continue;
                }
                asked += wt;
                if text.contains(w) {
                    held += wt;
                }
            }
            if asked > 0.0 {
                *s *= 1.0 + weight * held / asked;
            }
        }
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    }

    /// Adds `weight` × the best score among a chunk's siblings (other chunks of its
    /// document in `ranked`) to each chunk's score, then re-sorts.
    fn add_sibling_evidence(&self, ranked: &mut [(u32, f32)], weight: f32) {
        let recs = self.records();
        // The two best scores per document: a chunk's best sibling is the document's
        // best unless the chunk is that best itself.
        let mut best: HashMap<u32, (f32, f32)> = HashMap::new();
        for (i, s) in ranked.iter() {
            let Some(r) = recs.get(*i as usize) else {
                continue;
            };
            let e = best.entry(r.doc).or_insert((0.0, 0.0));
            if *s > e.0 {
                *e = (*s, e.0);
            } else if *s > e.1 {
                e.1 = *s;
            }
        }
        let mut seen: HashSet<u32> = HashSet::new();
        for (i, s) in ranked.iter_mut() {
            let Some(r) = recs.get(*i as usize) else {
                continue;
            };
            let Some(&(b1, b2)) = best.get(&r.doc) else {
                continue;
            };
            // `ranked` is sorted, so the first chunk of a document met is its best.
            let is_best = seen.insert(r.doc);
            let sibling = if is_best { b2 } else { b1 };
            *s += weight * sibling;
        }
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    }

    fn collapse(&self, ranked: Vec<(u32, f32)>, k: usize, threshold: f32) -> Vec<(u32, f32)> {
        if threshold > 1.0 || k == 0 {
            return ranked.into_iter().take(k).collect();
        }
        let recs = self.records();
        let mut kept: Vec<(u32, f32)> = Vec::with_capacity(k);
        for (i, s) in ranked {
            let Some(r) = recs.get(i as usize) else {
                continue;
            };
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

    fn hit(&self, i: u32, score: f32, as_of: NaiveDate) -> Option<Hit> {
        let r = self.records().get(i as usize)?;
        let m = self.documents().get(r.doc as usize)?;
        Some(Hit {
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
        })
    }
}

/// The feedback documents of a hybrid query: the top BM25 hits.
fn feedback(mode: Mode, lexical: &[(u32, f32)], fusion: &FusionParams) -> Vec<u32> {
    if mode != Mode::Hybrid || fusion.prf_weight <= 0.0 {
        return Vec::new();
    }
    lexical
        .iter()
        .take(fusion.prf_docs)
        .map(|(i, _)| *i)
        .collect()
}

/// Rocchio: `embedded[0]` is the query, `embedded[1..]` the feedback chunks that had
/// to be embedded (in rank order, skipping those in `stored`). Earlier feedback
/// documents count more (1, 1/2, 1/3 …).
fn mix_feedback(
    embedded: Vec<Vec<f32>>,
    stored: Vec<(usize, Vec<f32>)>,
    weight: f32,
) -> Result<Vec<f32>> {
    let mut it = embedded.into_iter();
    let mut v = it
        .next()
        .ok_or_else(|| Error::Embedding("no query vector returned".into()))?;
    let rest: Vec<Vec<f32>> = it.collect();
    let total_docs = rest.len() + stored.len();
    if total_docs == 0 || weight <= 0.0 {
        return Ok(v);
    }
    // Put the feedback vectors back in rank order.
    let mut docs: Vec<Option<Vec<f32>>> = vec![None; total_docs];
    for (rank, d) in stored {
        if let Some(slot) = docs.get_mut(rank) {
            *slot = Some(d);
        }
    }
    let mut rest = rest.into_iter();
    for slot in docs.iter_mut().filter(|s| s.is_none()) {
        *slot = rest.next();
    }
    let docs: Vec<Vec<f32>> = docs.into_iter().flatten().collect();
    let total: f32 = (1..=docs.len()).map(|r| 1.0 / r as f32).sum();
    for (r, d) in docs.iter().enumerate() {
        let w = weight / (r as f32 + 1.0) / total;
        for (x, y) in v.iter_mut().zip(d) {
            *x += w * y;
        }
    }
    crate::embed::l2_normalize(&mut v);
    Ok(v)
}

/// Runs CPU work on tokio's blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Runtime(format!("search task failed: {e}")))?
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
