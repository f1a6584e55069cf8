//! The clerk's page (`GET /`) in a real browser: `api/tests/js/clerk_page.mjs` drives Debian's
//! Chromium through playwright-core at 1366×768 against the service in development mode (no key,
//! loopback) — a 学习问答 question with its first citation opened, then one 失业登记 walked to 提交
//! with the messages of a dialogue from `data/dialogues/`. Screenshots are left under
//! `$CARGO_TARGET_TMPDIR/clerk-page/` for a person to look at. Needs `/usr/bin/chromium`, `node`
//! and playwright-core in `api/tests/js/node_modules` (`scripts/setup.sh` installs them); without
//! them the test says so and skips, unless `ZHIBAN_REQUIRE_EXTERNAL=1`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use zhiban_agent_core::materials::TextOnlyReader;
use zhiban_api::config::Config;
use zhiban_api::serve::launch::{ServeOptions, start};

/// The dialogue the matter follows: the page opens a session with no applicant (as a clerk at
/// the window does), so the one where the resident gives name and ID in the chat.
const DIALOGUE: &str =
    "data/dialogues/unemployment_registration/12_no_applicant_identity_in_chat.yaml";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Why the browser test cannot run here, if it cannot.
fn missing() -> Option<&'static str> {
    if !Path::new("/usr/bin/chromium").exists() {
        return Some("没有 /usr/bin/chromium（bash scripts/setup.sh 会安装 Debian 的 chromium）");
    }
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node {
        return Some("没有 node（playwright-core 需要 Node.js）");
    }
    if !repo()
        .join("api/tests/js/node_modules/playwright-core/package.json")
        .exists()
    {
        return Some(
            "api/tests/js/node_modules 里没有 playwright-core（bash scripts/setup.sh 会安装）",
        );
    }
    None
}

/// The resident's messages of [`DIALOGUE`], after checking that it is one the page can walk:
/// this agent, no applicant, no attachments, not model-only, ending in 提交.
fn dialogue_messages() -> Vec<String> {
    let text = std::fs::read_to_string(repo().join(DIALOGUE)).unwrap();
    let d: Value = serde_norway::from_str(&text).unwrap();
    assert_eq!(d["agent"], "unemployment_registration");
    assert!(
        d.get("applicant").is_none(),
        "the page opens sessions without an applicant"
    );
    assert_ne!(d["llm_only"], true, "a model-only dialogue needs a model");
    assert_eq!(d["final"]["state"], "submitted");
    let turns = d["turns"].as_array().unwrap();
    turns
        .iter()
        .map(|t| {
            assert!(t.get("attachments").is_none(), "the test uploads nothing");
            t["user"].as_str().unwrap().to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_asks_a_question_and_walks_a_matter_to_submission_in_the_browser() {
    if let Some(why) = missing() {
        assert!(std::env::var("ZHIBAN_REQUIRE_EXTERNAL").is_err(), "{why}");
        eprintln!("跳过：{why}");
        return;
    }
    let messages = dialogue_messages();
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let opts = ServeOptions {
        bind: "127.0.0.1:0".parse().unwrap(),
        today: Some("2026-11-15".parse().unwrap()),
        casesim_fixtures: Some(repo().join("data/fixtures/residents.jsonl")),
        casesim_bind: None,
        casesim_url: None,
        sessions: format!("sqlite://{}", run.join("sessions.db").display()),
        ttl: Duration::from_secs(3600),
        var_dir: run.join("var"),
        index_dir: tmp.path().join("index"),
        data_dir: repo().join("data/policies"),
        reader: Arc::new(TextOnlyReader),
        llm: None,
        // No keys file under var_dir: development mode, as a clerk's loopback page runs it.
        auth: None,
        cors_origins: Vec::new(),
        tls: None,
    };
    let app = start(&Config::default(), opts, std::future::pending())
        .await
        .unwrap();
    let base = format!("http://{}", app.addr);

    // The page itself, before any browser: what it promises to the browser.
    let resp = reqwest::get(format!("{base}/")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'nonce-"), "{csp}");
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("value=\"2026-11-15\""),
        "as-of defaults to --today"
    );

    // Kept after the run (not in the tempdir) so that a person can look at the screenshots.
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("clerk-page");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    eprintln!("截图目录：{}", shots.display());

    let script = repo().join("api/tests/js/clerk_page.mjs");
    let child = tokio::process::Command::new("node")
        .arg(&script)
        .arg(&base)
        .arg(&shots)
        .arg("失业登记需要提供哪些材料？")
        .arg("2026-11-15")
        .arg("unemployment_registration")
        .arg(serde_json::to_string(&messages).unwrap())
        .current_dir(repo().join("api/tests/js"))
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(300), child)
        .await
        .expect("the browser script ran over 300 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser script failed (screenshots in {}):\n{stdout}\n{stderr}",
        shots.display()
    );
    let seen: Value = serde_json::from_str(stdout.trim()).unwrap();
    eprintln!("{seen:#}");

    assert!(!seen["answer"].as_str().unwrap().is_empty());
    assert!(seen["citations"].as_u64().unwrap() > 0);
    assert!(!seen["citation_text"].as_str().unwrap().trim().is_empty());
    assert_eq!(seen["state"], "submitted");
    assert_eq!(seen["state_text"], "已提交");
    let case_no = seen["case_no"].as_str().unwrap();
    assert!(
        !case_no.is_empty() && case_no != "—",
        "case_no shown: {case_no}"
    );
    let tools: Vec<&str> = seen["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(tools, ["申请人核实", "准入判断", "失业时间校验", "提交"]);
    // The replies are masked for display; the name the resident typed never comes back.
    for r in seen["replies"].as_array().unwrap() {
        assert!(!r.as_str().unwrap().contains("陈晓雯"), "{r}");
    }
    for name in ["qa.png", "matter.png"] {
        let p = shots.join(name);
        let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{} is not a PNG",
            p.display()
        );
        assert!(bytes.len() > 1000, "{} is nearly empty", p.display());
    }
    app.stop().await;
}
