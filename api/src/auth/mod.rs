//! Who may call what: API keys with roles and scopes, optional HMAC-SM3 request signatures with
//! a replay window, per-client rate and concurrency limits, and an audit line for every refusal.
//!
//! The policy is one table ([`need`]) from route to the roles that may use it, applied by one
//! middleware ([`guard`]) before any handler runs; handlers then check the finer scopes (which
//! agents, which tools, whose session) with the [`Principal`] it leaves in the request. With no
//! live key in the keys file the service is in development mode: loopback clients are served
//! as a local operator, and `zhiban serve` refuses a non-loopback address (see
//! [`Auth::check_bind`]).

pub mod keys;
pub mod limit;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Instant, SystemTime};

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use zhiban_pii::signing::{HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use zhiban_pii::{AuditAction, AuditLog, AuditRecord, ReplayGuard, RequestSignature};

pub use keys::{ClientKey, KeysError, KeysFile, NewKey, Role};
use limit::{Limits, Refusal};

use crate::serve::error::{ApiError, Refusal as Refused};

/// `[auth]` settings the service runs with.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// The keys file.
    pub keys_file: PathBuf,
    /// Default requests per minute per client.
    pub rate_per_minute: u32,
    /// Requests in flight per client.
    pub max_concurrent: usize,
    /// Accepted clock skew of signed requests, and how long a nonce is remembered.
    pub signature_window_secs: i64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            keys_file: PathBuf::from("var/keys.json"),
            rate_per_minute: 600,
            max_concurrent: 64,
            signature_window_secs: 300,
        }
    }
}

/// The caller of a request, as the guard established it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Client name (`local` in development mode).
    pub client: String,
    /// Roles.
    pub roles: BTreeSet<Role>,
    /// Agent scope; empty = all.
    pub agents: Vec<String>,
    /// Tool scope; empty = all.
    pub tools: Vec<String>,
}

impl Principal {
    fn local() -> Self {
        Principal {
            client: "local".into(),
            roles: [Role::Admin].into_iter().collect(),
            agents: Vec::new(),
            tools: Vec::new(),
        }
    }

    /// Whether the principal is an operator.
    pub fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Admin)
    }

    /// Whether it has any of `roles` (admins have all).
    pub fn has_any(&self, roles: &[Role]) -> bool {
        self.is_admin() || roles.iter().any(|r| self.roles.contains(r))
    }

    /// 403 unless the key's agent scope covers `agent`.
    ///
    /// # Errors
    /// [`ApiError`] 403 `forbidden_agent`.
    pub fn allow_agent(&self, agent: &str) -> Result<(), ApiError> {
        if self.agents.is_empty() || self.agents.iter().any(|a| a == agent) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden_agent",
                format!("该密钥无权使用智能体 {agent}"),
            ))
        }
    }

    /// 403 unless the key's tool scope covers the tool with registry id `tool`.
    ///
    /// # Errors
    /// [`ApiError`] 403 `forbidden_tool`.
    pub fn allow_tool(&self, tool: &str) -> Result<(), ApiError> {
        if self.tools.is_empty() || self.tools.iter().any(|t| t == tool) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden_tool",
                format!("该密钥无权调用工具 {tool}"),
            ))
        }
    }

    /// 404 unless the session was created by this client or the caller may see others'
    /// sessions: operators always, clerks and QA for reading. A stranger's session is reported
    /// as absent, so that ids cannot be probed.
    ///
    /// # Errors
    /// [`ApiError`] 404 `session_not_found`.
    pub fn allow_session(&self, owner: Option<&str>, write: bool) -> Result<(), ApiError> {
        let own = owner.is_none_or(|o| o == self.client);
        let reader = !write && self.has_any(&[Role::Clerk, Role::Qa]);
        if own || self.is_admin() || reader {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "session_not_found",
                "会话不存在或已过期",
            )
            .refused())
        }
    }
}

/// What a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Nothing (probes, documentation, the clerk page's own files).
    Public,
    /// An operator key, or a loopback client.
    Metrics,
    /// A key with one of these roles (admins pass everywhere).
    Roles(&'static [Role]),
}

const SESSIONS: &[Role] = &[Role::Map, Role::Clerk, Role::Qa];
const MAP: &[Role] = &[Role::Map];
const QA: &[Role] = &[Role::Clerk, Role::Qa];
const ANY: &[Role] = &[Role::Map, Role::Clerk, Role::Qa, Role::Data];

