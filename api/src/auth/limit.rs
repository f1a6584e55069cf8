//! Per-client rate and concurrency limits.
//!
//! The rate is a token bucket holding one minute's allowance and refilling continuously, so a
//! client may burst up to its per-minute rate and then proceeds at that rate; the answer to a
//! refused request says how many seconds until the next token (`Retry-After`). Concurrency is a
//! semaphore per client, so one client's slow turns cannot take every worker. Both are per
//! replica: behind N replicas a client gets at most N times its rate, which operators size for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets and semaphores by client.
#[derive(Debug, Default)]
pub struct Limits {
    buckets: Mutex<HashMap<String, Bucket>>,
    inflight: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Why a request was held back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Over the rate; retry after this many seconds.
    Rate {
        /// Seconds.
        retry_after: u64,
    },
    /// Too many requests in flight.
    Concurrency,
}

impl Limits {
    /// Takes one token from `client`'s bucket of `per_minute`.
    ///
    /// # Errors
    /// [`Refusal::Rate`] when the bucket is empty.
    pub fn take(&self, client: &str, per_minute: u32, now: Instant) -> Result<(), Refusal> {
        let cap = f64::from(per_minute.max(1));
        let per_sec = cap / 60.0;
        let mut buckets = match self.buckets.lock() {
            Ok(b) => b,
            Err(p) => p.into_inner(),
        };
        let b = buckets.entry(client.to_string()).or_insert(Bucket {
            tokens: cap,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * per_sec).min(cap);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - b.tokens) / per_sec).ceil().max(1.0);
            Err(Refusal::Rate {
                retry_after: wait as u64,
            })
        }
    }

    /// A slot among `max` concurrent requests of `client`, held until the permit drops.
    ///
    /// # Errors
    /// [`Refusal::Concurrency`] when all are taken.
    pub fn enter(&self, client: &str, max: usize) -> Result<OwnedSemaphorePermit, Refusal> {
        let sem = {
            let mut m = match self.inflight.lock() {
                Ok(m) => m,
                Err(p) => p.into_inner(),
            };
            m.entry(client.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(max.max(1))))
                .clone()
        };
        sem.try_acquire_owned().map_err(|_| Refusal::Concurrency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_bursts_to_its_rate_then_refills() {
        let l = Limits::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            l.take("a", 3, t0).unwrap();
        }
        let Err(Refusal::Rate { retry_after }) = l.take("a", 3, t0) else {
            panic!("fourth request within the minute must be refused");
        };
        assert_eq!(retry_after, 20);
        // Another client is not affected.
        l.take("b", 3, t0).unwrap();
        // After 20 s one token is back.
        l.take("a", 3, t0 + Duration::from_secs(20)).unwrap();
        assert!(l.take("a", 3, t0 + Duration::from_secs(20)).is_err());
    }

    #[test]
    fn concurrency_slots_come_back_when_permits_drop() {
        let l = Limits::default();
        let p1 = l.enter("a", 2).unwrap();
        let _p2 = l.enter("a", 2).unwrap();
        assert_eq!(l.enter("a", 2).unwrap_err(), Refusal::Concurrency);
        drop(p1);
        assert!(l.enter("a", 2).is_ok());
    }
}
