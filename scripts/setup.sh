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
  if ! command -v schemathesis >/dev/null 2>&1; then
    echo "setup: installing schemathesis" >&2
    python3 -m pip install -q --root-user-action=ignore "schemathesis>=4,<5" >/dev/null
  fi
  if ! python3 -c "import mcp.client.streamable_http" >/dev/null 2>&1; then
    echo "setup: installing the MCP Python SDK" >&2
    python3 -m pip install -q --root-user-action=ignore "mcp>=1.9,<2" >/dev/null
  fi
fi
# The clerk page's browser test (api/tests/clerk_page.rs): Debian's Chromium, a Chinese font so
# that its screenshots show characters rather than boxes, and playwright-core (which drives a
# browser it is given and downloads none) in a project-local node_modules.
browser_need=()
[ -x /usr/bin/chromium ] || browser_need+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || browser_need+=(fonts-wqy-microhei)
if [ ${#browser_need[@]} -gt 0 ]; then
  echo "setup: installing ${browser_need[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${browser_need[@]}" >/dev/null
fi
if command -v npm >/dev/null 2>&1; then
  js_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/api/tests/js"
  if [ ! -f "$js_dir/node_modules/playwright-core/package.json" ]; then
    echo "setup: installing playwright-core into api/tests/js/node_modules" >&2
    (cd "$js_dir" && npm install --no-audit --no-fund --silent >/dev/null)
  fi
fi
