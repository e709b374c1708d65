"""Where a project's migrations are: the apps' `migrations/` folders and the files in them.

`discover` walks a tree (or looks at the given paths) for `migrations/` folders, each a
`MigrationsDir` labelled with its app's label; `migration_paths` lists the modules Django
would load from one.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from migdoctor.probes.migration_ast import class_attributes

SKIP_DIRS: Final = frozenset({"node_modules", "site-packages", "dist-packages", "__pycache__"})


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
    configs = [class_attributes(c) for c in tree.body if isinstance(c, ast.ClassDef)]
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
