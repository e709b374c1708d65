"""What `migrate APP TARGET` would unapply, before it runs: read from the migration files and the
migrations one database has applied (Django is never imported).

`preview_rollback` follows Django's `MigrationExecutor.migration_plan` for a backwards target:
the same migrations, dependent apps included, in the same order. For each operation it says
whether running it backwards is impossible (Django stops there: `IrreversibleError`), drops data
(a table or a column the operation created), or does something migdoctor cannot know (a custom
operation, an operation list it could not read). Django unapplies one migration at a time, each
in its own transaction, so the ones before an irreversible migration stay unapplied when it stops.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

from migdoctor.errors import MigdoctorError
from migdoctor.probes import NodeKey
from migdoctor.probes.migration_ast import Call, Operation, Ref
from migdoctor.probes.migration_build import MigrationGraph, build_graph
from migdoctor.probes.migration_parse import (
    DEFAULT_SETTINGS,
    MigrationFile,
    Settings,
    model_app,
    setting,
)
from migdoctor.probes.migration_queries import root_nodes, successors
from migdoctor.probes.schema_history import SchemaChange, schema_changes

IRREVERSIBLE: Final = "irreversible"
DROPS: Final = "drops"
UNKNOWN: Final = "unknown"
ZERO: Final = "zero"

# Operations Django (and django.contrib.postgres) knows how to run backwards. RunPython, RunSQL
# and SeparateDatabaseAndState depend on their arguments; any other class is a custom operation.
_REVERSIBLE: Final = frozenset({
    "CreateModel", "DeleteModel", "RenameModel", "AlterModelTable", "AlterModelTableComment",
    "AlterUniqueTogether", "AlterIndexTogether", "AlterOrderWithRespectTo", "AlterModelOptions",
    "AlterModelManagers", "AddField", "RemoveField", "AlterField", "RenameField", "AddIndex",
    "RemoveIndex", "RenameIndex", "AddConstraint", "RemoveConstraint", "AlterConstraint",
    "CreateExtension", "BloomExtension", "BtreeGinExtension", "BtreeGistExtension",
    "CITextExtension", "CryptoExtension", "HStoreExtension", "TrigramExtension",
    "UnaccentExtension", "AddIndexConcurrently", "RemoveIndexConcurrently", "CreateCollation",
    "RemoveCollation", "AddConstraintNotValid", "ValidateConstraint",
})  # fmt: skip
# What reversing them drops when the table or column cannot be named (inside
# SeparateDatabaseAndState, whose database operations the schema replay does not follow).
_DROPPING: Final = {"CreateModel": "the table of model {name}",
                    "AddField": "column {name} of model {model_name}"}  # fmt: skip
_CODE: Final = {"RunPython": "reverse_code", "RunSQL": "reverse_sql"}


@dataclass(frozen=True)
class Reversal:
    """One operation run backwards. `effect`: IRREVERSIBLE, DROPS (data goes), UNKNOWN (cannot
    be told from the file), or "" (nothing is dropped); `detail` says what happens."""

    operation: str
    line: int
    effect: str
    detail: str


@dataclass(frozen=True)
class Unapply:
    """A migration `migrate` would unapply, its operations in file order as `migrate --plan`
    lists them (Django reverses them last first)."""

    key: NodeKey
    path: str
    reversals: tuple[Reversal, ...]

    @property
    def label(self) -> str:
        return f"{self.key[0]}.{self.key[1]}"

    def having(self, effect: str) -> tuple[Reversal, ...]:
        return tuple(r for r in self.reversals if r.effect == effect)

    @property
    def irreversible(self) -> bool:
        return bool(self.having(IRREVERSIBLE))


@dataclass(frozen=True)
class RollbackPreview:
    """`migrate app_label target`. `target` is resolved (None: zero); `backwards` is False when
    the target is not applied, so that `migrate` would apply migrations instead."""

    app_label: str
    target: NodeKey | None
    backwards: bool
    unapply: tuple[Unapply, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def target_name(self) -> str:
        return ZERO if self.target is None else self.target[1]

    @property
    def stop(self) -> Unapply | None:
        """The first migration Django cannot unapply: the rollback ends there, failed."""
        return next((u for u in self.unapply if u.irreversible), None)

    @property
    def reached(self) -> tuple[Unapply, ...]:
        """The migrations really unapplied: all of them, or those before the stop."""
        stop = self.stop
        return self.unapply if stop is None else self.unapply[: self.unapply.index(stop)]

    @property
    def drops(self) -> tuple[tuple[Unapply, Reversal], ...]:
        """Every operation whose reversal drops data, stop or not."""
        return tuple((u, r) for u in self.unapply for r in u.having(DROPS))


def preview_rollback(
    graph: MigrationGraph,
    applied: Collection[NodeKey],
    app_label: str,
    target: str,
    settings: Settings = DEFAULT_SETTINGS,
) -> RollbackPreview:
    """What `migrate app_label target` would unapply on a database that has `applied`.

    `graph` is built for that database (`drift.graph_for(migs, applied)`), so squashed
    migrations are used or not as Django's loader would. `target` is a migration name, a prefix
    of one (as `migrate` takes it) or `zero`. Raises `MigdoctorError` for an app without
    migrations and a target that names no migration, or more than one.
    """
    if app_label not in {key[0] for key in graph.files}:
        apps = ", ".join(sorted({key[0] for key in graph.files})) or "none"
        raise MigdoctorError(f"app {app_label!r} has no migrations in this project",
                             f"the apps with migrations: {apps}")  # fmt: skip
    done = _applied_as_loaded(graph, applied)
    if target == ZERO:
        keys = _unapply_all(graph, app_label, done)
        return _preview(graph, app_label, None, keys, settings)
    key = _resolve(graph, app_label, target)
    if key not in done:
        return RollbackPreview(app_label, key, backwards=False)
    if key not in graph.nodes:  # replaced by a squash: Django plans without replacements
        graph = _without_squashes(graph, applied)
        done = set(applied)
    return _preview(graph, app_label, key, _unapply_after(graph, key, done), settings)


def _applied_as_loaded(graph: MigrationGraph, applied: Collection[NodeKey]) -> set[NodeKey]:
    """The applied set as Django's loader leaves it: a squash counts as applied exactly when
    everything it replaces is."""
    done = set(applied)
    for squash in graph.squashes:
        if len(squash.applied) == len(squash.replaces):
            done.add(squash.key)
        else:
            done.discard(squash.key)
    return done


def _resolve(graph: MigrationGraph, app_label: str, target: str) -> NodeKey:
    """Django's `get_migration_by_prefix`, then a partly applied squash's last replaced one."""
    names = sorted(
        name for app, name in graph.files if app == app_label and name.startswith(target)
    )
    if len(names) > 1:
        raise MigdoctorError(f"more than one migration of {app_label} matches {target!r}: "
                             + ", ".join(names), "give more of its name")  # fmt: skip
    if not names:
        known = ", ".join(sorted(name for app, name in graph.files if app == app_label))
        raise MigdoctorError(f"no migration of {app_label} matches {target!r}",
                             f"its migrations: {known}; or zero")  # fmt: skip
    key = (app_label, names[0])
    unused = {s.key: s for s in graph.squashes if not s.used}
    return unused[key].replaces[-1] if key not in graph.nodes and key in unused else key


def _without_squashes(graph: MigrationGraph, applied: Collection[NodeKey]) -> MigrationGraph:
    files = [replace(f, replaces=()) for f in graph.files.values()]
    return build_graph(files, applied, apps={key[0] for key in graph.files})


def _backwards_plan(children: Mapping[NodeKey, Sequence[NodeKey]], start: NodeKey) -> list[NodeKey]:
    """Django's `MigrationGraph.backwards_plan`: a depth-first walk of the dependents, each
    listed after everything that depends on it (the same order, ties included)."""
    visited: list[NodeKey] = []
    seen: set[NodeKey] = set()
    stack = [(start, False)]
    while stack:
        node, processed = stack.pop()
        if node in seen:
            continue
        if processed:
            seen.add(node)
            visited.append(node)
        else:
            stack.append((node, True))
            stack += [(child, False) for child in sorted(children[node])]
    return visited


def _collect(graph: MigrationGraph, starts: list[NodeKey], done: set[NodeKey]) -> list[NodeKey]:
    """The applied migrations of each start's backwards plan, each once, in plan order."""
    children = successors(graph)
    left, keys = set(done), []
    for start in starts:
        for key in _backwards_plan(children, start):
            if key in left:
                keys.append(key)
                left.discard(key)
    return keys


