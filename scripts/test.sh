#!/usr/bin/env bash
# The test command of README: installs the system packages, then runs every test
# of the workspace with cargo-nextest (doctests with cargo test --doc).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo nextest run --workspace --no-fail-fast "$@"
cargo test --workspace --doc --quiet
