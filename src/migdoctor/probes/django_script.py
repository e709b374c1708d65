"""Ask Django itself about a project's migrations; print one JSON document on stdout.

    python -B -c "$(cat django_script.py)" path/to/manage.py [ALIAS ...]

Run by the project's own interpreter (locally, or in the web container through Compose), so it
imports nothing but Django and the standard library, and its syntax stays valid on Python 3.8.
`DJANGO_SETTINGS_MODULE` comes from the environment, else from manage.py's
`os.environ.setdefault(...)`; manage.py's folder goes first on sys.path, as `python manage.py`
puts it. Read-only: nothing here writes (`makemigrations` runs with `--check --dry-run`), and a
missing SQLite file is not created by opening it. No session setting is changed either: behind a
transaction-pooling bouncer it would outlive this run on a shared server connection.

Every error is reported inside the JSON (`error` for the whole run, `errors` per section, each
`{"type": ..., "message": ...}`); the settings are never printed, and the databases' passwords
(of four characters or more), `password=` values and URL logins are scrubbed from messages and
outputs. Whatever the project prints goes to stderr: stdout carries the JSON alone.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
import warnings
from collections.abc import Callable
from typing import Any

FORMAT = 1
SETTINGS_LINE = re.compile(
    r"""DJANGO_SETTINGS_MODULE['"]\s*(?:,|\]\s*=)\s*['"]([A-Za-z_][\w.]*)['"]"""
)
HEADING = re.compile(r"^Migrations for '([^']+)':")
FREE_TEXT = frozenset({"message", "output", "warnings"})
SECTIONS = ("vendor", "graph", "applied", "inconsistent", "plan", "tables")
TOP = ("django", "settings_module", "settings_source", "error", "makemigrations")


def scrub(text: str, passwords: list[str]) -> str:
    """The text without a password, a `password=...` or the login of a URL."""
    text = re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", text, flags=re.I)
    text = re.sub(r"(://[^:/@\s]*):[^@\s]*@", r"\1:***@", text)
    for password in passwords:
        text = text.replace(password, "***")
    return text


def scrub_report(value: Any, passwords: list[str], free: bool = False) -> Any:
    """A copy of `value` with its messages, outputs and warnings scrubbed."""
    if isinstance(value, dict):
        return {k: scrub_report(v, passwords, k in FREE_TEXT) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_report(item, passwords, free) for item in value]
    return scrub(value, passwords) if free and isinstance(value, str) else value


def error_of(exc: BaseException) -> dict[str, str]:
    message = str(exc) if not isinstance(exc, SystemExit) else f"exit status {exc.code}"
    return {"type": type(exc).__name__, "message": message.strip()}


def settings_module(manage_py: str) -> tuple[str, str]:
    """The settings module and where it came from: `environment` or `manage.py`."""
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        return os.environ["DJANGO_SETTINGS_MODULE"], "environment"
    with open(manage_py, encoding="utf-8", errors="replace") as handle:
        found = SETTINGS_LINE.search(handle.read())
    if found is None:
        raise LookupError("no DJANGO_SETTINGS_MODULE in the environment nor in " + manage_py)
    os.environ["DJANGO_SETTINGS_MODULE"] = found.group(1)
    return found.group(1), "manage.py"


def setup(manage_py: str, report: dict[str, Any]) -> list[str]:
    """Settings module, sys.path and `django.setup()`; the passwords of the databases."""
    report["stage"] = "settings"
    report["settings_module"], report["settings_source"] = settings_module(manage_py)
    folder = os.path.dirname(os.path.abspath(manage_py))
    if sys.path and sys.path[0] in ("", "."):
        sys.path[0] = folder
    else:
        sys.path.insert(0, folder)
    report["stage"] = "import"
    import django  # type: ignore[import-untyped]

    report["django"] = django.get_version()
    report["stage"] = "setup"
    django.setup()
    from django.conf import settings  # type: ignore[import-untyped]

    databases = settings.DATABASES.values()
    return [str(db["PASSWORD"]) for db in databases if len(str(db.get("PASSWORD") or "")) > 3]


def section(errors: dict[str, Any], name: str, work: Callable[[], Any]) -> Any:
    """`work()`, or None with its error recorded under `name`."""
    try:
        return work()
    except (Exception, SystemExit) as exc:  # reported as data, never as a traceback
        errors[name] = error_of(exc)
        return None


def connect(alias: str) -> Any:
    """The alias's connection, opened (a missing SQLite file is an error, not created)."""
    from django.db import connections  # type: ignore[import-untyped]

    connection = connections[alias]
    name = str(connection.settings_dict.get("NAME") or "")
    memory = name == ":memory:" or name.startswith("file:")
    if connection.vendor == "sqlite" and not memory and not os.path.exists(name):
        raise FileNotFoundError("SQLite database file does not exist: " + name)
    connection.ensure_connection()
    return connection