def _unapply_all(graph: MigrationGraph, app_label: str, done: set[NodeKey]) -> list[NodeKey]:
    return _collect(graph, root_nodes(graph, app_label), done)


def _unapply_after(graph: MigrationGraph, target: NodeKey, done: set[NodeKey]) -> list[NodeKey]:
    """Not back to the target itself: through its children in its own app, and no further."""
    following = sorted(
        e.child for e in graph.edges if e.parent == target and e.child[0] == target[0]
    )
    return _collect(graph, following, done)


def _preview(graph: MigrationGraph, app_label: str, target: NodeKey | None, keys: list[NodeKey],
             settings: Settings) -> RollbackPreview:  # fmt: skip
    created = _created(graph, settings) if keys else {}
    unapply = tuple(_unapply(graph.nodes[key], created) for key in keys)
    return RollbackPreview(app_label, target, True, unapply, tuple(_outside(graph, keys, settings)))


def _outside(graph: MigrationGraph, keys: list[NodeKey], settings: Settings) -> list[str]:
    """Django's admin (and any app with a user foreign key) depends on the first migration of
    the user model's app; apps outside the project are not read, so say what they may add."""
    user_app = model_app(str(setting(settings, "AUTH_USER_MODEL")))
    firsts = [key for key in keys if key[0] == user_app and key in root_nodes(graph, user_app)]
    if not firsts:
        return []
    return [f"{firsts[0][0]}.{firsts[0][1]} is the first migration of the user model's app: "
            "migrations of apps outside the project (django.contrib.admin, installed packages) "
            "that depend on it are not read, and Django unapplies them first"]  # fmt: skip


