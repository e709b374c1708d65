"""What the Django probe reports, as types, and how its JSON document becomes them.

A `DjangoReport` holds one `DatabaseReport` per database alias and the `Makemigrations` check.
`read_report` builds them from the document `django_script.py` prints; a document of another
shape raises `ValueError`, `KeyError` or `TypeError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from migdoctor.probes import NodeKey
from migdoctor.probes.migration_build import Edge


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


def read_report(data: Mapping[str, Any], context: str) -> DjangoReport:
    """The report of a run that started (its document's `error` is null)."""
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
