//! Shared setup: an in-process casesim, a fresh keyring and audit log, and a runtime.
#![allow(dead_code)]

use chrono::NaiveDate;
use serde_json::Value;
use std::sync::Arc;
use tempfile::TempDir;
use zhiban_casesim::{Casesim, Config};
use zhiban_pii::{AuditLog, Keyring, PiiKind, Vault, is_token};
use zhiban_tools::{
    AdapterConfig, CallContext, LineSystemConfig, Registry, ToolRuntime, Transport,
};

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 15).unwrap()
}

pub struct Env {
    pub sim: Casesim,
    pub rt: Arc<ToolRuntime>,
    pub audit_path: std::path::PathBuf,
    pub dir: TempDir,
}

pub async fn sim() -> Casesim {
    zhiban_casesim::start(Config::fixed(today())).await.unwrap()
}

pub fn runtime(
    sim: &Casesim,
    transport: Transport,
    vault: &Vault,
    dir: &TempDir,
    tweak: impl Fn(&mut LineSystemConfig),
) -> (Arc<ToolRuntime>, std::path::PathBuf) {
    let audit_path = dir.path().join(format!("audit-{}.log", uuid_like()));
    let audit = Arc::new(AuditLog::open(&audit_path).unwrap());
    let cfg = AdapterConfig::all_at(&sim.base_url(), transport).map_systems(tweak);
    (
        Arc::new(ToolRuntime::new(Registry::builtin(), vault.clone(), audit, cfg).unwrap()),
        audit_path,
    )
}

fn uuid_like() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

pub fn vault() -> Vault {
    Vault::new(Arc::new(Keyring::generate().unwrap()))
}

pub async fn env(transport: Transport, tweak: impl Fn(&mut LineSystemConfig)) -> Env {
    let sim = sim().await;
    let dir = TempDir::new().unwrap();
    let (rt, audit_path) = runtime(&sim, transport, &vault(), &dir, tweak);
    Env {
        sim,
        rt,
        audit_path,
        dir,
    }
}

pub fn ctx(session: &str) -> CallContext {
    CallContext::new("shanghai-test", session, "clerk-007")
}

pub fn seal(rt: &ToolRuntime, ctx: &CallContext, kind: PiiKind, plain: &str) -> String {
    rt.vault().seal(&ctx.scope(), kind, plain).unwrap()
}

/// (id_number, name, mobile, address) of resident `id`.
pub async fn resident(sim: &Casesim, id: i64) -> (String, String, String, String) {
    sqlx::query_as("SELECT id_number, name, mobile, address FROM residents WHERE id = ?")
        .bind(id)
        .fetch_one(sim.pool())
        .await
        .unwrap()
}

/// What the agent side holds: schema-marked PII fields (at any path) sealed as tokens of their
/// kind, PII the detector finds in other strings tokenised. (The agent's own version lives in
/// zhiban-agent-core, which these tests cannot depend on.)
pub fn tokenize(rt: &ToolRuntime, ctx: &CallContext, tool: &str, mut args: Value) -> Value {
    let spec = rt.registry().get(tool).expect("known tool");
    let scope = ctx.scope();
    zhiban_tools::paths::walk_mut(&mut args, &mut |path, node| {
        let kind = zhiban_tools::paths::kind_at(&spec.pii_args, path);
        match (kind, &*node) {
            (Some(k), Value::String(s)) if !s.is_empty() && !is_token(s) => {
                *node = Value::String(rt.vault().seal(&scope, k, s).unwrap());
                Ok::<_, ()>(false)
            }
            (None, Value::String(s)) => {
                *node = Value::String(rt.vault().tokenize_text(&scope, s).unwrap());
                Ok(false)
            }
            _ => Ok(true),
        }
    })
    .unwrap();
    args
}
