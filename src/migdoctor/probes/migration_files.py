"""Static parsing of Django migration files with `ast` (Django is never imported).

`parse_migration` turns one file's source into a `MigrationFile`: its dependencies, replaces,
run_before, initial flag and operations with their literal arguments. A file that cannot be
parsed becomes a `ProbeFinding` (label `bad-migration-file`) instead of an exception.
"""

from __future__ import annotations

import ast
import gc
import os
import pickle
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

from migdoctor.probes import NodeKey, ProbeFinding

Settings = Mapping[str, object]
"""Django settings the parser needs (`AUTH_USER_MODEL`, flags read by conditional lists)."""

DEFAULT_SETTINGS: Final[Settings] = MappingProxyType({"AUTH_USER_MODEL": "auth.User"})

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
SKIP_DIRS: Final = frozenset({"node_modules", "site-packages", "dist-packages", "__pycache__"})


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


def _keys(node: ast.expr, settings: Settings, notes: list[str]) -> list[NodeKey]:
    """The node keys of a dependencies / replaces / run_before list; `notes` gets the rest."""
    items = _items(node, settings, notes)
    if items is None:
        notes.append(f"not read: {ast.unparse(node)}")
        return []
    keys = []
    for item in items:
        key = _dependency(item, settings)
        if key is None:
            notes.append(f"not read: {ast.unparse(item)}")
        else:
            keys.append(key)
    return keys


def _class_attributes(cls: ast.ClassDef) -> dict[str, ast.expr]:
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


def _operations(node: ast.expr, settings: Settings, notes: list[str]) -> tuple[Operation, ...]:
    items = _items(node, settings, notes)
    if items is None:
        notes.append(f"not read: {ast.unparse(node)}")
        return ()
    operations = []
    for item in items:
        operation = to_operation(item)
        if operation is None:
            notes.append(f"not read: {ast.unparse(item)}")
        else:
            operations.append(operation)
    return tuple(operations)


def from_class(
    cls: ast.ClassDef, app_label: str, name: str, path: str, settings: Settings
) -> MigrationFile:
    """Read a `class Migration(migrations.Migration)` body."""
    attrs = _class_attributes(cls)
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


@dataclass(frozen=True)
class MigrationsDir:
    """An app's `migrations/` folder. Without `__init__.py` Django ignores it (a namespace)."""

    app_label: str
    path: str
    has_init: bool


def is_migration_file(filename: str) -> bool:
    """Django loads each module of the package whose name does not start with `_` or `~`."""
    return filename.endswith(".py") and filename[0] not in "_~" and "." not in filename[:-3]


def _migrations_dir(path: str) -> MigrationsDir | None:
    """The folder as a `MigrationsDir` if it holds `__init__.py` or `NNNN_*.py` files."""
    try:
        names = os.listdir(path)
    except OSError:
        return None
    has_init = "__init__.py" in names
    numbered = any(n[:4].isdigit() and is_migration_file(n) for n in names)
    if not (has_init or numbered):
        return None
    return MigrationsDir(app_label(Path(path).parent), path, has_init)


def app_label(app_dir: Path) -> str:
    """The `label` of the app's AppConfig in `apps.py` when it sets one, else the folder name."""
    try:
        tree = ast.parse((app_dir / "apps.py").read_bytes())
    except (OSError, SyntaxError, ValueError):
        return app_dir.name
    configs = [_class_attributes(c) for c in tree.body if isinstance(c, ast.ClassDef)]
    chosen = [c for c in configs if _literal(c.get("default")) is True]
    if not chosen and len(configs) == 1:
        chosen = configs
    label = _literal(chosen[0].get("label")) if chosen else None
    return label if isinstance(label, str) and label else app_dir.name


