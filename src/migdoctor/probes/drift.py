"""Drift: the migration files against what one database has applied and really holds.

Pure functions over the parsed files (`ProjectMigrations`) and a `DatabaseSnapshot`. Per app of
the project (other apps' rows, such as Django's contrib apps, are not judged):

- `ghost`: a row of `django_migrations` without a migration file;
- `pending`: a file that is not applied;
- `missing`: an applied migration whose table or column is not there (UndefinedColumn waiting);
- `present`: an unapplied migration whose table or column is already there, or whose removal is
  already done (DuplicateTable / DuplicateColumn / UndefinedColumn waiting when it runs);
- `fake-candidate`: an unapplied migration whose every change is already there: safe to fake;
- `inconsistent`: an applied migration whose dependency is not applied.

A pending migration is compared change by change with the database when its dependencies are
applied (or are fake candidates themselves): its changes are the difference between the schema
expected with it and without it. Operations whose effect cannot be read from the catalog
(RunPython, RunSQL, AlterField, ...) keep a migration from being a fake candidate.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Final

from migdoctor.probes import NodeKey, ProbeFinding
from migdoctor.probes.database import DatabaseSnapshot
from migdoctor.probes.drift_effects import Effects, Shape, effects, order, shapes
from migdoctor.probes.migration_files import (
    DEFAULT_SETTINGS,
    MigrationFile,
    MigrationsDir,
    Settings,
    load_migrations_cached,
)
from migdoctor.probes.migration_graph import MigrationGraph, build_graph, topological_order
from migdoctor.probes.schema_state import SchemaChange, expected_schema, history, schema_changes

KINDS: Final = ("inconsistent", "missing", "fake-candidate", "present", "pending", "ghost")
ANALYSE_LIMIT: Final = 50  # pending migrations compared change by change, per database
_ERRORS: Final = {"duplicate-table": "DuplicateTable", "duplicate-column": "DuplicateColumn",
                  "undefined-table": "UndefinedTable", "undefined-column": "UndefinedColumn"}


@dataclass(frozen=True)
class ProjectMigrations:
    """The project's migration files. `broken`: files that exist but cannot be parsed."""

    files: tuple[MigrationFile, ...]
    apps: tuple[str, ...]
    broken: frozenset[NodeKey] = frozenset()
    settings: Settings = field(default_factory=lambda: DEFAULT_SETTINGS)

    def names(self, app: str) -> tuple[str, ...]:
        keys = {f.key for f in self.files} | self.broken
        return tuple(sorted(name for a, name in keys if a == app))


@dataclass(frozen=True)
class DriftItem:
    """One disagreement; `level` is `warn` (pending, ghost) or `fail`. `dependency`: the
    unapplied dependency of an `inconsistent` item."""

    kind: str
    target: str
    app_label: str
    migration: str | None
    relation: str | None
    column: str | None
    playbook: str
    cause: str
    level: str = "fail"
    dependency: NodeKey | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"kind": self.kind, "target": self.target, "app_label": self.app_label or None,
                "migration": self.migration, "relation": self.relation, "column": self.column,
                "playbook": self.playbook}  # fmt: skip


def load_project(
    dirs: Iterable[MigrationsDir], settings: Settings = DEFAULT_SETTINGS
) -> tuple[ProjectMigrations, list[ProbeFinding]]:
    """Parse every migrations folder; the findings are the files that cannot be parsed."""
    dirs = list(dirs)
    files, findings = load_migrations_cached(dirs, settings)
    broken = frozenset(key for f in findings for key in f.nodes)
    apps = tuple(sorted({d.app_label for d in dirs}))
    return ProjectMigrations(tuple(files), apps, broken, settings), findings


def applied_keys(snapshot: DatabaseSnapshot, apps: Collection[str] | None = None) -> set[NodeKey]:
    return {(m.app, m.name) for m in snapshot.migrations or () if apps is None or m.app in apps}


def graph_for(migs: ProjectMigrations, applied: Collection[NodeKey]) -> MigrationGraph:
    """The graph as Django's loader builds it against a database with `applied` recorded."""
    return build_graph(migs.files, applied, migs.apps)


def find_drift(
    migs: ProjectMigrations,
    snapshot: DatabaseSnapshot,
    elsewhere: Mapping[str, Collection[NodeKey]] | None = None,
) -> tuple[DriftItem, ...]:
    """Every drift item of one database. `elsewhere`: what other targets applied, by name."""
    rows = applied_keys(snapshot)
    applied = {key for key in rows if key[0] in migs.apps}
    graph = graph_for(migs, applied)
    done = applied | {s.key for s in graph.squashes if s.used and len(s.applied) == len(s.replaces)}
    scan = _Scan(migs, snapshot, graph, done, elsewhere or {})
    items = [*_ghosts(scan, applied), *_inconsistent(scan, rows)]
    unapplied, explained = _unapplied(scan)
    items += _missing(scan, explained) + unapplied
    rank = {kind: i for i, kind in enumerate(KINDS)}
    return tuple(sorted(items, key=lambda i: (i.app_label, i.migration or "", rank[i.kind],
                                              i.relation or "", i.column or "")))


