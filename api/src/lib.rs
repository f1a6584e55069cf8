//! The zhiban service edge: the `zhiban` command line (and, in later releases, the
//! axum HTTP server for the MAP platform and clerks).
//!
//! This crate only parses input, loads configuration and calls the libraries; all
//! behaviour lives in `zhiban-knowledge`, `zhiban-ingest`, `zhiban-tools` and
//! `zhiban-evals`. It is the only crate that uses anyhow.
#![warn(missing_docs)]

pub mod cli;
pub mod commands;
pub mod config;
pub mod embedded;
