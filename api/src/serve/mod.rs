//! `zhiban serve`: the agent service MAP, clerks' pages and QA call (contract: "The agent
//! service").
//!
//! Handlers are thin: they parse the body into the contract's shapes, call the
//! [`zhiban_agent_core::Engine`], and map its errors ([`error`]). State is one `Arc<Engine>` in
//! axum's state; no globals. The engine writes each session before the reply leaves, so a
//! request cancelled before that point leaves the session as it was.

pub mod body;
pub mod error;
pub mod launch;
pub mod mcp;
pub mod metrics;
pub mod openai;
pub mod openapi;
pub mod page;
pub mod tls;
pub mod tools;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};
use zhiban_agent_core::materials::Attachment;
use zhiban_agent_core::{ApplicantIn, Engine, Message, NewSession, QaRequest};

use error::ApiError;

use crate::auth::{Auth, GuardState, Principal};

/// Largest JSON body.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The engine.
    pub engine: Arc<Engine>,
    /// Base URL of the case system, for readiness.
    pub casesim_url: Option<String>,
    /// Keys, roles, limits.
    pub auth: Arc<Auth>,
    /// Prometheus registry.
    pub metrics: Arc<metrics::Metrics>,
}

/// The router of the agent service.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/v1/agents", get(agents))
        .route("/v1/agents/{agent}/sessions", post(create_session))
        .route("/v1/sessions/{id}", get(get_session).delete(delete_session))
        .route("/v1/sessions/{id}/messages", post(post_message))
        .route("/v1/sessions/{id}/tools/{tool}", post(session_tool))
        .route("/v1/qa", post(qa))
        .route("/v1/tools", get(tools::list))
        .route("/v1/tools/{id}", post(tools::call))
        .route("/v1/models", get(openai::models))
        .route("/v1/chat/completions", post(openai::chat_completions))
        .route("/metrics", get(metrics::scrape))
        .route("/openapi.json", get(openapi::json))
        .route("/docs", get(openapi::docs))
        .route_service("/mcp", mcp::service(state.clone()))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "没有这个接口")
        })
        .layer(axum::middleware::from_fn_with_state(
            GuardState {
                auth: state.auth.clone(),
                audit: state.engine.tools().audit_arc(),
            },
            crate::auth::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            Duration::from_secs(60),
        ))
        .with_state(state)
}

/// CORS for exactly `origins` (the methods and headers MAP's browser clients use).
///
/// # Errors
/// A Chinese message naming an origin that is not a valid header value.
pub fn cors(origins: &[String]) -> anyhow::Result<tower_http::cors::CorsLayer> {
    use axum::http::{HeaderName, HeaderValue, Method};
    let mut list = Vec::with_capacity(origins.len());
    for o in origins {
        let o = o.trim().trim_end_matches('/');
        if !(o.starts_with("http://") || o.starts_with("https://")) {
            anyhow::bail!("[server] cors_origins 中的 {o} 应以 http:// 或 https:// 开头");
        }
        list.push(
            HeaderValue::from_str(o)
                .map_err(|_| anyhow::anyhow!("[server] cors_origins 中的 {o} 不是有效的来源"))?,
        );
    }
    Ok(tower_http::cors::CorsLayer::new()
        .allow_origin(list)
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("x-session-id"),
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("x-zhiban-timestamp"),
            HeaderName::from_static("x-zhiban-nonce"),
            HeaderName::from_static("x-zhiban-signature"),
        ])
        .expose_headers([
            HeaderName::from_static("x-session-id"),
            HeaderName::from_static("x-request-id"),
            header::RETRY_AFTER,
        ])
        .max_age(std::time::Duration::from_secs(600)))
}

#[utoipa::path(get, path = "/livez", tag = "运维",
    responses((status = 200, description = "进程存活", body = openapi::Live)))]
async fn livez() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

#[utoipa::path(get, path = "/readyz", tag = "运维",
    responses((status = 200, description = "快照、会话库、受理系统均就绪", body = openapi::Ready),
              (status = 503, description = "尚未就绪", body = openapi::Ready)))]
