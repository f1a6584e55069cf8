//! The OpenAI-compatible face: `GET /v1/models` (the agents) and `POST /v1/chat/completions`
//! (`model` = agent id), so that MAP or any OpenAI client can talk to an agent.
//!
//! The session holds the transcript, so only the last `user` message of a request is the
//! resident's turn; client `assistant` messages are ignored and a client `system` message is
//! untrusted text, never instructions (it is not passed anywhere). The session is named by
//! `X-Session-Id`; without it a session is created and its id returned in the same header.
//! The `qa` agent keeps no session: each request is one 学习问答 question.

use std::convert::Infallible;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use zhiban_agent_core::{Message, NewSession, QaRequest};

use super::error::ApiError;
use super::{AppState, admit_session, body};
use crate::auth::Principal;

/// `GET /v1/models`: one model per agent the key may use.
#[utoipa::path(get, path = "/v1/models", tag = "OpenAI 兼容", security(("bearer" = [])),
    responses((status = 200, body = super::openapi::ModelList),
              (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody),
              (status = 429, body = super::openapi::ErrorBody)))]
pub async fn models(State(st): State<AppState>, Extension(p): Extension<Principal>) -> Json<Value> {
    let data: Vec<Value> = st
        .engine
        .agents()
        .into_iter()
        .filter(|a| p.allow_agent(&a.id).is_ok())
        .map(|a| json!({"id": a.id, "object": "model", "created": 0, "owned_by": "zhiban", "name": a.name}))
        .collect();
    Json(json!({"object": "list", "data": data}))
}

/// The request fields OpenAI clients send. Sampling and tool fields are accepted and have no
/// effect (the agents' replies are decided by their flows); a field no OpenAI client sends is
/// refused like everywhere else.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(crate) struct ChatBody {
    model: String,
    messages: Vec<ChatMessage>,
    #[serde(default)]
    stream: Option<bool>,
    stream_options: Option<Value>,
    temperature: Option<Value>,
    top_p: Option<Value>,
    n: Option<Value>,
    max_tokens: Option<Value>,
    max_completion_tokens: Option<Value>,
    stop: Option<Value>,
    presence_penalty: Option<Value>,
    frequency_penalty: Option<Value>,
    logit_bias: Option<Value>,
    logprobs: Option<Value>,
    top_logprobs: Option<Value>,
    seed: Option<Value>,
    user: Option<Value>,
    tools: Option<Value>,
    tool_choice: Option<Value>,
    parallel_tool_calls: Option<Value>,
    response_format: Option<Value>,
    metadata: Option<Value>,
    store: Option<Value>,
    service_tier: Option<Value>,
    reasoning_effort: Option<Value>,
    modalities: Option<Value>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct ChatMessage {
    role: String,
    #[serde(default)]
    content: Option<Value>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    tool_calls: Option<Value>,
    #[serde(default)]
    tool_call_id: Option<String>,
    #[serde(default)]
    refusal: Option<Value>,
}

/// The text of a message's content: a string, or the text parts of a part list.
fn content_text(c: &Option<Value>) -> String {
    match c {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// `POST /v1/chat/completions`.
#[utoipa::path(post, path = "/v1/chat/completions", tag = "OpenAI 兼容", security(("bearer" = [])),
    params(("X-Session-Id" = Option<String>, Header, description = "会话 id；缺省时新建会话并在同名响应头中返回")),
    request_body(content = ChatBody, content_type = "application/json"),
    responses((status = 200, description = "stream=false 时为 chat.completion；stream=true 时为 SSE（chat.completion.chunk … [DONE]）",
               content(
                   (super::openapi::ChatCompletion = "application/json"),
                   (String = "text/event-stream")
               )),
              (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody),
              (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody),
              (status = 409, body = super::openapi::ErrorBody), (status = 413, body = super::openapi::ErrorBody),
              (status = 422, body = super::openapi::ErrorBody), (status = 429, body = super::openapi::ErrorBody),
              (status = 503, body = super::openapi::ErrorBody)))]
