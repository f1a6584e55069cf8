//! Raw HTTP checks with reqwest: wire shapes and the control endpoints.

use serde_json::{Value, json};
use zhiban_llmsim::{Config, RecordedRequest, Script, Server, start};

async fn server(toml: &str) -> Server {
    start(Config {
        script: Script::from_toml(toml).expect("script"),
        stream_piece_chars: 3,
        ..Config::default()
    })
    .await
    .expect("start")
}

fn root(s: &Server) -> String {
    s.base_url().trim_end_matches("/v1").to_owned()
}

async fn post(s: &Server, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/chat/completions", s.base_url()))
        .bearer_auth("sk-raw")
        .json(&body)
        .send()
        .await
        .expect("send")
}

fn chat(text: &str, stream: bool) -> Value {
    json!({"model": "m", "stream": stream, "messages": [{"role": "user", "content": text}]})
}

/// The `data:` payloads of an SSE body.
fn events(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| e.strip_prefix("data: ").expect("data line").to_owned())
        .collect()
}

#[tokio::test]
async fn malformed_is_a_200_that_is_not_json() {
    let s = server("[[rules]]\nreply = { malformed = true }").await;
    let r = post(&s, chat("你好", false)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let text = r.text().await.expect("body");
    assert!(!text.is_empty());
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    s.shutdown().await;
}

#[tokio::test]
async fn sse_shape_matches_openai_for_tool_calls() {
    let s = server(
        r#"
        [[rules]]
        reply = { tool_call = { name = "lookup_case", arguments = { case_no = "SH-2024-0117" } } }
        "#,
    )
    .await;
    let r = post(&s, chat("查件", true)).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let ev = events(&r.text().await.expect("body"));
    assert_eq!(ev.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = ev[..ev.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).expect("chunk json"))
        .collect();
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk" && c["id"] == chunks[0]["id"])
    );
    let first = &chunks[0]["choices"][0]["delta"];
    assert_eq!(first["role"], "assistant");
    assert_eq!(
        first["tool_calls"][0],
        json!({"index": 0, "id": first["tool_calls"][0]["id"], "type": "function",
               "function": {"name": "lookup_case", "arguments": ""}})
    );
    let middle = &chunks[1..chunks.len() - 1];
    assert!(middle.len() > 1);
    let mut args = String::new();
    for c in middle {
        let tc = &c["choices"][0]["delta"]["tool_calls"][0];
        assert_eq!(
            tc.as_object().unwrap().len(),
            2,
            "only index and function: {tc}"
        );
        assert_eq!(tc["index"], 0);
        args.push_str(tc["function"]["arguments"].as_str().expect("piece"));
    }
    assert_eq!(args, r#"{"case_no":"SH-2024-0117"}"#);
    let last = &chunks[chunks.len() - 1]["choices"][0];
    assert_eq!(last["delta"], json!({}));
    assert_eq!(last["finish_reason"], "tool_calls");
    s.shutdown().await;
}

#[tokio::test]
async fn truncated_stream_has_no_done_and_no_finish() {
    let s =
        server("[[rules]]\nreply = { truncated_stream = true, text = \"一二三四五六七八九十\" }")
            .await;
    let body = post(&s, chat("你好", true))
        .await
        .text()
        .await
        .expect("body");
    let ev = events(&body);
    assert!(!ev.is_empty());
    assert!(ev.iter().all(|e| e != "[DONE]"));
    let mut text = String::new();
    for e in &ev {
        let c: Value = serde_json::from_str(e).expect("complete chunks before the cut");
        assert!(c["choices"][0]["finish_reason"].is_null());
        text.push_str(c["choices"][0]["delta"]["content"].as_str().unwrap_or(""));
    }
    assert!(
        !text.is_empty()
            && "一二三四五六七八九十".starts_with(&text)
            && text != "一二三四五六七八九十"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn status_fault_has_an_openai_error_body() {
    let s = server("[[rules]]\nreply = { status = 429 }").await;
    let r = post(&s, chat("你好", false)).await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    assert!(body["error"]["message"].is_string());
    s.shutdown().await;
}

#[tokio::test]
async fn control_endpoints_list_clear_and_load() {
    let s = server("").await;
    let http = reqwest::Client::new();
    post(&s, chat("第一", false)).await;
    // A bad body is answered 400 and still recorded.
    let bad = http
        .post(format!("{}/chat/completions", s.base_url()))
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(bad.status(), 400);
    let unknown = http
        .get(format!("{}/files", s.base_url()))
        .send()
        .await
        .expect("send");
    assert_eq!(unknown.status(), 404);
    let off_api = http
        .get(format!("{}/healthz", root(&s)))
        .send()
        .await
        .expect("send");
    assert_eq!(off_api.status(), 404);

    let listed: Vec<RecordedRequest> = http
        .get(format!("{}/_requests", root(&s)))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(listed, s.requests());
    assert_eq!(
        listed.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
        ["/v1/chat/completions", "/v1/chat/completions", "/v1/files"]
    );
    assert_eq!(listed[0].headers["authorization"], "Bearer [redacted]");
    assert_eq!(listed[1].body, Value::Null);
    assert_eq!(listed[1].body_text, "{not json");

    let del = http
        .delete(format!("{}/_requests", root(&s)))
        .send()
        .await
        .expect("send");
    assert_eq!(del.status(), 204);
    assert!(s.requests().is_empty());

    let toml = http
        .put(format!("{}/_script", root(&s)))
        .header("content-type", "application/toml")
        .body("[[rules]]\nreply = { text = \"来自TOML\" }")
        .send()
        .await
        .expect("send");
    assert_eq!(toml.status(), 204);
    let r: Value = post(&s, chat("你好", false))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(r["choices"][0]["message"]["content"], "来自TOML");

    let json_script =
        json!({"rules": [{"when": {"contains": "JSON"}, "reply": {"text": "来自JSON"}}]});
    let put = http
        .put(format!("{}/_script", root(&s)))
        .json(&json_script)
        .send()
        .await
        .expect("send");
    assert_eq!(put.status(), 204);
    let r: Value = post(&s, chat("JSON 脚本", false))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(r["choices"][0]["message"]["content"], "来自JSON");

    let broken = http
        .put(format!("{}/_script", root(&s)))
        .body(r#"{"rules": [{"when": {"regex": "("}}]}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(broken.status(), 400);
    let msg: Value = broken.json().await.expect("json");
    assert!(msg["error"].as_str().unwrap().contains("rule 1"), "{msg}");
    let r: Value = post(&s, chat("JSON 还在", false))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        r["choices"][0]["message"]["content"], "来自JSON",
        "old script stays"
    );
    assert_eq!(s.requests().len(), 3, "control calls are not recorded");
    s.shutdown().await;
}

#[tokio::test]
async fn embeddings_validate_input() {
    let s = server("").await;
    let http = reqwest::Client::new();
    let url = format!("{}/embeddings", s.base_url());
    let r = http
        .post(&url)
        .json(&json!({"model": "m"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let r = http
        .post(&url)
        .json(&json!({"model": "m", "input": [[1, 2], [3]]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["data"][0]["embedding"].as_array().unwrap().len(), 64);
    assert_eq!(s.requests().len(), 2);
    s.shutdown().await;
}

#[tokio::test]
async fn chunk_delay_spaces_the_stream_out() {
    let s = server("[[rules]]\nreply = { text = \"一二三四五六\", chunk_delay_ms = 120 }").await;
    let t = std::time::Instant::now();
    let mut r = post(&s, chat("你好", true)).await;
    let mut arrivals = Vec::new();
    while let Some(bytes) = r.chunk().await.expect("chunk") {
        arrivals.push((t.elapsed(), bytes.len()));
    }
    // Role chunk, two pieces of three, finish chunk, [DONE]: four gaps of 120 ms.
    assert!(
        t.elapsed() >= std::time::Duration::from_millis(480),
        "{arrivals:?}"
    );
    assert!(
        arrivals.len() >= 2,
        "the body arrives in parts: {arrivals:?}"
    );
    s.shutdown().await;
}
