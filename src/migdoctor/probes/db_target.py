"""One database to probe, `Target`: where it is, how to log in, and the URLs that say so.

`parse_url` reads a `postgres://` or `postgresql://` URL, `parse_named` a `--database NAME=URL`
option. A password is never part of a repr, str or message: `redacted()` stars it, `dsn()` is
the only place it appears.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from migdoctor.errors import MigdoctorError

SCHEMES: Final = frozenset({"postgres", "postgresql", "pgsql", "postgis"})
DEFAULT_PORT: Final = 5432
_FIELDS: Final = frozenset({"host", "port", "dbname", "user", "password"})
_NAME: Final = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Target:
    """Where one database is and how to log in. `container`: the Compose db service's database."""

    name: str
    host: str
    port: int
    dbname: str
    user: str
    password: str = field(default="", repr=False)
    source: str = ""
    params: tuple[tuple[str, str], ...] = ()  # kept from the URL: sslmode=require, ...
    container: bool = False

    def dsn(self) -> str:
        """A libpq connection string for psycopg (with the password: never show it)."""
        pairs = [("host", self.host), ("port", str(self.port)), ("dbname", self.dbname),
                 ("user", self.user), ("password", self.password), *self.params]  # fmt: skip
        return " ".join(f"{key}={_conninfo_value(value)}" for key, value in pairs if value)

    def redacted(self) -> str:
        """`postgresql://user:***@host:port/dbname?sslmode=...`: the password starred."""
        login = quote(self.user, safe="") + (":***" if self.password else "")
        host = f"[{self.host}]" if ":" in self.host else quote(self.host, safe="")
        query = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in self.params)
        dbname = quote(self.dbname, safe="")
        return f"postgresql://{login}@{host}:{self.port}/{dbname}" + (f"?{query}" if query else "")

    def as_dict(self) -> dict[str, object]:
        """For `--json`: every field but the password, which is only said to be set or not."""
        return {"name": self.name, "url": self.redacted(), "host": self.host, "port": self.port,
                "dbname": self.dbname, "user": self.user, "password_set": bool(self.password),
                "source": self.source, "params": dict(self.params),
                "container": self.container}  # fmt: skip

    def __str__(self) -> str:
        return f"{self.name}: {self.redacted()}" + (f" ({self.source})" if self.source else "")


def _conninfo_value(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def parse_url(url: str, name: str = "cli", source: str = "--database-url") -> Target:
    """A `postgres://` or `postgresql://` URL as a target; the error never echoes the URL."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in SCHEMES:
        scheme = parts.scheme or "none"
        raise MigdoctorError(
            f"{source}: not a PostgreSQL URL (scheme {scheme})",
            "write it as postgresql://USER:PASSWORD@HOST:PORT/DBNAME",
        )
    try:
        port = parts.port
    except ValueError:
        raise MigdoctorError(f"{source}: the port is not a number", "") from None
    values = {"host": unquote(parts.hostname or ""), "port": str(port or DEFAULT_PORT),
              "dbname": unquote(parts.path.lstrip("/")), "user": unquote(parts.username or ""),
              "password": unquote(parts.password or "")}  # fmt: skip
    params = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in _FIELDS:
            values[key] = value
        else:
            params.append((key, value))
    if not values["port"].isdigit():
        raise MigdoctorError(f"{source}: the port is not a number", "")
    return Target(name, values["host"], int(values["port"]), values["dbname"], values["user"],
                  values["password"], source, tuple(params))  # fmt: skip


def parse_named(spec: str) -> Target:
    """`--database NAME=URL` as a target named NAME."""
    name, sep, url = spec.partition("=")
    if not sep or not _NAME.fullmatch(name):
        raise MigdoctorError(
            "--database expects NAME=URL (NAME: letters, digits, _ . -)",
            "for example --database docker=postgresql://postgres@127.0.0.1:5433/app",
        )
    return parse_url(url, name, f"--database {name}")
