//! `zhiban snapshot …`: list, publish, rollback, verify, gc.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use serde_json::json;
use zhiban_knowledge::SnapshotStore;

use super::print_json;
use crate::cli::IndexArg;
use crate::config::Config;

/// Snapshot subcommands.
#[derive(Debug, Subcommand)]
pub enum SnapshotCmd {
    /// List complete snapshots and which one is published.
    List(IndexArg),
    /// Publish a snapshot by id.
    Publish {
        /// Index directory.
        #[command(flatten)]
        index: IndexArg,
        /// Snapshot id.
        id: String,
    },
    /// Re-publish the snapshot that was current before this one.
    Rollback(IndexArg),
    /// Recompute checksums of a snapshot (default: the published one).
    Verify {
        /// Index directory.
        #[command(flatten)]
        index: IndexArg,
        /// Snapshot id.
        id: Option<String>,
    },
    /// Delete old snapshots and leftover builds, keeping the newest ([index] keep).
    Gc(IndexArg),
}

/// Runs a snapshot subcommand.
pub fn run(cfg: &Config, cmd: SnapshotCmd) -> Result<ExitCode> {
    match cmd {
        SnapshotCmd::List(i) => {
            let store = SnapshotStore::new(i.resolve(cfg));
            let current = store.current_id()?;
            let ids = store.list()?;
            print_json(
                &json!({"current": current, "snapshots": ids, "history": store.history()?}),
            )?;
        }
        SnapshotCmd::Publish { index, id } => {
            SnapshotStore::new(index.resolve(cfg)).publish(&id)?;
            println!("已发布快照 {id}");
        }
        SnapshotCmd::Rollback(i) => {
            let id = SnapshotStore::new(i.resolve(cfg)).rollback()?;
            println!("已回滚到快照 {id}");
        }
        SnapshotCmd::Verify { index, id } => {
            let store = SnapshotStore::new(index.resolve(cfg));
            let id = match id {
                Some(id) => id,
                None => store
                    .current_id()?
                    .ok_or_else(|| anyhow::anyhow!("没有已发布的快照"))?,
            };
            store.verify(&id)?;
            println!("快照 {id} 校验通过");
        }
        SnapshotCmd::Gc(i) => {
            let removed = SnapshotStore::new(i.resolve(cfg)).gc(cfg.index.keep)?;
            print_json(&json!({"removed": removed}))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
