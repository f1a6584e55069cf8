//! One module per command family. Each exposes clap argument types and a `run`.

pub mod ask;
pub mod audit;
pub mod casesim;
pub mod chat;
pub mod crypto;
pub mod eval;
pub mod ingest;
pub mod keys;
pub mod search;
pub mod serve;
pub mod snapshot;
pub mod tool;

use std::path::Path;

use anyhow::{Context, Result};
use zhiban_knowledge::{Secrets, Snapshot, SnapshotStore};

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
    let secrets = secrets(cfg);
    store
        .open_with(
            &id,
            secrets.embedding_api_key.as_deref(),
            secrets.qdrant_api_key.as_deref(),
        )
        .map_err(|e| explain_open_error(dir, e))
}

/// The API keys of the remote backends, from configuration.
pub fn secrets(cfg: &Config) -> Secrets {
    let key = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Secrets {
        embedding_api_key: key(&cfg.embedding.api_key),
        qdrant_api_key: key(&cfg.qdrant.api_key),
    }
}

/// Says in Chinese what a clerk or operator can do about a snapshot that does not open.
pub fn explain_open_error(dir: &Path, e: zhiban_knowledge::Error) -> anyhow::Error {
    use zhiban_knowledge::Error as E;
    let hint = match &e {
        E::UnsupportedFormat {
            id,
            found,
            supported,
        } => format!(
            "快照 {id} 的格式版本为 {found}，本程序只能读取版本 {supported}：请重新导入（zhiban ingest 源目录 --index {} --full）",
            dir.display()
        ),
        E::BackendUnavailable {
            id,
            backend,
            feature,
        } => format!(
            "快照 {id} 使用 {backend} 向量库，本程序编译时未启用该功能（cargo 功能 zhiban-knowledge/{feature}）：请用默认向量库重新导入（zhiban ingest 源目录 --index {} --full）",
            dir.display()
        ),
        E::CorruptSnapshot { id, .. } => {
            format!("快照 {id} 已损坏，与其清单不符：请回滚（zhiban snapshot rollback）或重新导入")
        }
        _ => "打开知识库快照失败".to_string(),
    };
    anyhow::Error::new(e).context(hint)
}

/// Prints `value` as one line of JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    out.write_all(b"\n")?;
    Ok(())
}
