#!/bin/sh
# Entry point of the lab's `db` service (PostgreSQL 15 from the migdoctor-lab:base image).
# First start: initdb with trust auth. Every start: make sure POSTGRES_DB exists, then run the
# server in the foreground on POSTGRES_PORT, listening on 127.0.0.1 only (network_mode: host).
set -eu

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGDATA=${PGDATA:-/var/lib/postgresql/data}
PORT=${POSTGRES_PORT:-55432}
SUPERUSER=${POSTGRES_USER:-postgres}
DBNAME=${POSTGRES_DB:-lab}
SOCKETS=${PGSOCKETS:-/tmp}

as_postgres() { runuser -u postgres -- "$@"; }

chown postgres "$PGDATA"
if [ ! -f "$PGDATA/PG_VERSION" ]; then
    as_postgres "$PGBIN/initdb" -D "$PGDATA" -A trust -U "$SUPERUSER"
fi

as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -w -o "-p $PORT -c listen_addresses= -k $SOCKETS" start
exists=$(as_postgres "$PGBIN/psql" -h "$SOCKETS" -p "$PORT" -U "$SUPERUSER" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'")
if [ "$exists" != 1 ]; then
    as_postgres "$PGBIN/createdb" -h "$SOCKETS" -p "$PORT" -U "$SUPERUSER" "$DBNAME"
fi
as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -w stop

exec runuser -u postgres -- "$PGBIN/postgres" -D "$PGDATA" -p "$PORT" \
    -c listen_addresses=127.0.0.1 -k "$SOCKETS"
