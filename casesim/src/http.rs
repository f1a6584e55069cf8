//! The axum surface: `POST /rest/{op}`, `POST /soap`, `GET|DELETE /_requests`, `PUT /_faults`, `GET /_health`,
//! `GET /_rules`.

use crate::faults::{FaultSpec, LoggedError, RequestLog, RequestRecord};
use crate::ops::{OPERATIONS, OpError, Ops, fingerprint};
use crate::rules::RULES;
use crate::soap;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

/// Header that carries a per-request fault spec.
pub const FAULT_HEADER: &str = "x-casesim-fault";
/// Header that carries the idempotency key of a submit.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// Shared state of the service.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Operations.
    pub ops: Arc<Ops>,
    /// Request log.
    pub log: Arc<RequestLog>,
    /// Fault spec from configuration or `PUT /_faults` (used when a request carries none).
    pub default_fault: Arc<std::sync::RwLock<Option<(String, FaultSpec)>>>,
    /// Start instant for `at_ms`.
    pub started: Instant,
    /// Request-signature key and replay guard, when signatures are required.
    pub signing: Option<Arc<(Vec<u8>, zhiban_pii::ReplayGuard)>>,
}

fn now_at(st: &AppState) -> String {
    let now = chrono::Local::now();
    format!("{}T{}", st.ops.today, now.format("%H:%M:%S%.3f%:z"))
}

fn logged(e: &OpError) -> LoggedError {
    LoggedError {
        code: e.code.to_string(),
        message: e.message.clone(),
    }
}

/// (ok, result, error, replayed) of an operation's outcome, for the log.
fn answer_fields(r: &Result<Value, OpError>) -> (bool, Option<Value>, Option<LoggedError>, bool) {
    match r {
        Ok(v) => (
            true,
            Some(v.clone()),
            None,
            v.get("replayed") == Some(&Value::Bool(true)),
        ),
        Err(e) => (false, None, Some(logged(e)), false),
    }
}

/// The arguments of a request refused before it was decoded, decoded anyway for the log.
fn parse_args(transport: &str, body: &[u8]) -> Value {
    let raw = String::from_utf8_lossy(body);
    let v = if transport == "soap" {
        soap::body_element(&raw).ok().map(|el| soap::to_json(&el))
    } else {
        serde_json::from_str(&raw).ok()
    };
    v.filter(Value::is_object).unwrap_or_else(|| json!({}))
}

fn log_rejected(
    st: &AppState,
    transport: &'static str,
    op: &str,
    headers: &HeaderMap,
    body: &[u8],
    e: &OpError,
) {
    st.log.push(RequestRecord {
        seq: 0,
        at: now_at(st),
        args: parse_args(transport, body),
        ok: false,
        result: None,
        error: Some(logged(e)),
        replayed: false,
        at_ms: st.started.elapsed().as_millis() as u64,
        transport,
        operation: op.to_string(),
        idempotency_key: header_str(headers, IDEMPOTENCY_HEADER).map(str::to_string),
        fault: None,
        body: String::from_utf8_lossy(body).into_owned(),
        status: 401,
        outcome: "rejected",
        duplicate_delivery: false,
    });
}

/// Check the HMAC-SM3 signature of a request when the service requires one.
fn check_signature(
    st: &AppState,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), OpError> {
    let Some(s) = &st.signing else { return Ok(()) };
    let bad = || OpError {
        code: "SIGNATURE_INVALID",
        message: "请求签名校验失败，请检查签名密钥和系统时间".into(),
        client: true,
    };
    let ts = header_str(headers, zhiban_pii::signing::HEADER_TIMESTAMP)
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or_else(bad)?;
    let nonce = header_str(headers, zhiban_pii::signing::HEADER_NONCE).ok_or_else(bad)?;
    let signature = header_str(headers, zhiban_pii::signing::HEADER_SIGNATURE).ok_or_else(bad)?;
    let sig = zhiban_pii::RequestSignature {
        timestamp: ts,
        nonce: nonce.to_string(),
        signature: signature.to_string(),
    };
    zhiban_pii::verify_request(&s.1, &s.0, "POST", path, &sig, body).map_err(|_| bad())
}

