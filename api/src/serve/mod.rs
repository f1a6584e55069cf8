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

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
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

/// Largest JSON body.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The engine.
    pub engine: Arc<Engine>,
    /// Base URL of the case system, for readiness.
    pub casesim_url: Option<String>,
}

/// The router of the agent service.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/livez", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .route("/v1/agents", get(agents))
        .route("/v1/agents/{agent}/sessions", post(create_session))
        .route("/v1/sessions/{id}", get(get_session).delete(delete_session))
        .route("/v1/sessions/{id}/messages", post(post_message))
        .route("/v1/sessions/{id}/tools/{tool}", post(session_tool))
        .route("/v1/qa", post(qa))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "没有这个接口")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            Duration::from_secs(60),
        ))
        .with_state(state)
}

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

async fn agents(State(st): State<AppState>) -> Json<Value> {
    Json(json!({"agents": st.engine.agents()}))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    as_of: Option<NaiveDate>,
    channel: Option<String>,
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    applicant: Option<ApplicantIn>,
    operator: Option<Value>,
}

async fn create_session(
    State(st): State<AppState>,
    Path(agent): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: CreateBody = body::parse(&body)?;
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
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn get_session(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(st.engine.get(&id).await?).into_response())
}

async fn delete_session(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(st.engine.cancel(&id).await?).into_response())
}

#[derive(Debug, Deserialize)]
struct AttachmentBody {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(default)]
    filename: String,
    #[serde(default)]
    mime: String,
    content_base64: String,
}

#[derive(Debug, Deserialize)]
struct MessageBody {
    #[serde(default)]
    text: String,
    #[serde(default)]
    attachments: Vec<AttachmentBody>,
}

async fn post_message(
    State(st): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: MessageBody = body::parse(&body)?;
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

#[derive(Debug, Deserialize)]
struct ToolBody {
    #[serde(default)]
    args: Value,
}

async fn session_tool(
    State(st): State<AppState>,
    Path((id, tool)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: ToolBody = body::parse(&body)?;
    let args = if b.args.is_null() { json!({}) } else { b.args };
    match st.engine.session_tool(&id, &tool, args).await {
        Ok((tool, result)) => Ok(Json(json!({"tool": tool, "ok": true, "result": result})).into_response()),
        Err(zhiban_agent_core::EngineError::Tools(message)) => Ok((
            StatusCode::OK,
            Json(json!({"tool": tool, "ok": false, "result": null, "error": {"code": "tool_failed", "message": message}})),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

async fn qa(State(st): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let req: QaRequest = body::parse(&body)?;
    let Some(agent) = st.engine.qa() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_snapshot",
            "知识库尚未加载",
        ));
    };
    match agent.answer(&req, st.engine.today()).await {
        Ok(a) => Ok(Json(a).into_response()),
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
