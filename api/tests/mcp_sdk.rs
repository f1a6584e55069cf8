//! An MCP client (the official Python `mcp` package) lists and calls the tools at `/mcp` with a
//! MAP key, in the zhiban session named by `X-Session-Id`; a token replayed into another session
//! is refused and audited. Without `python3` and `mcp` (`scripts/setup.sh` installs it) the
//! test says so and skips, unless `ZHIBAN_REQUIRE_EXTERNAL=1`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use zhiban_agent_core::materials::TextOnlyReader;
use zhiban_api::auth::{AuthConfig, KeysFile, NewKey, Role};
use zhiban_api::config::Config;
use zhiban_api::serve::launch::{ServeOptions, start};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn have_sdk() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import mcp.client.streamable_http"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mcp_python_sdk_lists_and_calls_the_tools() {
    if !have_sdk() {
        assert!(
            std::env::var("ZHIBAN_REQUIRE_EXTERNAL").is_err(),
            "python3 的 mcp 包不可用（bash scripts/setup.sh 会安装）"
        );
        eprintln!("跳过：python3 的 mcp 包不可用（bash scripts/setup.sh 会安装）");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let keys_file = tmp.path().join("keys.json");
    let mut f = KeysFile::default();
    let key = f
        .add(NewKey {
            client: "map".into(),
            roles: [Role::Map].into_iter().collect::<BTreeSet<_>>(),
            ..NewKey::default()
        })
        .unwrap();
    f.save(&keys_file).unwrap();
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
        auth: Some(AuthConfig {
            keys_file,
            ..AuthConfig::default()
        }),
        cors_origins: Vec::new(),
        tls: None,
    };
    let app = start(&Config::default(), opts, std::future::pending())
        .await
        .unwrap();
    let base = format!("http://{}", app.addr);
    let http = reqwest::Client::new();
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let v: Value = http
            .post(format!(
                "{base}/v1/agents/unemployment_registration/sessions"
            ))
            .bearer_auth(&key)
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        sessions.push(v["session_id"].as_str().unwrap().to_string());
    }
    let script = repo().join("api/tests/py/mcp_client.py");
    let out = tokio::process::Command::new("python3")
        .arg(&script)
        .arg(format!("{base}/mcp"))
        .arg(&key)
        .arg(&sessions[0])
        .arg(&sessions[1])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "MCP script failed:\n{stdout}\n{stderr}"
    );

    // The calls are in session A's record; the replay into B reached no line system.
    let a: Value = http
        .get(format!("{base}/v1/sessions/{}", sessions[0]))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tools: Vec<&str> = a["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["tool"].as_str().unwrap())
        .collect();
    assert!(
        tools.contains(&"申请人核实") && tools.contains(&"路名库查询"),
        "{tools:?}"
    );
    let log: Value = http
        .get(format!("{}/_requests", app.casesim_url.clone().unwrap()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let verifies = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["operation"] == "applicant_verify")
        .count();
    assert_eq!(verifies, 1, "{log}");
    let audit = std::fs::read_to_string(app.engine.tools().audit().path()).unwrap();
    assert!(
        audit.lines().any(|l| l.contains("\"denied\"")
            && l.contains("invalid_token")
            && l.contains(&sessions[1])),
        "{audit}"
    );
    app.stop().await;
}
