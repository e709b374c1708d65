"""Django's own answers: `django_script.py` run by the project's Python, its JSON as a report.

Locally `python -B -c SCRIPT src/manage.py`, in the web container `docker compose exec -T web
python -B -c SCRIPT src/manage.py`: argv lists, no shell. A `DjangoReport` holds the loader's
graph, the applied migrations, the consistency check, the plan, the tables and what
`makemigrations --check --dry-run` finds; a run that cannot answer is a `ProbeFinding`. Use the
static parse (`migration_graph`) when this probe cannot run.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePath
from typing import Any, Final, Literal

from migdoctor.probes import NodeKey, ProbeFinding
from migdoctor.probes.migration_graph import Edge

Context = Literal["local", "compose"]
DEFAULT_TIMEOUT: Final = 60.0
VENV_DIRS: Final = (".venv", "venv", "env")
SCRIPT_NAME: Final = "django_script.py"
FORMAT: Final = 1
_LABELS: Final = (  # (label, pattern in a failed run's stderr or a section's error), first wins
    ("compose-service-not-running", r"service \S+ is not running|no container found for"),
    ("docker-daemon-unreachable", r"cannot connect to the docker daemon|docker\.sock"),
    ("compose-file-missing", r"no configuration file provided|can't find a suitable configurat"),
    ("db-driver-missing", r"psycopg|mysqlclient|mysqldb|error loading \w+ module"),
    ("db-missing", r'database "[^"]*" does not exist|database file does not exist'),
    ("db-auth-failed", r'authentication failed|role "[^"]*" does not exist|no password supplied'),
    ("db-host-unresolved", r"translate host name|resolve host|name or service not known"),
    ("db-connection-refused", r"connection refused|could not connect|connection to server"),
)


@dataclass(frozen=True)
class SectionError:
    """Why a section of the report is None: the exception's type and message."""

    type: str
    message: str


@dataclass(frozen=True)
class DjangoGraph:
    """The graph of Django's `MigrationLoader`, with every installed app (contrib ones too)."""

    nodes: tuple[NodeKey, ...]
    edges: frozenset[Edge]
    leaves: Mapping[str, tuple[str, ...]]  # app -> leaf names, as `graph.leaf_nodes()` gives
    conflicts: Mapping[str, tuple[str, ...]]  # `loader.detect_conflicts()`
    unmigrated_apps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Inconsistency:
    """`InconsistentMigrationHistory`: Django's message and every (applied, unapplied parent)."""

    message: str
    pairs: tuple[Edge, ...]


@dataclass(frozen=True)
class DatabaseReport:
    """One database alias. A failed section is None, its error in `errors` (`connection`: the
    database could not be opened; the graph then comes from the files alone)."""

    alias: str
    vendor: str | None
    graph: DjangoGraph | None
    applied: tuple[NodeKey, ...] | None
    inconsistent: Inconsistency | None
    plan: tuple[NodeKey, ...] | None  # what `migrate` would apply, in order
    tables: Mapping[str, tuple[str, ...]] | None  # table -> columns, by introspection
    errors: Mapping[str, SectionError]


@dataclass(frozen=True)
class Makemigrations:
    """`makemigrations --check --dry-run`; `apps` None: unknown. When the command refuses (a
    conflict, an inconsistent history: `error`), `source` is its `autodetector`, run alone."""

    apps: tuple[str, ...] | None
    changes: Mapping[str, tuple[str, ...]]
    exit_status: int | None
    output: str
    source: str
    error: SectionError | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class DjangoReport:
    """One run of the probe; the properties read the first alias (`default`)."""

    context: str
    python_version: str
    executable: str
    django_version: str
    settings_module: str
    databases: Mapping[str, DatabaseReport]
    makemigrations: Makemigrations

    @property
    def default(self) -> DatabaseReport:
        return self.databases.get("default") or next(iter(self.databases.values()))

    @property
    def graph(self) -> DjangoGraph | None:
        """The graph: nodes, edges, leaves and conflicts (None: the loader failed)."""
        return self.default.graph

    @property
    def applied(self) -> tuple[NodeKey, ...] | None:
        """The migrations the recorder says are applied (None: the database did not answer)."""
        return self.default.applied

    @property
    def inconsistent(self) -> Inconsistency | None:
        return self.default.inconsistent

    @property
    def plan(self) -> tuple[NodeKey, ...] | None:
        return self.default.plan

    @property
    def tables(self) -> Mapping[str, tuple[str, ...]] | None:
        return self.default.tables

    @property
    def missing_migrations(self) -> tuple[str, ...] | None:
        """Apps whose models changed without a migration; None when unknown."""
        return self.makemigrations.apps


def script_text() -> str:
    """The probe script, as shipped in this package."""
    return resources.files("migdoctor.probes").joinpath(SCRIPT_NAME).read_text(encoding="utf-8")


