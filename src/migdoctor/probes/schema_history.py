"""The history of each table and column, as the migrations wrote it.

`schema_changes` says which operation of which migration created, altered, renamed or removed
each table and column; `history` follows one of them back through its renames; `app_of_table`
names the app whose migrations last changed a table.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass

from migdoctor.probes import NodeKey
from migdoctor.probes.migration_ast import Operation
from migdoctor.probes.migration_build import MigrationGraph
from migdoctor.probes.migration_parse import DEFAULT_SETTINGS, Settings
from migdoctor.probes.migration_queries import topological_order
from migdoctor.probes.schema_model import ModelKey, Table, model_tables
from migdoctor.probes.schema_replay import Models, apply_operation, state_operations


@dataclass(frozen=True)
class SchemaChange:
    """What one operation did to a table or a column: created, altered, renamed or removed."""

    node: NodeKey
    operation: str
    line: int
    action: str
    table: str
    column: str | None = None
    old_name: str | None = None  # the previous name, for "renamed"


Slot = tuple[ModelKey, str | None]


def _touched(models: Models, app: str, op: Operation) -> dict[ModelKey, ModelKey]:
    """The models an operation may change, as {key before: key after}."""
    if op.kind == "RenameModel":
        old, new = (app, str(op.get("old_name")).lower()), (app, str(op.get("new_name")).lower())
        refs = {k: k for k, m in models.items() if any(f.to == old for f in m.fields)}
        return {**refs, old: new}
    name = op.get("model_name", op.get("name"))
    keys = {(app, name.lower()): (app, name.lower())} if isinstance(name, str) else {}
    for nested in state_operations(op):
        keys.update(_touched(models, app, nested))
    return keys


def _tables(models: Models, keys: Collection[ModelKey]) -> dict[Slot, Table]:
    return {
        (key, role): table
        for key in keys
        if key in models
        for role, table in model_tables(models[key], models).items()
    }


def _column_changes(old: Table, new: Table, op: Operation) -> list[tuple[str, str, str | None]]:
    """(action, column, old name) between two versions of one table."""
    removed = [c for c in old.columns if c not in new.columns]
    added = [c for c in new.columns if c not in old.columns]
    if op.kind in ("RenameField", "AlterField") and len(removed) == len(added) == 1:
        return [("renamed", added[0], removed[0])]
    changes: list[tuple[str, str, str | None]] = [("removed", c, None) for c in removed]
    changes += [("created", c, None) for c in added]
    if op.kind == "AlterField" and not changes:
        name = str(op.get("name"))
        changes += [("altered", c, None) for c in new.columns if c in (name, f"{name}_id")]
    return changes


def _diff(before: dict[Slot, Table], after: dict[Slot, Table]) -> Iterator[tuple[str, ...]]:
    """(action, table, column or "", old name or "") for each change between two snapshots."""
    for slot in sorted(before.keys() | after.keys(), key=repr):
        old, new = before.get(slot), after.get(slot)
        if old is None or new is None:
            table = new or old
            action = "created" if old is None else "removed"
            assert table is not None
            yield (action, table.name, "", "")
            yield from ((action, table.name, c, "") for c in table.columns)
            continue
        if old.name != new.name:
            yield ("renamed", new.name, "", old.name)


def _flatten(operations: Iterable[Operation]) -> Iterator[Operation]:
    """Operations with state operations inside them replaced by those, recursively."""
    for op in operations:
        nested = state_operations(op)
        yield from _flatten(nested) if nested else (op,)


def schema_changes(
    graph: MigrationGraph, settings: Settings = DEFAULT_SETTINGS
) -> list[SchemaChange]:
    """Every table and column change of every migration, in dependency order."""
    models: Models = {}
    changes: list[SchemaChange] = []
    for key in topological_order(graph):
        migration = graph.nodes[key]
        for op in _flatten(migration.operations):
            touched = _touched(models, migration.app_label, op)
            before = _tables(models, list(touched))
            apply_operation(models, migration.app_label, op, settings)
            after = _tables(models, list(touched.values()))
            before = {(touched[k], role): t for (k, role), t in before.items()}
            changes += [
                SchemaChange(key, op.kind, op.line, a, t, c or None, o or None)
                for a, t, c, o in _diff(before, after)
            ]
            changes += [
                SchemaChange(key, op.kind, op.line, action, after[slot].name, column, old)
                for slot in before.keys() & after.keys()
                for action, column, old in _column_changes(before[slot], after[slot], op)
            ]
    return changes


def history(
    changes: list[SchemaChange], table: str, column: str | None = None
) -> list[SchemaChange]:
    """The changes to a table (or one of its columns), following renames back in time."""
    found: list[SchemaChange] = []
    for change in reversed(changes):
        renamed = change.action == "renamed" and change.old_name is not None
        if change.table != table:
            if renamed and change.old_name == table and change.column is None and column is None:
                found.append(change)  # renamed away: `table` is its old name
        elif change.column is None and renamed:
            found.append(change)
            table = change.old_name or table
        elif column is None or change.column == column:
            found.append(change)
            column = change.old_name if column and renamed else column
        elif renamed and change.old_name == column:
            found.append(change)  # this column was renamed away
    return found[::-1]


def app_of_table(changes: list[SchemaChange], table: str) -> str | None:
    """The app whose migrations last created, changed or removed this table."""
    for change in reversed(changes):
        if table in (change.table, change.old_name) and change.column is None:
            return change.node[0]
    return None