async fn readyz(State(st): State<AppState>) -> Response {
    let store = st.engine.store().ping().await.is_ok();
    let snapshot = st.engine.qa().is_some();
    let casesim = match &st.casesim_url {
        Some(url) => {
            let client = reqwest::Client::new();
            client
                .get(format!("{}/_health", url.trim_end_matches('/')))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
        None => true,
    };
    let ok = store && snapshot && casesim;
    let body =
        json!({"ready": ok, "snapshot": snapshot, "sessions": store, "case_system": casesim});
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

#[utoipa::path(get, path = "/v1/agents", tag = "智能体", security(("bearer" = [])),
    responses((status = 200, body = openapi::AgentList), (status = 401, body = openapi::ErrorBody),
              (status = 403, body = openapi::ErrorBody), (status = 429, body = openapi::ErrorBody)))]
async fn agents(State(st): State<AppState>) -> Json<Value> {
    Json(json!({"agents": st.engine.agents()}))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    as_of: Option<NaiveDate>,
    channel: Option<String>,
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Metadata {
    applicant: Option<ApplicantIn>,
    operator: Option<Value>,
}

#[utoipa::path(post, path = "/v1/agents/{agent}/sessions", tag = "会话", security(("bearer" = [])),
    params(("agent" = String, Path, description = "智能体 id")),
    request_body(content = CreateBody, content_type = "application/json"),
    responses((status = 201, description = "会话已创建", body = zhiban_agent_core::SessionView),
              (status = 400, body = openapi::ErrorBody), (status = 401, body = openapi::ErrorBody),
              (status = 403, body = openapi::ErrorBody), (status = 404, body = openapi::ErrorBody),
              (status = 413, body = openapi::ErrorBody), (status = 422, body = openapi::ErrorBody),
              (status = 429, body = openapi::ErrorBody), (status = 503, body = openapi::ErrorBody)))]
async fn create_session(
    State(st): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(agent): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: CreateBody = body::parse(&body)?;
    p.allow_agent(&agent)?;
    let (applicant, operator) = match b.metadata {
        Some(m) => (m.applicant, m.operator),
        None => (None, None),
    };
    let view = st
        .engine
        .create(
            &agent,
            NewSession {
                as_of: b.as_of,
                channel: b.channel,
                applicant,
                operator,
                client: Some(p.client.clone()),
            },
        )
        .await?;
    st.metrics.session_started(&view.agent);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// The edge's check before a session is read or changed: the key's agent scope and the
/// session's owner.
pub(crate) async fn admit_session(
    st: &AppState,
    p: &Principal,
    id: &str,
    write: bool,
) -> Result<(), ApiError> {
    let (agent, owner) = st.engine.owner(id).await?;
    p.allow_session(owner.as_deref(), write)?;
    p.allow_agent(&agent)
}

#[utoipa::path(get, path = "/v1/sessions/{id}", tag = "会话", security(("bearer" = [])),
    params(("id" = String, Path, description = "会话 id")),
    responses((status = 200, body = zhiban_agent_core::SessionView),
              (status = 401, body = openapi::ErrorBody), (status = 403, body = openapi::ErrorBody),
              (status = 404, body = openapi::ErrorBody), (status = 429, body = openapi::ErrorBody),
              (status = 503, body = openapi::ErrorBody)))]
async fn get_session(
    State(st): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admit_session(&st, &p, &id, false).await?;
    Ok(Json(st.engine.get(&id).await?).into_response())
}

#[utoipa::path(delete, path = "/v1/sessions/{id}", tag = "会话", security(("bearer" = [])),
    params(("id" = String, Path, description = "会话 id")),
    responses((status = 200, description = "状态变为 cancelled", body = zhiban_agent_core::SessionView),
              (status = 401, body = openapi::ErrorBody), (status = 403, body = openapi::ErrorBody),
              (status = 404, body = openapi::ErrorBody), (status = 409, body = openapi::ErrorBody),
              (status = 429, body = openapi::ErrorBody), (status = 503, body = openapi::ErrorBody)))]
