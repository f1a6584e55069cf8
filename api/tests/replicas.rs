//! Two `zhiban serve` processes on one PostgreSQL session store (127.0.0.1:5432, database
//! `test`), one snapshot directory, one keyring and one case system (`zhiban casesim`), sharing
//! nothing else: a flow that alternates replicas turn by turn completes; a replica killed with
//! SIGKILL mid-flow — between turns, and while it holds the 提交 turn — loses nothing, the other
//! finishes the flow, and the case system counts exactly one 提交 per flow.
//!
//! Needs PostgreSQL at `ZHIBAN_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/test`);
//! without it the test says so and skips, unless `ZHIBAN_REQUIRE_EXTERNAL=1`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn pg_url() -> String {
    std::env::var("ZHIBAN_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A child process killed (SIGKILL) when dropped.
struct Proc {
    child: Child,
    addr: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const KEYRING: &str = "1:00112233445566778899aabbccddeeff";

fn zhiban(cwd: &Path, index: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zhiban"));
    c.current_dir(cwd)
        .env("ZHIBAN_INDEX__DIR", index)
        .env("ZHIBAN_PII__KEYRING", KEYRING)
        .env("RUST_LOG", "warn");
    c
}

fn casesim(dir: &Path, index: &Path) -> Proc {
    let port = free_port();
    let child = zhiban(dir, index)
        .args([
            "casesim",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--today",
            "2026-11-15",
        ])
        .arg("--fixtures")
        .arg(repo().join("data/fixtures/residents.jsonl"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Proc {
        child,
        addr: format!("http://127.0.0.1:{port}"),
    }
}

/// Starts `zhiban serve` and waits for the address it prints.
fn replica(dir: &Path, index: &Path, casesim: &str) -> Proc {
    std::fs::create_dir_all(dir).unwrap();
    let mut child = zhiban(dir, index)
        .args(["serve", "--bind", "127.0.0.1:0", "--today", "2026-11-15"])
        .args(["--casesim-url", casesim, "--sessions", &pg_url()])
        .arg("--var-dir")
        .arg(dir.join("var"))
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
                    let _ = t.send(addr);
                }
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("replica did not start");
    Proc {
        child,
        addr: format!("http://{addr}"),
    }
}

async fn wait_ready(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            return;
        }
        assert!(Instant::now() < deadline, "{base} never became ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn wait_up(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while http.get(format!("{base}/_requests")).send().await.is_err() {
        assert!(Instant::now() < deadline, "case system never came up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn say(http: &reqwest::Client, base: &str, sid: &str, text: &str) -> reqwest::Result<Value> {
    http.post(format!("{base}/v1/sessions/{sid}/messages"))
        .json(&json!({"text": text}))
        .timeout(Duration::from_secs(30))
        .send()
        .await?
        .json()
        .await
}

async fn submits(http: &reqwest::Client, casesim: &str, id_number: &str) -> (usize, usize) {
    let log: Value = http
        .get(format!("{casesim}/_requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mine: Vec<&Value> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["operation"] == "unemployment_submit" && r["args"].to_string().contains(id_number)
        })
        .collect();
    let fresh = mine
        .iter()
        .filter(|r| r["ok"] == true && r["replayed"] != true)
        .count();
    (fresh, mine.len())
}

async fn pg_reachable() -> bool {
    zhiban_agent_core::store::open(&pg_url(), Duration::from_secs(60))
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_on_postgres_share_sessions_and_survive_a_kill() {
    if !pg_reachable().await {
        assert!(
            std::env::var("ZHIBAN_REQUIRE_EXTERNAL").is_err(),
            "PostgreSQL 不可用：{}",
            pg_url()
        );
        eprintln!("跳过：PostgreSQL 不可用（{}）", pg_url());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let index = tmp.path().join("index");
    // The snapshot is built once and served by every replica.
    let st = zhiban(tmp.path(), &index)
        .arg("ingest")
        .arg(repo().join("data/policies"))
        .arg("--index")
        .arg(&index)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "ingest failed");
    let sim = casesim(tmp.path(), &index);
    let http = reqwest::Client::new();
    wait_up(&http, &sim.addr).await;
    let a = replica(&tmp.path().join("a"), &index, &sim.addr);
    let mut b = Some(replica(&tmp.path().join("b"), &index, &sim.addr));
    wait_ready(&http, &a.addr).await;
    wait_ready(&http, &b.as_ref().unwrap().addr).await;

    // 1. Turn by turn on alternating replicas.
    let id = "310104199203142629";
    let s: Value = http
        .post(format!("{}/v1/agents/unemployment_registration/sessions", a.addr))
        .json(&json!({"metadata": {"applicant": {"name": "陈晓雯", "id_type": "居民身份证", "id_number": id}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sid = s["session_id"].as_str().unwrap().to_string();
    let turns = [
        "九月一号开始就没上班了",
        "合同到期了公司没跟我续",
        "还是想做物流仓储管理方面的工作",
        "身体挺好的，没什么毛病",
        "要领的",
        "对的都没问题",
    ];
    let mut last = Value::Null;
    for (i, t) in turns.iter().enumerate() {
        let base = if i % 2 == 0 {
            &b.as_ref().unwrap().addr
        } else {
            &a.addr
        };
        last = say(&http, base, &sid, t).await.unwrap();
        assert_eq!(last["interactions"], i + 1, "turn {i} on {base}: {last}");
    }
    assert_eq!(last["state"], "submitted", "{last}");
    assert!(last["case_no"].is_string());
    assert_eq!(submits(&http, &sim.addr, id).await, (1, 1));

    // 2. Replica B is killed between turns; A carries on.
    let id2 = "340102199411203484";
    let s: Value = http
        .post(format!("{}/v1/agents/unemployment_registration/sessions", b.as_ref().unwrap().addr))
        .json(&json!({"metadata": {"applicant": {"name": "刘海燕", "id_type": "居民身份证", "id_number": id2}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sid2 = s["session_id"].as_str().unwrap().to_string();
    let turns2 = [
        "嗯…我是２０２６年７月１号开始没工作的",
        "公司跟我解除合同了，说店要关一家",
        "想找个餐厅前厅或者收银的活儿",
        "还行吧，一般般",
        "申领失业金伐？要的要的",
    ];
    for t in &turns2[..3] {
        say(&http, &b.as_ref().unwrap().addr, &sid2, t)
            .await
            .unwrap();
    }
    drop(b.take()); // SIGKILL
    for t in &turns2[3..] {
        let v = say(&http, &a.addr, &sid2, t).await.unwrap();
        assert_eq!(v["state"], "active", "{v}");
    }
    let v = say(&http, &a.addr, &sid2, "没问题，提交吧").await.unwrap();
    assert_eq!(v["state"], "submitted", "{v}");
    assert_eq!(v["interactions"], 6);
    assert_eq!(submits(&http, &sim.addr, id2).await, (1, 1));

    // 3. A replica killed while it holds the 提交 turn: the turn is repeated on the other and
    // the case system still counts one 提交 (the idempotency key is derived from the session
    // and the form, so a resent 提交 is a replay).
    let c = replica(&tmp.path().join("c"), &index, &sim.addr);
    wait_ready(&http, &c.addr).await;
    let id3 = "310105198904173067";
    let s: Value = http
        .post(format!("{}/v1/agents/unemployment_registration/sessions", a.addr))
        .json(&json!({"metadata": {"applicant": {"name": "郑文", "id_type": "居民身份证", "id_number": id3}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sid3 = s["session_id"].as_str().unwrap().to_string();
    let mut v = Value::Null;
    for t in [
        "8月1号开始没上班，单位把我辞了",
        "单位解除合同",
        "食品厂质检",
        "健康",
        "是的",
    ] {
        v = say(&http, &a.addr, &sid3, t).await.unwrap();
    }
    assert_eq!(v["awaiting"]["field"], "确认", "{v}");
    let mut a = Some(a);
    let in_flight = {
        let http = http.clone();
        let url = format!("{}/v1/sessions/{sid3}/messages", a.as_ref().unwrap().addr);
        tokio::spawn(async move {
            http.post(url)
                .json(&json!({"text": "确认"}))
                .timeout(Duration::from_secs(30))
                .send()
                .await
        })
    };
    // Kill A as soon as the case system has seen the 提交 (or after a short while).
    let deadline = Instant::now() + Duration::from_secs(10);
    while submits(&http, &sim.addr, id3).await.1 == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(a.take());
    let _ = in_flight.await;
    let now: Value = http
        .get(format!("{}/v1/sessions/{sid3}", c.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let done = if now["state"] == "submitted" {
        eprintln!("提交 turn finished before the kill");
        now
    } else {
        eprintln!("提交 turn was killed; repeated on the other replica");
        // The killed turn never happened as far as the session knows: the resident repeats it.
        assert_eq!(now["interactions"], 5, "{now}");
        say(&http, &c.addr, &sid3, "确认").await.unwrap()
    };
    assert_eq!(done["state"], "submitted", "{done}");
    let (fresh, _all) = submits(&http, &sim.addr, id3).await;
    assert_eq!(fresh, 1, "the case system must count exactly one 提交");
}
