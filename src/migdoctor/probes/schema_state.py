"""Expected tables and columns, replayed from the migrations' operations (no Django import).

The replay keeps a small model state per `(app_label, model_name_lower)` and names tables and
columns the way Django does on PostgreSQL: `applabel_modelname` (truncated to 63 characters
with Django's hash suffix), `db_table`, `db_column`, `<field>_id` for foreign keys and
`<table>_<field>` for many-to-many tables that have no `through` model. Proxy and unmanaged
models have no table. `SeparateDatabaseAndState` and `RunSQL(state_operations=...)` follow
their state operations, as Django's model state does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from migdoctor.probes import NodeKey
from migdoctor.probes.migration_files import (
    DEFAULT_SETTINGS,
    Call,
    Operation,
    Ref,
    Settings,
    setting,
)
from migdoctor.probes.migration_graph import MigrationGraph, topological_order

MAX_NAME_LENGTH = 63  # PostgreSQL's NAMEDATALEN - 1, as Django's `max_name_length()`
_FK_KINDS = frozenset({"ForeignKey", "OneToOneField", "ParentalKey", "TreeForeignKey"})
_M2M_KINDS = frozenset({"ManyToManyField", "ParentalManyToManyField", "TaggableManager"})
ModelKey = tuple[str, str]


@dataclass(frozen=True)
class FieldState:
    """A field as far as the schema cares: its column, or its many-to-many table."""

    name: str
    kind: str
    column: str | None  # None for many-to-many fields
    to: ModelKey | None = None  # the related model, `(app_label, model_name_lower)`
    db_column: bool = False  # the column is set by `db_column=`, so renames keep it
    m2m_table: str | None = None  # an explicit `db_table` of a many-to-many field
    through: bool = False  # a many-to-many field with its own `through` model: no auto table


@dataclass(frozen=True)
class ModelState:
    app_label: str
    name: str
    fields: tuple[FieldState, ...]
    db_table: str | None = None
    proxy: bool = False
    managed: bool = True
    swapped: bool = False  # replaced through a setting, like auth.User by AUTH_USER_MODEL
    ordered: bool = False  # `order_with_respect_to` adds the `_order` column

    @property
    def key(self) -> ModelKey:
        return (self.app_label, self.name.lower())

    @property
    def has_table(self) -> bool:
        return self.managed and not self.proxy and not self.swapped


@dataclass(frozen=True)
class Table:
    """A table the migrations create; `model` is `app.Model` or `app.Model.field` (m2m)."""

    name: str
    columns: tuple[str, ...]
    model: str


@dataclass(frozen=True)
class Schema:
    tables: Mapping[str, Table]

    def columns(self, table: str) -> tuple[str, ...] | None:
        found = self.tables.get(table)
        return None if found is None else found.columns


def truncate_name(name: str, length: int = MAX_NAME_LENGTH, hash_len: int = 4) -> str:
    """Django's `truncate_name`: keep the start and add an md5-based suffix."""
    if len(name) <= length:
        return name
    digest = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()[:hash_len]
    return name[: length - hash_len] + digest


def table_name(model: ModelState) -> str:
    return model.db_table or truncate_name(f"{model.app_label}_{model.name.lower()}")


def related_model(value: object, model: ModelKey, settings: Settings) -> ModelKey | None:
    """`to=` as a model key: `"app.Model"`, `"Model"` (same app), `"self"`, or a setting."""
    if isinstance(value, Ref) and value.text.startswith("settings."):
        value = setting(settings, value.text.removeprefix("settings."))
    if not isinstance(value, str):
        return None
    app, _, name = value.rpartition(".")
    return model if value == "self" else (app or model[0], name.lower())


def column_name(kind: str, name: str) -> str:
    is_fk = kind in _FK_KINDS or kind.endswith("ForeignKey")
    return f"{name}_id" if is_fk else name


