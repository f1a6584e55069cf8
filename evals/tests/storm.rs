//! The search storm's correctness: 64 concurrent searches on one live snapshot
//! while a new one is published — no failures, every hit carrying the id of the
//! snapshot that served it, both snapshots seen serving. No timing assertions (the
//! figures are for `zhiban eval storm` and BENCHMARKS.md).

#[path = "../../knowledge/tests/common/mod.rs"]
mod common;

use std::time::Duration;

use zhiban_evals::storm::{self, StormOptions};
use zhiban_knowledge::{LiveSnapshot, Mode, Secrets};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_mid_storm_drops_no_search() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let (store, first, second) = tokio::task::spawn_blocking(move || {
        let fx = common::corpus();
        let (store, first) = common::build_and_publish(&path, &fx.docs);
        let mut docs = fx.docs.clone();
        docs.push(common::extra_document());
        let second = store.build(&docs, &common::options()).unwrap();
        (store, first.id, second.id)
    })
    .await
    .unwrap();
    let live = LiveSnapshot::open_async(store.clone(), Secrets::default())
        .await
        .unwrap();
    let questions: Vec<String> = [
        "外地户籍失业人员怎么申领失业保险金",
        "居住证签注",
        "失业保险金发放标准",
        "就业见习补贴",
        "长期护理保险待遇",
        "稳岗返还补贴",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let next = second.clone();
    let publisher = store.clone();
    let opts = StormOptions {
        tasks: 64,
        searches_per_task: 20,
        publish_after: 64 * 5,
        watch_every: Duration::from_millis(5),
        mode: Mode::Hybrid,
        ..Default::default()
    };
    let report = storm::run(
        live.clone(),
        questions,
        move || publisher.publish(&next).map(|_| next),
        &opts,
    )
    .await
    .unwrap();
    assert_eq!(report.failures, 0, "{:?}", report.errors);
    assert_eq!(report.inconsistent_hits, 0);
    assert!(report.searches >= 64 * 20);
    assert_eq!(report.old_snapshot, first);
    assert_eq!(report.new_snapshot, second);
    assert!(
        report.served_by.get(&first).copied().unwrap_or(0) > 0,
        "{report:?}"
    );
    assert!(
        report.served_by.get(&second).copied().unwrap_or(0) > 0,
        "{report:?}"
    );
    assert_eq!(report.served_by.len(), 2);
    assert_eq!(
        report.served_by.values().sum::<usize>(),
        report.searches,
        "every search was served by one of the two"
    );
    assert_eq!(live.snapshot().id(), second);
}
