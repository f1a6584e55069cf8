#!/usr/bin/env bash
# The test command of README: installs the system packages, then runs every test
# of the workspace with cargo-nextest (doctests with cargo test --doc), qdrant-edge
# included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
command -v cargo-nextest >/dev/null 2>&1 || cargo install --locked cargo-nextest
# Doctests first, so that nextest's summary is the run's closing line.
# qdrant-edge is an optional vector store, off in the embedded default; the tests
# build it so that it keeps working next to the exact store and the Qdrant server.
cargo test --workspace --doc --quiet --features zhiban-knowledge/qdrant-edge
cargo nextest run --workspace --no-fail-fast --features zhiban-knowledge/qdrant-edge "$@"
