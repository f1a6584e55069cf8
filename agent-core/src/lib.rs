//! The agent runtime of zhiban (roadmap): flows for the five 问答智办 matters, repair,
//! the 学习问答 QA agent, the PII guard at the LLM wire, durable sessions and the LLM
//! client.
//!
//! It will own conversation state and the order of tool calls; it must not index
//! documents (that is `zhiban-knowledge`), talk to line systems directly (that is
//! `zhiban-tools`) or know about HTTP (that is `zhiban-api`). Nothing is implemented
//! here yet: the crate exists so that the dependency direction
//! api → agent-core → {tools, knowledge} is fixed from the start.
#![warn(missing_docs)]