/// The policy: the roles each route (axum's route template) needs.
pub fn need(route: &str) -> Need {
    match route {
        "/livez" | "/readyz" | "/openapi.json" | "/docs" | "/" => Need::Public,
        r if r.starts_with("/static/") => Need::Public,
        "/metrics" => Need::Metrics,
        "/v1/sessions/{id}/tools/{tool}" | "/v1/tools" | "/v1/tools/{id}" => Need::Roles(MAP),
        r if r == "/mcp" || r.starts_with("/mcp/") => Need::Roles(MAP),
        "/v1/chat/completions" | "/v1/models" => Need::Roles(MAP),
        "/v1/qa" => Need::Roles(QA),
        "/v1/agents" => Need::Roles(ANY),
        r if r.starts_with("/v1/agents/") || r.starts_with("/v1/sessions/") => {
            Need::Roles(SESSIONS)
        }
        _ => Need::Roles(ANY),
    }
}

/// Keys, limits and the replay guard of one replica.
#[derive(Debug)]
pub struct Auth {
    cfg: AuthConfig,
    keys: RwLock<Arc<KeysFile>>,
    loaded: RwLock<Option<SystemTime>>,
    limits: Limits,
    replay: ReplayGuard,
}

impl Auth {
    /// Loads the keys file.
    ///
    /// # Errors
    /// [`KeysError`] when it exists but cannot be read.
    pub fn open(cfg: AuthConfig) -> Result<Self, KeysError> {
        let keys = KeysFile::load(&cfg.keys_file)?;
        let mtime = mtime(&cfg.keys_file);
        Ok(Auth {
            replay: ReplayGuard::new(cfg.signature_window_secs),
            cfg,
            keys: RwLock::new(Arc::new(keys)),
            loaded: RwLock::new(mtime),
            limits: Limits::default(),
        })
    }

    /// Whether no live key exists (development mode).
    pub fn development(&self) -> bool {
        !self.keys().has_live()
    }

    /// Refuses to serve a non-loopback address without keys.
    ///
    /// # Errors
    /// A Chinese message naming the keys file.
    pub fn check_bind(&self, addr: SocketAddr) -> Result<(), String> {
        if self.development() && !addr.ip().is_loopback() {
            return Err(format!(
                "未配置任何 API 密钥（{}），开发模式只能监听本机地址；先用 zhiban keys add 发放密钥",
                self.cfg.keys_file.display()
            ));
        }
        Ok(())
    }

    fn keys(&self) -> Arc<KeysFile> {
        match self.keys.read() {
            Ok(k) => k.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Re-reads the keys file when it changed on disk (another replica or `zhiban keys` wrote
    /// it); a file that no longer parses leaves the keys as they were. Blocking file I/O: call
    /// from `spawn_blocking` or a start-up path.
    pub fn reload_if_changed(&self) {
        let now = mtime(&self.cfg.keys_file);
        let before = self.loaded.read().map(|l| *l).unwrap_or(None);
        if now == before {
            return;
        }
        match KeysFile::load(&self.cfg.keys_file) {
            Ok(k) => {
                if let Ok(mut w) = self.keys.write() {
                    *w = Arc::new(k);
                }
                if let Ok(mut l) = self.loaded.write() {
                    *l = now;
                }
                tracing::info!("API 密钥文件已重新加载");
            }
            Err(e) => tracing::warn!("API 密钥文件未能重新加载：{e}"),
        }
    }

    /// Polls the keys file every `every` on the blocking pool.
    pub fn watch(self: &Arc<Self>, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tick.tick().await;
                let m = me.clone();
                let _ = tokio::task::spawn_blocking(move || m.reload_if_changed()).await;
            }
        })
    }
}

