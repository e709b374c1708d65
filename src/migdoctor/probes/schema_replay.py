"""The model state after a list of migrations, replayed from their operations (no Django import).

`apply_operation` changes the state as Django's `state_forwards` would, for the parts the schema
depends on; `SeparateDatabaseAndState` and `RunSQL(state_operations=...)` follow their state
operations, as Django's model state does. `replay` runs the operations of the given migrations,
`applied_order` says which migrations those are and in what order.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import replace
from types import MappingProxyType

from migdoctor.probes import NodeKey
from migdoctor.probes.migration_ast import Operation
from migdoctor.probes.migration_build import MigrationGraph
from migdoctor.probes.migration_parse import Settings, setting
from migdoctor.probes.migration_queries import topological_order
from migdoctor.probes.schema_model import (
    FieldState,
    ModelKey,
    ModelState,
    column_name,
    field_state,
)

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
