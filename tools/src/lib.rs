//! zhiban-tools: the case-system toolbox behind the PII boundary.
//!
//! It owns the tool registry ([`Registry`]: names, Chinese descriptions, JSON Schemas whose
//! `x-pii` marks are the one declaration of each PII field, read/write, timeouts), the paths that
//! locate PII in arguments and results ([`paths`]: `name`, `applicant.id_number`,
//! `records[].name`), the boundary that opens PII tokens only inside a tool call and seals PII in
//! results and errors ([`ToolRuntime`]), the REST/SOAP adapters with retries, idempotency keys and
//! per-line-system circuit breakers ([`adapter`]), and `zhiban tool list` ([`cli`]). It must not
//! log or return plaintext PII, hold key material (that is `zhiban-pii`), decide eligibility (the
//! line systems do), tokenise what a resident typed (the agent side does, `zhiban-agent-core`), or
//! link the reference case system (`zhiban-casesim` is only a dev-dependency of its tests).
//!
//! A [`ToolRuntime`] is `Send + Sync`; share it in an `Arc` across tasks. Its calls never block an
//! async worker: audit entries are group-committed by the log's writer thread and awaited, and a
//! blocking key provider runs on the blocking pool under a deadline.
//!
//! ```
//! let reg = zhiban_tools::Registry::builtin();
//! let t = reg.get("申请人核实").expect("built-in tool");
//! assert_eq!(t.id, "applicant_verify");
//! assert!(t.pii_args.iter().any(|f| f.path == "id_number"));
//! assert_eq!(t.args_schema["properties"]["id_number"]["x-pii"], "ID_CARD");
//! ```
#![warn(missing_docs)]

pub mod adapter;
pub mod cli;
mod error;
pub mod paths;
pub mod registry;
pub mod runtime;
pub mod soap;
pub mod timing;

pub use adapter::{AdapterConfig, BreakerConfig, BreakerState, LineSystemConfig, Transport};
pub use error::{Error, Result};
pub use registry::{Access, PiiField, Registry, ToolSpec};
pub use runtime::{CallContext, ToolRuntime};
/// The PII types that appear in this crate's API (agent-side code needs no direct
/// `zhiban-pii` dependency to tokenise arguments).
pub use zhiban_pii::{PiiKind, TokenScope, Vault, find_tokens, is_token};
