//! A key provider that blocks (a KMS or cipher machine behind a network) never holds an async
//! worker, and one that hangs is cut off by the deadline before anything reaches a line system.

mod common;

use common::*;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tempfile::TempDir;
use zeroize::Zeroizing;
use zhiban_pii::{AuditLog, KeyProvider, Keyring, PiiKind, Vault};
use zhiban_tools::{AdapterConfig, Error, Registry, ToolRuntime, Transport};

/// A keyring behind a slow wire.
struct SlowProvider {
    inner: Keyring,
    delay: Duration,
    calls: AtomicU64,
}

impl KeyProvider for SlowProvider {
    fn current_version(&self) -> u32 {
        self.inner.current_version()
    }
    fn seal(
        &self,
        version: u32,
        nonce: &[u8; 12],
        aad: &[u8],
        plaintext: &[u8],
    ) -> zhiban_pii::Result<Vec<u8>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(self.delay);
        self.inner.seal(version, nonce, aad, plaintext)
    }
    fn open(
        &self,
        version: u32,
        nonce: &[u8; 12],
        aad: &[u8],
        sealed: &[u8],
    ) -> zhiban_pii::Result<Zeroizing<Vec<u8>>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(self.delay);
        self.inner.open(version, nonce, aad, sealed)
    }
    // `blocking` keeps its default: true.
}

/// A runtime over the slow provider, and a fast vault with the same keys for sealing arguments.
fn slow_runtime(
    sim: &zhiban_casesim::Casesim,
    dir: &TempDir,
    delay: Duration,
) -> (ToolRuntime, Vault, Arc<SlowProvider>) {
    let ring = Keyring::generate().unwrap();
    let copy = Keyring::from_json(&ring.to_json().unwrap(), "test").unwrap();
    let provider = Arc::new(SlowProvider {
        inner: ring,
        delay,
        calls: AtomicU64::new(0),
    });
    let audit = Arc::new(AuditLog::open(dir.path().join("audit.log")).unwrap());
    let rt = ToolRuntime::new(
        Registry::builtin(),
        Vault::new(provider.clone()),
        audit,
        AdapterConfig::all_at(&sim.base_url(), Transport::Rest),
    )
    .unwrap();
    (rt, Vault::new(Arc::new(copy)), provider)
}

#[tokio::test(flavor = "current_thread")]
async fn a_blocking_provider_runs_off_the_async_worker() {
    let sim = sim().await;
    let dir = TempDir::new().unwrap();
    let delay = Duration::from_millis(200);
    let (rt, fast, provider) = slow_runtime(&sim, &dir, delay);
    let (id, name, _, _) = resident(&sim, 42).await;
    let c = ctx("slow-kms");
    let scope = c.scope();
    let args = json!({
        "name": fast.seal(&scope, PiiKind::Name, &name).unwrap(),
        "id_number": fast.seal(&scope, PiiKind::IdCard, &id).unwrap(),
    });
    // On this single worker thread a ticker keeps running only if nothing blocks it.
    let max_gap = Arc::new(AtomicU64::new(0));
    let ticker = tokio::spawn({
        let max_gap = Arc::clone(&max_gap);
        async move {
            let mut last = Instant::now();
            loop {
                tokio::time::sleep(Duration::from_millis(2)).await;
                let gap = last.elapsed().as_millis() as u64;
                max_gap.fetch_max(gap, Ordering::SeqCst);
                last = Instant::now();
            }
        }
    });
    // Let the ticker start before the call, and record its last gap after it.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let v = rt.invoke(&c, "applicant_verify", args).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    ticker.abort();
    assert_eq!(v["match_level"], "完全匹配");
    // Two tokens opened, two result fields sealed: ≥ 800 ms inside the provider...
    assert!(provider.calls.load(Ordering::SeqCst) >= 4);
    // ...while the worker never stalled for even one provider call.
    let gap = max_gap.load(Ordering::SeqCst);
    assert!(
        gap < delay.as_millis() as u64,
        "the async worker was blocked for {gap} ms"
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_hanging_provider_is_cut_off_by_the_deadline() {
    let sim = sim().await;
    let dir = TempDir::new().unwrap();
    let (rt, fast, _) = slow_runtime(&sim, &dir, Duration::from_secs(1));
    let rt = rt.with_key_timeout(Duration::from_millis(100));
    let (id, name, _, _) = resident(&sim, 42).await;
    let c = ctx("hung-kms");
    let scope = c.scope();
    let args = json!({
        "name": fast.seal(&scope, PiiKind::Name, &name).unwrap(),
        "id_number": fast.seal(&scope, PiiKind::IdCard, &id).unwrap(),
    });
    let started = Instant::now();
    let err = rt.invoke(&c, "applicant_verify", args).await.unwrap_err();
    assert!(
        matches!(err, Error::KeyProviderTimeout { ms: 100 }),
        "{err:?}"
    );
    assert!(err.to_string().contains("密钥服务"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(sim.requests().is_empty(), "nothing reached the line system");
    sim.stop().await;
}
