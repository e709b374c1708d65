"""Expected tables and columns, replayed from the migrations' operations (no Django import).

`expected_schema` gives the tables and columns the database should have once the given
migrations are applied. The work is done in `schema_model` (how Django names tables and columns
on PostgreSQL), `schema_replay` (the model state, operation by operation) and `schema_history`
(what each migration did to each table and column); their public names are importable from
here as well.
"""

from __future__ import annotations

from collections.abc import Collection

from migdoctor.probes import NodeKey
from migdoctor.probes.migration_build import MigrationGraph
from migdoctor.probes.migration_parse import DEFAULT_SETTINGS, Settings
from migdoctor.probes.schema_history import (
    SchemaChange,
    Slot,
    app_of_table,
    history,
    schema_changes,
)
from migdoctor.probes.schema_model import (
    MAX_NAME_LENGTH,
    FieldState,
    ModelKey,
    ModelState,
    Schema,
    Table,
    column_name,
    field_state,
    m2m_table,
    model_tables,
    related_model,
    schema_of,
    table_name,
    truncate_name,
)
from migdoctor.probes.schema_replay import (
    Models,
    applied_order,
    apply_operation,
    replay,
    state_operations,
)

__all__ = [  # the public names, defined here or in the modules above
    "MAX_NAME_LENGTH", "FieldState", "ModelKey", "ModelState", "Models", "Schema", "SchemaChange",
    "Slot", "Table", "app_of_table", "applied_order", "apply_operation", "column_name",
    "expected_schema", "field_state", "history", "m2m_table", "model_tables", "related_model",
    "replay", "schema_changes", "schema_of", "state_operations", "table_name", "truncate_name",
]  # fmt: skip


def expected_schema(
    graph: MigrationGraph,
    applied: Collection[NodeKey] | None = None,
    settings: Settings = DEFAULT_SETTINGS,
) -> Schema:
    """The tables and columns the database should have after `applied` (default: all)."""
    return schema_of(replay(graph, applied_order(graph, applied), settings))
