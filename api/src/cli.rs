//! Command-line definitions (clap derive) and dispatch.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use crate::commands;
use crate::config::Config;

/// zhiban (智办): the AI service of Shanghai's 社区事务受理 system.
#[derive(Debug, Parser)]
#[command(name = "zhiban", version, about)]
pub struct Cli {
    /// Configuration file (default: $ZHIBAN_CONFIG, then ./zhiban.toml if present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// More logging (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Answer a clerk's question from the knowledge base with citations; builds the
    /// knowledge base from the corpus first if none is published (the main job).
    Ask(commands::ask::AskArgs),
    /// Read source folders into a new snapshot and publish it atomically.
    Ingest(commands::ingest::IngestArgs),
    /// Search a snapshot (contract: shared/design/contracts.md).
    Search(commands::search::SearchArgs),
    /// List the documents of the published snapshot.
    Docs(commands::search::DocsArgs),
    /// Manage snapshots: list, publish, rollback, verify, gc.
    #[command(subcommand)]
    Snapshot(commands::snapshot::SnapshotCmd),
    /// Evaluation suites.
    #[command(subcommand)]
    Eval(commands::eval::EvalCmd),
    /// SM2/SM3/SM4 tools for integrators (hex in, hex out) and the start-up self-test.
    #[command(subcommand)]
    Crypto(commands::crypto::CryptoCmd),
    /// The SM3-chained audit log.
    #[command(subcommand)]
    Audit(commands::audit::AuditCmd),
    /// The case-system tools behind the PII boundary.
    #[command(subcommand)]
    Tool(commands::tool::ToolCmd),
    /// Run the reference case system (REST + SOAP) until interrupted.
    Casesim(commands::casesim::CasesimArgs),
    /// Run the agent service (sessions, messages, tools, QA) until interrupted.
    Serve(commands::serve::ServeArgs),
    /// API keys (printed once, stored hashed): add, list, revoke.
    #[command(subcommand)]
    Keys(commands::keys::KeysCmd),
    /// A terminal session with one agent (the tester's view of what MAP does).
    Chat(commands::chat::ChatArgs),
}

/// Index location shared by several commands.
#[derive(Debug, Clone, Args)]
pub struct IndexArg {
    /// Index directory (default: [index] dir, `var/index`).
    #[arg(long)]
    pub index: Option<PathBuf>,
}

impl IndexArg {
    /// The directory to use.
    pub fn resolve(&self, cfg: &Config) -> PathBuf {
        self.index.clone().unwrap_or_else(|| cfg.index.dir.clone())
    }
}

/// Flushes and stops the OTLP exporter when dropped (at the end of `main`).
#[must_use = "dropping it at once stops the trace export"]
pub struct Telemetry(Option<opentelemetry_sdk::trace::SdkTracerProvider>);

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(p) = self.0.take()
            && let Err(e) = p.shutdown()
        {
            eprintln!("OTLP 导出未能完成：{e}");
        }
    }
}

/// Sets up `tracing` on stderr (`RUST_LOG` wins over `-v`) and, when `telemetry` names an
/// endpoint, OTLP/HTTP export of the service's own spans (request spans with route, method,
/// status and request id).
pub fn init_tracing(verbose: u8, telemetry: &crate::config::TelemetrySection) -> Telemetry {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let default = match verbose {
        // qdrant-edge warns about process-wide flags it never needs embedded.
        0 => "warn,qdrant_edge=error",
        1 => "info,qdrant_edge=error",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter);
    let endpoint = telemetry.otlp_endpoint.trim();
    let provider = if endpoint.is_empty() {
        None
    } else {
        match otlp_provider(endpoint, &telemetry.service_name) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("OTLP 导出未启用（{endpoint}）：{e}");
                None
            }
        }
    };
    let otel = provider.as_ref().map(|p| {
        use opentelemetry::trace::TracerProvider as _;
        // Only our own spans: the exporter's HTTP client must not trace its own requests.
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("zhiban"))
            .with_filter(tracing_subscriber::EnvFilter::new(
                "zhiban_api=info,zhiban_agent_core=info,zhiban_tools=info,zhiban_knowledge=info",
            ))
    });
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(otel)
        .try_init();
    Telemetry(provider)
}

fn otlp_provider(
    endpoint: &str,
    service: &str,
) -> Result<opentelemetry_sdk::trace::SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    use opentelemetry_otlp::WithExportConfig as _;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .with_timeout(std::time::Duration::from_secs(5))
        .build()?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(if service.trim().is_empty() {
            "zhiban".to_string()
        } else {
            service.to_string()
        })
        .build();
    Ok(opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// Runs one command.
///
/// # Errors
/// Whatever the command fails with; `main` prints it and exits 2.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let cfg = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Ask(a) => commands::ask::run(&cfg, a),
        Command::Ingest(a) => commands::ingest::run(&cfg, a),
        Command::Tool(c) => commands::tool::run(&cfg, c),
        Command::Casesim(a) => commands::casesim::run(a),
        Command::Serve(a) => commands::serve::run(&cfg, a),
        Command::Keys(c) => commands::keys::run(&cfg, c),
        Command::Chat(a) => commands::chat::run(&cfg, a),
        Command::Search(a) => commands::search::run(&cfg, a),
        Command::Docs(a) => commands::search::docs(&cfg, a),
        Command::Snapshot(c) => commands::snapshot::run(&cfg, c),
        Command::Eval(c) => commands::eval::run(&cfg, c),
        Command::Crypto(c) => commands::crypto::run(&cfg, c),
        Command::Audit(c) => commands::audit::run(&cfg, c),
    }
}
