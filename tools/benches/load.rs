//! Load test: many concurrent tasks calling tools through one [`ToolRuntime`] against an
//! in-process casesim, the audit log on a real disk, as the agent service would all day.
//!
//! ```sh
//! cargo bench -p zhiban-tools --bench load            # 64 tasks × 200 calls per scenario
//! LOAD_TASKS=64 LOAD_CALLS=200 LOAD_DIR=/work/tmp cargo bench -p zhiban-tools --bench load
//! ```
//!
//! Each call seals the applicant's name and ID (what the agent side holds), then invokes the tool
//! (open tokens → audit the decryption → HTTP → seal the result). One line per scenario:
//! p50/p99 per call and calls per second over the whole run. `LOAD_DIR` decides where the audit
//! log lives (default: a temp dir under the system temp dir); check with `findmnt -T DIR` that it
//! is a disk, not tmpfs. The `casesim only` line calls casesim over loopback with no tool layer,
//! to show how much of the budget the reference system itself takes. The `paced` lines are open
//! loop: the tasks together start `LOAD_RATE` calls per second (default 2,000) instead of calling
//! back to back, which is the latency a caller sees at that rate; `1 task` is one caller alone.

use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zhiban_pii::{AuditLog, Keyring, PiiKind, Vault};
use zhiban_tools::{AdapterConfig, CallContext, Registry, ToolRuntime, Transport};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Clone, Copy)]
enum Scenario {
    /// applicant_verify through the runtime (PII in and out, one audit entry per call).
    Verify(Transport),
    /// road_search through the runtime (no PII, no audit entry).
    Road,
    /// applicant_verify posted to casesim directly, no tool layer.
    CasesimOnly,
}

struct Report {
    label: String,
    calls: usize,
    errors: usize,
    p50_ms: f64,
    p99_ms: f64,
    per_sec: f64,
}

