#!/usr/bin/env bash
# Set up with the test extras, check the code (ruff, mypy --strict), fetch every model the
# tests use, then run the tests offline.
set -euo pipefail
. "$(dirname "$0")/setup.sh" test
ruff check src tests benchmarks
ruff format --check src tests benchmarks
mypy
shared="${MATTEKIT_SHARED:-$root/../shared}"
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "mattekit test: installing chromium (the web page's browser test)" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
fi
mattekit models fetch selfie selfie-landscape isnet-medium isnet-small rvm
mattekit models import deeplabv3-voc "$shared/models/deeplabv3_257_mv_gpu.tflite"
bash "$root/scripts/install-tfjs.sh"  # the reference runtime for the RVM conversion test
MATTEKIT_OFFLINE=1 python -m pytest "$@"
