"""Expressions of a migration file as plain values, read with `ast` (Django is never imported).

`to_value` gives a literal's Python value, a `Call` for a constructor call and a `Ref` (source
text) for anything else; `to_operation` reads one entry of `operations` with every argument
under its parameter name, as `Operation`.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

# Positional parameter names of the operations, in Django's order, so that
# `migrations.AddField("book", "title", models.CharField())` reads like its keyword form.
_PARAMS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "CreateModel": ("name", "fields", "options", "bases", "managers"),
        "DeleteModel": ("name",),
        "RenameModel": ("old_name", "new_name"),
        "AlterModelTable": ("name", "table"),
        "AlterModelTableComment": ("name", "table_comment"),
        "AlterUniqueTogether": ("name", "unique_together"),
        "AlterIndexTogether": ("name", "index_together"),
        "AlterOrderWithRespectTo": ("name", "order_with_respect_to"),
        "AlterModelOptions": ("name", "options"),
        "AlterModelManagers": ("name", "managers"),
        "AddField": ("model_name", "name", "field", "preserve_default"),
        "RemoveField": ("model_name", "name"),
        "AlterField": ("model_name", "name", "field", "preserve_default"),
        "RenameField": ("model_name", "old_name", "new_name"),
        "AddIndex": ("model_name", "index"),
        "RemoveIndex": ("model_name", "name"),
        "RenameIndex": ("model_name", "new_name", "old_name", "old_fields"),
        "AddConstraint": ("model_name", "constraint"),
        "RemoveConstraint": ("model_name", "name"),
        "AlterConstraint": ("model_name", "name", "constraint"),
        "RunSQL": ("sql", "reverse_sql", "state_operations", "hints", "elidable"),
        "RunPython": ("code", "reverse_code", "atomic", "hints", "elidable"),
        "SeparateDatabaseAndState": ("database_operations", "state_operations"),
    }
)
_NESTED: Final = frozenset({"database_operations", "state_operations"})


@dataclass(frozen=True)
class Ref:
    """An expression that is not a literal, kept as source text: `settings.AUTH_USER_MODEL`."""

    text: str


@dataclass(frozen=True)
class Call:
    """A constructor call such as `models.CharField(max_length=10, db_column="x")`."""

    name: str  # the class name alone: "CharField"
    path: str  # as written: "models.CharField"
    args: tuple[object, ...]
    kwargs: Mapping[str, object]


@dataclass(frozen=True)
class Operation:
    """One entry of `operations`: its class name and its arguments, all by parameter name."""

    kind: str
    args: Mapping[str, object]
    line: int

    def get(self, name: str, default: object = None) -> object:
        return self.args.get(name, default)


def dotted(node: ast.expr) -> str | None:
    """`models.deletion.CASCADE` for an attribute chain on a name, else None."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"  # the usual `models.CharField`, quickly
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def to_value(node: ast.expr) -> object:
    """A literal as its Python value; calls as `Call`; anything else as `Ref` (source text)."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Call):
        return to_call(node)
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(map(to_value, node.elts))
    if isinstance(node, ast.Dict):
        keys = [None if k is None else to_value(k) for k in node.keys]
        return dict(zip(keys, map(to_value, node.values), strict=True))
    if isinstance(node, ast.Set):
        return frozenset(map(to_value, node.elts))
    name = dotted(node)
    if name is not None:
        return Ref(name)
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return Ref(ast.unparse(node))


def to_call(node: ast.Call) -> Call:
    path = dotted(node.func) or ast.unparse(node.func)
    kwargs = {kw.arg: to_value(kw.value) for kw in node.keywords if kw.arg is not None}
    return Call(path.rpartition(".")[2], path, tuple(map(to_value, node.args)), kwargs)


def to_operation(node: ast.expr) -> Operation | None:
    """`migrations.AddField(...)` as an `Operation`; None when it is not a call."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    kind = func.attr if isinstance(func, ast.Attribute) else dotted(func) or ast.unparse(func)
    args: dict[str, object] = {}
    if node.args:
        names = _PARAMS.get(kind) or tuple(f"arg{i}" for i in range(len(node.args)))
        for name, value in zip(names, node.args, strict=False):
            args[name] = _operation_list(value) if name in _NESTED else to_value(value)
    for keyword in node.keywords:
        param, value = keyword.arg, keyword.value
        if param is not None:
            args[param] = _operation_list(value) if param in _NESTED else to_value(value)
    return Operation(kind, args, node.lineno)


def _operation_list(node: ast.expr) -> object:
    """The operations inside SeparateDatabaseAndState or RunSQL(state_operations=...)."""
    if not isinstance(node, (ast.List, ast.Tuple)):
        return to_value(node)
    return tuple(op for op in map(to_operation, node.elts) if op is not None)


def class_attributes(cls: ast.ClassDef) -> dict[str, ast.expr]:
    """`name = value` statements of a class body (plain or annotated)."""
    attributes: dict[str, ast.expr] = {}
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign):
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, value = stmt.target, stmt.value
        else:
            continue
        if isinstance(target, ast.Name):
            attributes[target.id] = value
    return attributes