async fn run(
    rt: Arc<ToolRuntime>,
    base_url: String,
    residents: Arc<Vec<(String, String)>>,
    scenario: Scenario,
    tasks: usize,
    calls: usize,
    rate: Option<f64>,
) -> (Vec<Duration>, usize, Duration) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .build()
        .expect("client");
    let started = Instant::now();
    let mut handles = Vec::with_capacity(tasks);
    for t in 0..tasks {
        let rt = Arc::clone(&rt);
        let residents = Arc::clone(&residents);
        let client = client.clone();
        let base_url = base_url.clone();
        handles.push(tokio::spawn(async move {
            let ctx = CallContext::new("load", format!("session-{t}"), "load-test");
            let mut lat = Vec::with_capacity(calls);
            let mut errors = 0usize;
            // Open loop: each task starts a call every `tasks / rate` seconds, staggered.
            let mut ticker = rate.map(|r| {
                let period = Duration::from_secs_f64(tasks as f64 / r);
                let first = tokio::time::Instant::now() + period.mul_f64(t as f64 / tasks as f64);
                let mut iv = tokio::time::interval_at(first, period);
                iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                iv
            });
            for i in 0..calls {
                if let Some(iv) = ticker.as_mut() {
                    iv.tick().await;
                }
                let (id, name) = &residents[(t * 31 + i) % residents.len()];
                let t0 = Instant::now();
                let ok = match scenario {
                    Scenario::Verify(_) => {
                        let scope = ctx.scope();
                        let args = json!({
                            "name": rt.vault().seal(&scope, PiiKind::Name, name).expect("seal"),
                            "id_number": rt.vault().seal(&scope, PiiKind::IdCard, id).expect("seal"),
                        });
                        match rt.invoke(&ctx, "applicant_verify", args).await {
                            Ok(v) => v["match_level"] == "完全匹配",
                            Err(_) => false,
                        }
                    }
                    Scenario::Road => rt
                        .invoke(&ctx, "road_search", json!({"query": "长", "limit": 5}))
                        .await
                        .is_ok(),
                    Scenario::CasesimOnly => {
                        let r = client
                            .post(format!("{base_url}/rest/applicant_verify"))
                            .json(&json!({"name": name, "id_number": id}))
                            .send()
                            .await;
                        match r {
                            Ok(r) => r
                                .json::<Value>()
                                .await
                                .is_ok_and(|v| v["ok"] == Value::Bool(true)),
                            Err(_) => false,
                        }
                    }
                };
                lat.push(t0.elapsed());
                if !ok {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::with_capacity(tasks * calls);
    let mut errors = 0;
    for h in handles {
        let (lat, e) = h.await.expect("task");
        all.extend(lat);
        errors += e;
    }
    (all, errors, started.elapsed())
}

fn main() {
    let tasks = env_usize("LOAD_TASKS", 64);
    let calls = env_usize("LOAD_CALLS", 200);
    let base = std::env::var("LOAD_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    std::fs::create_dir_all(&base).expect("LOAD_DIR");
    let disk = tempfile::TempDir::new_in(&base).expect("tempdir");
    let shm = std::path::Path::new("/dev/shm");
    let mem = if shm.is_dir() {
        tempfile::TempDir::new_in(shm).expect("tmpfs dir")
    } else {
        tempfile::TempDir::new().expect("tempdir")
    };
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 15).expect("date");
    let sim = tokio
        .block_on(zhiban_casesim::start(zhiban_casesim::Config::fixed(today)))
        .expect("casesim");
    let residents: Vec<(String, String)> = tokio
        .block_on(
            sqlx::query_as("SELECT id_number, name FROM residents ORDER BY id LIMIT 500")
                .fetch_all(sim.pool()),
        )
        .expect("residents");
    let residents = Arc::new(residents);
    let vault = Vault::new(Arc::new(Keyring::generate().expect("keyring")));
    println!(
        "load: {tasks} tasks × {calls} calls, audit log under {} and {} (tmpfs), {} cores",
        disk.path().display(),
        mem.path().display(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut reports = Vec::new();
    let rate = std::env::var("LOAD_RATE")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(2_000.0);
    let verify_rest = Scenario::Verify(Transport::Rest);
    let paced_label = format!("applicant_verify REST, disk, paced {rate:.0}/s");
    for (label, scenario, dir, tasks, calls, rate) in [
        (
            "applicant_verify REST, audit on disk",
            verify_rest,
            disk.path(),
            tasks,
            calls,
            None,
        ),
        (
            "applicant_verify SOAP, audit on disk",
            Scenario::Verify(Transport::Soap),
            disk.path(),
            tasks,
            calls,
            None,
        ),
        (
            "applicant_verify REST, audit on tmpfs",
            verify_rest,
            mem.path(),
            tasks,
            calls,
            None,
        ),
        (
            paced_label.as_str(),
            verify_rest,
            disk.path(),
            tasks,
            calls,
            Some(rate),
        ),
        (
            "applicant_verify REST, disk, 1 task",
            verify_rest,
            disk.path(),
            1,
            500,
            None,
        ),
        (
            "road_search REST (no PII, no audit)",
            Scenario::Road,
            disk.path(),
            tasks,
            calls,
            None,
        ),
        (
            "casesim only (REST, no tool layer)",
            Scenario::CasesimOnly,
            disk.path(),
            tasks,
            calls,
            None,
        ),
    ] {
        let transport = match scenario {
            Scenario::Verify(t) => t,
            _ => Transport::Rest,
        };
        let audit_path = dir.join(format!("audit-{}.log", reports.len()));
        let audit = Arc::new(AuditLog::open(&audit_path).expect("audit"));
        let rt = Arc::new(
            ToolRuntime::new(
                Registry::builtin(),
                vault.clone(),
                audit,
                AdapterConfig::all_at(&sim.base_url(), transport),
            )
            .expect("runtime"),
        );
        // Warm-up: connections, SQLite pages, allocator.
        tokio.block_on(run(
            Arc::clone(&rt),
            sim.base_url(),
            Arc::clone(&residents),
            scenario,
            tasks,
            5,
            None,
        ));
        let (mut lat, errors, wall) = tokio.block_on(run(
            Arc::clone(&rt),
            sim.base_url(),
            Arc::clone(&residents),
            scenario,
            tasks,
            calls,
            rate,
        ));
        lat.sort();
        let p = |q: f64| lat[((lat.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1e3;
        let r = Report {
            label: label.to_string(),
            calls: lat.len(),
            errors,
            p50_ms: p(0.5),
            p99_ms: p(0.99),
            per_sec: lat.len() as f64 / wall.as_secs_f64(),
        };
        let stats = rt.audit().stats();
        drop(rt);
        let verify = AuditLog::verify(&audit_path).expect("verify");
        println!(
            "{:<44} calls {:>6}  errors {:>3}  p50 {:>7.2} ms  p99 {:>7.2} ms  {:>6.0} calls/s  audit: {} entries, {} fsynced batches, intact {}",
            r.label,
            r.calls,
            r.errors,
            r.p50_ms,
            r.p99_ms,
            r.per_sec,
            verify.entries,
            stats.batches,
            verify.intact
        );
        reports.push(r);
    }
    tokio.block_on(sim.stop());
}