@dataclass(frozen=True)
class _Scan:
    migs: ProjectMigrations
    snap: DatabaseSnapshot
    graph: MigrationGraph
    done: set[NodeKey]
    elsewhere: Mapping[str, Collection[NodeKey]]

    @cached_property
    def expected(self) -> set[Shape]:
        """The tables and columns the applied migrations give."""
        return shapes(expected_schema(self.graph, self.done, self.migs.settings))

    @cached_property
    def changes(self) -> list[SchemaChange]:
        return schema_changes(self.graph, self.migs.settings)

    def item(self, kind: str, app: str, name: str | None, where: Shape | None, playbook: str,
             cause: str, dependency: NodeKey | None = None) -> DriftItem:
        """An item; `cause` follows the migration's name and may say `{target}`."""
        target = self.snap.target.name
        text = (f"{app}.{name} " if name else "") + cause.replace("{target}", target)
        relation, column = where or (None, None)
        level = "warn" if kind in ("pending", "ghost") else "fail"
        return DriftItem(kind, target, app, name, relation, column, playbook, text, level,
                         dependency)  # fmt: skip

    def holds(self, shape: Shape, exists: bool = True) -> bool:
        table, column = shape
        if column is None:
            return self.snap.has_table(table) == exists
        if not exists:
            return self.snap.has_table(table) and not self.snap.has_column(table, column)
        return self.snap.has_column(table, column)


def _ghosts(scan: _Scan, applied: set[NodeKey]) -> list[DriftItem]:
    known = set(scan.graph.files) | scan.migs.broken
    known |= {key for f in scan.migs.files for key in f.replaces}
    return [scan.item("ghost", *key, None, "node-not-found",
                      "is recorded as applied on {target}, but there is no migration file of "
                      "that name: it was deleted or renamed, or comes from another branch")
            for key in sorted(applied - known)]  # fmt: skip


def _parents(graph: MigrationGraph) -> dict[NodeKey, set[NodeKey]]:
    parents: dict[NodeKey, set[NodeKey]] = {key: set() for key in graph.nodes}
    for edge in (*graph.edges, *graph.external):
        if edge.child in parents:
            parents[edge.child].add(edge.parent)
    return parents


def _inconsistent(scan: _Scan, rows: set[NodeKey]) -> list[DriftItem]:
    """Django's `check_consistent_history`, and the same for recorded apps outside the project."""
    items = []
    for key, parents in sorted(_parents(scan.graph).items()):
        if key not in scan.done:
            continue
        for parent in sorted(p for p in parents if not _recorded(p, rows, scan)):
            items.append(scan.item(
                "inconsistent", *key, None, "inconsistent-history",
                f"is applied on {{target}} before its dependency {parent[0]}.{parent[1]}: "
                "migrate refuses to run (InconsistentMigrationHistory)", parent))  # fmt: skip
    return items


def _recorded(parent: NodeKey, rows: set[NodeKey], scan: _Scan) -> bool:
    if parent[0] in scan.migs.apps:
        return parent in scan.done
    if parent[0] not in {app for app, _ in rows} or parent[1] == "__latest__":
        return True  # an app this database never recorded, or a moving target: not judged
    return parent[1] == "__first__" or parent in rows


def _what(shape: Shape) -> str:
    return f"table {shape[0]}" if shape[1] is None else f"column {shape[0]}.{shape[1]}"


def _missing(scan: _Scan, explained: set[Shape]) -> list[DriftItem]:
    """Tables and columns the applied migrations create that the database lacks."""
    changes = [c for c in scan.changes if c.node in scan.done]
    gone = [s for s in sorted(scan.expected, key=order) if not scan.holds(s)]
    gone = [s for s in gone if s[1] is None or scan.snap.has_table(s[0])]
    return [_missing_item(scan, s, changes) for s in gone if s not in explained]


def _missing_item(scan: _Scan, shape: Shape, changes: list[SchemaChange]) -> DriftItem:
    made = [c for c in history(changes, *shape)
            if c.action in ("created", "renamed") and (c.column is None) == (shape[1] is None)]
    app, name = made[-1].node if made else (_app_of(scan, shape[0]), None)
    subject = "is applied on {target}, but the" if name else "on {target}, the"
    playbook = "undefined-table" if shape[1] is None else "undefined-column"
    return scan.item("missing", app, name, shape, playbook,
                     f"{subject} {_what(shape)} it creates is missing (dropped by hand, faked, "
                     f"or an older dump restored): queries and later migrations fail with "
                     f"{_ERRORS[playbook]}")


def _app_of(scan: _Scan, table: str) -> str:
    return next((a for a in scan.migs.apps if table.startswith(f"{a}_")), "")


