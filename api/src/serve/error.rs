//! The contract's error body, `{"error": {"code", "message"}}`, and the status each engine error
//! maps to: 4xx for anything a client sent (messages in Chinese), 5xx only for our own failures.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use zhiban_agent_core::EngineError;

/// An HTTP error.
#[derive(Debug)]
pub struct ApiError {
    /// Status.
    pub status: StatusCode,
    /// Stable code.
    pub code: &'static str,
    /// Chinese message.
    pub message: String,
    /// An access refusal the audit log must record even though its status is not 401/403/429
    /// (a stranger's session answered as absent).
    pub refusal: bool,
}

/// Marks a response as an access refusal for the guard's audit line.
#[derive(Debug, Clone, Copy)]
pub struct Refusal;

impl ApiError {
    /// A 4xx/5xx error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            refusal: false,
        }
    }

    /// The same error, recorded in the audit log as a refusal.
    pub fn refused(mut self) -> Self {
        self.refusal = true;
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut r = (self.status, Json(body)).into_response();
        if self.refusal {
            r.extensions_mut().insert(Refusal);
        }
        r
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let message = e.to_string();
        let (status, code) = match &e {
            EngineError::UnknownAgent(_) => (StatusCode::NOT_FOUND, "unknown_agent"),
            EngineError::NotFound => (StatusCode::NOT_FOUND, "session_not_found"),
            EngineError::Ended(_) => (StatusCode::CONFLICT, "session_ended"),
            EngineError::BadInput(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
            EngineError::Conflict => (StatusCode::CONFLICT, "session_busy"),
            EngineError::InvalidToken => (StatusCode::FORBIDDEN, "invalid_token"),
            EngineError::Store(_) => (StatusCode::SERVICE_UNAVAILABLE, "session_store_unavailable"),
            EngineError::Tools(_) => (StatusCode::SERVICE_UNAVAILABLE, "tools_unavailable"),
        };
        ApiError::new(status, code, message)
    }
}
