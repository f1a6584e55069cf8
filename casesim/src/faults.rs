//! Fault injection and the request log.
//!
//! A fault spec is a comma-separated list, from configuration or the `X-Casesim-Fault` header:
//! `latency=200ms`, `error=0.3` (503 before processing), `lost=0.2` (processed, then 502),
//! `timeout=0.1` (processed, then the response is held for `hang`, default 10s), `hang=2s`,
//! `duplicate=0.5` (the request is processed twice, as a gateway that delivers twice would),
//! `echo=0.5` (refused with a server error — REST 500, SOAP `soap:Server` — whose message echoes
//! the request's plaintext: name, ID number, phone and the raw arguments, as careless line systems
//! do), `echo_client=0.5` (the same as a business refusal: REST 422, SOAP `soap:Client`),
//! `seed=7`. A bare name means probability 1 (`timeout`, `duplicate`). Each draw is a hash of
//! (seed, idempotency key or body fingerprint, how many times that key has been seen, fault kind),
//! so an outcome does not depend on how concurrent requests interleave, and a retry gets a fresh
//! draw.

use crate::ops::fingerprint;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Parsed fault configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultSpec {
    /// Added latency before processing.
    pub latency: Option<Duration>,
    /// Probability of a 503 before processing.
    pub error: f64,
    /// Probability that the request is processed but answered with 502.
    pub lost: f64,
    /// Probability that the request is processed and the answer held for `hang`.
    pub timeout: f64,
    /// How long a timed-out answer is held.
    pub hang: Duration,
    /// Probability that the request is processed twice.
    pub duplicate: f64,
    /// Probability of a server error whose message echoes the request's plaintext PII.
    pub echo: f64,
    /// Probability of a business refusal whose message echoes the request's plaintext PII.
    pub echo_client: f64,
    /// Seed of the draws.
    pub seed: u64,
}

fn duration(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Some(ms) = v.strip_suffix("ms") {
        return ms.trim().parse().ok().map(Duration::from_millis);
    }
    if let Some(s) = v.strip_suffix('s') {
        return s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| *x >= 0.0)
            .map(Duration::from_secs_f64);
    }
    v.parse().ok().map(Duration::from_millis)
}

