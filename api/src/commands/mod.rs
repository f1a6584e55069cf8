//! One module per command family. Each exposes clap argument types and a `run`.

pub mod ask;
pub mod audit;
pub mod crypto;
pub mod eval;
pub mod ingest;
pub mod search;
pub mod snapshot;
pub mod tool;

use std::path::Path;

use anyhow::{Context, Result};
use zhiban_knowledge::{Snapshot, SnapshotStore};

use crate::config::Config;

/// Opens the published snapshot under `dir` with the secrets from `cfg`.
pub fn open_current(cfg: &Config, dir: &Path) -> Result<Snapshot> {
    let store = SnapshotStore::new(dir);
    let id = store.current_id()?.with_context(|| {
        format!(
            "{} 下还没有发布的知识库快照，请先运行 `zhiban ingest`",
            dir.display()
        )
    })?;
    let key = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Ok(store.open_with(
        &id,
        key(&cfg.embedding.api_key).as_deref(),
        key(&cfg.qdrant.api_key).as_deref(),
    )?)
}

/// Prints `value` as one line of JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    out.write_all(b"\n")?;
    Ok(())
}
