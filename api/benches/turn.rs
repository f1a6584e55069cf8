//! Agent overhead per turn (LLM excluded) and QA answer latency, p50/p99.
//!
//! `cargo bench -p zhiban-api --bench turn` starts the service in-process as `zhiban serve`
//! does (policies only, the reference case system in-process, SQLite sessions on disk) and
//! measures through the engine, not HTTP:
//! - *turn*: one resident answer that calls no line system (失业原因 after 失业时间), i.e. the
//!   engine's own work — understanding, the flow, templates, tokenising the transcript, and the
//!   durable session write before the reply;
//! - *turn with a check*: the 失业时间 answer, which also runs 失业时间校验 against casesim over
//!   loopback HTTP;
//! - *qa*: `QaAgent::answer` over the questions of `data/eval/qa_gold.jsonl`.
//!
//! A plain harness (not criterion) because the figures wanted are percentiles of single calls.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use zhiban_agent_core::materials::TextOnlyReader;
use zhiban_agent_core::{ApplicantIn, Message, NewSession, QaRequest};
use zhiban_api::config::Config;
use zhiban_api::serve::launch::{ServeOptions, start};

fn pct(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, v: Vec<Duration>) {
    let n = v.len();
    println!(
        "{name:<22} n={n:<5} p50 {:>8.3} ms   p99 {:>8.3} ms",
        pct(v.clone(), 0.50).as_secs_f64() * 1e3,
        pct(v, 0.99).as_secs_f64() * 1e3
    );
}

fn msg(t: &str) -> Message {
    Message {
        text: t.into(),
        attachments: Vec::new(),
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tmp = tempfile::tempdir().unwrap();
    rt.block_on(async {
        let opts = ServeOptions {
            bind: "127.0.0.1:0".parse().unwrap(),
            today: Some("2026-11-15".parse().unwrap()),
            casesim_fixtures: Some(repo.join("data/fixtures/residents.jsonl")),
            casesim_bind: None,
            casesim_url: None,
            sessions: format!("sqlite://{}", tmp.path().join("sessions.db").display()),
            ttl: Duration::from_secs(3600),
            var_dir: tmp.path().join("var"),
            index_dir: tmp.path().join("index"),
            data_dir: repo.join("data/policies"),
            reader: Arc::new(TextOnlyReader),
            llm: None,
            auth: None,
            cors_origins: Vec::new(),
            tls: None,
        };
        let app = start(&Config::default(), opts, std::future::pending())
            .await
            .unwrap();
        let engine = app.engine.clone();
        let applicant = || ApplicantIn {
            name: Some("陈晓雯".into()),
            id_type: None,
            id_number: Some("310104199203142629".into()),
        };
        let (mut plain, mut checked) = (Vec::new(), Vec::new());
        for i in 0..400 {
            let v = engine
                .create(
                    "unemployment_registration",
                    NewSession {
                        applicant: Some(applicant()),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            let t = Instant::now();
            engine
                .message(&v.session_id, msg("2026年9月1日"))
                .await
                .unwrap();
            if i >= 20 {
                checked.push(t.elapsed());
            }
            let t = Instant::now();
            let after = engine
                .message(&v.session_id, msg("合同到期没续签"))
                .await
                .unwrap();
            if i >= 20 {
                plain.push(t.elapsed());
            }
            assert_eq!(after.awaiting.map(|a| a.field).as_deref(), Some("求职意向"));
        }
        report("turn (no line call)", plain);
        report("turn with a check", checked);

        let qa = engine.qa().unwrap().clone();
        let questions: Vec<String> = std::fs::read_to_string(repo.join("data/eval/qa_gold.jsonl"))
            .unwrap()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|v| v["question"].as_str().map(str::to_string))
            .collect();
        let mut times = Vec::new();
        for round in 0..2 {
            for q in &questions {
                let t = Instant::now();
                let _ = qa
                    .answer(
                        &QaRequest {
                            question: q.clone(),
                            as_of: None,
                            k: None,
                        },
                        engine.today(),
                    )
                    .await
                    .unwrap();
                if round == 1 {
                    times.push(t.elapsed());
                }
            }
        }
        report("qa answer", times);
        app.stop().await;
    });
}
