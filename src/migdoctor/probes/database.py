"""The database probe: what one PostgreSQL database really holds, read in a read-only session.

`probe(target)` connects (connect timeout, `default_transaction_read_only`, statement timeout,
autocommit) and reads, in at most four queries whatever the size of the schema: the server
version, the session's user, database, search path and privileges on schema `public`, the
database's owner, the rows of `django_migrations`, the tables and columns visible on the search
path, and the names of their indexes and constraints. A failure is a `ProbeFinding` labelled
with the playbook that explains it (`db-connection-refused`, `db-auth-failed`, ...), its message
one line with the password scrubbed: never an exception, never a traceback.

psycopg is imported inside the functions, so that importing this module costs nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, quote_plus

from migdoctor.probes import ProbeFinding
from migdoctor.probes.targets import Target

if TYPE_CHECKING:
    from psycopg import Connection, Cursor

CONNECT_TIMEOUT: Final = 3.0
STATEMENT_TIMEOUT: Final = 5.0
CONSTRAINT_KINDS: Final = MappingProxyType({
    "p": "primary key", "u": "unique", "f": "foreign key", "c": "check", "x": "exclusion",
    "t": "trigger", "n": "not null",
})  # fmt: skip

SESSION_SQL: Final = """
SELECT current_setting('server_version'), current_setting('server_version_num')::int,
       current_user, current_database(), current_schemas(false), pg_get_userbyid(d.datdba),
       r.rolsuper, has_schema_privilege(n.oid, 'USAGE'), has_schema_privilege(n.oid, 'CREATE'),
       (SELECT has_table_privilege(c.oid, 'SELECT') FROM pg_class c
        WHERE c.oid = to_regclass('django_migrations'))
FROM pg_database d JOIN pg_roles r ON r.rolname = current_user
LEFT JOIN pg_namespace n ON n.nspname = 'public'
WHERE d.datname = current_database()"""
MIGRATIONS_SQL: Final = "SELECT app, name, applied FROM django_migrations ORDER BY id"
COLUMNS_SQL: Final = """
SELECT n.nspname, c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod),
       NOT a.attnotnull
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname = ANY(current_schemas(false))
  AND pg_table_is_visible(c.oid)
