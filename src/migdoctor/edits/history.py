"""A migration's row in `django_migrations`, in every database the project uses: checked before
anything changes (`check_all`), renamed in one transaction per database afterwards (`rename_row`).

A database that cannot be reached or changed is never skipped quietly: its result says why and
carries the UPDATE to run there by hand. Passwords appear in no result (`scrub`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final

from migdoctor.probes.database import connect as connect_read_only
from migdoctor.probes.database import scrub
from migdoctor.probes.targets import Target

if TYPE_CHECKING:
    from psycopg import Connection

TIMEOUT: Final = 3.0  # seconds, to connect and for each statement

# Each database ends in one of these; the first five leave it consistent with the files.
RENAMED: Final = "renamed"
WOULD_RENAME: Final = "would-rename"  # a dry run, or the plan before the files are written
NOT_APPLIED: Final = "not-applied"
ALREADY_RENAMED: Final = "already-renamed"
SAME_DATABASE: Final = "same-database"
CONFLICT: Final = "conflict"  # both names recorded
UNREACHABLE: Final = "unreachable"
FAILED: Final = "failed"  # reached, but the row could not be read or changed
DONE: Final = frozenset({RENAMED, WOULD_RENAME, NOT_APPLIED, ALREADY_RENAMED, SAME_DATABASE})

_ROWS_SQL: Final = "SELECT name FROM django_migrations WHERE app = %s AND name = ANY(%s)"
_LOCKED_ROWS_SQL: Final = _ROWS_SQL + " FOR UPDATE"
_UPDATE_SQL: Final = "UPDATE django_migrations SET name = %s WHERE app = %s AND name = %s"


@dataclass(frozen=True)
class Rename:
    """The row to rename: `(app, old)` becomes `(app, new)`."""

    app: str
    old: str
    new: str

    def manual_sql(self) -> str:
        """The UPDATE for a person to run, literals quoted (it is shown, never executed)."""
        app, old, new = (_quoted(v) for v in (self.app, self.old, self.new))
        return f"UPDATE django_migrations SET name = {new} WHERE app = {app} AND name = {old};"


@dataclass(frozen=True)
class DatabaseResult:
    """What happened (or would happen) to one database."""

    name: str
    url: str  # the password starred
    status: str
    detail: str = ""
    sql: str = ""  # the UPDATE to run there by hand, when it was not done

    @property
    def done(self) -> bool:
        return self.status in DONE

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "url": self.url, "status": self.status,
                "detail": self.detail or None, "sql": self.sql or None}  # fmt: skip


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def check_all(targets: Sequence[Target], rename: Rename,
              timeout: float = TIMEOUT) -> list[DatabaseResult]:  # fmt: skip
    """Each target's row, read at the same time; a target naming the same database as an
    earlier one is that one (`same-database`), read once."""
    firsts: dict[tuple[str, int, str], Target] = {}
    for target in targets:
        firsts.setdefault(_address(target), target)
    unique = list(firsts.values())
    with ThreadPoolExecutor(max_workers=max(1, len(unique))) as pool:
        found = list(pool.map(lambda t: check(t, rename, timeout), unique))
    read = {t.name: result for t, result in zip(unique, found, strict=True)}
    results = []
    for target in targets:
        first = firsts[_address(target)]
        if first is target:
            results.append(read[target.name])
        else:
            results.append(DatabaseResult(target.name, target.redacted(), SAME_DATABASE,
                                          f"the same database as {first.name}"))  # fmt: skip
    return results


def _address(target: Target) -> tuple[str, int, str]:
    return target.host, target.port, target.dbname


def check(target: Target, rename: Rename, timeout: float = TIMEOUT) -> DatabaseResult:
    """What renaming the row would do in `target`, read in a read-only session."""
    import psycopg

    phase = "connect"
    try:
        with connect_read_only(target, timeout, timeout) as conn:
            phase = "read"
            names = _recorded(conn, rename, _ROWS_SQL)
    except (psycopg.Error, OSError, ValueError) as exc:
        return _not_done(target, rename, phase, exc)
    if names is None:
        return _result(target, NOT_APPLIED, "no django_migrations table")
    return _planned(target, rename, names)


def _recorded(conn: Connection[tuple[Any, ...]], rename: Rename, query: str) -> set[str] | None:
    """Which of the two names are recorded for the app; None without `django_migrations`."""
    exists = conn.execute("SELECT to_regclass('django_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return None
    rows = conn.execute(query, (rename.app, [rename.old, rename.new])).fetchall()
    return {str(row[0]) for row in rows}


def _planned(target: Target, rename: Rename, names: set[str]) -> DatabaseResult:
    if rename.old in names and rename.new in names:
        return _conflict(target, rename)
    if rename.old in names:
        return _result(target, WOULD_RENAME, f"{rename.app}.{rename.old} is applied")
    if rename.new in names:
        return _result(target, ALREADY_RENAMED, f"{rename.app}.{rename.new} is already recorded")
    return _result(target, NOT_APPLIED)


def rename_row(target: Target, rename: Rename, timeout: float = TIMEOUT) -> DatabaseResult:
    """Rename the row in one transaction, the rows locked while it decides."""
    import psycopg

    phase = "connect"
    try:
        with _connect_for_update(target, timeout) as conn:
            phase = "update"
            with conn.transaction():
                names = _recorded(conn, rename, _LOCKED_ROWS_SQL)
                planned = _planned(target, rename, names or set())
                if planned.status == WOULD_RENAME:
                    conn.execute(_UPDATE_SQL, (rename.new, rename.app, rename.old))
    except (psycopg.Error, OSError, ValueError) as exc:
        return _not_done(target, rename, phase, exc)
    if names is None:
        return _result(target, NOT_APPLIED, "no django_migrations table")
    if planned.status == WOULD_RENAME:
        return replace(planned, status=RENAMED, detail="")
    return planned


def _connect_for_update(target: Target, timeout: float) -> Connection[tuple[Any, ...]]:
    """A writable autocommit session whose statements and lock waits are bounded."""
    import psycopg

    limit = int(timeout * 1000)
    given = dict(target.params).get("options", "")
    options = f"{given} -c statement_timeout={limit} -c lock_timeout={limit}".strip()
    return psycopg.connect(target.dsn(), connect_timeout=max(2, math.ceil(timeout)),
                           options=options, autocommit=True,
                           application_name="migdoctor")  # fmt: skip


def _result(target: Target, status: str, detail: str = "") -> DatabaseResult:
    return DatabaseResult(target.name, target.redacted(), status, detail)


def _conflict(target: Target, rename: Rename) -> DatabaseResult:
    drop = (f"DELETE FROM django_migrations WHERE app = {_quoted(rename.app)} "
            f"AND name = {_quoted(rename.old)};")  # fmt: skip
    return DatabaseResult(target.name, target.redacted(), CONFLICT,
                          f"both {rename.old} and {rename.new} are recorded for {rename.app}; "
                          "the old row is left for you to delete", drop)  # fmt: skip


def _not_done(target: Target, rename: Rename, phase: str, exc: BaseException) -> DatabaseResult:
    status = UNREACHABLE if phase == "connect" else FAILED
    reason = scrub(str(exc) or type(exc).__name__, target.password)
    return DatabaseResult(target.name, target.redacted(), status, reason, rename.manual_sql())


def unreachable(name: str, reason: str, rename: Rename) -> DatabaseResult:
    """A database the project uses that no address from here reaches (say, a Compose db service
    that publishes no port)."""
    return DatabaseResult(name, "", UNREACHABLE, reason, rename.manual_sql())
