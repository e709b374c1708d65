"""What one migration changes in the database, as far as PostgreSQL's catalog can tell.

A migration's changes are the difference between the schema expected with it and without it,
on top of the migrations already done: so a table created in `0001` and renamed in an applied
`0003` is expected under its new name. Index and constraint names come from the operations.
Operations whose effect the catalog does not show (RunPython, RunSQL, AlterField, ...) are listed
as unchecked.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from migdoctor.probes import NodeKey
from migdoctor.probes.migration_files import DEFAULT_SETTINGS, Call, Operation, Settings
from migdoctor.probes.migration_graph import MigrationGraph
from migdoctor.probes.schema_state import Schema, expected_schema

Shape = tuple[str, str | None]
"""`(table, None)` for a table, `(table, column)` for one of its columns."""

CHECKED: Final = frozenset({
    "CreateModel", "DeleteModel", "RenameModel", "AlterModelTable", "AddField", "RemoveField",
    "RenameField", "AddIndex", "RemoveIndex", "AddConstraint", "RemoveConstraint",
    "AlterModelOptions", "AlterModelManagers",
})  # fmt: skip
_NAMED: Final = frozenset({"AddIndex", "RemoveIndex", "AddConstraint", "RemoveConstraint"})


@dataclass(frozen=True)
class Effects:
    """`created` / `removed`: tables and columns the migration makes exist or go away;
    `indexes`: index and constraint names with whether they exist after it; `unchecked`: the
    kinds of its operations whose effect cannot be read from the catalog."""

    created: tuple[Shape, ...]
    removed: tuple[Shape, ...]
    indexes: tuple[tuple[str, bool], ...] = ()
    unchecked: tuple[str, ...] = ()

    @property
    def checkable(self) -> bool:
        return bool(self.created or self.removed or self.indexes)


def shapes(schema: Schema) -> set[Shape]:
    found: set[Shape] = set()
    for table in schema.tables.values():
        found.add((table.name, None))
        found.update((table.name, column) for column in table.columns)
    return found


def order(shape: Shape) -> tuple[str, bool, str]:
    """Tables before their columns."""
    return (shape[0], shape[1] is not None, shape[1] or "")


def effects(
    graph: MigrationGraph,
    done: Collection[NodeKey],
    key: NodeKey,
    settings: Settings = DEFAULT_SETTINGS,
    before: set[Shape] | None = None,
) -> Effects:
    """The changes of `key` on top of `done` (`before`: the shapes `done` gives, if known)."""
    if before is None:
        before = shapes(expected_schema(graph, done, settings))
    after = shapes(expected_schema(graph, {*done, key}, settings))
    indexes, unchecked = [], []
    for op in graph.nodes[key].operations:
        name = object_name(op)
        if name is not None:
            indexes.append((name, op.kind.startswith("Add")))
        elif op.kind not in CHECKED or op.kind in _NAMED:
            unchecked.append(op.kind)
    return Effects(tuple(sorted(after - before, key=order)),
                   tuple(sorted(before - after, key=order)), tuple(indexes), tuple(unchecked))


def object_name(op: Operation) -> str | None:
    """The name of the index or constraint an operation adds or removes."""
    if op.kind in ("RemoveIndex", "RemoveConstraint"):
        name = op.get("name")
    elif op.kind in ("AddIndex", "AddConstraint"):
        made = op.get("index" if op.kind == "AddIndex" else "constraint")
        name = made.kwargs.get("name") if isinstance(made, Call) else None
    else:
        return None
    return name if isinstance(name, str) else None
