#!/usr/bin/env bash
# Install migdoctor into .venv and diagnose a real error from the examples folder.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "" >/dev/null 2>&1 || bash scripts/setup.sh ""
.venv/bin/migdoctor diagnose --file "${1:-examples/undefined-column.txt}" || test $? -eq 1
