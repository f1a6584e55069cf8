//! The agent runtime of zhiban: the five 问答智办 flows as deterministic state machines
//! ([`engine`], specs in [`spec`]), understanding without a model ([`understand`]), materials
//! ([`materials`]), the 学习问答 agent ([`qa`]), durable sessions ([`session`], [`store`]) and the
//! agent side of the PII boundary ([`tool_args`], display masks in [`mask`]).
//!
//! It owns conversation state and the order of tool calls: the order lives in the flow spec,
//! and nothing a resident or a model says can skip, reorder or trigger 准入判断 → 校验 → 提交.
//! What a resident typed or MAP's login established is sealed into the session's tokens before
//! it is stored, shown or sent to a model. It must not index documents (that is
//! `zhiban-knowledge`), talk to line systems or open tokens except through the audited runtime
//! (that is `zhiban-tools`), or know about HTTP (that is `zhiban-api`). Dependencies point
//! api → agent-core → {tools, knowledge}.
#![warn(missing_docs)]

pub mod engine;
pub mod grounding;
pub mod llm;
pub mod mask;
pub mod materials;
pub mod qa;
pub mod session;
pub mod spec;
pub mod store;
pub mod tool_args;
pub mod understand;

pub use engine::{AgentInfo, ApplicantIn, Engine, EngineError, Message, NewSession};
pub use qa::{QaAgent, QaAnswer, QaConfig, QaRequest};
pub use session::{Session, SessionView, State};
pub use store::{SessionStore, StoreError};
pub use tool_args::tokenize_args;
