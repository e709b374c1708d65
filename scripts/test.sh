#!/usr/bin/env bash
# Everything the tests need, then the whole suite: real PostgreSQL, real Docker lab, real Django.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
bash scripts/services.sh --docker
exec .venv/bin/pytest "$@"
