//! async-openai 0.29 as the protocol peer: what the agent runtime's client sees.

use std::future::poll_fn;
use std::time::{Duration, Instant};

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::{
    ChatCompletionMessageToolCall, ChatCompletionRequestAssistantMessageArgs,
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessageArgs,
    ChatCompletionRequestToolMessageArgs, ChatCompletionRequestUserMessageArgs,
    ChatCompletionResponseStream, ChatCompletionStreamOptions, ChatCompletionToolArgs,
    ChatCompletionToolType, CreateChatCompletionRequest, CreateChatCompletionRequestArgs,
    CreateChatCompletionStreamResponse, CreateEmbeddingRequestArgs, FinishReason, FunctionCall,
    FunctionObjectArgs,
};
use serde_json::{Value, json};
use zhiban_llmsim::{Config, Reply, Rule, Script, Server, start};

/// A synthetic resident (fictional; the ID number passes the GB 11643 checksum).
const NAME: &str = "王晓梅";
const ID_NO: &str = "310104198805121230";

async fn server(script: Script) -> Server {
    start(Config {
        script,
        ..Config::default()
    })
    .await
    .expect("start")
}

fn script(toml: &str) -> Script {
    Script::from_toml(toml).expect("script")
}

/// A client whose own retry loop gives up at once, so faults surface as errors.
fn client(s: &Server) -> Client<OpenAIConfig> {
    client_with(s, Duration::from_secs(10), Some(Duration::from_millis(1)))
}

fn client_with(s: &Server, timeout: Duration, retry_for: Option<Duration>) -> Client<OpenAIConfig> {
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .expect("http");
    let backoff = backoff::ExponentialBackoffBuilder::new()
        .with_initial_interval(Duration::from_millis(10))
        .with_max_interval(Duration::from_millis(50))
        .with_max_elapsed_time(retry_for)
        .build();
    Client::with_config(
        OpenAIConfig::new()
            .with_api_base(s.base_url())
            .with_api_key("sk-sim-secret-123"),
    )
    .with_http_client(http)
    .with_backoff(backoff)
}

fn user(text: &str) -> ChatCompletionRequestMessage {
    ChatCompletionRequestUserMessageArgs::default()
        .content(text)
        .build()
        .expect("msg")
        .into()
}

fn system(text: &str) -> ChatCompletionRequestMessage {
    ChatCompletionRequestSystemMessageArgs::default()
        .content(text)
        .build()
        .expect("msg")
        .into()
}

fn request(messages: Vec<ChatCompletionRequestMessage>) -> CreateChatCompletionRequest {
    CreateChatCompletionRequestArgs::default()
        .model("qwen-sim")
        .messages(messages)
        .build()
        .expect("request")
}

fn with_tools(mut r: CreateChatCompletionRequest, names: &[&str]) -> CreateChatCompletionRequest {
    r.tools = Some(
        names
            .iter()
            .map(|n| {
                ChatCompletionToolArgs::default()
                    .r#type(ChatCompletionToolType::Function)
                    .function(
                        FunctionObjectArgs::default()
                            .name(*n)
                            .description("查询办件")
                            .parameters(json!({"type": "object", "properties": {"case_no": {"type": "string"}}}))
                            .build()
                            .expect("fn"),
                    )
                    .build()
                    .expect("tool")
            })
            .collect(),
    );
    r
}

async fn next(
    s: &mut ChatCompletionResponseStream,
) -> Option<Result<CreateChatCompletionStreamResponse, OpenAIError>> {
    poll_fn(|cx| s.as_mut().poll_next(cx)).await
}

/// What a streaming client assembles: text, tool calls (id, name, arguments),
/// finish reason, chunk count; stops at the first error and returns it.
#[derive(Debug, Default)]
struct Collected {
    text: String,
    calls: Vec<(String, String, String)>,
    finish: Option<FinishReason>,
    chunks: usize,
    usage_total: Option<u32>,
    error: Option<OpenAIError>,
}

