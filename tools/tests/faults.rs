//! Under injected faults (5xx, lost answers, timeouts, duplicate delivery) 1,000 concurrent
//! 提交 calls create exactly one case each; the circuit breaker opens and recovers.

mod common;

use common::*;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use zhiban_tools::{BreakerConfig, BreakerState, Transport};

async fn thousand_submits(transport: Transport) {
    let fault = "error=0.15,lost=0.1,timeout=0.08,hang=4s,duplicate=0.3,seed=11";
    let e = env(transport, |s| {
        s.headers.insert("X-Casesim-Fault".into(), fault.into());
        s.timeout = Some(Duration::from_secs(2));
        s.write_retries = 6;
        s.backoff_base = Duration::from_millis(20);
        // This test is about idempotency, not the breaker: keep it closed.
        s.breaker = BreakerConfig {
            failure_threshold: u32::MAX,
            open_for: Duration::from_millis(1),
        };
    })
    .await;
    let residents: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id_number, name, mobile FROM residents ORDER BY id LIMIT 1000")
            .fetch_all(e.sim.pool())
            .await
            .unwrap();
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(e.sim.pool())
        .await
        .unwrap();
    let c = ctx("burst");
    let mut tasks = Vec::new();
    for (i, (id, name, mobile)) in residents.into_iter().enumerate() {
        let rt = Arc::clone(&e.rt);
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let plain = json!({"name": name, "id_number": id, "mobile": mobile, "remark": format!("批次-{i:04}")});
            // The agent may re-send after a final failure; each re-send re-seals the tokens.
            let mut last = String::new();
            for round in 0..5 {
                let args = tokenize(&rt, &c, "elderly_subsidy_submit", plain.clone());
                match rt.invoke(&c, "elderly_subsidy_submit", args).await {
                    Ok(v) => return (i, round, v["case_no"].as_str().unwrap().to_string()),
                    Err(err) => {
                        assert!(err.retryable(), "{err}");
                        last = format!("{err} ({err:?})");
                    }
                }
            }
            panic!("call {i} never succeeded: {last}");
        }));
    }
    let started = std::time::Instant::now();
    let mut case_nos = std::collections::BTreeMap::new();
    for t in tasks {
        let (i, _round, case_no) = t.await.unwrap();
        case_nos.insert(i, case_no);
    }
    let counts: Vec<(String, i64)> = sqlx::query_as("SELECT json_extract(payload, '$.remark') AS r, COUNT(*) FROM cases WHERE r LIKE '批次-%' GROUP BY r ORDER BY r").fetch_all(e.sim.pool()).await.unwrap();
    assert_eq!(counts.len(), 1000, "every call created a case");
    assert!(
        counts.iter().all(|(_, n)| *n == 1),
        "a call created more than one case: {:?}",
        counts
            .iter()
            .filter(|c| c.1 > 1)
            .take(5)
            .collect::<Vec<_>>()
    );
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(e.sim.pool())
        .await
        .unwrap();
    assert_eq!(after - before, 1000);
    // The case number each caller got is the one stored for its application.
    for (i, case_no) in &case_nos {
        let stored: String = sqlx::query_scalar(
            "SELECT case_no FROM cases WHERE json_extract(payload, '$.remark') = ?",
        )
        .bind(format!("批次-{i:04}"))
        .fetch_one(e.sim.pool())
        .await
        .unwrap();
        assert_eq!(&stored, case_no);
    }
    // The faults really happened.
    let log = e.sim.requests();
    let n = |o: &str| log.iter().filter(|r| r.outcome == o).count();
    let dups = log.iter().filter(|r| r.duplicate_delivery).count();
    println!(
        "{transport:?}: {:.1}s, {} requests, error {}, lost {}, timeout {}, duplicate {dups}, retries {}",
        started.elapsed().as_secs_f64(),
        log.len(),
        n("error"),
        n("lost"),
        n("timeout"),
        e.rt.adapters().stats.retries.load(Ordering::Relaxed)
    );
    assert!(n("error") > 50 && n("lost") > 30 && n("timeout") > 20 && dups > 100);
    e.sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_submits_over_rest_create_one_case_each() {
    thousand_submits(Transport::Rest).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_submits_over_soap_create_one_case_each() {
    thousand_submits(Transport::Soap).await;
}

#[tokio::test]
async fn circuit_breaker_opens_and_recovers() {
    let e = env(Transport::Rest, |s| {
        s.read_retries = 0;
        s.breaker = BreakerConfig {
            failure_threshold: 3,
            open_for: Duration::from_millis(300),
        };
    })
    .await;
    let c = ctx("breaker");
    e.sim.set_faults(Some("error")).unwrap();
    for _ in 0..3 {
        let err =
            e.rt.invoke(&c, "road_search", json!({"query": "长"}))
                .await
                .unwrap_err();
        assert_eq!(err.code(), "unavailable");
        assert!(err.to_string().contains("暂时无法访问"), "{err}");
    }
    assert_eq!(
        e.rt.adapters().breaker_state("sl"),
        Some(BreakerState::Open)
    );
    let seen = e.sim.requests().len();
    let err =
        e.rt.invoke(&c, "matter_catalog", json!({}))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "circuit_open");
    assert!(err.to_string().contains("暂停调用"));
    assert_eq!(
        e.sim.requests().len(),
        seen,
        "an open breaker sends nothing"
    );
    // Other line systems are unaffected.
    assert_eq!(
        e.rt.adapters().breaker_state("rs"),
        Some(BreakerState::Closed)
    );
    // The system recovers; after the cool-down one probe goes through and closes the breaker.
    e.sim.set_faults(None).unwrap();
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        e.rt.adapters().breaker_state("sl"),
        Some(BreakerState::HalfOpen)
    );
    let v =
        e.rt.invoke(&c, "matter_catalog", json!({"channel": "社区"}))
            .await
            .unwrap();
    assert!(v["total"].as_u64().unwrap() > 10);
    assert_eq!(
        e.rt.adapters().breaker_state("sl"),
        Some(BreakerState::Closed)
    );
    e.sim.stop().await;
}

