//! Ranking metrics with binary relevance, as `shared/benchmarks/README.md` defines them.

use std::collections::HashSet;

/// Metrics of one query's top-10 list.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct QueryScores {
    /// recall@1, @3, @5, @10.
    pub recall: [f64; 4],
    /// Reciprocal rank of the first relevant hit in the top 10 (0 if none).
    pub rr: f64,
    /// nDCG@10.
    pub ndcg: f64,
}

/// The cut-offs of [`QueryScores::recall`].
pub const RECALL_AT: [usize; 4] = [1, 3, 5, 10];

/// Scores one ranked list against its gold set. Duplicate ids in `ranked` count once.
pub fn score(ranked: &[String], gold: &[String]) -> QueryScores {
    let gold: HashSet<&str> = gold.iter().map(String::as_str).collect();
    if gold.is_empty() {
        return QueryScores::default();
    }
    let mut seen = HashSet::new();
    let top: Vec<&str> = ranked
        .iter()
        .map(String::as_str)
        .filter(|id| seen.insert(*id))
        .take(10)
        .collect();
    let mut recall = [0.0; 4];
    for (slot, &k) in RECALL_AT.iter().enumerate() {
        let hits = top.iter().take(k).filter(|id| gold.contains(*id)).count();
        recall[slot] = hits as f64 / gold.len() as f64;
    }
    let rr = top
        .iter()
        .position(|id| gold.contains(id))
        .map_or(0.0, |p| 1.0 / (p as f64 + 1.0));
    let dcg: f64 = top
        .iter()
        .enumerate()
        .filter(|(_, id)| gold.contains(*id))
        .map(|(i, _)| 1.0 / ((i as f64 + 2.0).log2()))
        .sum();
    let ideal: f64 = (0..gold.len().min(10))
        .map(|i| 1.0 / ((i as f64 + 2.0).log2()))
        .sum();
    QueryScores {
        recall,
        rr,
        ndcg: dcg / ideal,
    }
}

/// Mean of per-query scores.
pub fn mean(scores: &[QueryScores]) -> QueryScores {
    let n = scores.len().max(1) as f64;
    let mut m = QueryScores::default();
    for s in scores {
        for i in 0..4 {
            m.recall[i] += s.recall[i] / n;
        }
        m.rr += s.rr / n;
        m.ndcg += s.ndcg / n;
    }
    m
}

/// The `p`-th percentile (0–100) of `values` by nearest rank; 0 for an empty list.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank.min(v.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn perfect_ranking_scores_one() {
        let q = score(&s(&["a", "b", "x"]), &s(&["a", "b"]));
        assert_eq!(q.recall, [0.5, 1.0, 1.0, 1.0]);
        assert_eq!(q.rr, 1.0);
        assert!((q.ndcg - 1.0).abs() < 1e-12);
    }

    #[test]
    fn late_hit_is_discounted() {
        let q = score(&s(&["x", "y", "a"]), &s(&["a"]));
        assert_eq!(q.recall, [0.0, 1.0, 1.0, 1.0]);
        assert!((q.rr - 1.0 / 3.0).abs() < 1e-12);
        assert!((q.ndcg - 0.5).abs() < 1e-12); // 1/log2(4)
    }

    #[test]
    fn miss_and_beyond_ten_score_zero() {
        let mut ranked: Vec<String> = (0..10).map(|i| format!("n{i}")).collect();
        ranked.push("a".into());
        let q = score(&ranked, &s(&["a"]));
        assert_eq!(q.recall[3], 0.0);
        assert_eq!(q.rr, 0.0);
        assert_eq!(q.ndcg, 0.0);
    }

    #[test]
    fn ideal_dcg_caps_at_ten_gold() {
        let gold: Vec<String> = (0..12).map(|i| format!("g{i}")).collect();
        let q = score(&gold[..10], &gold);
        assert!((q.ndcg - 1.0).abs() < 1e-12);
        assert!((q.recall[3] - 10.0 / 12.0).abs() < 1e-12);
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&[3.0], 99.0), 3.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }
}