def find_python(manage_py: str | Path) -> str:
    """The project's interpreter: a `.venv`, `venv` or `env` next to manage.py or one or two
    folders up (the guide's `src/manage.py`), else `python3` from the PATH."""
    folder = Path(manage_py).resolve().parent
    for base in (folder, *folder.parents[:2]):
        for name in VENV_DIRS:
            for candidate in (base / name / "bin" / "python", base / name / "Scripts/python.exe"):
                if candidate.is_file():
                    return str(candidate)
    return "python3"


def probe_argv(
    manage_py: str | PurePath,
    *,
    python: str | Sequence[str] | None = None,
    context: Context = "local",
    compose_argv: Sequence[str] = ("docker", "compose"),
    compose_verb: Sequence[str] = ("exec", "-T"),
    service: str = "web",
    aliases: Sequence[str] = (),
) -> list[str]:
    """The argv that runs the script. Under Compose, `manage_py` is the container's path (or
    relative to the service's working_dir) and `compose_verb` may be `("run", "--rm", "-T")`."""
    if python is None:
        python = find_python(Path(manage_py)) if context == "local" else "python"
    interpreter = [python] if isinstance(python, str) else list(python)
    command = [*interpreter, "-B", "-c", script_text(), str(manage_py), *aliases]
    if context == "compose":
        return [*compose_argv, *compose_verb, service, *command]
    return command


def _shown(argv: Sequence[str]) -> str:
    """The argv for a message, the script's text shown as SCRIPT."""
    return " ".join("SCRIPT" if "\n" in arg else arg for arg in argv)