#[tokio::test]
async fn reads_retry_and_time_out_with_a_chinese_message() {
    let e = env(Transport::Soap, |s| {
        s.timeout = Some(Duration::from_millis(200));
        s.read_retries = 2;
        s.backoff_base = Duration::from_millis(5);
    })
    .await;
    let c = ctx("timeouts");
    e.sim.set_faults(Some("timeout,hang=1s")).unwrap();
    let err =
        e.rt.invoke(&c, "road_search", json!({"query": "长"}))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "timeout");
    assert!(err.to_string().contains("响应超时"), "{err}");
    assert_eq!(e.sim.requests().len(), 3, "one attempt plus two retries");
    // A write without retries budget is still protected by its key: re-sending reuses the case.
    e.sim.set_faults(Some("lost=0.5,seed=3")).unwrap();
    let (id, name, mobile, _) = resident(&e.sim, 20).await;
    let plain = json!({"name": name, "id_number": id, "mobile": mobile});
    let mut got = Vec::new();
    for _ in 0..6 {
        let args = tokenize(&e.rt, &c, "zhinei_submit", plain.clone());
        if let Ok(v) = e.rt.invoke(&c, "zhinei_submit", args).await {
            got.push(v["case_no"].as_str().unwrap().to_string());
        }
    }
    assert!(!got.is_empty());
    assert!(got.windows(2).all(|w| w[0] == w[1]));
    let rid: i64 = sqlx::query_scalar("SELECT id FROM residents WHERE id_number = ?")
        .bind(&id)
        .fetch_one(e.sim.pool())
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE resident_id = ? AND matter_code = 'SQ-MZ-031' AND idempotency_key IS NOT NULL").bind(rid).fetch_one(e.sim.pool()).await.unwrap();
    assert_eq!(n, 1);
    e.sim.stop().await;
}

