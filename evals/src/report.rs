//! The JSON line every retrieval suite prints.

use serde::Serialize;

use crate::metrics::{QueryScores, percentile};

/// One split's figures, with the keys of the `zhiban eval` contract.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RetrievalReport {
    /// Suite name, e.g. `stard`.
    pub suite: String,
    /// Split name (`all`, `dev`, …).
    pub split: String,
    /// Channel mode.
    pub mode: String,
    /// Queries scored.
    pub n_queries: usize,
    /// Documents in the corpus.
    pub n_docs: usize,
    /// recall@1.
    #[serde(rename = "recall@1")]
    pub recall_1: f64,
    /// recall@3.
    #[serde(rename = "recall@3")]
    pub recall_3: f64,
    /// recall@5.
    #[serde(rename = "recall@5")]
    pub recall_5: f64,
    /// recall@10.
    #[serde(rename = "recall@10")]
    pub recall_10: f64,
    /// MRR@10.
    #[serde(rename = "mrr@10")]
    pub mrr_10: f64,
    /// nDCG@10.
    #[serde(rename = "ndcg@10")]
    pub ndcg_10: f64,
    /// Median query latency.
    pub latency_ms_p50: f64,
    /// 99th-percentile query latency.
    pub latency_ms_p99: f64,
    /// Seconds to build the index.
    pub build_s: f64,
}

impl RetrievalReport {
    /// Assembles a report from mean scores and raw latencies (ms).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        suite: &str,
        split: &str,
        mode: &str,
        mean: QueryScores,
        n_queries: usize,
        n_docs: usize,
        latencies_ms: &[f64],
        build_s: f64,
    ) -> Self {
        let r4 = |x: f64| (x * 10_000.0).round() / 10_000.0;
        let r3 = |x: f64| (x * 1_000.0).round() / 1_000.0;
        RetrievalReport {
            suite: suite.to_string(),
            split: split.to_string(),
            mode: mode.to_string(),
            n_queries,
            n_docs,
            recall_1: r4(mean.recall[0]),
            recall_3: r4(mean.recall[1]),
            recall_5: r4(mean.recall[2]),
            recall_10: r4(mean.recall[3]),
            mrr_10: r4(mean.rr),
            ndcg_10: r4(mean.ndcg),
            latency_ms_p50: r3(percentile(latencies_ms, 50.0)),
            latency_ms_p99: r3(percentile(latencies_ms, 99.0)),
            build_s: r3(build_s),
        }
    }
}
