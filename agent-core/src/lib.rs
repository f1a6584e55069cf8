//! The agent runtime of zhiban: flows for the five 问答智办 matters, repair, the 学习问答 QA agent,
//! the PII guard at the LLM wire, durable sessions and the LLM client (roadmap; they land here
//! next).
//!
//! It owns conversation state, the order of tool calls, and the agent side of the PII boundary:
//! what a resident typed or MAP's login established is sealed into the session's tokens before the
//! model or a tool sees it ([`tool_args`]). It must not index documents (that is
//! `zhiban-knowledge`), talk to line systems or open tokens (that is `zhiban-tools`, whose runtime
//! it calls) or know about HTTP (that is `zhiban-api`). Dependencies point
//! api → agent-core → {tools, knowledge}.
#![warn(missing_docs)]

pub mod tool_args;
pub mod understand;

pub use tool_args::tokenize_args;
