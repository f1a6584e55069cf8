//! The zhiban service edge: the `zhiban` command line and the axum HTTP service for the MAP
//! platform, clerks and QA (`serve`).
//!
//! This crate only parses input, loads configuration, assembles the embedded stack and maps
//! HTTP to the libraries; all behaviour lives in `zhiban-agent-core`, `zhiban-knowledge`,
//! `zhiban-ingest`, `zhiban-tools` and `zhiban-evals`. It is the only crate that uses anyhow.
#![warn(missing_docs)]

pub mod auth;
pub mod cli;
pub mod commands;
pub mod config;
pub mod embedded;
pub mod ocr;
pub mod serve;
