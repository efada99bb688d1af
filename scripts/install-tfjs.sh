#!/usr/bin/env bash
# Install the pure-JavaScript TensorFlow.js (pinned) into .cache/node-tfjs, for the TFJS -> ONNX
# reference check (tests/models/test_tfjs.py runs tests/models/tfjs_reference.mjs with it).
# No native binary is involved: the CPU backend is plain JavaScript. Idempotent; uses npm with
# its own configuration. Without node/npm it says so and exits 0 (the test then skips).
set -euo pipefail
version="${TFJS_VERSION:-4.22.0}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="${MATTEKIT_TFJS_DIR:-$root/.cache/node-tfjs}"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "install-tfjs: node/npm not found; the TFJS reference test will be skipped" >&2
  exit 0
fi
installed="$prefix/node_modules/@tensorflow/tfjs/package.json"
if [ -f "$installed" ] && node -e "process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)" "$installed" "$version"; then
  exit 0
fi
mkdir -p "$prefix"
npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "@tensorflow/tfjs@$version" >&2
echo "install-tfjs: @tensorflow/tfjs@$version in $prefix" >&2
