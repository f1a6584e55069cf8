//! The `zhiban` binary: parses arguments, sets up logging, runs one command and
//! chooses the exit code in one place.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = zhiban_api::cli::Cli::parse();
    // The configuration is read again (and its errors reported) by the command itself.
    let telemetry = zhiban_api::config::Config::load(cli.config.as_deref())
        .map(|c| c.telemetry)
        .unwrap_or_default();
    let _telemetry = zhiban_api::cli::init_tracing(cli.verbose, &telemetry);
    match zhiban_api::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("错误：{e:#}");
            ExitCode::from(2)
        }
    }
}
