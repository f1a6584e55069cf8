//! Graceful shutdown of a `zhiban serve` process: SIGTERM while a turn is in flight (the model
//! it waits on hangs until the 8 s deadline) stops new connections, lets the turn finish and
//! answer, writes its session, then exits 0; the session is there for the next start. The same
//! process exports its spans over OTLP/HTTP (`[telemetry] otlp_endpoint`) to a collector stand-in
//! that records what it receives: protobuf batches naming the service and the request spans,
//! with no plaintext PII in them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

type Received = Arc<Mutex<Vec<(String, String, Vec<u8>)>>>;

/// An OTLP/HTTP collector stand-in: records (path, content type, body) of every POST.
async fn collector() -> (String, Received) {
    let got: Received = Arc::default();
    let g = got.clone();
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let g = g.clone();
            async move {
                let ct = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                g.lock()
                    .unwrap()
                    .push((uri.path().to_string(), ct, body.to_vec()));
                axum::http::StatusCode::OK
            }
        },
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await });
    (format!("http://{addr}"), got)
}

fn serve(dir: &Path, llm: &str, otlp: &str) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zhiban"))
        .current_dir(dir)
        .env("ZHIBAN_TELEMETRY__OTLP_ENDPOINT", otlp)
        .env("ZHIBAN_INDEX__DIR", dir.join("index"))
        .env("ZHIBAN_LLM__BASE_URL", llm)
        .env("ZHIBAN_LLM__MODEL", "zhiban-sim")
        .env("ZHIBAN_LLM__API_KEY", "test")
        .env("RUST_LOG", "warn")
        .args(["serve", "--bind", "127.0.0.1:0", "--today", "2026-11-15"])
        .arg("--casesim-fixtures")
        .arg(repo().join("data/fixtures/residents.jsonl"))
        .arg("--sessions")
        .arg(format!("sqlite://{}", dir.join("sessions.db").display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("服务监听 http://").nth(1) {
                let addr: String = rest
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != '（')
                    .collect();
                if let Some(t) = tx.take() {
                    let _ = t.send(format!("http://{addr}"));
                }
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(180))
        .expect("serve did not start");
    (child, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_turn_in_flight_finish_and_keeps_its_session() {
    let tmp = tempfile::tempdir().unwrap();
    let st = Command::new(env!("CARGO_BIN_EXE_zhiban"))
        .current_dir(tmp.path())
        .arg("ingest")
        .arg(repo().join("data/policies"))
        .arg("--index")
        .arg(tmp.path().join("index"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let script = zhiban_llmsim::Script::from_json(
        r#"{"rules": [{"when": {"regex": "九月"}, "reply": {"hang": true}}], "default": {"text": "好的"}}"#,
    )
    .unwrap();
    let sim = zhiban_llmsim::start(zhiban_llmsim::Config {
        script,
        ..Default::default()
    })
    .await
    .unwrap();
    let (otlp, received) = collector().await;
    let (mut child, base) = serve(tmp.path(), &sim.base_url(), &otlp);
    let http = reqwest::Client::new();
    let s: Value = http
        .post(format!("{base}/v1/agents/unemployment_registration/sessions"))
        .json(&json!({"metadata": {"applicant": {"name": "陈晓雯", "id_number": "310104199203142629"}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sid = s["session_id"].as_str().unwrap().to_string();
    let turn = {
        let (http, url) = (http.clone(), format!("{base}/v1/sessions/{sid}/messages"));
        tokio::spawn(async move {
            let started = Instant::now();
            let r = http
                .post(url)
                .json(&json!({"text": "九月一号开始就没上班了"}))
                .timeout(Duration::from_secs(30))
                .send()
                .await;
            (r, started.elapsed())
        })
    };
    // Wait until the model has the turn's request, then ask the process to stop.
    let deadline = Instant::now() + Duration::from_secs(10);
    while sim.requests().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the turn never reached the model"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let (r, took) = turn.await.unwrap();
    let r = r.expect("the turn in flight must get its answer");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["interactions"], 1, "{v}");
    assert_eq!(v["form"]["失业时间"], "2026-09-01", "{v}");
    assert!(
        took >= Duration::from_secs(5),
        "the turn waited on the model: {took:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "serve did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");

    // The exporter flushed on the way out.
    let batches = received.lock().unwrap().clone();
    assert!(!batches.is_empty(), "no OTLP batch arrived");
    let all: Vec<u8> = batches.iter().flat_map(|b| b.2.clone()).collect();
    assert!(
        batches
            .iter()
            .all(|(path, ct, _)| path == "/v1/traces" && ct == "application/x-protobuf"),
        "{:?}",
        batches.iter().map(|b| (&b.0, &b.1)).collect::<Vec<_>>()
    );
    let has = |needle: &str| all.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(has("zhiban") && has("request") && has("/v1/sessions/{id}/messages"));
    assert!(
        !has("310104199203142629") && !has("陈晓雯"),
        "PII in exported spans"
    );

    // The session was written before the answer left: a new process continues it.
    let (mut child, base) = serve(tmp.path(), &sim.base_url(), &otlp);
    let v: Value = http
        .get(format!("{base}/v1/sessions/{sid}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["interactions"], 1, "{v}");
    let _ = child.kill();
    let _ = child.wait();
    sim.shutdown().await;
}