def _unapplied(scan: _Scan) -> tuple[list[DriftItem], set[Shape]]:
    """Items of the unapplied migrations, and the shapes whose absence their removals explain.

    Migrations whose dependencies are done are compared change by change; a fake candidate
    counts as done for the ones after it.
    """
    parents, done, before = _parents(scan.graph), set(scan.done), scan.expected
    items: list[DriftItem] = []
    explained: set[Shape] = set()
    analysed = 0
    for key in (k for k in topological_order(scan.graph) if k not in scan.done):
        ready = all(p in done or p[0] not in scan.migs.apps for p in parents[key])
        if ready and analysed < ANALYSE_LIMIT:
            analysed += 1
            found = effects(scan.graph, done, key, scan.migs.settings, before)
            judged = _judge(scan, key, found)
            if judged[0].kind == "fake-candidate":
                done.add(key)
                before = (before - set(found.removed)) | set(found.created)
        else:
            found = _ahead(scan, key)
            judged = _judge(scan, key, found, partial=True)
        explained |= {s for s in found.removed if scan.holds(s, False)}
        items += judged
    return items, explained


def _ahead(scan: _Scan, key: NodeKey) -> Effects:
    """What a migration creates that the applied ones lack, and removes that they have (when
    its dependencies are not done, so that it cannot be compared change by change)."""
    mine = [c for c in scan.changes if c.node == key]
    made = {(c.table, c.column) for c in mine if c.action == "created"} - scan.expected
    gone = {(c.table, c.column) for c in mine if c.action == "removed"} & scan.expected
    gone |= {(c.table, c.old_name) for c in mine  # a renamed column: its old name
             if c.action == "renamed" and c.column and c.old_name}  # fmt: skip
    return Effects(tuple(sorted(made, key=order)), tuple(sorted(gone, key=order)))


def _judge(scan: _Scan, key: NodeKey, found: Effects, partial: bool = False) -> list[DriftItem]:
    checks = [(s, True) for s in found.created] + [(s, False) for s in found.removed]
    held = [(s, e) for s, e in checks if scan.holds(s, e)]
    objects = scan.snap.object_names()
    held_names = [n for n, e in found.indexes if (n in objects) == e]
    complete = len(held) == len(checks) and len(held_names) == len(found.indexes)
    if complete and found.checkable and not (found.unchecked or partial):
        return [_fake_candidate(scan, key, found)]
    tables = {s for s, e in held if e and s[1] is None}
    shown = [(s, e) for s, e in held if not (e and s[1] is not None and (s[0], None) in tables)]
    present = [_present(scan, key, s, e, found) for s, e in shown]
    present += [scan.item("present", *key, (name, None), "duplicate-object",
                          f"is not applied on {{target}}, but index {name} already exists")
                for name, exists in found.indexes if exists and name in held_names]
    return present or [_pending(scan, key, found)]


def _playbook(shape: Shape, exists: bool) -> str:
    what = "table" if shape[1] is None else "column"
    return f"duplicate-{what}" if exists else f"undefined-{what}"


def _fake_candidate(scan: _Scan, key: NodeKey, found: Effects) -> DriftItem:
    firsts = [(s, True) for s in found.created] + [(s, False) for s in found.removed]
    shape, exists = firsts[0] if firsts else ((found.indexes[0][0], None), True)
    playbook = _playbook(shape, exists) if firsts else "duplicate-object"
    return scan.item("fake-candidate", *key, shape, playbook,
                     "is not applied on {target}, but every change it makes is already there: "
                     f"safe to fake (migrate {key[0]} {key[1]} --fake)")


def _present(scan: _Scan, key: NodeKey, shape: Shape, exists: bool, found: Effects) -> DriftItem:
    done = "already exists" if exists else "is already gone"
    playbook = _playbook(shape, exists)
    unchecked = (f"; its {', '.join(sorted(set(found.unchecked)))} cannot be checked, so it is "
                 "not safe to fake blindly") if found.unchecked else ""  # fmt: skip
    return scan.item("present", *key, shape, playbook,
                     f"is not applied on {{target}}, but the {_what(shape)} it "
                     f"{'creates' if exists else 'removes'} {done}: migrate will fail with "
                     f"{_ERRORS[playbook]}{unchecked}")


def _pending(scan: _Scan, key: NodeKey, found: Effects) -> DriftItem:
    shape = (found.created or found.removed or (None,))[0]
    others = sorted(name for name, keys in scan.elsewhere.items() if key in keys)
    if others:
        return scan.item("pending", *key, shape, "local-vs-docker-database",
                         f"is not applied on {{target}}, but is on {', '.join(others)}: migrate "
                         "this database the way the other one was migrated")
    tables = any(s[1] is None for s in found.created)
    return scan.item("pending", *key, shape, "undefined-table" if tables else "undefined-column",
                     "is not applied on {target}: run migrate")
