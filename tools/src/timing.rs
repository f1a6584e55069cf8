//! Latency histograms and error counts by name, cheap enough to record on every call.
//!
//! The tool runtime records each invocation here and the LLM client each model call; the
//! service edge renders them as Prometheus histograms. Buckets are fixed (seconds), the same
//! for every series, so that series can be summed across replicas.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the buckets, in seconds (`+Inf` is implied).
pub const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// One series: counts per bucket (not cumulative), total count, sum, errors.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// Observations per bucket, one more than [`BUCKETS`] (the last is `+Inf`).
    pub buckets: Vec<u64>,
    /// Observations.
    pub count: u64,
    /// Sum of seconds.
    pub sum: f64,
    /// Calls that failed.
    pub errors: u64,
}

impl Series {
    /// Adds one observation.
    pub fn observe(&mut self, d: Duration, ok: bool) {
        if self.buckets.is_empty() {
            self.buckets = vec![0; BUCKETS.len() + 1];
        }
        let s = d.as_secs_f64();
        let i = BUCKETS
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(BUCKETS.len());
        self.buckets[i] += 1;
        self.count += 1;
        self.sum += s;
        if !ok {
            self.errors += 1;
        }
    }

    /// Cumulative counts per bucket bound, as Prometheus wants them (`le` = bound).
    pub fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut acc = 0;
        let mut out = Vec::with_capacity(BUCKETS.len() + 1);
        for (i, b) in BUCKETS.iter().enumerate() {
            acc += self.buckets.get(i).copied().unwrap_or(0);
            out.push((*b, acc));
        }
        out.push((f64::INFINITY, self.count));
        out
    }
}

/// Series by name.
#[derive(Debug, Default)]
pub struct Timings {
    series: Mutex<BTreeMap<String, Series>>,
}

impl Timings {
    /// Records one call of `name`.
    pub fn observe(&self, name: &str, d: Duration, ok: bool) {
        let mut m = match self.series.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        m.entry(name.to_string()).or_default().observe(d, ok);
    }

    /// A copy of every series.
    pub fn snapshot(&self) -> BTreeMap<String, Series> {
        match self.series.lock() {
            Ok(m) => m.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_their_buckets_and_accumulate() {
        let t = Timings::default();
        t.observe("a", Duration::from_millis(3), true);
        t.observe("a", Duration::from_millis(40), false);
        t.observe("a", Duration::from_secs(60), true);
        let s = &t.snapshot()["a"];
        assert_eq!((s.count, s.errors), (3, 1));
        let c = s.cumulative();
        assert_eq!(c[1], (0.0025, 0));
        assert_eq!(c[2], (0.005, 1));
        assert_eq!(c[5], (0.05, 2));
        assert_eq!(c[BUCKETS.len() - 1].1, 2);
        assert_eq!(*c.last().unwrap(), (f64::INFINITY, 3));
        assert!((s.sum - 60.043).abs() < 1e-9);
    }
}
