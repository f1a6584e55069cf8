//! Concurrent appends from many tasks in one process stay ordered and verifiable.

use std::sync::Arc;

use zhiban_pii::{AuditAction, AuditLog, AuditRecord, PiiKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_form_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pii-audit.jsonl");
    let log = Arc::new(AuditLog::open(&path).unwrap());
    let mut tasks = Vec::new();
    for t in 0..8 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..25 {
                let rec = AuditRecord::new(
                    format!("agent-{t}"),
                    format!("s-{t}"),
                    "失业登记提交",
                    if i % 3 == 0 {
                        AuditAction::Write
                    } else {
                        AuditAction::Decrypt
                    },
                    vec![PiiKind::IdCard],
                );
                let entry = tokio::task::spawn_blocking({
                    let log = log.clone();
                    move || log.append(rec)
                })
                .await
                .unwrap()
                .unwrap();
                seqs.push(entry.seq);
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
    assert_eq!(all, (0..200).collect::<Vec<u64>>());
    let report = AuditLog::verify(&path).unwrap();
    assert!(report.intact, "{:?}", report.problems);
    assert_eq!(report.entries, 200);
}