def field_state(name: str, field: object, model: ModelKey, settings: Settings) -> FieldState:
    """A field constructor such as `models.ForeignKey(to="auth.User", db_column="owner")`."""
    if not isinstance(field, Call):
        return FieldState(name, "", name)
    to = related_model(
        field.kwargs.get("to", field.args[0] if field.args else None), model, settings
    )
    if field.name in _M2M_KINDS:
        table = field.kwargs.get("db_table")
        through = "through" in field.kwargs or field.name == "TaggableManager"
        explicit = table if isinstance(table, str) else None
        return FieldState(name, field.name, None, to, m2m_table=explicit, through=through)
    db_column = field.kwargs.get("db_column")
    if isinstance(db_column, str):
        return FieldState(name, field.name, db_column, to, db_column=True)
    return FieldState(name, field.name, column_name(field.name, name), to)


def m2m_table(model: ModelState, field: FieldState, target_managed: bool = True) -> Table | None:
    """The table Django creates for a many-to-many field without a `through` model.

    It is managed when either side is, so an unmanaged model can still get one.
    """
    if field.through or field.column is not None or model.proxy or model.swapped:
        return None
    if not (model.managed or target_managed):
        return None
    source = model.name.lower()
    target = field.to[1] if field.to else ""
    if source == target:
        source, target = f"from_{source}", f"to_{source}"
    name = field.m2m_table or truncate_name(f"{table_name(model)}_{field.name}")
    columns = ("id", f"{source}_id", f"{target}_id")
    return Table(name, columns, f"{model.app_label}.{model.name}.{field.name}")


def model_tables(
    model: ModelState, models: Mapping[ModelKey, ModelState]
) -> dict[str | None, Table]:
    """The model's tables by role: None for its own table, the field name for m2m tables."""
    tables: dict[str | None, Table] = {}
    if model.has_table:
        columns = [f.column for f in model.fields if f.column is not None]
        columns += ["_order"] if model.ordered else []
        tables[None] = Table(table_name(model), tuple(columns), f"{model.app_label}.{model.name}")
    for field in model.fields:
        target = models.get(field.to) if field.to else None
        table = m2m_table(model, field, target is None or target.managed)
        if table is not None:
            tables[field.name] = table
    return tables


def schema_of(models: Mapping[ModelKey, ModelState]) -> Schema:
    tables = {t.name: t for m in models.values() for t in model_tables(m, models).values()}
    return Schema(dict(sorted(tables.items())))


Models = dict[ModelKey, ModelState]


def _fields(value: object, model: ModelKey, settings: Settings) -> tuple[FieldState, ...]:
    pairs = value if isinstance(value, tuple) else ()
    return tuple(
        field_state(pair[0], pair[1], model, settings)
        for pair in pairs
        if isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)
    )


def _create(models: Models, app: str, op: Operation, settings: Settings) -> None:
    name = str(op.get("name"))
    options = op.get("options")
    opts: Mapping[object, object] = options if isinstance(options, Mapping) else {}
    table = opts.get("db_table")
    models[(app, name.lower())] = ModelState(
        app_label=app,
        name=name,
        fields=_fields(op.get("fields"), (app, name.lower()), settings),
        db_table=table if isinstance(table, str) else None,
        proxy=bool(opts.get("proxy")),
        managed=opts.get("managed", True) is not False,
        swapped=_swapped(opts.get("swappable"), f"{app}.{name}", settings),
        ordered=bool(opts.get("order_with_respect_to")),
    )


def _swapped(name: object, label: str, settings: Settings) -> bool:
    """Django's `Options.swapped`: the setting names another model than this one."""
    value = setting(settings, name) if isinstance(name, str) else None
    if not isinstance(value, str) or "." not in value:
        return False
    app, _, model = value.partition(".")
    return f"{app}.{model.lower()}" != label.lower()


def _model(models: Models, app: str, op: Operation) -> ModelState | None:
    name = op.get("model_name", op.get("name"))
    return models.get((app, name.lower())) if isinstance(name, str) else None


def _delete(models: Models, app: str, op: Operation, settings: Settings) -> None:
    model = _model(models, app, op)
    if model is not None:
        del models[model.key]