/// The router over `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/rest/{op}", post(rest))
        .route("/soap", post(soap_handler))
        .route("/_requests", get(list_requests).delete(clear_requests))
        .route("/_faults", axum::routing::put(put_faults))
        .route("/_health", get(|| async { Json(json!({"ok": true})) }))
        .route("/_rules", get(|| async { Json(json!({"rules": RULES})) }))
        .with_state(state)
}

enum Outcome {
    Ok(Value),
    Op(OpError),
    Fault(StatusCode, &'static str),
}

fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

async fn handle(
    st: &AppState,
    transport: &'static str,
    op: &str,
    args: Result<Value, OpError>,
    headers: &HeaderMap,
    raw: &str,
) -> Outcome {
    let key = header_str(headers, IDEMPOTENCY_HEADER).map(str::to_string);
    let fault = match header_str(headers, FAULT_HEADER) {
        Some(h) => match FaultSpec::parse(h) {
            Ok(f) => Some((h.to_string(), f)),
            Err(e) => {
                return Outcome::Op(OpError {
                    code: "INVALID_FAULT",
                    message: e.to_string(),
                    client: true,
                });
            }
        },
        None => st
            .default_fault
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone(),
    };
    let draw_key = key
        .clone()
        .unwrap_or_else(|| format!("{op}:{}", fingerprint(raw)));
    let nth = st.log.delivery(&draw_key);
    let at = now_at(st);
    let logged_args = args.as_ref().ok().cloned().unwrap_or_else(|| json!({}));
    let record =
        |status: u16, outcome: &'static str, dup: bool, answer: &Result<Value, OpError>| {
            let (ok, result, error, replayed) = answer_fields(answer);
            RequestRecord {
                seq: 0,
                at: at.clone(),
                args: logged_args.clone(),
                ok,
                result,
                error,
                replayed,
                at_ms: st.started.elapsed().as_millis() as u64,
                transport,
                operation: op.to_string(),
                idempotency_key: key.clone(),
                fault: fault.as_ref().map(|f| f.0.clone()),
                body: raw.to_string(),
                status,
                outcome,
                duplicate_delivery: dup,
            }
        };
    let fault_err = |code: &'static str, message: &str| -> Result<Value, OpError> {
        Err(OpError {
            code,
            message: message.to_string(),
            client: false,
        })
    };
    let spec = fault.as_ref().map(|f| f.1.clone()).unwrap_or_default();
    if let Some(l) = spec.latency {
        tokio::time::sleep(l).await;
    }
    if spec.fires("error", spec.error, &draw_key, nth) {
        let msg = "业务系统繁忙（模拟故障）";
        st.log.push(record(
            503,
            "error",
            false,
            &fault_err("FAULT_INJECTED", msg),
        ));
        return Outcome::Fault(StatusCode::SERVICE_UNAVAILABLE, msg);
    }
    let args = match args {
        Ok(a) => a,
        Err(e) => {
            st.log.push(record(400, "none", false, &Err(e.clone())));
            return Outcome::Op(e);
        }
    };
    let echo = spec.fires("echo", spec.echo, &draw_key, nth);
    let echo_client = !echo && spec.fires("echo_client", spec.echo_client, &draw_key, nth);
    if echo || echo_client {
        let e = OpError {
            code: "FAULT_ECHO",
            message: echo_message(&args),
            client: echo_client,
        };
        let answer = Err(e.clone());
        st.log.push(record(
            if echo_client { 422 } else { 500 },
            "echo",
            false,
            &answer,
        ));
        return Outcome::Op(e);
    }
    let first = call_detached(st, op, &args, key.as_deref()).await;
    let status = match &first {
        Ok(_) => 200,
        Err(e) if e.client => 422,
        Err(_) => 500,
    };
    let lost = spec.fires("lost", spec.lost, &draw_key, nth);
    let timeout = !lost && spec.fires("timeout", spec.timeout, &draw_key, nth);
    let outcome = if lost {
        "lost"
    } else if timeout {
        "timeout"
    } else {
        "none"
    };
    st.log.push(record(
        if lost { 502 } else { status },
        outcome,
        false,
        &first,
    ));
    if spec.fires("duplicate", spec.duplicate, &draw_key, nth) {
        // The gateway delivers the same request again; whatever it yields is not what the caller sees.
        let second = call_detached(st, op, &args, key.as_deref()).await;
        let s2 = match &second {
            Ok(_) => 200,
            Err(e) if e.client => 422,
            Err(_) => 500,
        };
        st.log.push(record(s2, "none", true, &second));
    }
    if lost {
        return Outcome::Fault(
            StatusCode::BAD_GATEWAY,
            "网关未收到业务系统应答（模拟故障）",
        );
    }
    if timeout {
        tokio::time::sleep(spec.hang).await;
    }
    match first {
        Ok(v) => Outcome::Ok(v),
        Err(e) => Outcome::Op(e),
    }
}

