#!/usr/bin/env bash
# Installs the reference implementations used by golden-file scripts, differential tests and
# benchmarks. Kept out of the workspace install on purpose: node-llama-cpp is ~90 MB (and its
# optional GPU builds ~600 MB, which --omit=optional skips; the CPU build is a direct dependency).
#   - llama.cpp (node-llama-cpp 3.21.1, prebuilt CPU libraries incl. libggml-base.so)
#   - sentencepiece 0.1.97 and PyTorch 1.13 from Debian, for /usr/bin/python3
# Usage: tooling/oracle/install.sh [--node] [--python] [--torch]   (no flag: all)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
want_node=0 want_python=0 want_torch=0
[ $# -eq 0 ] && want_node=1 want_python=1 want_torch=1
for arg in "$@"; do
  case "$arg" in
    --node) want_node=1 ;;
    --python) want_python=1 ;;
    --torch) want_torch=1 ;;
    *) echo "unknown flag $arg" >&2; exit 2 ;;
  esac
done

if [ "$want_node" = 1 ] && [ ! -f "$here/node_modules/node-llama-cpp/package.json" ]; then
  (cd "$here" && npm ci --omit=optional --no-audit --no-fund --loglevel=error)
fi

apt_pkgs=()
if [ "$want_python" = 1 ] && ! /usr/bin/python3 -c "import sentencepiece, google.protobuf" 2>/dev/null; then
  apt_pkgs+=(python3-sentencepiece python3-protobuf)
fi
if [ "$want_torch" = 1 ] && ! /usr/bin/python3 -c "import torch, numpy" 2>/dev/null; then
  apt_pkgs+=(python3-torch python3-numpy)
fi
if [ ${#apt_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${apt_pkgs[@]}" >/dev/null
fi
