"""Tables and columns as Django names them on PostgreSQL, for a small state of the models.

A `ModelState` per `(app_label, model_name_lower)` holds what the schema cares about; its tables
are named `applabel_modelname` (truncated to 63 characters with Django's hash suffix) or
`db_table`, its columns `db_column` or `<field>_id` for foreign keys, and many-to-many fields
with no `through` model get a `<table>_<field>` table. Proxy, unmanaged and swapped models have
no table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from migdoctor.probes.migration_ast import Call, Ref
from migdoctor.probes.migration_parse import Settings, setting

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