/// Runs one operation to completion on its own task. A caller that gives up (client timeout,
/// closed connection) drops the handler's future; a query cancelled half-way costs the pool its
/// one connection, and the in-memory database lives exactly as long as that connection. A real
/// line system also finishes what it has accepted whether or not anyone waits for the answer.
async fn call_detached(
    st: &AppState,
    op: &str,
    args: &Value,
    key: Option<&str>,
) -> Result<Value, OpError> {
    let ops = Arc::clone(&st.ops);
    let (op, args, key) = (op.to_string(), args.clone(), key.map(str::to_string));
    match tokio::spawn(async move { ops.call(&op, &args, key.as_deref()).await }).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "casesim operation task failed");
            Err(OpError {
                code: "INTERNAL",
                message: "业务系统内部错误，请稍后再试".into(),
                client: false,
            })
        }
    }
}

/// What a careless line system says when it fails: the applicant's plaintext, and the raw request.
fn echo_message(args: &Value) -> String {
    let field = |k: &str| args.get(k).and_then(Value::as_str).unwrap_or("");
    format!(
        "处理申请人{}（证件号码{}，联系电话{}）的请求时出错（模拟故障）；请求报文：{}",
        field("name"),
        field("id_number"),
        field("mobile"),
        args
    )
}

async fn rest(
    State(st): State<AppState>,
    Path(op): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(e) = check_signature(&st, &format!("/rest/{op}"), &headers, &body) {
        log_rejected(&st, "rest", &op, &headers, &body, &e);
        let body = json!({"ok": false, "error": {"code": e.code, "message": e.message}});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    let raw = String::from_utf8_lossy(&body).into_owned();
    let args = serde_json::from_str::<Value>(&raw).map_err(|e| OpError {
        code: "INVALID_JSON",
        message: format!("请求报文不是合法的 JSON：{e}"),
        client: true,
    });
    if !OPERATIONS.contains(&op.as_str()) {
        let body = json!({"ok": false, "error": {"code": "UNKNOWN_OPERATION", "message": format!("不支持的接口：{op}")}});
        return (StatusCode::NOT_FOUND, Json(body)).into_response();
    }
    match handle(&st, "rest", &op, args, &headers, &raw).await {
        Outcome::Ok(v) => Json(json!({"ok": true, "result": v})).into_response(),
        Outcome::Op(e) => {
            let code = if e.client {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            (
                code,
                Json(json!({"ok": false, "error": {"code": e.code, "message": e.message}})),
            )
                .into_response()
        }
        Outcome::Fault(code, msg) => (
            code,
            Json(json!({"ok": false, "error": {"code": "FAULT_INJECTED", "message": msg}})),
        )
            .into_response(),
    }
}

fn xml(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    r
}

async fn soap_handler(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(e) = check_signature(&st, "/soap", &headers, &body) {
        let op = header_str(&headers, "soapaction")
            .map(soap::action_operation)
            .unwrap_or("")
            .to_string();
        log_rejected(&st, "soap", &op, &headers, &body, &e);
        return xml(
            StatusCode::UNAUTHORIZED,
            soap::fault_envelope(true, e.code, &e.message),
        );
    }
    let raw = String::from_utf8_lossy(&body).into_owned();
    let parsed = soap::body_element(&raw);
    let action = header_str(&headers, "soapaction")
        .map(soap::action_operation)
        .map(str::to_string);
    // The SOAPAction names the operation; fall back to the body element when it is empty.
    let op = match (&action, &parsed) {
        (Some(a), _) if !a.is_empty() => a.clone(),
        (_, Ok(el)) => el.name.clone(),
        (_, Err(e)) => {
            return xml(
                StatusCode::INTERNAL_SERVER_ERROR,
                soap::fault_envelope(true, "INVALID_XML", &e.to_string()),
            );
        }
    };
    if !OPERATIONS.contains(&op.as_str()) {
        return xml(
            StatusCode::INTERNAL_SERVER_ERROR,
            soap::fault_envelope(true, "UNKNOWN_OPERATION", &format!("不支持的接口：{op}")),
        );
    }
    let args = match parsed {
        Ok(el) if el.name == op => Ok(soap::to_json(&el)),
        Ok(el) => Err(OpError {
            code: "ACTION_MISMATCH",
            message: format!("SOAPAction（{op}）与报文操作（{}）不一致", el.name),
            client: true,
        }),
        Err(e) => Err(OpError {
            code: "INVALID_XML",
            message: e.to_string(),
            client: true,
        }),
    };
    // An operation with no arguments decodes as "" — treat it as an empty object.
    let args = args.map(|v| if v.is_object() { v } else { json!({}) });
    match handle(&st, "soap", &op, args, &headers, &raw).await {
        Outcome::Ok(v) => xml(StatusCode::OK, soap::response_envelope(&op, &v)),
        Outcome::Op(e) => xml(
            StatusCode::INTERNAL_SERVER_ERROR,
            soap::fault_envelope(e.client, e.code, &e.message),
        ),
        Outcome::Fault(code, msg) => xml(code, soap::fault_envelope(false, "FAULT_INJECTED", msg)),
    }
}

#[derive(Debug, Deserialize)]
struct RequestFilter {
    operation: Option<String>,
    since: Option<u64>,
}

async fn list_requests(State(st): State<AppState>, Query(f): Query<RequestFilter>) -> Json<Value> {
    let recs: Vec<RequestRecord> = st
        .log
        .all()
        .into_iter()
        .filter(|r| f.operation.as_ref().is_none_or(|o| &r.operation == o))
        .filter(|r| f.since.is_none_or(|s| r.seq > s))
        .collect();
    Json(json!({"total": recs.len(), "requests": recs}))
}

async fn clear_requests(State(st): State<AppState>) -> StatusCode {
    st.log.clear();
    StatusCode::NO_CONTENT
}

/// Replace the default fault spec (`""` clears it).
///
/// # Errors
/// [`crate::Error::InvalidFault`] for a bad spec; the old spec stays.
pub fn set_faults(st: &AppState, spec: Option<&str>) -> crate::Result<()> {
    let parsed = match spec.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some((s.to_string(), FaultSpec::parse(s)?)),
        None => None,
    };
    *st.default_fault.write().unwrap_or_else(|p| p.into_inner()) = parsed;
    Ok(())
}

async fn put_faults(State(st): State<AppState>, body: String) -> Response {
    match set_faults(&st, Some(&body)) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(
                json!({"ok": false, "error": {"code": "INVALID_FAULT", "message": e.to_string()}}),
            ),
        )
            .into_response(),
    }
}
