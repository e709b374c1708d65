"""Writing planned file changes: every new text goes to a temporary file next to its target
first, and only when all are written do they replace their targets (`os.replace`), so a failure
while writing leaves the project as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileChange:
    """`path` gets `text` and, when `new_path` differs, is renamed to it."""

    path: Path
    new_path: Path
    text: bytes

    @property
    def renamed(self) -> bool:
        return self.new_path != self.path


def apply_changes(changes: Sequence[FileChange]) -> None:
    staged: list[tuple[str, FileChange]] = []
    try:
        for change in changes:
            staged.append((_stage(change), change))
    except OSError:
        for temp, _ in staged:
            _remove(Path(temp))
        raise
    for temp, change in staged:
        os.replace(temp, change.new_path)
        if change.renamed:
            change.path.unlink()
        drop_bytecode(change.path)


def _stage(change: FileChange) -> str:
    """The new text in a temporary file beside the target, with the original's mode. Its name
    starts with a dot and does not end in `.py`: Django never loads it as a migration."""
    fd, temp = tempfile.mkstemp(prefix=".migdoctor-", suffix=".tmp", dir=change.new_path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(change.text)
        shutil.copymode(change.path, temp)
    except OSError:
        _remove(Path(temp))
        raise
    return temp


def drop_bytecode(source: Path) -> None:
    """Compiled copies of a changed or renamed module. A stale one could be loaded: a renamed
    file's legacy `.pyc` is a module of its own, and a rewrite of the same size within the
    same second passes Python's timestamp check."""
    stem = source.name.removesuffix(".py")
    for compiled in (source.parent / "__pycache__").glob(f"{stem}.*.pyc"):
        _remove(compiled)
    _remove(source.with_suffix(".pyc"))


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
