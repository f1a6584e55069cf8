//! Tool-call overhead: tokenise the arguments, open them in the boundary, HTTP to an
//! in-process casesim (REST and SOAP), seal the result, detokenise it for the operator.
//! Prints p50/p99 over 500 sequential calls besides criterion's estimates.

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zhiban_pii::{AuditLog, Keyring, PiiKind, Vault};
use zhiban_tools::{AdapterConfig, CallContext, Registry, ToolRuntime, Transport};

struct Fixture {
    rt: Arc<ToolRuntime>,
    ctx: CallContext,
    name: String,
    id: String,
}

fn fixture(
    tokio: &tokio::runtime::Runtime,
    transport: Transport,
    audit_dir: &std::path::Path,
) -> (Fixture, zhiban_casesim::Casesim) {
    tokio.block_on(async {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 15).expect("date");
        let sim = zhiban_casesim::start(zhiban_casesim::Config::fixed(today))
            .await
            .expect("casesim");
        let (id, name): (String, String) =
            sqlx::query_as("SELECT id_number, name FROM residents WHERE id = 42")
                .fetch_one(sim.pool())
                .await
                .expect("resident");
        let audit = Arc::new(
            AuditLog::open(audit_dir.join(format!("audit-{transport:?}.log"))).expect("audit"),
        );
        let vault = Vault::new(Arc::new(Keyring::generate().expect("keyring")));
        let rt = Arc::new(
            ToolRuntime::new(
                Registry::builtin(),
                vault,
                audit,
                AdapterConfig::all_at(&sim.base_url(), transport),
            )
            .expect("runtime"),
        );
        (
            Fixture {
                rt,
                ctx: CallContext::new("bench", "s", "bench"),
                name,
                id,
            },
            sim,
        )
    })
}

async fn one_call(f: &Fixture) -> Value {
    // What the agent side holds: the two PII fields as tokens.
    let scope = f.ctx.scope();
    let args = json!({
        "name": f.rt.vault().seal(&scope, PiiKind::Name, &f.name).expect("seal"),
        "id_number": f.rt.vault().seal(&scope, PiiKind::IdCard, &f.id).expect("seal"),
    });
    let sealed =
        f.rt.invoke(&f.ctx, "applicant_verify", args)
            .await
            .expect("invoke");
    let plain =
        f.rt.reveal(&f.ctx, "applicant_verify", &sealed)
            .await
            .expect("reveal");
    assert_eq!(plain["match_level"], "完全匹配");
    plain
}

fn percentiles(tokio: &tokio::runtime::Runtime, f: &Fixture, label: &str) {
    let mut v: Vec<Duration> = Vec::with_capacity(500);
    tokio.block_on(async {
        for _ in 0..500 {
            let t = Instant::now();
            one_call(f).await;
            v.push(t.elapsed());
        }
    });
    v.sort();
    let p = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1e3;
    println!(
        "{label}: p50 {:.2} ms, p99 {:.2} ms (500 calls)",
        p(0.5),
        p(0.99)
    );
}

fn bench(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    // Each call awaits two audit entries (decrypt, reveal), each durable before it returns;
    // measure on disk (the real cost) and on tmpfs (the rest).
    let disk = tempfile::TempDir::new().expect("tempdir");
    let shm = std::path::Path::new("/dev/shm");
    let mem = if shm.is_dir() {
        tempfile::TempDir::new_in(shm).expect("tmpfs dir")
    } else {
        tempfile::TempDir::new().expect("tempdir")
    };
    let mut g = c.benchmark_group("tool_call_applicant_verify");
    g.sample_size(30).measurement_time(Duration::from_secs(5));
    for (transport, dir, where_) in [
        (Transport::Rest, disk.path(), "disk"),
        (Transport::Soap, disk.path(), "disk"),
        (Transport::Rest, mem.path(), "tmpfs"),
        (Transport::Soap, mem.path(), "tmpfs"),
    ] {
        let (f, _sim) = fixture(&tokio, transport, dir);
        let label = format!("{transport:?}_audit_on_{where_}");
        percentiles(&tokio, &f, &label);
        g.bench_function(&label, |b| b.to_async(&tokio).iter(|| one_call(&f)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