def _rename_model(models: Models, app: str, op: Operation, settings: Settings) -> None:
    old, new = str(op.get("old_name")), str(op.get("new_name"))
    model = models.pop((app, old.lower()), None)
    if model is None:
        return
    models[(app, new.lower())] = replace(model, name=new)
    old_key, new_key = (app, old.lower()), (app, new.lower())
    for key, other in models.items():
        if any(f.to == old_key for f in other.fields):
            fields = tuple(replace(f, to=new_key) if f.to == old_key else f for f in other.fields)
            models[key] = replace(other, fields=fields)


def _options(models: Models, app: str, op: Operation, settings: Settings) -> None:
    model = _model(models, app, op)
    if model is None:
        return
    if op.kind == "AlterModelTable":
        table = op.get("table")
        models[model.key] = replace(model, db_table=table if isinstance(table, str) else None)
    elif op.kind == "AlterOrderWithRespectTo":
        models[model.key] = replace(model, ordered=bool(op.get("order_with_respect_to")))
    else:  # AlterModelOptions: keys it leaves out go back to their defaults
        options = op.get("options")
        managed = options.get("managed", True) if isinstance(options, Mapping) else True
        models[model.key] = replace(model, managed=managed is not False)


def _set_field(models: Models, app: str, op: Operation, settings: Settings) -> None:
    """AddField, AlterField, RemoveField and RenameField."""
    model = _model(models, app, op)
    if model is None:
        return
    old = str(op.get("old_name", op.get("name"))).lower()
    current = next((f for f in model.fields if f.name.lower() == old), None)
    if op.kind == "RemoveField":
        new = None
    elif op.kind == "RenameField":
        new = _renamed(current, str(op.get("new_name"))) if current else None
    else:
        new = field_state(str(op.get("name")), op.get("field"), model.key, settings)
    fields = [new if f is current else f for f in model.fields]
    fields += [new] if current is None else []
    models[model.key] = replace(model, fields=tuple(f for f in fields if f is not None))


def _renamed(field: FieldState, name: str) -> FieldState:
    if field.column is None or field.db_column:
        return replace(field, name=name)
    return replace(field, name=name, column=column_name(field.kind, name))


_HANDLERS = MappingProxyType(
    {
        "CreateModel": _create,
        "DeleteModel": _delete,
        "RenameModel": _rename_model,
        "AlterModelTable": _options,
        "AlterOrderWithRespectTo": _options,
        "AlterModelOptions": _options,
        "AddField": _set_field,
        "AlterField": _set_field,
        "RemoveField": _set_field,
        "RenameField": _set_field,
    }
)


def state_operations(op: Operation) -> tuple[Operation, ...]:
    """The state operations of SeparateDatabaseAndState and RunSQL / RunPython."""
    nested = op.get("state_operations")
    return tuple(n for n in nested if isinstance(n, Operation)) if isinstance(nested, tuple) else ()


def apply_operation(models: Models, app: str, op: Operation, settings: Settings) -> None:
    """Change `models` as Django's `state_forwards` would (for the schema-relevant parts)."""
    handler = _HANDLERS.get(op.kind)
    if handler is not None:
        handler(models, app, op, settings)
    for nested in state_operations(op):
        apply_operation(models, app, nested, settings)


def applied_order(graph: MigrationGraph, applied: Collection[NodeKey] | None) -> list[NodeKey]:
    """The applied nodes in dependency order; a used squash counts once all it replaces are."""
    order = topological_order(graph)
    if applied is None:
        return order
    done = set(applied)
    done |= {s.key for s in graph.squashes if s.used and len(s.applied) == len(s.replaces)}
    return [key for key in order if key in done]


def replay(
    graph: MigrationGraph, keys: Iterator[NodeKey] | list[NodeKey], settings: Settings
) -> Models:
    models: Models = {}
    for key in keys:
        migration = graph.nodes[key]
        for op in migration.operations:
            apply_operation(models, migration.app_label, op, settings)
    return models


def expected_schema(
    graph: MigrationGraph,
    applied: Collection[NodeKey] | None = None,
    settings: Settings = DEFAULT_SETTINGS,
) -> Schema:
    """The tables and columns the database should have after `applied` (default: all)."""
    return schema_of(replay(graph, applied_order(graph, applied), settings))


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