async fn delete_session(
    State(st): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admit_session(&st, &p, &id, true).await?;
    let view = st.engine.cancel(&id).await?;
    st.metrics.session_ended(&view);
    Ok(Json(view).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct AttachmentBody {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(default)]
    filename: String,
    #[serde(default)]
    mime: String,
    content_base64: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct MessageBody {
    #[serde(default)]
    text: String,
    #[serde(default)]
    attachments: Vec<AttachmentBody>,
}

#[utoipa::path(post, path = "/v1/sessions/{id}/messages", tag = "会话", security(("bearer" = [])),
    params(("id" = String, Path, description = "会话 id")),
    request_body(content = MessageBody, content_type = "application/json"),
    responses((status = 200, description = "会话对象（Accept: text/event-stream 时为 SSE：delta 事件，最后一个 session 事件）",
               body = zhiban_agent_core::SessionView),
              (status = 400, body = openapi::ErrorBody), (status = 401, body = openapi::ErrorBody),
              (status = 403, body = openapi::ErrorBody), (status = 404, body = openapi::ErrorBody),
              (status = 409, body = openapi::ErrorBody), (status = 413, body = openapi::ErrorBody),
              (status = 422, body = openapi::ErrorBody), (status = 429, body = openapi::ErrorBody),
              (status = 503, body = openapi::ErrorBody)))]
async fn post_message(
    State(st): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: MessageBody = body::parse(&body)?;
    admit_session(&st, &p, &id, true).await?;
    let mut attachments = Vec::with_capacity(b.attachments.len());
    for a in &b.attachments {
        attachments.push(Attachment::from_base64(
            &a.reference,
            &a.filename,
            &a.mime,
            &a.content_base64,
        )?);
    }
    let view = st
        .engine
        .message(
            &id,
            Message {
                text: b.text,
                attachments,
            },
        )
        .await?;
    st.metrics.turn(&view);
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    if !wants_stream {
        return Ok(Json(view).into_response());
    }
    // The deterministic path has the whole reply at once; it is still streamed in pieces so
    // that MAP's client code is the same with or without a model.
    let chars: Vec<char> = view.reply.chars().collect();
    let mut events: Vec<Result<Event, std::convert::Infallible>> = chars
        .chunks(24)
        .map(|c| {
            Ok(Event::default()
                .event("delta")
                .data(c.iter().collect::<String>()))
        })
        .collect();
    let session = serde_json::to_string(&view).unwrap_or_else(|_| "{}".into());
    events.push(Ok(Event::default().event("session").data(session)));
    let stream = futures_util::stream::iter(events);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ToolBody {
    #[serde(default)]
    args: Value,
}

#[utoipa::path(post, path = "/v1/sessions/{id}/tools/{tool}", tag = "工具", security(("bearer" = [])),
    params(("id" = String, Path, description = "会话 id"), ("tool" = String, Path, description = "工具注册 id 或中文名")),
    request_body(content = ToolBody, content_type = "application/json"),
    responses((status = 200, body = openapi::ToolResult),
              (status = 400, body = openapi::ErrorBody), (status = 401, body = openapi::ErrorBody),
              (status = 403, body = openapi::ErrorBody), (status = 404, body = openapi::ErrorBody),
              (status = 409, body = openapi::ErrorBody), (status = 413, body = openapi::ErrorBody),
              (status = 422, body = openapi::ErrorBody), (status = 429, body = openapi::ErrorBody),
              (status = 503, body = openapi::ErrorBody)))]
async fn session_tool(
    State(st): State<AppState>,
    Extension(p): Extension<Principal>,
    Path((id, tool)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: ToolBody = body::parse(&body)?;
    tools::run_in_session(&st, &p, &id, &tool, b.args).await
}

#[utoipa::path(post, path = "/v1/qa", tag = "学习问答", security(("bearer" = [])),
    request_body(content = zhiban_agent_core::QaRequest, content_type = "application/json"),
    responses((status = 200, body = zhiban_agent_core::QaAnswer),
              (status = 400, body = openapi::ErrorBody), (status = 401, body = openapi::ErrorBody),
              (status = 403, body = openapi::ErrorBody), (status = 413, body = openapi::ErrorBody),
              (status = 422, body = openapi::ErrorBody), (status = 429, body = openapi::ErrorBody),
              (status = 503, body = openapi::ErrorBody)))]
async fn qa(State(st): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let started = std::time::Instant::now();
    let req: QaRequest = body::parse(&body)?;
    let Some(agent) = st.engine.qa() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_snapshot",
            "知识库尚未加载",
        ));
    };
    match agent.answer(&req, st.engine.today()).await {
        Ok(a) => {
            st.metrics.qa_answered(a.refused, started.elapsed());
            Ok(Json(a).into_response())
        }
        Err(zhiban_agent_core::qa::QaError::BadQuestion(m)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_question",
            m,
        )),
        Err(e) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "retrieval_failed",
            e.to_string(),
        )),
    }
}