fn mtime(p: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// Where the guard writes refusals.
#[derive(Clone)]
pub struct GuardState {
    /// Keys and limits.
    pub auth: Arc<Auth>,
    /// The audit log (refusals are `denied` lines).
    pub audit: Arc<AuditLog>,
}

struct Denial {
    err: ApiError,
    retry_after: Option<u64>,
}

impl From<ApiError> for Denial {
    fn from(err: ApiError) -> Self {
        Denial {
            err,
            retry_after: None,
        }
    }
}

fn unauthorized(code: &'static str, message: &str) -> Denial {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message).into()
}

/// The middleware: establishes the [`Principal`], enforces [`need`], signatures and limits,
/// and audits every refusal with the client (when known) and the route.
pub async fn guard(
    axum::extract::State(st): axum::extract::State<GuardState>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let method = req.method().clone();
    let session = req
        .headers()
        .get("x-session-id")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(64).collect::<String>())
        .unwrap_or_default();
    let loopback = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|c| c.0.ip().is_loopback());
    match admit(&st, &route, loopback, req).await {
        Ok((req, permit, client)) => {
            let mut resp = next.run(req).await;
            drop(permit);
            // axum's own body-limit rejection is plain text; clients get the contract's body.
            if resp.status() == StatusCode::PAYLOAD_TOO_LARGE
                && !resp
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("application/json"))
            {
                resp = ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "请求体超过 16 MB",
                )
                .into_response();
            }
            // Refusals decided by a handler (agent or tool scope, a token of another session,
            // a stranger's session) are audited here too.
            let s = resp.status();
            let refused = s == StatusCode::UNAUTHORIZED
                || s == StatusCode::FORBIDDEN
                || s == StatusCode::TOO_MANY_REQUESTS
                || resp.extensions().get::<Refused>().is_some();
            if refused {
                audit_denied(&st, client, session, &method, &route, s).await;
            }
            resp
        }
        Err((denial, client)) => {
            let status = denial.err.status;
            audit_denied(&st, client, session, &method, &route, status).await;
            let mut resp = denial.err.into_response();
            if let Some(s) = denial.retry_after
                && let Ok(v) = HeaderValue::from_str(&s.to_string())
            {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            if status == StatusCode::UNAUTHORIZED {
                resp.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"zhiban\""),
                );
            }
            resp
        }
    }
}

async fn audit_denied(
    st: &GuardState,
    client: Option<String>,
    session: String,
    method: &Method,
    route: &str,
    status: StatusCode,
) {
    let what = format!("{method} {route} {}", status.as_u16());
    audit_refusal(&st.audit, client.as_deref().unwrap_or("-"), &session, &what).await;
}

/// Writes one `denied` line: `what` names the request (method, route, status — or an MCP
/// tool call and its error code), never its content.
pub async fn audit_refusal(audit: &AuditLog, client: &str, session: &str, what: &str) {
    let line = AuditRecord::new(client, session, what, AuditAction::Denied, Vec::new());
    if let Err(e) = audit.append(line).await {
        tracing::error!("审计日志写入失败：{e}");
    }
}

type Admitted = (
    Request,
    Option<tokio::sync::OwnedSemaphorePermit>,
    Option<String>,
);

async fn admit(
    st: &GuardState,
    route: &str,
    loopback: bool,
    mut req: Request,
) -> Result<Admitted, (Denial, Option<String>)> {
    let need = need(route);
    if need == Need::Public || req.method() == Method::OPTIONS {
        req.extensions_mut().insert(Principal::local_public());
        return Ok((req, None, None));
    }
    let keys = st.auth.keys();
    if !keys.has_live() {
        // Development mode: the bind check keeps this to loopback clients.
        req.extensions_mut().insert(Principal::local());
        return Ok((req, None, Some("local".into())));
    }
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .map(str::to_string);
    let Some(presented) = presented else {
        if need == Need::Metrics && loopback {
            req.extensions_mut().insert(Principal::local());
            return Ok((req, None, Some("local".into())));
        }
        return Err((
            unauthorized("unauthorized", "缺少 API 密钥（Authorization: Bearer …）"),
            None,
        ));
    };
    let Some(entry) = keys.find(&presented).cloned() else {
        return Err((unauthorized("unauthorized", "API 密钥无效或已吊销"), None));
    };
    let who = Some(entry.client.clone());
    let principal = Principal {
        client: entry.client.clone(),
        roles: entry.roles.clone(),
        agents: entry.agents.clone(),
        tools: entry.tools.clone(),
    };
    let allowed = match need {
        Need::Public => true,
        Need::Metrics => principal.is_admin() || loopback,
        Need::Roles(r) => principal.has_any(r),
    };
    if !allowed {
        return Err((
            ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "该密钥的角色无权访问此接口",
            )
            .into(),
            who,
        ));
    }
    let signed = req.headers().contains_key(HEADER_SIGNATURE);
    if signed || entry.require_signature {
        req = verify_signature(st, &entry, req)
            .await
            .map_err(|d| (d, who.clone()))?;
    }
    let rate = entry.rate_per_minute.unwrap_or(st.auth.cfg.rate_per_minute);
    if let Err(Refusal::Rate { retry_after }) =
        st.auth.limits.take(&entry.client, rate, Instant::now())
    {
        return Err((
            Denial {
                err: ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!("请求过于频繁，请 {retry_after} 秒后再试"),
                ),
                retry_after: Some(retry_after),
            },
            who,
        ));
    }
    let permit = st
        .auth
        .limits
        .enter(&entry.client, st.auth.cfg.max_concurrent)
        .map_err(|_| {
            (
                Denial {
                    err: ApiError::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "too_many_concurrent",
                        "同时进行的请求过多，请稍后再试",
                    ),
                    retry_after: Some(1),
                },
                who.clone(),
            )
        })?;
    req.extensions_mut().insert(principal);
    Ok((req, Some(permit), who))
}

