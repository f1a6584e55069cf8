//! zhiban-tools: the case-system toolbox behind the PII boundary.
//!
//! It owns the tool registry ([`Registry`]: names, Chinese descriptions, JSON Schemas, PII
//! fields, read/write, timeouts), the boundary that opens PII tokens only inside a tool call and
//! seals PII in results ([`ToolRuntime`]), the REST/SOAP adapters with retries, idempotency keys
//! and per-line-system circuit breakers ([`adapter`]), and the library side of `zhiban tool …`
//! ([`cli`]). It must not log or return plaintext PII, hold key material (that is `zhiban-pii`),
//! or decide eligibility (the line systems do). A [`ToolRuntime`] is `Send + Sync`; share it in an
//! `Arc` across tasks.
//!
//! ```
//! let reg = zhiban_tools::Registry::builtin();
//! let t = reg.get("申请人核实").expect("built-in tool");
//! assert_eq!(t.id, "applicant_verify");
//! assert!(t.pii_args.iter().any(|f| f.path == "id_number"));
//! ```
#![warn(missing_docs)]

pub mod adapter;
pub mod cli;
mod error;
pub mod registry;
pub mod runtime;
pub mod soap;

pub use adapter::{AdapterConfig, BreakerConfig, BreakerState, LineSystemConfig, Transport};
pub use error::{Error, Result};
pub use registry::{Access, PiiField, Registry, ToolSpec};
pub use runtime::{CallContext, ToolRuntime};