///
/// # Errors
/// 422 for a request without a user message, 404 for an unknown model or session, 409 for an
/// ended session or a session of another agent, as the session endpoints.
pub async fn chat_completions(
    State(st): State<AppState>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: ChatBody = body::parse(&body)?;
    let agent = b.model.trim().to_string();
    p.allow_agent(&agent)?;
    if !st.engine.agents().iter().any(|a| a.id == agent) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_agent",
            format!(
                "没有这个智能体：{}",
                agent.chars().take(64).collect::<String>()
            ),
        ));
    }
    let Some(last_user) = b.messages.iter().rev().find(|m| m.role == "user") else {
        return Err(bad("no_user_message", "messages 中没有 user 消息"));
    };
    let text = content_text(&last_user.content);
    if text.chars().count() > 4000 {
        return Err(bad("text_too_long", "消息不能超过 4000 字"));
    }
    let stream = b.stream.unwrap_or(false);

    let (reply, session_id) = if agent == zhiban_agent_core::engine::QA_AGENT {
        if text.trim().is_empty() {
            return Err(bad("no_user_message", "问题不能为空"));
        }
        let Some(qa) = st.engine.qa() else {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "no_snapshot",
                "知识库尚未加载",
            ));
        };
        let req = QaRequest {
            question: text,
            as_of: None,
            k: None,
        };
        let a = qa
            .answer(&req, st.engine.today())
            .await
            .map_err(|e| match e {
                zhiban_agent_core::qa::QaError::BadQuestion(m) => bad("invalid_question", m),
                e => ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "retrieval_failed",
                    e.to_string(),
                ),
            })?;
        (with_sources(&a), None)
    } else {
        let id = match headers
            .get("x-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            Some(id) => {
                admit_session(&st, &p, id, true).await?;
                let (owner_agent, _) = st.engine.owner(id).await?;
                if owner_agent != agent {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "model_mismatch",
                        format!("会话属于智能体 {owner_agent}，与 model 不一致"),
                    ));
                }
                id.to_string()
            }
            None => {
                let v = st
                    .engine
                    .create(
                        &agent,
                        NewSession {
                            channel: Some("chat".into()),
                            client: Some(p.client.clone()),
                            ..NewSession::default()
                        },
                    )
                    .await?;
                st.metrics.session_started(&agent);
                v.session_id
            }
        };
        let view = st
            .engine
            .message(
                &id,
                Message {
                    text,
                    attachments: Vec::new(),
                },
            )
            .await?;
        st.metrics.turn(&view);
        (view.reply, Some(id))
    };

    let created = chrono::Utc::now().timestamp();
    let cid = format!("chatcmpl-{}", uuid::Uuid::new_v4().simple());
    let mut resp = if stream {
        let mut events: Vec<Result<Event, Infallible>> = Vec::new();
        let chunk = |delta: Value, finish: Value| {
            json!({
                "id": cid, "object": "chat.completion.chunk", "created": created,
                "model": agent,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
            })
            .to_string()
        };
        events.push(Ok(Event::default().data(chunk(
            json!({"role": "assistant", "content": ""}),
            Value::Null,
        ))));
        let chars: Vec<char> = reply.chars().collect();
        for piece in chars.chunks(24) {
            let s: String = piece.iter().collect();
            events.push(Ok(
                Event::default().data(chunk(json!({"content": s}), Value::Null))
            ));
        }
        events.push(Ok(Event::default().data(chunk(json!({}), json!("stop")))));
        events.push(Ok(Event::default().data("[DONE]")));
        Sse::new(futures_util::stream::iter(events)).into_response()
    } else {
        let completion_tokens = reply.chars().count();
        Json(json!({
            "id": cid,
            "object": "chat.completion",
            "created": created,
            "model": agent,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": reply},
                "finish_reason": "stop"
            }],
            "usage": {
                "prompt_tokens": 0,
                "completion_tokens": completion_tokens,
                "total_tokens": completion_tokens
            }
        }))
        .into_response()
    };
    if let Some(id) = session_id
        && let Ok(v) = HeaderValue::from_str(&id)
    {
        resp.headers_mut().insert("x-session-id", v);
    }
    Ok(resp)
}

/// A 学习问答 answer as chat text: the answer, its warnings, then its sources.
fn with_sources(a: &zhiban_agent_core::qa::QaAnswer) -> String {
    let mut out = a.answer.clone();
    for w in &a.warnings {
        out.push_str("\n\n⚠ ");
        out.push_str(w);
    }
    if !a.citations.is_empty() {
        out.push_str("\n\n依据：");
        for c in &a.citations {
            out.push_str("\n- ");
            out.push_str(&c.title);
            if let Some(n) = &c.doc_number {
                out.push_str(&format!("（{n}）"));
            }
            if let Some(art) = &c.article {
                out.push(' ');
                out.push_str(art);
            }
            out.push_str(&format!("〔{}〕", c.status));
        }
    }
    out
}
