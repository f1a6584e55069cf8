//! schemathesis (PyPI) against the live service's `/openapi.json`, with an operator's key:
//! generated and mutated requests on every documented route must get no 5xx and responses that
//! match the document (status codes, content types, bodies, headers). Without the
//! `schemathesis` command (`scripts/setup.sh` installs it) the test says so and skips, unless
//! `ZHIBAN_REQUIRE_EXTERNAL=1`.

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

fn have_schemathesis() -> bool {
    std::process::Command::new("schemathesis")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_schema_violation() {
    if !have_schemathesis() {
        assert!(
            std::env::var("ZHIBAN_REQUIRE_EXTERNAL").is_err(),
            "schemathesis 不可用（bash scripts/setup.sh 会安装）"
        );
        eprintln!("跳过：schemathesis 不可用（bash scripts/setup.sh 会安装）");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let keys_file = tmp.path().join("keys.json");
    let mut f = KeysFile::default();
    let key = f
        .add(NewKey {
            client: "ops".into(),
            roles: [Role::Admin].into_iter().collect::<BTreeSet<_>>(),
            // The fuzzer sends about a thousand requests in seconds.
            rate_per_minute: Some(1_000_000),
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
    // The docs page is served without a key and reads the same document.
    let docs = reqwest::get(format!("{base}/docs")).await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("/openapi.json"));

    let out = tokio::process::Command::new("schemathesis")
        .arg("run")
        .arg(format!("{base}/openapi.json"))
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance",
            "--max-examples",
            "25",
            "--seed",
            "20261204",
            "--workers",
            "2",
            "--no-color",
            "--generation-deterministic",
            "--header",
        ])
        .arg(format!("Authorization: Bearer {key}"))
        .env("SCHEMATHESIS_HOOKS", "")
        // It writes its own state under the working directory.
        .current_dir(tmp.path())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary: String = stdout
        .lines()
        .skip_while(|l| !l.contains("SUMMARY"))
        .collect::<Vec<_>>()
        .join("\n");
    eprintln!("{summary}");
    // What the done-when counts are the checks' failures (server errors, schema violations).
    // schemathesis also reports its own generator's runtime errors ("Inconsistent results"
    // from hypothesis while building coverage cases); those are not the service's, and are
    // tolerated only when they are all there is.
    assert!(
        !stdout.lines().any(|l| l.contains(" FAILURES ")),
        "schemathesis found failures:\n{stdout}\n{stderr}"
    );
    if !out.status.success() {
        let errors: Vec<&str> = stdout
            .lines()
            .skip_while(|l| !l.contains(" ERRORS "))
            .collect();
        let headers = errors
            .iter()
            .filter(|l| l.trim_start().starts_with("____"))
            .count();
        let runtime = errors
            .iter()
            .filter(|l| l.trim() == "Runtime Error")
            .count();
        assert!(
            headers > 0 && headers == runtime && stdout.contains("Inconsistent results"),
            "schemathesis failed:\n{stdout}\n{stderr}"
        );
        eprintln!("schemathesis: {runtime} generator runtime error(s), no check failed");
    }
    let generated: usize = stdout
        .lines()
        .skip_while(|l| !l.trim().starts_with("Test cases:"))
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        generated >= 500,
        "only {generated} cases generated:\n{stdout}"
    );
    app.stop().await;
}
