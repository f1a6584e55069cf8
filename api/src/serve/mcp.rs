//! The case-system tools over MCP (streamable HTTP at `/mcp`, the official `rmcp` crate), so
//! that any MCP-capable agent platform can use them unchanged: each tool named by its registry
//! id, with the same argument and result schemas as `GET /v1/tools`, in the session named by
//! `X-Session-Id`, PII in and out only as that session's tokens.
//!
//! The server is stateless (no MCP session is kept between requests), so every replica can
//! answer every request; the zhiban session in `X-Session-Id` is what carries state, in the
//! shared session store. The guard middleware has already authenticated the HTTP request; its
//! [`Principal`] arrives here in the request parts rmcp passes along.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Map, Value};

use super::AppState;
use crate::auth::Principal;

/// The MCP face of the tool registry.
#[derive(Clone)]
pub struct McpTools {
    st: AppState,
}

fn object(v: &Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    }
}

fn caller(ctx: &RequestContext<RoleServer>) -> (Option<Principal>, Option<String>) {
    let Some(parts) = ctx.extensions.get::<axum::http::request::Parts>() else {
        return (None, None);
    };
    let principal = parts.extensions.get::<Principal>().cloned();
    let session = parts
        .headers
        .get("x-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string);
    (principal, session)
}

fn failure(message: impl Into<String>) -> CallToolResponse {
    CallToolResult::error(vec![ContentBlock::text(message.into())]).into()
}

impl ServerHandler for McpTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("zhiban", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "社区事务受理系统的工具：申请人核实与各条线接口。须在 X-Session-Id 指明的会话内调用；\
                 姓名、证件号码等个人信息以该会话的令牌传递。",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let (principal, _) = caller(&ctx);
        let Some(p) = principal else {
            return Err(ErrorData::invalid_request("未通过身份认证", None));
        };
        let tools: Vec<Tool> = self
            .st
            .engine
            .tools()
            .registry()
            .iter()
            .filter(|t| p.allow_tool(t.id).is_ok())
            .map(|t| {
                let mut tool = Tool::new(t.id, t.description, Arc::new(object(&t.args_schema)));
                tool.title = Some(t.name.to_string());
                tool.output_schema = Some(Arc::new(object(&t.result_schema)));
                tool
            })
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let (principal, session) = caller(&ctx);
        let Some(p) = principal else {
            return Err(ErrorData::invalid_request("未通过身份认证", None));
        };
        let name = request.name.to_string();
        if self.st.engine.tools().registry().get(&name).is_none() {
            return Err(ErrorData::invalid_params(
                format!(
                    "没有这个工具：{}",
                    name.chars().take(64).collect::<String>()
                ),
                None,
            ));
        }
        let Some(session) = session else {
            return Ok(failure(
                "工具调用须在会话内进行：请用 X-Session-Id 指明会话",
            ));
        };
        let args = Value::Object(request.arguments.unwrap_or_default());
        match super::tools::invoke(&self.st, &p, &session, &name, args).await {
            Ok(body) if body["ok"] == Value::Bool(true) => {
                Ok(CallToolResult::structured(body["result"].clone()).into())
            }
            Ok(body) => Ok(failure(
                body["error"]["message"]
                    .as_str()
                    .unwrap_or("条线系统调用失败")
                    .to_string(),
            )),
            Err(e) => {
                if e.status.is_client_error() && (e.status.as_u16() == 403 || e.refusal) {
                    crate::auth::audit_refusal(
                        self.st.engine.tools().audit(),
                        &p.client,
                        &session,
                        &format!("MCP tools/call {name} {}", e.code),
                    )
                    .await;
                }
                Ok(failure(format!("{}（{}）", e.message, e.code)))
            }
        }
    }
}

/// The `/mcp` service. Host-header checks (rmcp's guard against DNS rebinding of an
/// unauthenticated local server) stay on in development mode and give way to API keys when
/// keys are configured, where the service is reached under operators' own host names.
pub fn service(st: AppState) -> StreamableHttpService<McpTools, LocalSessionManager> {
    let mut cfg = StreamableHttpServerConfig::default();
    cfg.legacy_session_mode = false;
    cfg.json_response = true;
    cfg.max_request_body_bytes = super::MAX_BODY;
    if !st.auth.development() {
        cfg = cfg.disable_allowed_hosts();
    }
    StreamableHttpService::new(
        move || Ok(McpTools { st: st.clone() }),
        Arc::new(LocalSessionManager::default()),
        cfg,
    )
}
