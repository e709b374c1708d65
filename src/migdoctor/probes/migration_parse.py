"""Static parsing of one Django migration file with `ast` (Django is never imported).

`parse_migration` turns one file's source into a `MigrationFile`: its dependencies, replaces,
run_before, initial flag and operations with their literal arguments. A file that cannot be
parsed becomes a `ProbeFinding` (label `bad-migration-file`) instead of an exception.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, TypeVar

from migdoctor.probes import NodeKey, ProbeFinding
from migdoctor.probes.migration_ast import (
    Call,
    Operation,
    Ref,
    class_attributes,
    to_operation,
    to_value,
)

Settings = Mapping[str, object]
"""Django settings the parser needs (`AUTH_USER_MODEL`, flags read by conditional lists)."""

DEFAULT_SETTINGS: Final[Settings] = MappingProxyType({"AUTH_USER_MODEL": "auth.User"})
_Item = TypeVar("_Item")  # what one item of a list expression is read as


@dataclass(frozen=True)
class MigrationFile:
    """What a migration file declares.

    `notes` says where the static reading may differ from Django's: expressions it could not
    read, and conditions it assumed true (`[...] if app_settings.SITES_ENABLED else []`).
    """

    app_label: str
    name: str
    path: str
    line: int
    dependencies: tuple[NodeKey, ...] = ()
    replaces: tuple[NodeKey, ...] = ()
    run_before: tuple[NodeKey, ...] = ()
    initial: bool | None = None
    operations: tuple[Operation, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def key(self) -> NodeKey:
        return (self.app_label, self.name)


def model_app(model: str) -> str:
    """The app label of a model reference such as `auth.User` or `accounts.Member`."""
    return model.split(".", 1)[0]


def _dependency(node: ast.expr, settings: Settings) -> NodeKey | None:
    """A dependency tuple, or a swappable dependency resolved through `settings`."""
    value = to_value(node)
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return (str(value[0]), str(value[1]))
    if isinstance(value, Call) and value.name == "swappable_dependency" and value.args:
        model = _setting(value.args[0], settings)
        return (model_app(model), "__first__") if isinstance(model, str) else None
    return None


def _setting(value: object, settings: Settings) -> object:
    """A literal, or `settings.NAME` looked up in `settings` (None when unknown)."""
    if isinstance(value, Ref):
        name = value.text.removeprefix("settings.")
        return setting(settings, name) if value.text.startswith("settings.") else None
    if isinstance(value, Call) and value.name == "getattr" and len(value.args) == 3:
        key, default = value.args[1], value.args[2]
        return settings.get(key, default) if isinstance(key, str) else None
    return value


def setting(settings: Settings, name: str) -> object:
    """A setting's value, falling back on Django's default (`AUTH_USER_MODEL = "auth.User"`)."""
    return settings[name] if name in settings else DEFAULT_SETTINGS.get(name)


def _condition(node: ast.expr, settings: Settings) -> bool | None:
    """The truth of a literal or settings-based condition; None when it cannot be known."""
    value = _setting(to_value(node), settings)
    return None if value is None or isinstance(value, (Ref, Call)) else bool(value)


def _items(node: ast.expr, settings: Settings, notes: list[str]) -> list[ast.expr] | None:
    """The items of a list expression: a literal, `a + b`, or `a if condition else b`."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return list(node.elts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _items(node.left, settings, notes), _items(node.right, settings, notes)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.IfExp):
        known = _condition(node.test, settings)
        if known is None:
            notes.append(f"assumed true: {ast.unparse(node.test)}")
        return _items(node.body if known is None or known else node.orelse, settings, notes)
    return None


def _read_list(
    node: ast.expr, settings: Settings, notes: list[str], read: Callable[[ast.expr], _Item | None]
) -> list[_Item]:
    """What `read` makes of each item of a list expression; `notes` gets what it cannot read."""
    items = _items(node, settings, notes)
    if items is None:
        notes.append(f"not read: {ast.unparse(node)}")
        return []
    found = []
    for item in items:
        value = read(item)
        if value is None:
            notes.append(f"not read: {ast.unparse(item)}")
        else:
            found.append(value)
    return found


def _keys(node: ast.expr, settings: Settings, notes: list[str]) -> list[NodeKey]:
    """The node keys of a dependencies / replaces / run_before list; `notes` gets the rest."""
    return _read_list(node, settings, notes, lambda item: _dependency(item, settings))


def _operations(node: ast.expr, settings: Settings, notes: list[str]) -> tuple[Operation, ...]:
    return tuple(_read_list(node, settings, notes, to_operation))


def from_class(
    cls: ast.ClassDef, app_label: str, name: str, path: str, settings: Settings
) -> MigrationFile:
    """Read a `class Migration(migrations.Migration)` body."""
    attrs = class_attributes(cls)
    notes: list[str] = []
    lists = {
        attr: tuple(_keys(attrs[attr], settings, notes)) if attr in attrs else ()
        for attr in ("dependencies", "replaces", "run_before")
    }
    ops = _operations(attrs["operations"], settings, notes) if "operations" in attrs else ()
    initial = to_value(attrs["initial"]) if "initial" in attrs else None
    return MigrationFile(
        app_label, name, path, cls.lineno, lists["dependencies"], lists["replaces"],
        lists["run_before"], initial if isinstance(initial, bool) else None, ops, tuple(notes),
    )  # fmt: skip


def bad_file(app_label: str, name: str, path: str, line: int | None, why: str) -> ProbeFinding:
    return ProbeFinding(
        kind="bad-file",
        label="bad-migration-file",
        message=f"Migration {app_label}.{name} cannot be loaded: {why}",
        hint=f"Fix or remove {path}; Django stops at the first migration it cannot import.",
        path=path,
        line=line,
        nodes=((app_label, name),),
    )


def parse_migration(
    source: str | bytes,
    app_label: str,
    name: str,
    path: str,
    settings: Settings = DEFAULT_SETTINGS,
) -> MigrationFile | ProbeFinding:
    """Parse one migration's source; a syntax error or a missing class is a finding."""
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        return bad_file(app_label, name, path, exc.lineno, f"{exc.msg} (line {exc.lineno})")
    except (ValueError, UnicodeDecodeError) as exc:
        return bad_file(app_label, name, path, None, str(exc))
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Migration":
            return from_class(stmt, app_label, name, path, settings)
    return bad_file(app_label, name, path, None, "it has no Migration class")