impl FaultSpec {
    /// Parse a spec; unknown names or bad values are errors.
    ///
    /// # Errors
    /// [`crate::Error::InvalidFault`] naming the bad part.
    pub fn parse(spec: &str) -> crate::Result<FaultSpec> {
        let mut f = FaultSpec {
            hang: Duration::from_secs(10),
            ..FaultSpec::default()
        };
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .map(|(k, v)| (k.trim(), Some(v.trim())))
                .unwrap_or((part, None));
            let bad = || crate::Error::InvalidFault {
                part: part.to_string(),
            };
            let prob = |v: Option<&str>| -> crate::Result<f64> {
                match v {
                    None => Ok(1.0),
                    Some(x) => x
                        .parse::<f64>()
                        .ok()
                        .filter(|p| (0.0..=1.0).contains(p))
                        .ok_or_else(bad),
                }
            };
            match k {
                "latency" => f.latency = Some(v.and_then(duration).ok_or_else(bad)?),
                "hang" => f.hang = v.and_then(duration).ok_or_else(bad)?,
                "error" => f.error = prob(v)?,
                "lost" => f.lost = prob(v)?,
                "timeout" => f.timeout = prob(v)?,
                "duplicate" => f.duplicate = prob(v)?,
                "echo" => f.echo = prob(v)?,
                "echo_client" => f.echo_client = prob(v)?,
                "seed" => f.seed = v.and_then(|x| x.parse().ok()).ok_or_else(bad)?,
                _ => return Err(bad()),
            }
        }
        Ok(f)
    }

    /// Whether `kind` fires for the `nth` delivery of `key`.
    pub fn fires(&self, kind: &str, p: f64, key: &str, nth: u64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        let h = u64::from_str_radix(
            &fingerprint(&format!("{}|{key}|{nth}|{kind}", self.seed)),
            16,
        )
        .unwrap_or(0);
        ((h >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// The error half of a logged answer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LoggedError {
    /// Stable code, e.g. `APPLICANT_NOT_FOUND`, `FAULT_INJECTED`.
    pub code: String,
    /// Chinese message as answered.
    pub message: String,
}

/// One request as casesim received it, in the shape of the contract's request log
/// (`seq, at, transport, operation, args, idempotency_key, ok, result, error, replayed`) plus
/// what the fault layer did (`at_ms, fault, body, status, outcome, duplicate_delivery`).
///
/// `ok`, `result` and `error` are the operation's own outcome: a request that was processed and
/// then answered with an injected 502 (`outcome: "lost"`) has `ok: true` and its result, because
/// that is what the line side did; a request refused before processing (`error`, `echo`,
/// `rejected`, unreadable arguments) has `ok: false` and the error it was answered with.
#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    /// Sequence number (1-based, in arrival order).
    pub seq: u64,
    /// When it arrived: the case system's "today" and the wall-clock time,
    /// `YYYY-MM-DDTHH:MM:SS.mmm+08:00`.
    pub at: String,
    /// Milliseconds since casesim started.
    pub at_ms: u64,
    /// `rest` or `soap`.
    pub transport: &'static str,
    /// Operation id.
    pub operation: String,
    /// `Idempotency-Key` header, if any.
    pub idempotency_key: Option<String>,
    /// Fault spec in force, if any.
    pub fault: Option<String>,
    /// Raw request body as received.
    pub body: String,
    /// HTTP status returned (for a duplicate delivery: the status of the first).
    pub status: u16,
    /// What happened: `none`, `error`, `lost`, `timeout`, `echo` (fault layer) or `rejected` (bad
    /// signature).
    pub outcome: &'static str,
    /// True for the second processing of a duplicated delivery.
    pub duplicate_delivery: bool,
    /// The arguments as parsed from either transport (plaintext); `{}` when they could not be
    /// read.
    pub args: serde_json::Value,
    /// Whether the operation completed.
    pub ok: bool,
    /// Its result when it did.
    pub result: Option<serde_json::Value>,
    /// Its error when it did not.
    pub error: Option<LoggedError>,
    /// A submit answered from its idempotency key (no new case).
    pub replayed: bool,
}

/// Thread-safe request log and per-key delivery counters.
#[derive(Debug, Default)]
pub struct RequestLog {
    inner: Mutex<LogInner>,
}

#[derive(Debug, Default)]
struct LogInner {
    next_seq: u64,
    records: Vec<RequestRecord>,
    deliveries: HashMap<String, u64>,
}

impl RequestLog {
    /// Count one more delivery of `key`; returns how many came before.
    pub fn delivery(&self, key: &str) -> u64 {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let n = g.deliveries.entry(key.to_string()).or_insert(0);
        let prior = *n;
        *n += 1;
        prior
    }
    /// Append a record (its `seq` is assigned here).
    pub fn push(&self, mut r: RequestRecord) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.next_seq += 1;
        r.seq = g.next_seq;
        g.records.push(r);
    }
    /// A copy of all records.
    pub fn all(&self) -> Vec<RequestRecord> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .records
            .clone()
    }
    /// Forget all records and delivery counters.
    pub fn clear(&self) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.records.clear();
        g.deliveries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let f = FaultSpec::parse(
            "latency=200ms,error=0.3,timeout,duplicate,hang=1.5s,seed=9,echo=0.2,echo_client",
        )
        .unwrap();
        assert_eq!(f.latency, Some(Duration::from_millis(200)));
        assert_eq!(f.error, 0.3);
        assert_eq!(f.timeout, 1.0);
        assert_eq!(f.duplicate, 1.0);
        assert_eq!(f.hang, Duration::from_millis(1500));
        assert_eq!(f.seed, 9);
        assert_eq!((f.echo, f.echo_client), (0.2, 1.0));
        assert!(matches!(
            FaultSpec::parse("error=2"),
            Err(crate::Error::InvalidFault { part }) if part == "error=2"
        ));
        assert!(matches!(
            FaultSpec::parse("latency=1ms,explode"),
            Err(crate::Error::InvalidFault { part }) if part == "explode"
        ));
    }

    #[test]
    fn draws_are_deterministic_and_near_the_rate() {
        let f = FaultSpec::parse("error=0.3,seed=1").unwrap();
        let hits = (0..10_000)
            .filter(|i| f.fires("error", f.error, &format!("k{i}"), 0))
            .count();
        assert!((2_700..3_300).contains(&hits), "{hits}");
        assert_eq!(
            f.fires("error", 0.3, "k1", 0),
            f.fires("error", 0.3, "k1", 0)
        );
    }
}
