//! Endpoint faults: every one ends in a distinct error, within the deadline, after one request
//! (no retry loop), so the engine can fall back at once.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use zhiban_agent_core::llm::{
    Command, FieldDesc, FieldKind, LlmClient, LlmConfig, LlmError, TurnContext,
};
use zhiban_llmsim::{Config, Script, Server, start};

async fn server(toml: &str) -> Server {
    start(Config {
        script: Script::from_toml(toml).expect("script"),
        ..Config::default()
    })
    .await
    .expect("start")
}

fn client(base_url: String, timeout: Duration) -> LlmClient {
    let mut cfg = LlmConfig::new(base_url, "sk-test", "zhiban-sim");
    cfg.timeout = timeout;
    LlmClient::new(cfg).expect("client")
}

fn ctx() -> TurnContext {
    TurnContext {
        agent_name: "高龄老人养老服务补贴".into(),
        awaiting: Some("是否享受其他补贴".into()),
        fields: vec![FieldDesc {
            name: "是否享受其他补贴".into(),
            kind: FieldKind::YesNo,
            options: vec![],
        }],
        last_reply: "请问您目前是否享受其他养老补贴？".into(),
        today: NaiveDate::from_ymd_opt(2025, 6, 18).expect("date"),
        ..TurnContext::default()
    }
}

/// Runs one commands call and returns its result and duration.
async fn timed(c: &LlmClient, text: &str) -> (Result<Vec<Command>, LlmError>, Duration) {
    let t = Instant::now();
    let r = c.commands(&ctx(), text).await;
    (r, t.elapsed())
}

#[tokio::test]
async fn a_hanging_model_times_out_within_the_deadline() {
    let s = server("[[rules]]\nreply = { hang = true }").await;
    let timeout = Duration::from_millis(300);
    let c = client(s.base_url(), timeout);
    let (r, took) = timed(&c, "没有").await;
    assert_eq!(r, Err(LlmError::Timeout { after_ms: 300 }));
    assert!(took >= timeout, "returned before the deadline: {took:?}");
    assert!(took < timeout * 2, "took {took:?}");
    assert_eq!(c.stats().timeouts, 1);
    s.shutdown().await;
}

#[tokio::test]
async fn slow_answers_inside_the_deadline_succeed() {
    let s = server(
        "[[rules]]\nreply = { latency_ms = 100, tool_call = { name = \"set_slot\", arguments = { field = \"是否享受其他补贴\", value = \"没有\" } } }",
    )
    .await;
    let c = client(s.base_url(), Duration::from_millis(1500));
    let (r, _) = timed(&c, "没有").await;
    assert_eq!(
        r,
        Ok(vec![Command::SetSlot {
            field: "是否享受其他补贴".into(),
            value: "否".into()
        }])
    );
}

#[tokio::test]
async fn server_errors_fail_fast_without_retries() {
    for status in [500u16, 502, 503] {
        let s = server(&format!("[[rules]]\nreply = {{ status = {status} }}")).await;
        // A long deadline: a retry loop would show as a slow error or a timeout.
        let c = client(s.base_url(), Duration::from_secs(5));
        let (r, took) = timed(&c, "没有").await;
        assert_eq!(r, Err(LlmError::Server), "status {status}");
        assert!(
            took < Duration::from_secs(1),
            "status {status} took {took:?}"
        );
        assert_eq!(s.requests().len(), 1, "status {status} was retried");
        s.shutdown().await;
    }
}

#[tokio::test]
async fn refusals_and_rate_limits_are_not_retried() {
    for reply in [
        "{ status = 401 }",
        "{ status = 400 }",
        "{ status = 429 }",
        "{ status = 429, error_type = \"insufficient_quota\" }",
    ] {
        let s = server(&format!("[[rules]]\nreply = {reply}")).await;
        let c = client(s.base_url(), Duration::from_secs(5));
        let (r, took) = timed(&c, "没有").await;
        assert_eq!(r, Err(LlmError::Rejected), "{reply}");
        assert!(took < Duration::from_secs(1), "{reply} took {took:?}");
        assert_eq!(s.requests().len(), 1, "{reply} was retried");
        s.shutdown().await;
    }
}

#[tokio::test]
async fn broken_bodies_are_malformed() {
    for reply in ["{ malformed = true }", "{ truncated_stream = true }"] {
        let s = server(&format!("[[rules]]\nreply = {reply}")).await;
        let c = client(s.base_url(), Duration::from_secs(2));
        let (r, _) = timed(&c, "没有").await;
        assert_eq!(r, Err(LlmError::Malformed), "{reply}");
        s.shutdown().await;
    }
}

#[tokio::test]
async fn empty_answers_are_empty() {
    for reply in ["{ empty = \"no_choices\" }", "{ empty = \"no_content\" }"] {
        let s = server(&format!("[[rules]]\nreply = {reply}")).await;
        let c = client(s.base_url(), Duration::from_secs(2));
        let (r, _) = timed(&c, "没有").await;
        assert_eq!(r, Err(LlmError::Empty), "{reply}");
        s.shutdown().await;
    }
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_transport_error() {
    // Bind and drop a listener to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let c = client(
        format!("http://127.0.0.1:{port}/v1"),
        Duration::from_secs(2),
    );
    let (r, took) = timed(&c, "没有").await;
    assert_eq!(r, Err(LlmError::Transport));
    assert!(took < Duration::from_secs(1));
}

#[tokio::test]
async fn the_deadline_covers_rephrase_too() {
    let s = server("[[rules]]\nreply = { hang = true }").await;
    let c = client(s.base_url(), Duration::from_millis(300));
    let t = Instant::now();
    let r = c.rephrase("请上传材料。").await;
    assert_eq!(r, Err(LlmError::Timeout { after_ms: 300 }));
    assert!(t.elapsed() < Duration::from_millis(600));
    s.shutdown().await;
}