async fn collect(mut s: ChatCompletionResponseStream) -> Collected {
    let mut c = Collected::default();
    while let Some(item) = next(&mut s).await {
        let chunk = match item {
            Ok(chunk) => chunk,
            Err(e) => {
                c.error = Some(e);
                break;
            }
        };
        c.chunks += 1;
        if let Some(u) = chunk.usage {
            c.usage_total = Some(u.total_tokens);
        }
        for choice in chunk.choices {
            if let Some(t) = choice.delta.content {
                c.text.push_str(&t);
            }
            for tc in choice.delta.tool_calls.into_iter().flatten() {
                let i = tc.index as usize;
                if c.calls.len() <= i {
                    c.calls.resize(i + 1, Default::default());
                }
                if let Some(id) = tc.id {
                    c.calls[i].0 = id;
                }
                if let Some(f) = tc.function {
                    c.calls[i].1.push_str(&f.name.unwrap_or_default());
                    c.calls[i].2.push_str(&f.arguments.unwrap_or_default());
                }
            }
            if choice.finish_reason.is_some() {
                c.finish = choice.finish_reason;
            }
        }
    }
    c
}

fn streaming(mut r: CreateChatCompletionRequest) -> CreateChatCompletionRequest {
    r.stream = Some(true);
    r
}

#[tokio::test]
async fn default_reply_echoes_the_last_user_message() {
    let s = server(Script::default()).await;
    let msg = format!("我是{NAME}，想问居住证续签");
    let r = client(&s)
        .chat()
        .create(request(vec![system("你是社区事务受理助手"), user(&msg)]))
        .await
        .expect("chat");
    assert_eq!(r.choices.len(), 1);
    assert_eq!(r.choices[0].message.content.as_deref(), Some(msg.as_str()));
    assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
    assert_eq!(r.model, "qwen-sim");
    assert!(r.usage.expect("usage").total_tokens > 0);
    s.shutdown().await;
}

#[tokio::test]
async fn rules_pick_text_by_contains_and_regex() {
    let s = server(script(
        r#"
        [[rules]]
        when = { contains = "高龄补贴" }
        reply = { text = "高龄补贴需年满80周岁。" }
        [[rules]]
        when = { regex = "^(请问)?.{0,4}几点" }
        reply = { text = "中心工作时间为9:00-17:00，您问的是：{{last_user}}" }
        "#,
    ))
    .await;
    let c = client(&s);
    let ask = |q: &'static str| {
        let c = c.clone();
        async move {
            c.chat()
                .create(request(vec![user(q)]))
                .await
                .expect("chat")
                .choices[0]
                .message
                .content
                .clone()
                .unwrap_or_default()
        }
    };
    assert_eq!(ask("我母亲想申请高龄补贴").await, "高龄补贴需年满80周岁。");
    assert_eq!(
        ask("请问几点开门").await,
        "中心工作时间为9:00-17:00，您问的是：请问几点开门"
    );
    assert_eq!(ask("办理时间是几点").await, "办理时间是几点");
    s.shutdown().await;
}

#[tokio::test]
async fn streamed_text_arrives_in_pieces_and_ends_with_done() {
    let s = server(script(
        r#"
        [[rules]]
        reply = { text = "您好，请携带身份证和户口簿原件到一号窗口办理。" }
        "#,
    ))
    .await;
    let mut req = streaming(request(vec![user("办理低保需要什么材料")]));
    req.stream_options = Some(ChatCompletionStreamOptions {
        include_usage: true,
    });
    let stream = client(&s).chat().create_stream(req).await.expect("stream");
    let got = collect(stream).await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(got.text, "您好，请携带身份证和户口簿原件到一号窗口办理。");
    assert_eq!(got.finish, Some(FinishReason::Stop));
    // 23 characters in pieces of 4, plus the role, finish and usage chunks.
    assert_eq!(got.chunks, 6 + 3);
    assert!(got.usage_total.is_some_and(|t| t > 0));
    s.shutdown().await;
}