ORDER BY c.relname, a.attnum"""
NAMES_SQL: Final = """
SELECT t.relname, i.relname, 'index' FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = ANY(current_schemas(false))
UNION ALL
SELECT t.relname, k.conname, k.contype::text FROM pg_constraint k
JOIN pg_class t ON t.oid = k.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = ANY(current_schemas(false))
ORDER BY 1, 2, 3"""
_RELKINDS: Final = {"r": "table", "p": "partitioned table", "v": "view", "m": "materialized view",
                    "f": "foreign table"}  # fmt: skip


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as PostgreSQL writes it: `character varying(200)`, `bigint`
    nullable: bool


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    kind: str  # table, partitioned table, view, materialized view, foreign table
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class AppliedMigration:
    app: str
    name: str
    applied: datetime


@dataclass(frozen=True)
class SchemaObject:
    """An index or a constraint: `kind` is `index`, `primary key`, `unique`, `foreign key`..."""

    table: str
    name: str
    kind: str


@dataclass(frozen=True)
class DatabaseSnapshot:
    """What the database held when probed. `migrations` is None when `django_migrations` does
    not exist (or may not be read: `migrations_unreadable`).

    `public_usage` and `public_create` are the session user's privileges on schema `public`
    (None when the schema does not exist); `queries` counts the statements the probe ran.
    """

    target: Target
    server_version: str
    server_version_num: int
    user: str
    database: str
    owner: str
    superuser: bool
    search_path: tuple[str, ...]
    public_usage: bool | None
    public_create: bool | None
    migrations: tuple[AppliedMigration, ...] | None
    migrations_unreadable: bool = False  # the table exists, the user may not SELECT from it
    tables: Mapping[str, Table] = field(default_factory=lambda: MappingProxyType({}))
    objects: tuple[SchemaObject, ...] = ()
    queries: int = 0

    def has_table(self, name: str) -> bool:
        return name in self.tables

    def has_column(self, table: str, column: str) -> bool:
        found = self.tables.get(table)
        return found is not None and column in found.column_names

    def applied(self, app: str | None = None) -> tuple[str, ...]:
        """`app.name` of each applied migration (of one app: its names), in applied order."""
        rows = self.migrations or ()
        if app is None:
            return tuple(f"{m.app}.{m.name}" for m in rows)
        return tuple(m.name for m in rows if m.app == app)

    def object_names(self, kind: str | None = None) -> frozenset[str]:
        return frozenset(o.name for o in self.objects if kind is None or o.kind == kind)


def connect(
    target: Target,
    timeout: float = CONNECT_TIMEOUT,
    statement_timeout: float = STATEMENT_TIMEOUT,
    cursor_factory: type[Cursor[Any]] | None = None,
) -> Connection[tuple[Any, ...]]:
    """A read-only autocommit session on `target` (libpq waits at least 2 s to connect)."""
    import psycopg

    given = dict(target.params).get("options", "")
    options = (f"{given} -c default_transaction_read_only=on "
               f"-c statement_timeout={int(statement_timeout * 1000)}").strip()  # fmt: skip
    extra: dict[str, Any] = {} if cursor_factory is None else {"cursor_factory": cursor_factory}
    return psycopg.connect(
        target.dsn(), connect_timeout=max(2, math.ceil(timeout)), options=options,
        autocommit=True, application_name="migdoctor", **extra,
    )  # fmt: skip


def probe(
    target: Target, timeout: float = CONNECT_TIMEOUT, statement_timeout: float = STATEMENT_TIMEOUT
) -> DatabaseSnapshot | ProbeFinding:
    """Connect to `target` and read it; a failure of any kind is a finding."""
    try:
        import psycopg
    except ImportError as exc:
        return _finding(target, "db-driver-missing", f"psycopg cannot be imported: {exc}")
    phase = "connect"
    try:
        with connect(target, timeout, statement_timeout) as conn:
            phase = "read"
            return snapshot(conn, target)
    except (psycopg.Error, OSError, ValueError) as exc:  # ValueError: a host name idna refuses
        return classify(exc, target, phase)


def snapshot(conn: Connection[tuple[Any, ...]], target: Target) -> DatabaseSnapshot:
    """Read the database through `conn`: four queries, three without `django_migrations`."""
    ran: list[str] = []

    def rows(sql: str) -> list[tuple[Any, ...]]:
        ran.append(sql)
        return conn.execute(sql).fetchall()

    version, version_num, user, database, path, owner, superuser, usage, create, readable = rows(
        SESSION_SQL
    )[0]  # one row: the session's own database and role always exist
    migrations = None
    if readable:
        migrations = tuple(AppliedMigration(a, n, d) for a, n, d in rows(MIGRATIONS_SQL))
    tables = _tables(rows(COLUMNS_SQL))
    objects = tuple(SchemaObject(t, n, CONSTRAINT_KINDS.get(k, k)) for t, n, k in rows(NAMES_SQL))
    return DatabaseSnapshot(
        target, str(version), int(version_num), str(user), str(database), str(owner),
        bool(superuser), tuple(path), usage, create, migrations, readable is False, tables,
        objects, len(ran),
    )  # fmt: skip


def _tables(rows: list[tuple[Any, ...]]) -> Mapping[str, Table]:
    """Rows of `COLUMNS_SQL` (ordered by table) as tables with their columns in order."""
    heads: dict[str, tuple[str, str]] = {}
    columns: dict[str, list[Column]] = {}
    for schema, name, kind, column, type_, nullable in rows:
        if name not in heads:
            heads[name] = (schema, _RELKINDS.get(kind, kind))
            columns[name] = []
        if column is not None:
            columns[name].append(Column(column, type_, nullable))
    return MappingProxyType({
        name: Table(schema, name, kind, tuple(columns[name]))
        for name, (schema, kind) in heads.items()
    })  # fmt: skip


def snapshot_findings(snap: DatabaseSnapshot) -> tuple[ProbeFinding, ...]:
    """What a good snapshot says is wrong: privileges that make `migrate` fail."""
    where = f"{snap.target.name}: user {snap.user}"
    user, database = _ident(snap.user), _ident(snap.database)
    found = []
    if snap.public_create is False and not snap.superuser:
        found.append(_permission(
            f"{where} may not create tables in schema public of {snap.database} (owned by "
            f"{snap.owner}): migrate will fail",
            f"as the owner or a superuser: GRANT CREATE ON SCHEMA public TO {user}; or ALTER "
            f"DATABASE {database} OWNER TO {user}; (PostgreSQL 15 no longer lets every user "
            "create in public)",
        ))  # fmt: skip
    if snap.migrations_unreadable:
        found.append(_permission(
            f"{where} may not read django_migrations: Django cannot tell what is applied",
            f"connect as the user that ran migrate, or GRANT SELECT, INSERT, UPDATE, DELETE ON "
            f"django_migrations TO {user};",
        ))  # fmt: skip
    return tuple(found)


def _permission(message: str, hint: str) -> ProbeFinding:
    return ProbeFinding("database", "schema-permission-denied", message, hint)


def _ident(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


_LABELS: Final = (  # (label, pattern), first match wins
    ("db-host-unresolved", r"resolve host|translate host name|name or service not known|"
     r"nodename nor servname|name resolution|no address associated|'idna' codec"),
    ("db-missing", r'database "[^"]*" does not exist'),
    ("db-auth-failed", r"authentication failed|role \"[^\"]*\" does not exist|pg_hba\.conf|"
     r"no password supplied|permission denied for database|connect privilege"),
    ("schema-permission-denied", r"permission denied for (schema|table|relation|sequence)"),
    ("lock-timeout", r"statement timeout|lock timeout"),
    ("db-connection-refused", r"connection refused|no such file or directory|timeout expired|"
     r"timed out|no route to host|network is unreachable|closed the connection|starting up|"
     r"shutting down|too many clients|could not connect|connection to server"),
)  # fmt: skip
_HINTS: Final = MappingProxyType({
    "db-host-unresolved": "a Compose service name ({host}) resolves only inside Compose: from "
    "this machine use 127.0.0.1 and the port the db service publishes",
    "db-missing": "create it (createdb -h {host} -p {port} -U {user} {dbname}), or fix "
    "POSTGRES_DB / the URL to name a database that exists",
    "db-auth-failed": "check the user and password; the database of a Compose db service keeps "
    "the credentials it was first created with, whatever .env says now",
    "schema-permission-denied": "GRANT USAGE, CREATE ON SCHEMA public TO {user}; as the owner",
    "lock-timeout": "another session holds a lock: look at pg_stat_activity, then retry",
    "db-connection-refused": "is PostgreSQL running and listening on {host}:{port}? For the "
    "Compose db service: docker compose ps db; docker compose logs db",
    "db-driver-missing": "pip install 'psycopg[binary]'",
    "settings": "check the connection settings (URL parameters, POSTGRES_* values)",
    "none": "",
})  # fmt: skip


def classify(exc: BaseException, target: Target, phase: str = "connect") -> ProbeFinding:
    """The finding for an error of psycopg (or of the socket under it)."""
    text = scrub(str(exc) or type(exc).__name__, target.password)
    lowered = text.lower()
    label = next((lbl for lbl, pattern in _LABELS if re.search(pattern, lowered)), None)
    if label is not None:
        return _finding(target, label, text)
    if phase == "connect":  # libpq refused the settings, or the server the session
        return _finding(target, "db-connection-refused", text, "settings")
    return _finding(target, "none", text)


def _finding(target: Target, label: str, text: str, hint: str | None = None) -> ProbeFinding:
    where = f"{target.name} ({target.redacted()})"
    hint = _HINTS[hint or label].format(host=target.host or "localhost", port=target.port,
                                user=target.user, dbname=target.dbname)  # fmt: skip
    return ProbeFinding(kind="database", label=label, message=f"{where}: {text}",
                        hint=scrub(hint, target.password))  # fmt: skip


def scrub(text: str, password: str) -> str:
    """One line, without the password in any spelling, nor any `password=` or URL login."""
    text = re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", text, flags=re.I)
    text = re.sub(r"(://[^:/@\s]*):[^@\s]*@", r"\1:***@", text)
    if password:
        for spelling in {password, quote(password, safe=""), quote_plus(password),
                         password.replace("\\", "\\\\").replace("'", "\\'")}:  # fmt: skip
            text = text.replace(spelling, "***")
    return " ".join(text.split())