def pairs(keys: Any) -> list[list[str]]:
    return sorted([str(app), str(name)] for app, name in keys)


def graph_of(loader: Any) -> dict[str, Any]:
    graph = loader.graph
    leaves: dict[str, list[str]] = {}
    for app, name in graph.leaf_nodes():
        leaves.setdefault(app, []).append(name)
    edges = [[list(node.key), list(parent.key)] for node in graph.node_map.values()
             for parent in node.parents]  # fmt: skip
    return {
        "nodes": pairs(graph.nodes),
        "edges": sorted(edges),
        "leaves": leaves,
        "conflicts": {app: sorted(names) for app, names in loader.detect_conflicts().items()},
        "unmigrated_apps": sorted(loader.unmigrated_apps),
    }


def loaders(connection: Any, errors: dict[str, Any]) -> tuple[Any, Any]:
    """The executor `migrate` would use, and its loader (without the database if it fails)."""
    from django.db.migrations.executor import MigrationExecutor  # type: ignore[import-untyped]
    from django.db.migrations.loader import MigrationLoader  # type: ignore[import-untyped]

    executor = None
    if connection is not None:
        executor = section(errors, "applied", lambda: MigrationExecutor(connection))
    if executor is not None:
        return executor, executor.loader
    loader = section(errors, "graph", lambda: MigrationLoader(None, ignore_no_migrations=True))
    return None, loader


def inconsistency(loader: Any, connection: Any) -> Any:
    """Django's InconsistentMigrationHistory message and every (child, parent) it concerns."""
    from django.db.migrations.exceptions import (  # type: ignore[import-untyped]
        InconsistentMigrationHistory,
    )

    try:
        loader.check_consistent_history(connection)
    except InconsistentMigrationHistory as exc:
        message = str(exc)
    else:
        return None
    applied, graph, found = loader.applied_migrations, loader.graph, []
    for key in applied:
        for parent in graph.node_map[key].parents if key in graph.nodes else ():
            replaced = loader.replacements.get(parent.key)
            skip = replaced is not None and all(k in applied for k in replaced.replaces)
            if parent.key not in applied and not skip:
                found.append([list(key), list(parent.key)])
    return {"message": message, "pairs": sorted(found)}


def tables_of(connection: Any) -> dict[str, list[str]]:
    introspection, found = connection.introspection, {}
    with connection.cursor() as cursor:
        for table in sorted(introspection.table_names(cursor)):
            found[table] = [col.name for col in introspection.get_table_description(cursor, table)]
    return found


def database(alias: str) -> dict[str, Any]:
    """What Django knows about one database alias; each failing section in `errors`."""
    errors: dict[str, Any] = {}
    out: dict[str, Any] = dict.fromkeys(SECTIONS)
    out["errors"] = errors
    connection = section(errors, "connection", lambda: connect(alias))
    if connection is not None:
        out["vendor"] = connection.vendor
    executor, loader = loaders(connection, errors)
    if loader is not None:
        out["graph"] = section(errors, "graph", lambda: graph_of(loader))
    if executor is not None:
        out["applied"] = pairs(loader.applied_migrations)
        out["inconsistent"] = section(
            errors, "inconsistent", lambda: inconsistency(loader, connection)
        )
        plan = section(errors, "plan", lambda: executor.migration_plan(loader.graph.leaf_nodes()))
        if plan is not None:
            out["plan"] = [[m.app_label, m.name] for m, backwards in plan if not backwards]
        out["tables"] = section(errors, "tables", lambda: tables_of(connection))
    return out


def parse_changes(output: str) -> dict[str, list[str]]:
    """`Migrations for 'app':` headings and the operation lines under them."""
    changes: dict[str, list[str]] = {}
    app = None
    for line in output.splitlines():
        heading = HEADING.match(line)
        if heading:
            app = heading.group(1)
            changes[app] = []
        elif app is not None and line.startswith("    ") and line.strip():
            changes[app].append(line.strip())
    return changes