#[tokio::test]
async fn tool_call_parses_into_async_openai_types() {
    let s = server(script(
        r#"
        [[rules]]
        when = { tools = ["lookup_case"], has_tool_result = false }
        reply = { tool_call = { name = "lookup_case", arguments = { case_no = "SH-2024-0117", note = "{{last_user}}" } } }
        [[rules]]
        when = { tool_result_of = "lookup_case" }
        reply = { text = "您的件已办结。" }
        "#,
    ))
    .await;
    let c = client(&s);
    let first = with_tools(request(vec![user("我的件办得怎样")]), &["lookup_case"]);
    let r = c.chat().create(first.clone()).await.expect("chat");
    let choice = &r.choices[0];
    assert_eq!(choice.finish_reason, Some(FinishReason::ToolCalls));
    assert!(choice.message.content.is_none());
    let calls = choice.message.tool_calls.as_ref().expect("tool calls");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].function.name, "lookup_case");
    let args: Value = serde_json::from_str(&calls[0].function.arguments).expect("args are JSON");
    assert_eq!(
        args,
        json!({"case_no": "SH-2024-0117", "note": "我的件办得怎样"})
    );

    // Second round: the tool result goes back, the model summarises.
    let mut messages = first.messages.clone();
    messages.push(
        ChatCompletionRequestAssistantMessageArgs::default()
            .tool_calls(calls.clone())
            .build()
            .expect("assistant")
            .into(),
    );
    messages.push(
        ChatCompletionRequestToolMessageArgs::default()
            .tool_call_id(calls[0].id.clone())
            .content(r#"{"status": "已办结"}"#)
            .build()
            .expect("tool msg")
            .into(),
    );
    let r2 = c
        .chat()
        .create(with_tools(request(messages), &["lookup_case"]))
        .await
        .expect("chat 2");
    assert_eq!(
        r2.choices[0].message.content.as_deref(),
        Some("您的件已办结。")
    );
    assert_eq!(
        s.requests().iter().map(|r| r.rule).collect::<Vec<_>>(),
        [Some(0), Some(1)]
    );
    s.shutdown().await;
}

#[tokio::test]
async fn streamed_tool_calls_reassemble_including_raw_arguments() {
    let s = server(script(
        r#"
        [[rules]]
        [rules.reply]
        text = "我来查一下。"
        tool_calls = [
            { name = "lookup_case", arguments = { case_no = "SH-2024-0117", "申请人" = "王晓梅" } },
            { name = "send_sms", arguments = "{\"phone\": \"1380013" },
        ]
        "#,
    ))
    .await;
    let req = streaming(with_tools(
        request(vec![user("查件并短信通知我")]),
        &["lookup_case", "send_sms"],
    ));
    let got = collect(
        client(&s)
            .chat()
            .create_stream(req.clone())
            .await
            .expect("stream"),
    )
    .await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(got.text, "我来查一下。");
    assert_eq!(got.finish, Some(FinishReason::ToolCalls));
    assert_eq!(got.calls.len(), 2);
    assert_eq!(got.calls[0].1, "lookup_case");
    let args: Value = serde_json::from_str(&got.calls[0].2).expect("json args");
    assert_eq!(args, json!({"case_no": "SH-2024-0117", "申请人": "王晓梅"}));
    assert_eq!(got.calls[1].1, "send_sms");
    assert_eq!(
        got.calls[1].2, "{\"phone\": \"1380013",
        "raw arguments are sent verbatim"
    );
    assert!(serde_json::from_str::<Value>(&got.calls[1].2).is_err());
    assert_ne!(got.calls[0].0, got.calls[1].0, "distinct call ids");

    // The same script without streaming gives the same calls.
    let mut plain = req;
    plain.stream = None;
    let r = client(&s).chat().create(plain).await.expect("chat");
    let calls: Vec<ChatCompletionMessageToolCall> =
        r.choices[0].message.tool_calls.clone().expect("calls");
    let names: Vec<&FunctionCall> = calls.iter().map(|c| &c.function).collect();
    assert_eq!(names[1].arguments, got.calls[1].2);
    assert_eq!(
        r.choices[0].message.content.as_deref(),
        Some("我来查一下。")
    );
    s.shutdown().await;
}

