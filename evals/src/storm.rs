//! The search storm: many concurrent searches against one [`LiveSnapshot`] while a
//! new snapshot is published, as a server sees it all day.
//!
//! Every search must succeed, every hit must carry the id of the snapshot that
//! served its result, and both the old and the new snapshot must be seen serving.
//! The report gives throughput and latency for the benchmark; the correctness part
//! is asserted by the integration test (no timing assertions there).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use zhiban_knowledge::{LiveSnapshot, Mode, SearchRequest};

use crate::{Error, Result};

/// How hard to storm.
#[derive(Debug, Clone, PartialEq)]
pub struct StormOptions {
    /// Concurrent tasks.
    pub tasks: usize,
    /// Searches each task makes at least.
    pub searches_per_task: usize,
    /// Publish once this many searches (all tasks together) have finished.
    pub publish_after: usize,
    /// How often the watcher looks at `CURRENT`.
    pub watch_every: Duration,
    /// Per-search deadline.
    pub deadline: Duration,
    /// Retrieval mode.
    pub mode: Mode,
    /// Hits per search.
    pub k: usize,
}

impl Default for StormOptions {
    fn default() -> Self {
        StormOptions {
            tasks: 64,
            searches_per_task: 100,
            publish_after: 64 * 30,
            watch_every: Duration::from_millis(50),
            deadline: Duration::from_secs(10),
            mode: Mode::Hybrid,
            k: 10,
        }
    }
}

/// What a storm measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StormReport {
    /// Searches made.
    pub searches: usize,
    /// Searches that returned an error.
    pub failures: usize,
    /// The first few error messages.
    pub errors: Vec<String>,
    /// Hits whose snapshot id differed from their result's.
    pub inconsistent_hits: usize,
    /// Results per snapshot id.
    pub served_by: BTreeMap<String, usize>,
    /// The snapshot serving before the publish.
    pub old_snapshot: String,
    /// The snapshot published mid-storm.
    pub new_snapshot: String,
    /// From the publish to the first result served by the new snapshot.
    pub swap_s: Option<f64>,
    /// Wall time of the storm.
    pub seconds: f64,
    /// Searches per second over the storm.
    pub searches_per_s: f64,
    /// Median latency of one search.
    pub latency_ms_p50: f64,
    /// 99th percentile latency.
    pub latency_ms_p99: f64,
}

struct TaskOutcome {
    latencies_ms: Vec<f64>,
    served_by: BTreeMap<String, usize>,
    failures: usize,
    errors: Vec<String>,
    inconsistent_hits: usize,
    first_new: Option<Instant>,
}