def run_django_probe(
    manage_py: str | PurePath,
    *,
    python: str | Sequence[str] | None = None,
    context: Context = "local",
    compose_argv: Sequence[str] = ("docker", "compose"),
    compose_verb: Sequence[str] = ("exec", "-T"),
    service: str = "web",
    aliases: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> DjangoReport | ProbeFinding:
    """Run the script and read its report; a failure is a `ProbeFinding`, never raised. `env`
    is the whole environment of the process (the docker CLI's under Compose), None: ours."""
    argv = probe_argv(manage_py, python=python, context=context, compose_argv=compose_argv,
                      compose_verb=compose_verb, service=service, aliases=aliases)  # fmt: skip
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, errors="replace",
                              timeout=timeout, env=None if env is None else dict(env), cwd=cwd,
                              stdin=subprocess.DEVNULL, check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        return failure(f"{_shown(argv)}: no answer within {timeout:g}s", "none", context)
    except OSError as exc:
        return failure(f"cannot run {argv[0]}: {exc.strerror or exc}", "none", context)
    if proc.returncode != 0:
        return classify_failure(proc.returncode, proc.stderr, _shown(argv), context)
    return parse_report(proc.stdout, context)


def _label(text: str) -> str:
    return next((label for label, pattern in _LABELS if re.search(pattern, text, re.I)), "none")


def failure(message: str, label: str | None, context: str, hint: str = "") -> ProbeFinding:
    """A one-line finding of kind `django`, labelled from its text when `label` is None."""
    one_line = " ".join(message.split())
    label = label or _label(one_line)
    if not hint and label == "db-driver-missing":
        hint = "install the driver in the project's environment: pip install 'psycopg[binary]'"
    return ProbeFinding("django", label, f"Django probe ({context}): {one_line}", hint)


def classify_failure(returncode: int, stderr: str, shown: str, context: str) -> ProbeFinding:
    """A run that exited non-zero: the last line of its stderr, labelled when it is known."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    last = lines[-1] if lines else "(no output)"
    return failure(f"{shown} exited with status {returncode}: {last}", _label(stderr), context)


def parse_report(stdout: str, context: str = "local") -> DjangoReport | ProbeFinding:
    """The report in the script's output (its last line), or the finding that says why not."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    try:
        data = json.loads(lines[-1]) if lines else None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not the probe's JSON")
        if data["error"]:
            return _setup_failure(data, context)
        return _report(data, context)
    except (ValueError, KeyError, TypeError, AttributeError, StopIteration) as exc:
        shown = lines[-1][:200] if lines else "(nothing)"
        return failure(f"unreadable answer from the Django probe ({exc}): {shown}", "none", context)


def _setup_failure(data: Mapping[str, Any], context: str) -> ProbeFinding:
    error = data["error"]
    text = f"{error['type']}: {error['message']}"
    if error.get("stage") == "import":
        return failure(f"Django is not importable by {data['executable']}: {text}", "none",
                       context, hint="install the project's requirements in that environment, "
                       "or name the project's interpreter")  # fmt: skip
    return failure(f"Django could not start ({error.get('stage')}): {text}", None, context)


def _report(data: Mapping[str, Any], context: str) -> DjangoReport:
    databases = {alias: _database(alias, raw) for alias, raw in data["databases"].items()}
    if not databases:
        raise ValueError("no database in the report")
    return DjangoReport(
        context=context,
        python_version=str(data["python"]),
        executable=str(data["executable"]),
        django_version=str(data["django"]),
        settings_module=str(data["settings_module"]),
        databases=databases,
        makemigrations=_makemigrations(data["makemigrations"]),
    )


def _key(raw: Sequence[Any]) -> NodeKey:
    app, name = raw
    return str(app), str(name)


def _keys(raw: Sequence[Any] | None) -> tuple[NodeKey, ...] | None:
    return None if raw is None else tuple(_key(item) for item in raw)


def _edges(raw: Sequence[Sequence[Any]]) -> tuple[Edge, ...]:
    return tuple(Edge(_key(child), _key(parent)) for child, parent in raw)


def _names(raw: Mapping[str, Sequence[Any]] | None) -> Mapping[str, tuple[str, ...]]:
    return {str(key): tuple(str(v) for v in values) for key, values in (raw or {}).items()}


def _error(raw: Mapping[str, Any]) -> SectionError:
    return SectionError(str(raw["type"]), str(raw["message"]))


def _graph(raw: Mapping[str, Any] | None) -> DjangoGraph | None:
    if raw is None:
        return None
    return DjangoGraph(
        nodes=_keys(raw["nodes"]) or (),
        edges=frozenset(_edges(raw["edges"])),
        leaves=_names(raw["leaves"]),
        conflicts=_names(raw["conflicts"]),
        unmigrated_apps=tuple(str(app) for app in raw.get("unmigrated_apps", ())),
    )


def _database(alias: str, raw: Mapping[str, Any]) -> DatabaseReport:
    found = raw["inconsistent"]
    return DatabaseReport(
        alias=str(alias),
        vendor=None if raw["vendor"] is None else str(raw["vendor"]),
        graph=_graph(raw["graph"]),
        applied=_keys(raw["applied"]),
        inconsistent=found and Inconsistency(str(found["message"]), _edges(found["pairs"])),
        plan=_keys(raw["plan"]),
        tables=None if raw["tables"] is None else _names(raw["tables"]),
        errors={str(name): _error(error) for name, error in raw["errors"].items()},
    )  # fmt: skip


def _makemigrations(raw: Mapping[str, Any]) -> Makemigrations:
    status = raw["exit_status"]
    return Makemigrations(
        apps=None if raw["apps"] is None else tuple(str(app) for app in raw["apps"]),
        changes=_names(raw["changes"]),
        exit_status=None if status is None else int(status),
        output=str(raw["output"]),
        source=str(raw["source"]),
        error=raw["error"] and _error(raw["error"]),
        warnings=tuple(str(w) for w in raw.get("warnings", ())),
    )


def report_findings(report: DjangoReport) -> list[ProbeFinding]:
    """What a report says is wrong: failed sections, history, conflicts, missing migrations."""
    found = [_section_finding(db.alias, name, error, report.context)
             for db in report.databases.values() for name, error in db.errors.items()]  # fmt: skip
    found += [_inconsistent(db.inconsistent) for db in report.databases.values()
              if db.inconsistent is not None]  # fmt: skip
    conflicts = report.graph.conflicts if report.graph else {}
    found += [_conflict(app, names) for app, names in sorted(conflicts.items())]
    return found + _missing(report.makemigrations)


def _section_finding(alias: str, name: str, error: SectionError, context: str) -> ProbeFinding:
    return failure(f"database {alias!r}, {name}: {error.type}: {error.message}", None, context)


def _inconsistent(found: Inconsistency) -> ProbeFinding:
    nodes = tuple(key for pair in found.pairs for key in pair)
    return ProbeFinding("django", "inconsistent-history", found.message, "apply the missing "
                        "dependency with --fake if its tables exist, else roll the dependent "
                        "migration back first", nodes=nodes)  # fmt: skip


def _conflict(app: str, names: tuple[str, ...]) -> ProbeFinding:
    message = ("Conflicting migrations detected; multiple leaf nodes in the migration graph: "
               f"({', '.join(names)} in {app}).")  # fmt: skip
    return ProbeFinding("django", "migration-conflict", message,
                        f"python manage.py makemigrations --merge {app}",
                        nodes=tuple((app, name) for name in names))  # fmt: skip


def _missing(result: Makemigrations) -> list[ProbeFinding]:
    if result.exit_status == 3:  # the non-interactive questioner gave up
        lines = [line.strip() for line in result.output.splitlines() if line.strip()]
        return [ProbeFinding("django", "non-nullable-field", lines[-1] if lines else "",
                             "give the field a default, or null=True, then makemigrations")]
    return [
        ProbeFinding("django", "missing-migrations", f"Your models in app(s): {app!r} have "
                     "changes that are not yet reflected in a migration: "
                     + "; ".join(result.changes.get(app, ())),
                     f"python manage.py makemigrations {app}")
        for app in result.apps or ()
    ]  # fmt: skip
