#!/usr/bin/env bash
# The test command of README: installs the system packages, then runs every test
# of the workspace with cargo-nextest (doctests with cargo test --doc).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
command -v cargo-nextest >/dev/null 2>&1 || cargo install --locked cargo-nextest
# Doctests first, so that nextest's summary is the run's closing line.
cargo test --workspace --doc --quiet
cargo nextest run --workspace --no-fail-fast "$@"
