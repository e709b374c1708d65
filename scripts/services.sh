#!/usr/bin/env bash
# Start what the tests talk to: the local PostgreSQL server and, with --docker, the Docker lab.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432
if [ "${1:-}" = "--docker" ] && [ -x scripts/lab/docker-up.sh ]; then
  bash scripts/lab/docker-up.sh
fi