def makemigrations(connected: bool) -> dict[str, Any]:
    """`makemigrations --check --dry-run`: its exit status, output and the apps it names.

    Its autodetector alone when the command refuses (a conflict, an inconsistent history), or
    when the default database could not be opened: the command would open it, and so create a
    missing SQLite file."""
    if connected:
        result = run_command()
    else:
        result = {"source": "makemigrations", "exit_status": None, "output": "", "error": None,
                  "warnings": ["not run: the default database could not be opened"]}  # fmt: skip
    status = result["exit_status"]
    changes = parse_changes(result["output"]) if status in (0, 1) else None
    if status is None:
        changes = autodetect(result)
    result["changes"] = changes
    result["apps"] = None if changes is None else sorted(changes)
    return result


def run_command() -> dict[str, Any]:
    from django.core.management import call_command  # type: ignore[import-untyped]

    out, error = io.StringIO(), None
    status: int | None = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call_command("makemigrations", check=True, dry_run=True, interactive=False,
                         no_color=True, verbosity=1, stdout=out, stderr=out)  # fmt: skip
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
        except Exception as exc:  # conflicts, inconsistent history: reported as data
            status, error = None, error_of(exc)
    return {"source": "makemigrations", "exit_status": status, "output": out.getvalue(),
            "error": error, "warnings": [str(w.message) for w in caught]}  # fmt: skip


def autodetect(result: dict[str, Any]) -> Any:
    """The changes makemigrations would write, from its autodetector (no database)."""
    from django.apps import apps  # type: ignore[import-untyped]
    from django.db.migrations.autodetector import (  # type: ignore[import-untyped]
        MigrationAutodetector,
    )
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.questioner import (  # type: ignore[import-untyped]
        NonInteractiveMigrationQuestioner,
    )
    from django.db.migrations.state import ProjectState  # type: ignore[import-untyped]

    result["source"] = "autodetector"
    try:
        loader = MigrationLoader(None, ignore_no_migrations=True)
        questioner = NonInteractiveMigrationQuestioner(specified_apps=set(), dry_run=True)
        questioner.verbosity = 0  # it has no log to write to (and Django < 4 has no verbosity)
        detector = MigrationAutodetector(
            loader.project_state(), ProjectState.from_apps(apps), questioner
        )
        found = detector.changes(graph=loader.graph)
    except (Exception, SystemExit) as exc:
        failed = error_of(exc)
        result["warnings"].append("autodetector: {type}: {message}".format(**failed))
        return None
    return {app: [op.describe() for m in migrations for op in m.operations]
            for app, migrations in found.items()}  # fmt: skip


def run(argv: list[str]) -> Any:
    """The report on the project of `argv[1]`, for the aliases that follow (default: default)."""
    report: dict[str, Any] = dict.fromkeys(TOP)
    report.update(format=FORMAT, python=sys.version.split()[0], executable=sys.executable)
    report["databases"] = {}
    passwords: list[str] = []
    try:
        if len(argv) < 2:
            raise ValueError("usage: python -c SCRIPT path/to/manage.py [ALIAS ...]")
        passwords = setup(argv[1], report)
        report["stage"] = "probe"
        for alias in argv[2:] or ["default"]:
            report["databases"][alias] = database(alias)
        default = report["databases"].get("default", {"errors": {"connection": None}})
        report["makemigrations"] = makemigrations("connection" not in default["errors"])
    except (Exception, SystemExit) as exc:
        report["error"] = dict(error_of(exc), stage=report.get("stage", "start"))
    report.pop("stage", None)
    return scrub_report(report, passwords)


def main() -> None:
    stdout = sys.stdout
    sys.stdout = sys.stderr  # the project's prints must not spoil the JSON
    try:
        report = run(sys.argv)
    finally:
        sys.stdout = stdout
        close()
    stdout.write("\n" + json.dumps(report, sort_keys=True, default=str) + "\n")
    stdout.flush()


def close() -> None:
    django_db = sys.modules.get("django.db")
    if django_db is not None:
        with contextlib.suppress(Exception):  # closing is best effort
            django_db.connections.close_all()


if __name__ == "__main__":
    main()