def _literal(node: ast.expr | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _walk(directory: str, skip: bool, found: list[MigrationsDir]) -> None:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if not entry.is_dir(follow_symlinks=False):
            continue
        if entry.name == "migrations":
            migrations = _migrations_dir(entry.path)
            if migrations is not None:
                found.append(migrations)
                continue
        if skip and (entry.name.startswith(".") or entry.name in SKIP_DIRS):
            continue
        _walk(entry.path, skip, found)


def discover(root: str | Path, paths: Sequence[str | Path] | None = None) -> list[MigrationsDir]:
    """The apps' migrations folders, sorted by path.

    Without `paths`, walk `root`, skipping hidden folders (`.venv`, `.git`), `node_modules` and
    site-packages. Each explicit path may be a `migrations/` folder, an app folder that holds
    one, or a folder to walk whole (nothing skipped); relative paths are taken from `root`.
    """
    found: list[MigrationsDir] = []
    if paths is None:
        _walk(str(root), True, found)
    for given in paths or ():
        path = Path(root, given)
        direct = _migrations_dir(str(path if path.name == "migrations" else path / "migrations"))
        if direct is not None:
            found.append(direct)
        else:
            _walk(str(path), False, found)
    return sorted(set(found), key=lambda d: d.path)


def migration_paths(directory: MigrationsDir) -> list[tuple[str, str]]:
    """`(name, path)` of each migration in the folder, sorted by name."""
    try:
        names = sorted(n for n in os.listdir(directory.path) if is_migration_file(n))
    except OSError:
        return []
    return [(n[:-3], os.path.join(directory.path, n)) for n in names]


def load_file(
    app: str, name: str, path: str, settings: Settings = DEFAULT_SETTINGS
) -> MigrationFile | ProbeFinding:
    try:
        with open(path, "rb") as handle:
            source = handle.read()
    except OSError as exc:
        return bad_file(app, name, path, None, exc.strerror or str(exc))
    return parse_migration(source, app, name, path, settings)


ParseCache = dict[str, tuple[tuple[object, ...], "MigrationFile | ProbeFinding"]]
"""Parsed files by path, each with the stamp it was parsed under (see `load_migrations`)."""
_CACHE_FORMAT = 1  # bump when parsing changes what it returns


def _stamp(path: str, app: str, settings_key: str) -> tuple[object, ...] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (_CACHE_FORMAT, stat.st_mtime_ns, stat.st_size, app, settings_key)


def load_migrations(
    dirs: Iterable[MigrationsDir],
    settings: Settings = DEFAULT_SETTINGS,
    cache: ParseCache | None = None,
) -> tuple[list[MigrationFile], list[ProbeFinding]]:
    """Parse every migration of the folders: the files that parsed, and the findings.

    With a `cache`, a file whose size, modification time, app label and settings are those it
    was parsed under is not parsed again, and the cache is updated with what was parsed.
    """
    files: list[MigrationFile] = []
    findings: list[ProbeFinding] = []
    with _collector_paused():
        for directory in dirs:
            for name, path in migration_paths(directory):
                loaded = _load(directory.app_label, name, path, settings, cache)
                (files if isinstance(loaded, MigrationFile) else findings).append(loaded)  # type: ignore[arg-type]
    return files, findings


def _load(
    app: str, name: str, path: str, settings: Settings, cache: ParseCache | None
) -> MigrationFile | ProbeFinding:
    if cache is None:
        return load_file(app, name, path, settings)
    stamp = _stamp(path, app, repr(sorted(settings.items())))
    hit = cache.get(path)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    loaded = load_file(app, name, path, settings)
    if stamp is not None:
        cache[path] = (stamp, loaded)
    return loaded


def read_cache(path: str | Path) -> ParseCache:
    """A parse cache written by `write_cache`; empty when missing, stale or unreadable.

    It is a pickle: keep it in the user's own cache folder, never in a project.
    """
    try:
        with open(path, "rb") as handle, _collector_paused():
            cache = pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError):
        return {}
    return cache if isinstance(cache, dict) else {}


def write_cache(path: str | Path, cache: ParseCache) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(f"{path}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        pickle.dump(cache, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temporary, path)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: parsing allocates many objects but makes no cycles,
    and the collector's passes over them cost about a third of the parse time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