/// Runs a storm on the current tokio runtime: `opts.tasks` tasks search `live`
/// with `questions` (round robin), and after `opts.publish_after` searches
/// `publish` runs on the blocking pool and returns the id it published. The
/// watcher started here swaps the new snapshot in.
///
/// # Errors
/// When `questions` is empty, or `publish` fails; failed searches are counted,
/// not returned.
pub async fn run<P>(
    live: LiveSnapshot,
    questions: Vec<String>,
    publish: P,
    opts: &StormOptions,
) -> Result<StormReport>
where
    P: FnOnce() -> zhiban_knowledge::Result<String> + Send + 'static,
{
    if questions.is_empty() {
        return Err(Error::Storm("no questions to search with".into()));
    }
    let old = live.snapshot().id().to_string();
    let watcher = live.watch(opts.watch_every);
    let questions = Arc::new(questions);
    let done = Arc::new(AtomicUsize::new(0));
    let swapped = Arc::new(AtomicBool::new(false));
    let new_id: Arc<std::sync::OnceLock<String>> = Arc::new(std::sync::OnceLock::new());
    let started = Instant::now();

    let mut handles = Vec::with_capacity(opts.tasks);
    for t in 0..opts.tasks {
        let (live, questions, done, swapped, new_id) = (
            live.clone(),
            questions.clone(),
            done.clone(),
            swapped.clone(),
            new_id.clone(),
        );
        let (per_task, deadline, mode, k) =
            (opts.searches_per_task, opts.deadline, opts.mode, opts.k);
        handles.push(tokio::spawn(async move {
            let mut out = TaskOutcome {
                latencies_ms: Vec::with_capacity(per_task),
                served_by: BTreeMap::new(),
                failures: 0,
                errors: Vec::new(),
                inconsistent_hits: 0,
                first_new: None,
            };
            // Bounded: at most 20 rounds of `per_task` even if the swap never comes.
            let mut i = 0usize;
            while i < per_task.saturating_mul(20)
                && (i < per_task || !swapped.load(Ordering::Acquire))
            {
                let q = &questions[(t * 7 + i) % questions.len()];
                let mut req = SearchRequest::new(q.as_str());
                req.mode = mode;
                req.k = k;
                let t0 = Instant::now();
                let r = live.search(&req, t0 + deadline).await;
                out.latencies_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
                match r {
                    Ok(res) => {
                        out.inconsistent_hits += res
                            .hits
                            .iter()
                            .filter(|h| h.snapshot != res.snapshot)
                            .count();
                        if new_id.get() == Some(&res.snapshot) {
                            out.first_new.get_or_insert_with(Instant::now);
                            swapped.store(true, Ordering::Release);
                        }
                        *out.served_by.entry(res.snapshot).or_insert(0) += 1;
                    }
                    Err(e) => {
                        out.failures += 1;
                        if out.errors.len() < 5 {
                            out.errors.push(e.to_string());
                        }
                    }
                }
                done.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
            out
        }));
    }

    // The publisher: waits for its turn, then publishes off the async workers.
    // Never later than half-way, so the storm cannot end before it.
    let publish_after = opts
        .publish_after
        .min(opts.tasks * opts.searches_per_task / 2);
    let d = done.clone();
    let publisher = tokio::spawn(async move {
        while d.load(Ordering::Relaxed) < publish_after {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let at = Instant::now();
        let id = tokio::task::spawn_blocking(publish)
            .await
            .map_err(|e| Error::Storm(format!("publisher failed: {e}")))??;
        Ok::<_, Error>((id, at))
    });
    // The tasks watch for the new id as soon as it is known.
    let (published, published_at) = match publisher.await {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => {
            watcher.abort();
            return Err(e);
        }
        Err(e) => {
            watcher.abort();
            return Err(Error::Storm(format!("publisher failed: {e}")));
        }
    };
    let _ = new_id.set(published.clone());

    let mut latencies = Vec::new();
    let mut report = StormReport {
        searches: 0,
        failures: 0,
        errors: Vec::new(),
        inconsistent_hits: 0,
        served_by: BTreeMap::new(),
        old_snapshot: old,
        new_snapshot: published,
        swap_s: None,
        seconds: 0.0,
        searches_per_s: 0.0,
        latency_ms_p50: 0.0,
        latency_ms_p99: 0.0,
    };
    let mut first_new: Option<Instant> = None;
    for h in handles {
        let o = h
            .await
            .map_err(|e| Error::Storm(format!("search task failed: {e}")))?;
        report.searches += o.latencies_ms.len();
        report.failures += o.failures;
        report.inconsistent_hits += o.inconsistent_hits;
        for e in o.errors {
            if report.errors.len() < 5 {
                report.errors.push(e);
            }
        }
        for (id, n) in o.served_by {
            *report.served_by.entry(id).or_insert(0) += n;
        }
        latencies.extend(o.latencies_ms);
        first_new = match (first_new, o.first_new) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    watcher.abort();
    report.seconds = started.elapsed().as_secs_f64();
    report.searches_per_s = report.searches as f64 / report.seconds.max(1e-9);
    report.swap_s = first_new.map(|t| t.saturating_duration_since(published_at).as_secs_f64());
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        (latencies[i.min(latencies.len() - 1)] * 1000.0).round() / 1000.0
    };
    report.latency_ms_p50 = pct(0.5);
    report.latency_ms_p99 = pct(0.99);
    Ok(report)
}
