//! A scripted OpenAI-compatible LLM server for tests and evals.
//!
//! The agent runtime speaks to any OpenAI-compatible endpoint; in tests and evals
//! this server stands in for the model. It answers `POST /v1/chat/completions`
//! (plain and `stream: true` SSE, text and tool calls), `POST /v1/embeddings`
//! (deterministic unit vectors from a hash of each input) and `GET /v1/models`,
//! following a [`Script`], and records every `/v1` request — faulted ones too —
//! so tests can assert on exactly what reached the model side (e.g. that no
//! plaintext PII did).
//!
//! Control endpoints, not recorded: `GET /_requests` (the recording as JSON),
//! `DELETE /_requests`, `PUT /_script` (a JSON script, or TOML when the
//! content type mentions `toml`).
//!
//! # Scripts
//!
//! Rules are tried in order; the first whose `when` holds answers, and a rule with
//! `times = n` fires at most n times. With no match the `default` reply is used,
//! or the last user message is echoed back.
//!
//! ```toml
//! default = { text = "收到：{{last_user}}" }
//!
//! # The first two calls fail (async-openai retries 5xx by itself), then the rest apply.
//! [[rules]]
//! times = 2
//! reply = { status = 503 }
//!
//! # A fresh question about a case: call the tool, with garbage arguments once.
//! [[rules]]
//! when = { contains = "办件进度", last_role = "user", tools = ["lookup_case"] }
//! times = 1
//! reply = { tool_call = { name = "lookup_case", arguments = "{\"case_no\": " } }
//!
//! [[rules]]
//! when = { regex = "办件进度|案件", last_role = "user" }
//! reply = { tool_call = { name = "lookup_case", arguments = { case_no = "SH-2024-0001" } } }
//!
//! # After the tool answered: a summary, slowly.
//! [[rules]]
//! when = { tool_result_of = "lookup_case", last_role = "tool" }
//! reply = { text = "您的件正在办理中。", latency_ms = 300 }
//!
//! # The model never answers: the client's timeout must fire.
//! [[rules]]
//! when = { contains = "超时" }
//! reply = { hang = true }
//! ```
//!
//! Matchers (all given must hold): `contains`, `regex` (on the last user
//! message), `has_tool_result`, `tool_result_of`, `last_role`, `tools` (names
//! offered), `nth` (1-based chat call since the script was loaded), `any`.
//! Replies: `text` (`{{last_user}}` is substituted), `tool_call`, `tool_calls`,
//! `latency_ms`, `chunk_delay_ms`, and at most one fault: `status` (with optional
//! `error_message`, `error_type`, `error_code`), `hang`, `malformed`,
//! `empty = "no_choices" | "no_content"`, `truncated_stream`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), zhiban_llmsim::Error> {
//! let server = zhiban_llmsim::start(zhiban_llmsim::Config {
//!     script: zhiban_llmsim::Script::load("tests/fixtures/case.toml")?,
//!     ..Default::default()
//! })
//! .await?;
//! let base = server.base_url(); // http://127.0.0.1:PORT/v1
//! # let _ = base;
//! assert!(server.requests().is_empty());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod openai;
mod script;
mod server;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use script::{EmptyKind, Matcher, Reply, Rule, Script, ToolCallSpec};
pub use server::{Server, start};

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; `127.0.0.1:0` (any free port) by default.
    pub addr: SocketAddr,
    pub script: Script,
    /// Model id listed by `/v1/models` and used when a request names none.
    pub model: String,
    /// Embedding length when the request has no `dimensions`.
    pub embedding_dim: usize,
    /// Characters per streamed content or arguments piece.
    pub stream_piece_chars: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            script: Script::default(),
            model: "zhiban-sim".into(),
            embedding_dim: 64,
            stream_piece_chars: 4,
        }
    }
}

/// One request as it arrived at a `/v1` endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// 1-based arrival order since start (not reset by `clear`).
    pub seq: u64,
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Lower-case names; repeated headers joined by `, `; the Authorization value
    /// is replaced by `[redacted]` (its scheme kept).
    pub headers: BTreeMap<String, String>,
    /// The body parsed as JSON; `null` when empty or not JSON.
    pub body: serde_json::Value,
    /// The body as received (lossy UTF-8), for scans that must not miss anything.
    pub body_text: String,
    /// Milliseconds since the Unix epoch.
    pub received_at_ms: u64,
    /// Index (0-based) of the script rule that answered a chat request; `None` for
    /// the default reply and for other endpoints.
    pub rule: Option<usize>,
}

/// Errors of starting the server and loading scripts.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot read script {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("script is not valid JSON: {0}")]
    Json(serde_json::Error),
    #[error("script is not valid TOML: {0}")]
    Toml(toml::de::Error),
    #[error("invalid script: {0}")]
    Script(String),
}
