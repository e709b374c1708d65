#!/bin/sh
# Command of the lab stack's db service: PostgreSQL 15 of the image migdoctor-lab:base.
# On first start it initialises the volume: superuser $POSTGRES_USER with $POSTGRES_PASSWORD,
# database $POSTGRES_DB, host auth $POSTGRES_HOST_AUTH_METHOD (trust unless set, e.g. to
# scram-sha-256 for a wrong-password scenario). Then it serves on 127.0.0.1:$POSTGRES_PORT only.
set -eu
PGDATA=/var/lib/postgresql/data
BIN=/usr/lib/postgresql/15/bin
POSTGRES_USER=${POSTGRES_USER:-postgres}
POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
POSTGRES_PORT=${POSTGRES_PORT:-55432}
AUTH=${POSTGRES_HOST_AUTH_METHOD:-trust}
as_postgres() { setpriv --reuid=postgres --regid=postgres --clear-groups "$@"; }

mkdir -p "$PGDATA"
chown postgres:postgres "$PGDATA"
chmod 0700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile=/tmp/pgpass.$$
    printf '%s\n' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is not set}" >"$pwfile"
    chown postgres "$pwfile"
    as_postgres "$BIN/initdb" -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" \
        --auth="$AUTH" --encoding=UTF8 --no-locale >/dev/null
    rm -f "$pwfile"
    if [ "$POSTGRES_DB" != postgres ]; then
        # Single-user mode runs as the bootstrap superuser, whatever its name.
        printf 'CREATE DATABASE "%s";\n' "$POSTGRES_DB" |
            as_postgres "$BIN/postgres" --single -D "$PGDATA" postgres >/dev/null
    fi
    echo "db-start.sh: initialised $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB, auth $AUTH)"
fi
# exec: PostgreSQL itself gets the stop signal (SIGINT: fast shutdown).
exec setpriv --reuid=postgres --regid=postgres --clear-groups \
    "$BIN/postgres" -D "$PGDATA" -p "$POSTGRES_PORT" -c listen_addresses=127.0.0.1 -k /tmp