#[tokio::test]
async fn status_faults_surface_as_api_errors() {
    let s = server(script(
        r#"
        [[rules]]
        when = { contains = "400" }
        reply = { status = 400, error_message = "messages 字段无效" }
        [[rules]]
        when = { contains = "503" }
        reply = { status = 503 }
        [[rules]]
        when = { contains = "quota" }
        reply = { status = 429, error_type = "insufficient_quota" }
        "#,
    ))
    .await;
    let c = client(&s);
    match c.chat().create(request(vec![user("400")])).await {
        Err(OpenAIError::ApiError(e)) => {
            assert_eq!(e.message, "messages 字段无效");
            assert_eq!(e.r#type.as_deref(), Some("invalid_request_error"));
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    match c.chat().create(request(vec![user("503")])).await {
        // async-openai keeps a 5xx body as the message text.
        Err(OpenAIError::ApiError(e)) => {
            assert!(e.message.contains("server_error"), "{}", e.message)
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    match c.chat().create(request(vec![user("quota")])).await {
        Err(OpenAIError::ApiError(e)) => {
            assert_eq!(e.r#type.as_deref(), Some("insufficient_quota"))
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    // A stream refused with a status ends on the client as a stream error.
    let stream = c
        .chat()
        .create_stream(streaming(request(vec![user("503")])))
        .await
        .expect("stream");
    let got = collect(stream).await;
    assert!(
        matches!(&got.error, Some(OpenAIError::StreamError(m)) if m.contains("503")),
        "{:?}",
        got.error
    );
    assert_eq!(got.chunks, 0);
    s.shutdown().await;
}

#[tokio::test]
async fn times_fails_twice_then_the_client_retry_succeeds() {
    let s = server(script(
        r#"
        [[rules]]
        times = 2
        reply = { status = 503 }
        [[rules]]
        times = 1
        reply = { status = 429 }
        [[rules]]
        reply = { text = "第四次成功" }
        "#,
    ))
    .await;
    // async-openai retries 5xx and rate limits on its own when allowed to.
    let c = client_with(&s, Duration::from_secs(10), Some(Duration::from_secs(10)));
    let r = c
        .chat()
        .create(request(vec![user("你好")]))
        .await
        .expect("after retries");
    assert_eq!(r.choices[0].message.content.as_deref(), Some("第四次成功"));
    let rules: Vec<_> = s.requests().iter().map(|r| r.rule).collect();
    assert_eq!(rules, [Some(0), Some(0), Some(1), Some(2)]);
    // The limits are spent: later calls go straight to the text.
    let r = client(&s)
        .chat()
        .create(request(vec![user("再来")]))
        .await
        .expect("chat");
    assert_eq!(r.choices[0].message.content.as_deref(), Some("第四次成功"));
    s.shutdown().await;
}

#[tokio::test]
async fn hang_makes_the_client_timeout_fire() {
    let s = server(script(
        r#"
        [[rules]]
        reply = { hang = true }
        "#,
    ))
    .await;
    let c = client_with(
        &s,
        Duration::from_millis(300),
        Some(Duration::from_millis(1)),
    );
    let t = Instant::now();
    match c.chat().create(request(vec![user("还在吗")])).await {
        Err(OpenAIError::Reqwest(e)) => assert!(e.is_timeout(), "{e}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(s.requests().len(), 1, "a hung request is recorded");
    // Shutdown ends hung handlers instead of waiting on them.
    let t = Instant::now();
    s.shutdown().await;
    assert!(t.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn latency_delays_the_answer() {
    let s = server(script(
        r#"
        [[rules]]
        reply = { latency_ms = 400, text = "慢" }
        "#,
    ))
    .await;
    let t = Instant::now();
    let r = client(&s)
        .chat()
        .create(request(vec![user("快点")]))
        .await
        .expect("chat");
    assert!(t.elapsed() >= Duration::from_millis(400));
    assert_eq!(r.choices[0].message.content.as_deref(), Some("慢"));
    // A client timeout shorter than the latency fires.
    let c = client_with(
        &s,
        Duration::from_millis(100),
        Some(Duration::from_millis(1)),
    );
    match c.chat().create(request(vec![user("快点")])).await {
        Err(OpenAIError::Reqwest(e)) => assert!(e.is_timeout(), "{e}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    s.shutdown().await;
}

#[tokio::test]
async fn malformed_body_is_a_deserialization_error() {
    let s = server(script(
        r#"
        [[rules]]
        reply = { malformed = true }
        "#,
    ))
    .await;
    let c = client(&s);
    let e = c
        .chat()
        .create(request(vec![user("你好")]))
        .await
        .expect_err("malformed");
    assert!(matches!(e, OpenAIError::JSONDeserialize(_)), "{e:?}");
    let got = collect(
        c.chat()
            .create_stream(streaming(request(vec![user("你好")])))
            .await
            .expect("stream"),
    )
    .await;
    assert!(
        matches!(got.error, Some(OpenAIError::JSONDeserialize(_))),
        "{:?}",
        got.error
    );
    s.shutdown().await;
}

#[tokio::test]
async fn empty_answers_parse_but_carry_nothing() {
    let s = server(script(
        r#"
        [[rules]]
        when = { contains = "无选项" }
        reply = { empty = "no_choices" }
        [[rules]]
        reply = { empty = "no_content" }
        "#,
    ))
    .await;
    let c = client(&s);
    let r = c
        .chat()
        .create(request(vec![user("无选项")]))
        .await
        .expect("chat");
    assert!(r.choices.is_empty());
    let r = c
        .chat()
        .create(request(vec![user("空内容")]))
        .await
        .expect("chat");
    assert_eq!(r.choices[0].message.content.as_deref(), Some(""));
    assert!(r.choices[0].message.tool_calls.is_none());

    let got = collect(
        c.chat()
            .create_stream(streaming(request(vec![user("无选项")])))
            .await
            .expect("s"),
    )
    .await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!((got.chunks, got.text.as_str(), got.finish), (1, "", None));
    let got = collect(
        c.chat()
            .create_stream(streaming(request(vec![user("空内容")])))
            .await
            .expect("s"),
    )
    .await;
    assert!(got.error.is_none(), "{:?}", got.error);
    assert_eq!(
        (got.text.as_str(), got.finish),
        ("", Some(FinishReason::Stop))
    );
    s.shutdown().await;
}

#[tokio::test]
async fn truncated_stream_ends_without_finish_or_done() {
    let full = "请于工作日携带身份证原件前往街道社区事务受理服务中心办理。";
    let s = server(script(&format!(
        r#"
        [[rules]]
        times = 1
        reply = {{ truncated_stream = true, text = "{full}" }}
        "#
    )))
    .await;
    let c = client(&s);
    let got = collect(
        c.chat()
            .create_stream(streaming(request(vec![user("怎么办")])))
            .await
            .expect("s"),
    )
    .await;
    assert!(
        matches!(got.error, Some(OpenAIError::StreamError(_))),
        "{:?}",
        got.error
    );
    assert!(got.finish.is_none());
    assert!(
        !got.text.is_empty() && got.text.len() < full.len() && full.starts_with(&got.text),
        "{}",
        got.text
    );

    // Without streaming the body itself is cut.
    s.set_script(script(&format!(
        r#"
        [[rules]]
        reply = {{ truncated_stream = true, text = "{full}" }}
        "#
    )))
    .expect("script");
    let e = c
        .chat()
        .create(request(vec![user("怎么办")]))
        .await
        .expect_err("cut body");
    assert!(matches!(e, OpenAIError::JSONDeserialize(_)), "{e:?}");
    s.shutdown().await;
}

#[tokio::test]
async fn embeddings_are_deterministic_per_input() {
    let s = start(Config {
        embedding_dim: 16,
        ..Config::default()
    })
    .await
    .expect("start");
    let c = client(&s);
    let texts = vec!["居住证办理", "高龄补贴", "居住证办理"];
    let req = CreateEmbeddingRequestArgs::default()
        .model("bge-sim")
        .input(texts.clone())
        .build()
        .expect("req");
    let r = c.embeddings().create(req).await.expect("embeddings");
    assert_eq!(r.data.len(), 3);
    assert!(
        r.data
            .iter()
            .enumerate()
            .all(|(i, e)| e.index as usize == i && e.embedding.len() == 16)
    );
    assert_eq!(r.data[0].embedding, r.data[2].embedding);
    assert_ne!(r.data[0].embedding, r.data[1].embedding);
    let one = CreateEmbeddingRequestArgs::default()
        .model("bge-sim")
        .input("高龄补贴")
        .dimensions(8u32)
        .build()
        .expect("req");
    let r1 = c.embeddings().create(one).await.expect("embeddings");
    assert_eq!(r1.data[0].embedding.len(), 8);
    let norm: f32 = r1.data[0].embedding.iter().map(|x| x * x).sum();
    assert!((norm - 1.0).abs() < 1e-4);
    s.shutdown().await;
}

#[tokio::test]
async fn models_lists_the_configured_model() {
    let s = server(Script::default()).await;
    let list = client(&s).models().list().await.expect("models");
    assert_eq!(
        list.data.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["zhiban-sim"]
    );
    let m = client(&s)
        .models()
        .retrieve("zhiban-sim")
        .await
        .expect("model");
    assert_eq!(m.owned_by, "zhiban-llmsim");
    match client(&s).models().retrieve("gpt-unknown").await {
        Err(OpenAIError::ApiError(e)) => assert!(e.message.contains("gpt-unknown")),
        other => panic!("expected a 404 API error, got {other:?}"),
    }
    assert_eq!(s.requests().len(), 3);
    s.shutdown().await;
}

#[tokio::test]
async fn recording_keeps_bodies_in_order_and_hides_the_key() {
    let s = server(script(
        r#"
        [[rules]]
        when = { nth = 2 }
        reply = { status = 500 }
        "#,
    ))
    .await;
    let c = client(&s);
    let q1 = format!("我叫{NAME}，身份证号{ID_NO}，想查社保");
    c.chat()
        .create(request(vec![user(&q1)]))
        .await
        .expect("first");
    c.chat()
        .create(request(vec![user("第二句")]))
        .await
        .expect_err("faulted");
    let emb = CreateEmbeddingRequestArgs::default()
        .model("m")
        .input("第三")
        .build()
        .expect("req");
    c.embeddings().create(emb).await.expect("embeddings");

    let log = s.requests();
    assert_eq!(log.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(
        log.iter()
            .map(|r| (r.method.as_str(), r.path.as_str()))
            .collect::<Vec<_>>(),
        [
            ("POST", "/v1/chat/completions"),
            ("POST", "/v1/chat/completions"),
            ("POST", "/v1/embeddings")
        ]
    );
    // What QA scans for plaintext PII: the full body as sent.
    assert!(log[0].body_text.contains(ID_NO));
    assert_eq!(log[0].body["messages"][0]["content"], q1);
    assert_eq!(
        log[1].rule,
        Some(0),
        "the faulted call is recorded with its rule"
    );
    assert_eq!(log[2].body["input"], "第三");
    for r in &log {
        assert_eq!(
            r.headers.get("authorization").map(String::as_str),
            Some("Bearer [redacted]")
        );
        assert!(r.headers.values().all(|v| !v.contains("sk-sim-secret")));
        assert!(r.received_at_ms > 0);
    }
    assert!(
        log.windows(2)
            .all(|w| w[0].received_at_ms <= w[1].received_at_ms)
    );
    s.clear();
    assert!(s.requests().is_empty());
    c.chat()
        .create(request(vec![user("清空后")]))
        .await
        .expect("after clear");
    assert_eq!(s.requests()[0].seq, 4, "seq keeps counting across clear");
    s.shutdown().await;
}

#[tokio::test]
async fn the_crate_doc_script_drives_a_tool_round() {
    let s = server(Script::load("tests/fixtures/case.toml").expect("fixture")).await;
    let c = client_with(&s, Duration::from_millis(800), Some(Duration::from_secs(5)));
    let q = with_tools(request(vec![user("查一下我的办件进度")]), &["lookup_case"]);
    // Two 503s are retried away by the client; then the garbage-arguments call, once.
    let r = c.chat().create(q.clone()).await.expect("chat");
    let call = &r.choices[0].message.tool_calls.as_ref().expect("calls")[0];
    assert!(serde_json::from_str::<Value>(&call.function.arguments).is_err());
    let r = c.chat().create(q.clone()).await.expect("chat");
    let call = r.choices[0].message.tool_calls.as_ref().expect("calls")[0].clone();
    assert_eq!(call.function.arguments, r#"{"case_no":"SH-2024-0001"}"#);

    let mut messages = q.messages.clone();
    messages.push(
        ChatCompletionRequestAssistantMessageArgs::default()
            .tool_calls(vec![call.clone()])
            .build()
            .expect("assistant")
            .into(),
    );
    messages.push(
        ChatCompletionRequestToolMessageArgs::default()
            .tool_call_id(call.id)
            .content("办理中")
            .build()
            .expect("tool")
            .into(),
    );
    let r = c.chat().create(request(messages)).await.expect("summary");
    assert_eq!(
        r.choices[0].message.content.as_deref(),
        Some("您的件正在办理中。")
    );
    let r = c
        .chat()
        .create(request(vec![user("谢谢")]))
        .await
        .expect("default");
    assert_eq!(r.choices[0].message.content.as_deref(), Some("收到：谢谢"));
    match c.chat().create(request(vec![user("测试超时")])).await {
        Err(OpenAIError::Reqwest(e)) => assert!(e.is_timeout()),
        other => panic!("expected a timeout, got {other:?}"),
    }
    let rules: Vec<_> = s.requests().iter().map(|r| r.rule).collect();
    assert_eq!(
        rules,
        [Some(0), Some(0), Some(1), Some(2), Some(3), None, Some(4)]
    );
    s.shutdown().await;
}

#[tokio::test]
async fn set_script_replaces_rules_and_restarts_counts() {
    let s = server(script(
        "[[rules]]\nwhen = { nth = 1 }\nreply = { text = \"一\" }",
    ))
    .await;
    let c = client(&s);
    let ask = async || c.chat().create(request(vec![user("问")])).await;
    assert_eq!(
        ask().await.expect("1").choices[0]
            .message
            .content
            .as_deref(),
        Some("一")
    );
    assert_eq!(
        ask().await.expect("2").choices[0]
            .message
            .content
            .as_deref(),
        Some("问")
    );
    s.set_script(Script {
        rules: vec![Rule {
            when: zhiban_llmsim::Matcher {
                nth: Some(1),
                ..Default::default()
            },
            reply: Reply::text("新一"),
            times: None,
        }],
        default: None,
    })
    .expect("set");
    assert_eq!(
        ask().await.expect("3").choices[0]
            .message
            .content
            .as_deref(),
        Some("新一")
    );
    let bad = Script {
        rules: vec![Rule {
            reply: Reply {
                hang: true,
                malformed: true,
                ..Reply::default()
            },
            ..Rule::default()
        }],
        default: None,
    };
    assert!(s.set_script(bad).is_err());
    assert_eq!(
        ask().await.expect("4").choices[0]
            .message
            .content
            .as_deref(),
        Some("问"),
        "old script stays"
    );
    s.shutdown().await;
}
