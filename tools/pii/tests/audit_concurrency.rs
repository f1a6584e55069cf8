//! Concurrent appends from many tasks share batches, all become durable, and the chain verifies.

use std::sync::Arc;

use zhiban_pii::{AuditAction, AuditLog, AuditRecord, PiiKind};

fn record(t: usize, i: usize) -> AuditRecord {
    AuditRecord::new(
        format!("agent-{t}"),
        format!("s-{t}"),
        "失业登记提交",
        if i.is_multiple_of(3) {
            AuditAction::Write
        } else {
            AuditAction::Decrypt
        },
        vec![PiiKind::IdCard],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_async_appends_form_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pii-audit.jsonl");
    let log = Arc::new(AuditLog::open(&path).unwrap());
    let mut tasks = Vec::new();
    for t in 0..64 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..25 {
                seqs.push(log.append(record(t, i)).await.unwrap().seq);
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        let seqs = t.await.unwrap();
        // Each task sees its own entries in increasing order.
        assert!(seqs.windows(2).all(|w| w[0] < w[1]));
        all.extend(seqs);
    }
    all.sort_unstable();
    assert_eq!(all, (0..1600).collect::<Vec<u64>>());
    let stats = log.stats();
    assert_eq!(stats.entries, 1600);
    assert!(stats.batches >= 1 && stats.batches <= 1600, "{stats:?}");
    drop(log);
    let report = AuditLog::verify(&path).unwrap();
    assert!(report.intact, "{:?}", report.problems);
    assert_eq!((report.entries, report.unanchored), (1600, 0));
}

#[test]
fn blocking_appends_from_threads_form_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pii-audit.jsonl");
    let log = Arc::new(AuditLog::open(&path).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                (0..20)
                    .map(|i| log.append_blocking(record(t, i)).unwrap().seq)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<u64> = threads
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..160).collect::<Vec<u64>>());
    drop(log);
    assert!(AuditLog::verify(&path).unwrap().intact);
}
