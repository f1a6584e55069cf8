//! The official `openai` Python SDK talks to `/v1/chat/completions` (stream and not) and
//! `/v1/models` with a MAP key. Needs `python3` with the `openai` package (`scripts/setup.sh`
//! installs it); without it the test says so and skips, unless `ZHIBAN_REQUIRE_EXTERNAL=1`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use zhiban_agent_core::materials::TextOnlyReader;
use zhiban_api::auth::{AuthConfig, KeysFile, NewKey, Role};
use zhiban_api::config::Config;
use zhiban_api::serve::launch::{ServeOptions, start};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn have_sdk() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import openai"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_python_sdk_talks_to_the_agents() {
    if !have_sdk() {
        assert!(
            std::env::var("ZHIBAN_REQUIRE_EXTERNAL").is_err(),
            "python3 的 openai 包不可用（bash scripts/setup.sh 会安装）"
        );
        eprintln!("跳过：python3 的 openai 包不可用（bash scripts/setup.sh 会安装）");
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
    let script = repo().join("api/tests/py/openai_client.py");
    let out = tokio::process::Command::new("python3")
        .arg(&script)
        .arg(&base)
        .arg(&key)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "SDK script failed:\n{stdout}\n{stderr}"
    );
    let seen: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert!(seen["stream_chars"].as_u64().unwrap() > 0);
    app.stop().await;
}