#[tokio::test]
async fn signed_requests_pass_and_unsigned_or_wrongly_signed_ones_are_refused() {
    let mut cfg = zhiban_casesim::Config::fixed(today());
    cfg.signing_key = Some(b"0123456789abcdef-shared-secret".to_vec());
    let sim = zhiban_casesim::start(cfg).await.unwrap();
    let dir = tempfile::TempDir::new().unwrap();
    let vault = vault();
    let good_hex = "303132333435363738396162636465662d7368617265642d736563726574";
    let c = ctx("signed");
    for transport in [Transport::Rest, Transport::Soap] {
        // Signed, with retries: every attempt carries its own nonce, so retries are not replays.
        let (rt, _) = runtime(&sim, transport, &vault, &dir, |s| {
            s.signing_key_hex = Some(good_hex.into());
            s.backoff_base = Duration::from_millis(5);
        });
        sim.set_faults(Some("error=0.5,seed=5")).unwrap();
        for q in ["长", "宁", "浦", "松", "华"] {
            let v = rt.invoke(&c, "road_search", json!({"query": q})).await;
            assert!(
                v.is_ok() || v.as_ref().unwrap_err().code() == "unavailable",
                "{v:?}"
            );
        }
        sim.set_faults(None).unwrap();
        let v = rt
            .invoke(&c, "matter_catalog", json!({"channel": "长三角"}))
            .await
            .unwrap();
        assert!(v["total"].as_u64().unwrap() > 0);
        assert!(
            sim.requests().iter().all(|r| r.outcome != "rejected"),
            "{transport:?}: a signed attempt was refused"
        );
        // Unsigned and wrongly signed requests are refused with a Chinese message.
        let (unsigned, _) = runtime(&sim, transport, &vault, &dir, |_| {});
        let err = unsigned
            .invoke(&c, "matter_catalog", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "business", "{err:?}");
        assert!(err.to_string().contains("签名校验失败"));
        let (wrong, _) = runtime(&sim, transport, &vault, &dir, |s| {
            s.signing_key_hex = Some("00ff".into())
        });
        assert!(
            wrong
                .invoke(&c, "matter_catalog", json!({}))
                .await
                .unwrap_err()
                .to_string()
                .contains("签名校验失败")
        );
        assert_eq!(
            sim.requests()
                .iter()
                .filter(|r| r.outcome == "rejected")
                .count(),
            2
        );
        sim.clear_requests();
    }
    // A captured request replayed as is is refused.
    let body = json!({"query": "长"}).to_string();
    let sig = zhiban_pii::sign_request_now(
        b"0123456789abcdef-shared-secret",
        "POST",
        "/rest/road_search",
        body.as_bytes(),
    )
    .unwrap();
    let send = || {
        reqwest::Client::new()
            .post(format!("{}/rest/road_search", sim.base_url()))
            .header("X-Zhiban-Timestamp", sig.timestamp.to_string())
            .header("X-Zhiban-Nonce", sig.nonce.clone())
            .header("X-Zhiban-Signature", sig.signature.clone())
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
    };
    assert_eq!(send().await.unwrap().status(), 200);
    assert_eq!(send().await.unwrap().status(), 401);
    sim.stop().await;
}

#[tokio::test]
async fn a_cancelled_half_open_probe_does_not_keep_the_breaker_open() {
    let e = env(Transport::Rest, |s| {
        s.read_retries = 0;
        s.breaker = BreakerConfig {
            failure_threshold: 2,
            open_for: Duration::from_millis(100),
        };
    })
    .await;
    let c = ctx("cancelled-probe");
    e.sim.set_faults(Some("error")).unwrap();
    for _ in 0..2 {
        let err =
            e.rt.invoke(&c, "road_search", json!({"query": "长"}))
                .await
                .unwrap_err();
        assert_eq!(err.code(), "unavailable");
    }
    assert_eq!(
        e.rt.adapters().breaker_state("sl"),
        Some(BreakerState::Open)
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    // The probe hangs at the line system and its caller gives up: the future is dropped mid-call.
    e.sim.set_faults(Some("timeout,hang=5s")).unwrap();
    let probe = tokio::time::timeout(
        Duration::from_millis(200),
        e.rt.invoke(&c, "road_search", json!({"query": "长"})),
    )
    .await;
    assert!(probe.is_err(), "the probe was cancelled, not answered");
    assert_eq!(e.sim.requests().last().map(|r| r.outcome), Some("timeout"));
    // The next caller may probe again, and the recovered system closes the breaker.
    e.sim.set_faults(None).unwrap();
    let v =
        e.rt.invoke(&c, "matter_catalog", json!({"channel": "社区"}))
            .await
            .unwrap();
    assert!(v["total"].as_u64().unwrap() > 10);
    assert_eq!(
        e.rt.adapters().breaker_state("sl"),
        Some(BreakerState::Closed)
    );
    e.sim.stop().await;
}
