//! `GET /v1/tools`, `POST /v1/tools/{id}` and `POST /v1/sessions/{id}/tools/{tool}`: the
//! case-system tools for MAP (申请人核实 and the wrapped line interfaces), inside a session,
//! PII in and out only as that session's tokens (plaintext in arguments is tokenised on
//! arrival; results carry tokens only).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::ApiError;
use super::{AppState, ToolBody, admit_session, body};
use crate::auth::Principal;

/// The contract's tool listing entry.
pub fn describe(spec: &zhiban_tools::ToolSpec) -> Value {
    json!({
        "id": spec.id,
        "name": spec.name,
        "description": spec.description,
        "args_schema": spec.args_schema,
        "result_schema": spec.result_schema,
    })
}

/// `GET /v1/tools`: the tools this key may call.
#[utoipa::path(get, path = "/v1/tools", tag = "工具", security(("bearer" = [])),
    responses((status = 200, body = super::openapi::ToolList),
              (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody),
              (status = 429, body = super::openapi::ErrorBody)))]
pub async fn list(State(st): State<AppState>, Extension(p): Extension<Principal>) -> Json<Value> {
    let tools: Vec<Value> = st
        .engine
        .tools()
        .registry()
        .iter()
        .filter(|t| p.allow_tool(t.id).is_ok())
        .map(describe)
        .collect();
    Json(json!({"tools": tools}))
}

/// The session named by `X-Session-Id`.
///
/// # Errors
/// 400 `session_required` when the header is missing or empty.
pub fn session_header(headers: &HeaderMap) -> Result<String, ApiError> {
    headers
        .get("x-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "session_required",
                "工具调用须在会话内进行：请用 X-Session-Id 指明会话",
            )
        })
}

/// `POST /v1/tools/{id}` in the session named by `X-Session-Id`.
#[utoipa::path(post, path = "/v1/tools/{id}", tag = "工具", security(("bearer" = [])),
    params(("id" = String, Path, description = "工具注册 id 或中文名"),
           ("X-Session-Id" = String, Header, description = "调用所在的会话")),
    request_body(content = super::ToolBody, content_type = "application/json"),
    responses((status = 200, body = super::openapi::ToolResult),
              (status = 400, body = super::openapi::ErrorBody), (status = 401, body = super::openapi::ErrorBody),
              (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody),
              (status = 409, body = super::openapi::ErrorBody), (status = 413, body = super::openapi::ErrorBody),
              (status = 422, body = super::openapi::ErrorBody), (status = 429, body = super::openapi::ErrorBody),
              (status = 503, body = super::openapi::ErrorBody)))]
///
/// # Errors
/// As [`run_in_session`].
pub async fn call(
    State(st): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(tool): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: ToolBody = body::parse(&body)?;
    let session = session_header(&headers)?;
    run_in_session(&st, &p, &session, &tool, b.args).await
}

/// Calls `tool` (registry id or Chinese name) in `session` for `p`: the key's tool scope, the
/// session's owner and agent scope are checked first; a token that does not open in this
/// session is one uniform 403 and nothing reaches the line side.
///
/// # Errors
/// 404 for an unknown tool or session, 403 for scope or token, 422 for bad arguments.
pub async fn run_in_session(
    st: &AppState,
    p: &Principal,
    session: &str,
    tool: &str,
    args: Value,
) -> Result<Response, ApiError> {
    Ok(Json(invoke(st, p, session, tool, args).await?).into_response())
}

/// As [`run_in_session`], returning the contract's `{"tool", "ok", "result"}` body (with
/// `error` when the line side failed: `ok` is false, the status stays 200).
///
/// # Errors
/// As [`run_in_session`].
pub async fn invoke(
    st: &AppState,
    p: &Principal,
    session: &str,
    tool: &str,
    args: Value,
) -> Result<Value, ApiError> {
    let Some(spec) = st.engine.tools().registry().get(tool) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_tool",
            format!(
                "没有这个工具：{}",
                tool.chars().take(64).collect::<String>()
            ),
        ));
    };
    let id = spec.id;
    p.allow_tool(id)?;
    admit_session(st, p, session, true).await?;
    let args = if args.is_null() { json!({}) } else { args };
    match st.engine.session_tool(session, id, args).await {
        Ok((tool, result)) => Ok(json!({"tool": tool, "ok": true, "result": result})),
        Err(zhiban_agent_core::EngineError::Tools(message)) => Ok(json!({
            "tool": id, "ok": false, "result": null,
            "error": {"code": "tool_failed", "message": message}
        })),
        Err(e) => Err(e.into()),
    }
}
