"""Where playbooks live: the built-in knowledge base and the user's own folders."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "MIGDOCTOR_KB"


def builtin_dir() -> Path:
    """`knowledge/playbooks` inside an installed wheel, or at the top of a source checkout."""
    package = Path(__file__).resolve().parent.parent
    for root in (package / "knowledge", package.parent.parent / "knowledge"):
        if (root / "playbooks").is_dir():
            return root / "playbooks"
    return package / "knowledge" / "playbooks"


def user_dirs(options: list[Path] | None = None) -> list[Path]:
    """Folders from `--kb` options first, then from the MIGDOCTOR_KB path list."""
    dirs = list(options or [])
    for item in os.environ.get(ENV_VAR, "").split(os.pathsep):
        if item.strip():
            dirs.append(Path(item.strip()).expanduser())
    return dirs


def playbook_files(directory: Path) -> list[Path]:
    names = sorted(e.name for e in os.scandir(directory)
                   if e.name.endswith((".yaml", ".yml")) and not e.name.startswith("."))
    return [directory / name for name in names]