impl Principal {
    /// The principal of a public route: no roles at all.
    fn local_public() -> Self {
        Principal {
            client: "anonymous".into(),
            roles: BTreeSet::new(),
            agents: Vec::new(),
            tools: Vec::new(),
        }
    }
}

async fn verify_signature(
    st: &GuardState,
    entry: &ClientKey,
    req: Request,
) -> Result<Request, Denial> {
    let h = req.headers();
    let get = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (Some(ts), Some(nonce), Some(sig)) = (
        get(HEADER_TIMESTAMP),
        get(HEADER_NONCE),
        get(HEADER_SIGNATURE),
    ) else {
        return Err(unauthorized(
            "signature_required",
            "此密钥要求请求签名（X-Zhiban-Timestamp、X-Zhiban-Nonce、X-Zhiban-Signature）",
        ));
    };
    let Ok(timestamp) = ts.trim().parse::<i64>() else {
        return Err(unauthorized("bad_signature", "签名时间戳应为 Unix 秒数"));
    };
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, crate::serve::MAX_BODY)
        .await
        .map_err(|_| {
            Denial::from(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "请求体超过 16 MB",
            ))
        })?;
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| parts.uri.path().to_string());
    let signature = RequestSignature {
        timestamp,
        nonce,
        signature: sig,
    };
    let key = entry.signing_key_bytes();
    let method = parts.method.as_str().to_string();
    if let Err(e) =
        zhiban_pii::verify_request(&st.auth.replay, &key, &method, &path, &signature, &bytes)
    {
        let (code, msg) = match e {
            zhiban_pii::Error::Replay => ("replayed", "请求已使用过（重放被拒绝）"),
            zhiban_pii::Error::StaleTimestamp { .. } => {
                ("stale_signature", "签名时间超出允许的时间窗口")
            }
            _ => ("bad_signature", "请求签名无效"),
        };
        return Err(unauthorized(code, msg));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_keeps_tools_to_map_and_qa_to_clerks() {
        assert_eq!(need("/livez"), Need::Public);
        assert_eq!(need("/metrics"), Need::Metrics);
        let Need::Roles(r) = need("/v1/tools/{id}") else {
            panic!()
        };
        assert_eq!(r, &[Role::Map]);
        let Need::Roles(r) = need("/v1/qa") else {
            panic!()
        };
        assert!(!r.contains(&Role::Map) && r.contains(&Role::Clerk));
        let Need::Roles(r) = need("/v1/sessions/{id}/messages") else {
            panic!()
        };
        assert!(r.contains(&Role::Clerk) && !r.contains(&Role::Data));
        let Need::Roles(r) = need("/v1/sessions/{id}/tools/{tool}") else {
            panic!()
        };
        assert_eq!(r, &[Role::Map]);
    }

    #[test]
    fn scopes_and_ownership() {
        let p = Principal {
            client: "map".into(),
            roles: [Role::Map].into_iter().collect(),
            agents: vec!["qa".into()],
            tools: vec![],
        };
        assert!(p.allow_agent("qa").is_ok());
        assert_eq!(
            p.allow_agent("elderly_care_subsidy").unwrap_err().status,
            StatusCode::FORBIDDEN
        );
        assert!(p.allow_tool("anything").is_ok());
        assert!(p.allow_session(Some("map"), true).is_ok());
        assert_eq!(
            p.allow_session(Some("other"), false).unwrap_err().status,
            StatusCode::NOT_FOUND
        );
        let clerk = Principal {
            client: "c".into(),
            roles: [Role::Clerk].into_iter().collect(),
            agents: vec![],
            tools: vec![],
        };
        assert!(clerk.allow_session(Some("map"), false).is_ok());
        assert!(clerk.allow_session(Some("map"), true).is_err());
    }
}
