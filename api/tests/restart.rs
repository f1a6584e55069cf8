//! kill -9 of `zhiban serve` in the middle of a flow, and while a 提交 is in flight: after a
//! restart the session resumes where it was, and the case system holds exactly one case.
//! The case system runs as its own process (`zhiban casesim --database`), as the real line
//! systems do, so that it survives the service's death.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn casesim(tmp: &Path, port: u16) -> Proc {
    let child = Command::new(env!("CARGO_BIN_EXE_zhiban"))
        .args([
            "casesim",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--today",
            "2026-11-15",
        ])
        .arg("--database")
        .arg(tmp.join("casesim.db"))
        .arg("--fixtures")
        .arg(repo().join("data/fixtures/residents.jsonl"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Proc(child)
}

fn serve(tmp: &Path, port: u16, sim: u16) -> Proc {
    let child = Command::new(env!("CARGO_BIN_EXE_zhiban"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--today",
            "2026-11-15",
        ])
        .args(["--casesim-url", &format!("http://127.0.0.1:{sim}")])
        .arg("--sessions")
        .arg(format!("sqlite://{}", tmp.join("sessions.db").display()))
        .arg("--var-dir")
        .arg(tmp.join("var"))
        .env("ZHIBAN_INDEX__DIR", tmp.join("index"))
        .env("ZHIBAN_INDEX__DATA_DIR", repo().join("data/policies"))
        .current_dir(tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Proc(child)
}

async fn wait_ready(http: &reqwest::Client, url: &str) {
    let start = Instant::now();
    loop {
        if let Ok(r) = http.get(url).send().await
            && r.status().is_success()
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "{url} never became ready"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn say(http: &reqwest::Client, base: &str, id: &str, text: &str) -> Value {
    let r = http
        .post(format!("{base}/v1/sessions/{id}/messages"))
        .json(&json!({"text": text}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{text}");
    r.json().await.unwrap()
}

fn fresh_submits(log: &Value) -> usize {
    log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["operation"] == json!("unemployment_submit")
                && r["ok"] == json!(true)
                && r["replayed"] != json!(true)
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_service_resumes_the_session_and_never_duplicates_a_submit() {
    let tmp = tempfile::tempdir().unwrap();
    let (sim_port, port) = (free_port(), free_port());
    let _sim = casesim(tmp.path(), sim_port);
    let sim = format!("http://127.0.0.1:{sim_port}");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    wait_ready(&http, &format!("{sim}/_health")).await;

    let mut svc = serve(tmp.path(), port, sim_port);
    wait_ready(&http, &format!("{base}/readyz")).await;
    let body =
        json!({"metadata": {"applicant": {"name": "陈晓雯", "id_number": "310104199203142629"}}});
    let created: Value = http
        .post(format!(
            "{base}/v1/agents/unemployment_registration/sessions"
        ))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["session_id"].as_str().unwrap().to_string();
    say(&http, &base, &id, "2026年9月1日").await;
    let v = say(&http, &base, &id, "合同到期了").await;
    assert_eq!(v["awaiting"]["field"], json!("求职意向"));

    // kill -9 in the middle of the flow.
    svc.0.kill().unwrap();
    svc.0.wait().unwrap();
    drop(svc);
    let mut svc = serve(tmp.path(), port, sim_port);
    wait_ready(&http, &format!("{base}/readyz")).await;
    let v: Value = http
        .get(format!("{base}/v1/sessions/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["interactions"], json!(2));
    assert_eq!(
        v["awaiting"]["field"],
        json!("求职意向"),
        "resumes where it was: {v}"
    );
    assert_eq!(v["form"]["失业时间"], json!("2026-09-01"));
    say(&http, &base, &id, "想找仓库管理的工作").await;
    say(&http, &base, &id, "身体健康").await;
    let v = say(&http, &base, &id, "要领").await;
    assert_eq!(v["awaiting"]["field"], json!("确认"));

    // The case system takes the 提交 and holds its answer; the service dies before it hears
    // back, so the session still waits for the confirmation.
    let r = http
        .put(format!("{sim}/_faults"))
        .body("timeout,hang=20s")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    http.delete(format!("{sim}/_requests"))
        .send()
        .await
        .unwrap();
    let confirm = {
        let (http, base, id) = (http.clone(), base.clone(), id.clone());
        tokio::spawn(async move {
            let _ = http
                .post(format!("{base}/v1/sessions/{id}/messages"))
                .json(&json!({"text": "确认"}))
                .send()
                .await;
        })
    };
    let start = Instant::now();
    loop {
        let log: Value = http
            .get(format!("{sim}/_requests"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if fresh_submits(&log) >= 1 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the submit never reached the case system"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    svc.0.kill().unwrap();
    svc.0.wait().unwrap();
    drop(svc);
    confirm.abort();
    http.put(format!("{sim}/_faults"))
        .body("")
        .send()
        .await
        .unwrap();

    let _svc = serve(tmp.path(), port, sim_port);
    wait_ready(&http, &format!("{base}/readyz")).await;
    let v: Value = http
        .get(format!("{base}/v1/sessions/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["state"],
        json!("active"),
        "the unanswered submit was not recorded: {v}"
    );
    let v = say(&http, &base, &id, "确认").await;
    assert_eq!(v["state"], json!("submitted"), "{v}");
    let log: Value = http
        .get(format!("{sim}/_requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fresh_submits(&log), 1, "exactly one case: {log}");
    let replayed =
        log["requests"].as_array().unwrap().iter().any(|r| {
            r["operation"] == json!("unemployment_submit") && r["replayed"] == json!(true)
        });
    assert!(
        replayed,
        "the retry after the restart replayed the first case"
    );
}
