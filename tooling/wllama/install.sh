#!/usr/bin/env bash
# Installs what packages/runtime/bench needs to run wllama (llama.cpp compiled to WebAssembly) beside
# cllama: Debian's Chromium (wllama targets browsers: its build needs WebAssembly memory64 and JSPI,
# which Node 20 does not ship) and, from npm, pinned: @wllama/wllama 3.8.1 and playwright-core 1.65.1
# (drives the system Chromium through executablePath; it downloads no browser of its own).
# Not part of the workspace install nor of CI: benchmarks are not run in CI.
# Usage: tooling/wllama/install.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -f "$here/node_modules/@wllama/wllama/package.json" ] || [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
chromium --version