_Created = Mapping[tuple[NodeKey, int, str], list[SchemaChange]]


def _created(graph: MigrationGraph, settings: Settings) -> _Created:
    """The tables and columns each operation created, by (migration, line, operation)."""
    found: dict[tuple[NodeKey, int, str], list[SchemaChange]] = {}
    for change in schema_changes(graph, settings):
        if change.action == "created":
            found.setdefault((change.node, change.line, change.operation), []).append(change)
    return found


def _unapply(migration: MigrationFile, created: _Created) -> Unapply:
    reversals = [_reversal(op, migration.key, created) for op in migration.operations]
    unread = [n.removeprefix("not read: ") for n in migration.notes if n.startswith("not read")]
    reversals += [Reversal("", migration.line, UNKNOWN, f"not read: {text}") for text in unread]
    return Unapply(migration.key, migration.path, tuple(reversals))


def _reversal(op: Operation, node: NodeKey, created: _Created) -> Reversal:
    if op.kind in _CODE:
        return _code(op)
    if op.kind == "SeparateDatabaseAndState":
        return _separate(op)
    if op.kind not in _REVERSIBLE:
        why = "a custom operation; whether it can be reversed, and what that drops, is not known"
        return Reversal(op.kind, op.line, UNKNOWN, f"{describe(op)}: {why}")
    changes = created.get((node, op.line, op.kind), [])
    if changes:
        return Reversal(op.kind, op.line, DROPS, f"{describe(op)}: {_dropped(changes)}")
    return Reversal(op.kind, op.line, "", f"{describe(op)}: nothing dropped")


def _dropped(changes: list[SchemaChange]) -> str:
    tables = [c.table for c in changes if c.column is None]
    columns = [f"{c.table}.{c.column}" for c in changes if c.column and c.table not in tables]
    return "; ".join([*(f"drops table {t}" for t in tables),
                      *(f"drops column {c}" for c in columns)])  # fmt: skip


def _code(op: Operation) -> Reversal:
    """RunPython and RunSQL reverse only with reverse code; Django checks it before reversing
    any operation of the migration, so nothing of this migration is undone."""
    param = _CODE[op.kind]
    reverse = op.get(param)
    if reverse is None:
        return Reversal(op.kind, op.line, IRREVERSIBLE, f"{describe(op)} has no {param}")
    return Reversal(op.kind, op.line, "", f"{describe(op)}: runs its {param} {_text(reverse)}")


def _separate(op: Operation) -> Reversal:
    """SeparateDatabaseAndState reverses its database operations only (the state ones touch no
    table). An irreversible one among them fails with NotImplementedError half-way."""
    nested = op.get("database_operations", ())
    if not isinstance(nested, tuple):
        return Reversal(op.kind, op.line, UNKNOWN, f"{op.kind}: database_operations not read")
    inner = [_inner(n) for n in nested if isinstance(n, Operation)]
    for effect in (IRREVERSIBLE, DROPS, UNKNOWN):
        found = [r.detail for r in inner if r.effect == effect]
        if found:
            return Reversal(op.kind, op.line, effect, f"{op.kind}: " + "; ".join(found))
    return Reversal(op.kind, op.line, "", f"{op.kind}: nothing dropped")


def _inner(op: Operation) -> Reversal:
    if op.kind in _CODE or op.kind == "SeparateDatabaseAndState":
        return _reversal(op, ("", ""), {})
    template = _DROPPING.get(op.kind)
    if template is not None:
        what = template.format(name=op.get("name"), model_name=op.get("model_name"))
        return Reversal(op.kind, op.line, DROPS, f"{describe(op)}: drops {what}")
    return _reversal(op, ("", ""), {})


def describe(op: Operation) -> str:
    """`AddField article.slug`, `RenameField ticket.description -> body`,
    `RunPython(lowercase_status)`."""
    if op.kind == "RunPython":
        return f"RunPython({_text(op.get('code'))})"
    names = [
        str(op.get(k)) for k in ("model_name", "name", "old_name") if isinstance(op.get(k), str)
    ]
    new = op.get("new_name")
    return " ".join(
        [op.kind, ".".join(names), *((f"-> {new}",) if isinstance(new, str) else ())]
    ).strip()


def _text(value: object, limit: int = 40) -> str:
    """An argument as the file reads: a name, a call, or the start of a literal (SQL)."""
    if isinstance(value, Ref):
        return value.text
    if isinstance(value, Call):
        return f"{value.path}(...)"
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
