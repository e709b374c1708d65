"""Backups before a destructive step: `pg_dump -Fc` of the target into a file on this machine.

Locally, `pg_dump` connects with the target's host, port, user and database (the password goes
through the environment, never the argv). Under Compose, `pg_dump` runs inside the db container
(`COMPOSE exec -T db ...`) with the container's own `POSTGRES_*` values, and its output is
written to the host file: a dump left inside the container would go with `down -v`. A dump
counts only when it is not empty and `pg_restore --list` can read it.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from migdoctor.wizard.runners import Invocation

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
# Inside the db container: the image's own login (socket), else TCP on its port; the password,
# if any, is the container's and stays there.
_CONNECT = ('export PGPASSWORD="${{POSTGRES_PASSWORD:-}}"; '
            'pg_isready -q 2>/dev/null || export PGHOST=127.0.0.1 PGPORT={port}; ')
_LOGIN = '-U "${POSTGRES_USER:-postgres}"'
_DBNAME = '"${POSTGRES_DB:-${POSTGRES_USER:-postgres}}"'


@dataclass(frozen=True)
class DumpSource:
    """The database to back up: `context` local (host, port, user, dbname, password) or
    compose (the `service` container of `compose`, PostgreSQL on `port` inside it)."""

    context: str
    dbname: str
    host: str = ""
    port: int = 5432
    user: str = ""
    password: str = field(default="", repr=False)
    compose: tuple[str, ...] = ()
    service: str = "db"

    @property
    def env(self) -> dict[str, str]:
        """What local tools need beyond their argv (libpq reads PGPASSWORD)."""
        return {"PGPASSWORD": self.password} if self.context == "local" and self.password else {}


def backup_file(folder: Path, source: DumpSource, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    name = _UNSAFE.sub("_", source.dbname) or "database"
    return folder / f"{name}-{stamp}.dump"


def wait_argv(source: DumpSource, seconds: int = 60) -> tuple[str, ...]:
    """Wait, inside the db container, until PostgreSQL accepts TCP connections on its port (an
    image that initialises a new volume first runs a temporary server on its socket only)."""
    script = (f"for i in $(seq {seconds}); do pg_isready -q -h 127.0.0.1 -p {source.port} "
              f"&& exit 0; sleep 1; done; echo 'PostgreSQL is not ready after {seconds} s' >&2; "
              "exit 1")  # fmt: skip
    return (*source.compose, "exec", "-T", source.service, "sh", "-c", script)


def dump_argv(source: DumpSource) -> tuple[str, ...]:
    if source.context == "compose":
        script = _CONNECT.format(port=source.port) + f"exec pg_dump -Fc {_LOGIN} {_DBNAME}"
        return (*source.compose, "exec", "-T", source.service, "sh", "-c", script)
    return ("pg_dump", "-Fc", *_local_login(source), "-d", source.dbname)


def restore_argv(source: DumpSource, file: Path) -> tuple[str, ...]:
    """The command that puts the dump back (under Compose it reads the file on stdin)."""
    flags = "--clean --if-exists --no-owner"
    if source.context == "compose":
        restore = f"exec pg_restore {flags} {_LOGIN} -d {_DBNAME}"
        script = _CONNECT.format(port=source.port) + restore
        return (*source.compose, "exec", "-T", source.service, "sh", "-c", script)
    return ("pg_restore", *flags.split(), *_local_login(source), "-d", source.dbname, str(file))


def restore_line(source: DumpSource, file: Path) -> str:
    """The restore command as the user types it."""
    line = shlex.join(restore_argv(source, file))
    return line + f" < {shlex.quote(str(file))}" if source.context == "compose" else line


def restore_invocation(source: DumpSource, file: Path, cwd: Path) -> Invocation:
    stdin = file if source.context == "compose" else None
    return Invocation(restore_argv(source, file), source.context, cwd, source.env, stdin=stdin)


def _local_login(source: DumpSource) -> tuple[str, ...]:
    login: list[str] = []
    for flag, value in (("-h", source.host), ("-p", str(source.port)), ("-U", source.user)):
        if value:
            login += [flag, value]
    return tuple(login)


def list_argv(source: DumpSource, file: Path) -> tuple[tuple[str, ...], Path | None]:
    """`pg_restore --list` of the dump: here when installed, else inside the db container."""
    if source.context == "compose" and shutil.which("pg_restore") is None:
        return (*source.compose, "exec", "-T", source.service, "pg_restore", "--list"), file
    return ("pg_restore", "--list", str(file)), None


def check_dump(source: DumpSource, file: Path, cwd: Path) -> str:
    """Why the dump cannot be trusted ("" when it is fine)."""
    try:
        size = file.stat().st_size
    except OSError as exc:
        return f"the backup file {file} cannot be read: {exc.strerror}"
    if size == 0:
        return f"the backup file {file} is empty"
    argv, stdin = list_argv(source, file)
    try:
        proc = _run_reading(argv, stdin, cwd)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"pg_restore --list could not run: {exc}"
    if proc.returncode != 0:
        why = proc.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        return f"pg_restore --list cannot read {file}: {' '.join(why) or proc.returncode}"
    return ""


def _run_reading(
    argv: tuple[str, ...], stdin: Path | None, cwd: Path
) -> subprocess.CompletedProcess[bytes]:
    with ExitStack() as stack:
        feed: Any = stack.enter_context(stdin.open("rb")) if stdin else subprocess.DEVNULL
        return subprocess.run(argv, cwd=cwd, stdin=feed, capture_output=True, timeout=300,
                              check=False)  # fmt: skip
