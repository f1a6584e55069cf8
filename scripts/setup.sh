#!/usr/bin/env bash
# Installs what zhiban needs besides the Rust toolchain: tesseract with the
# Simplified Chinese model (OCR of scanned policies) and poppler-utils (PDF text
# layers and page rendering). Safe to run repeatedly; skips what is present.
set -euo pipefail
need=()
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr)
if command -v tesseract >/dev/null 2>&1; then
  tesseract --list-langs 2>/dev/null | grep -qx chi_sim || need+=(tesseract-ocr-chi-sim)
else
  need+=(tesseract-ocr-chi-sim)
fi
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The official Python clients the interface tests drive zhiban with (PyPI).
if command -v python3 >/dev/null 2>&1; then
  if ! python3 -c "import openai" >/dev/null 2>&1; then
    echo "setup: installing the openai Python SDK" >&2
    python3 -m pip install -q --root-user-action=ignore "openai>=1.40,<2" >/dev/null
  fi
  if ! python3 -c "import mcp.client.streamable_http" >/dev/null 2>&1; then
    echo "setup: installing the MCP Python SDK" >&2
    python3 -m pip install -q --root-user-action=ignore "mcp>=1.9,<2" >/dev/null
  fi
fi
