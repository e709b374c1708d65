"""Writing planned changes of migration files all at once.

Every file is first checked unchanged since it was read, then every new text goes to a
temporary file next to its target, and only when all are written do they replace their targets
(`os.replace`): a failure before that leaves the project as it was, and a reader never sees
half a file. Compiled copies of the changed files are removed last.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileChange:
    """`path`, read as `original`, gets `data` and, when `new_path` differs, is renamed to it."""

    path: Path
    new_path: Path
    original: bytes
    data: bytes

    @property
    def renamed(self) -> bool:
        return self.new_path != self.path


class ChangedSinceRead(Exception):
    """A file changed (`what` = "changed") or a new name was taken ("appeared") after the plan
    read the files: nothing was written."""

    def __init__(self, path: Path, what: str) -> None:
        super().__init__(f"{path} {what} since it was read")
        self.path = path
        self.what = what


class WriteError(Exception):
    """Writing stopped on an OS error; `replaced` lists the files already in place."""

    def __init__(self, cause: OSError, replaced: Sequence[Path]) -> None:
        super().__init__(str(cause))
        self.replaced = tuple(replaced)


def apply_changes(changes: Sequence[FileChange]) -> list[Path]:
    """Write every change (see the module); the compiled files removed, sorted."""
    _check_unchanged(changes)
    staged: list[tuple[Path, FileChange]] = []
    try:
        for change in changes:
            staged.append((_stage(change), change))
    except OSError as exc:
        _remove_all(temp for temp, _ in staged)
        raise WriteError(exc, ()) from None
    replaced: list[Path] = []
    for index, (temp, change) in enumerate(staged):
        try:
            os.replace(temp, change.new_path)
            replaced.append(change.new_path)
            if change.renamed:
                change.path.unlink()
        except OSError as exc:
            _remove_all(temp for temp, _ in staged[index:])
            raise WriteError(exc, replaced) from None
    removed = []
    for compiled in stale_bytecode(changes):
        with contextlib.suppress(OSError):  # the sources are in place: do not stop there
            compiled.unlink()
            removed.append(compiled)
    return removed


def stale_bytecode(changes: Sequence[FileChange]) -> list[Path]:
    """The compiled copies of the changed files (under their old and new names), sorted. A
    stale one could still be loaded: a renamed file's legacy `.pyc` is a module of its own, and
    a rewrite of the same size within the same second passes Python's timestamp check."""
    found: set[Path] = set()
    for source in {path for c in changes for path in (c.path, c.new_path)}:
        stem = source.name.removesuffix(".py")
        found.update((source.parent / "__pycache__").glob(f"{stem}.*.pyc"))
        legacy = source.with_suffix(".pyc")
        if legacy.is_file():
            found.add(legacy)
    return sorted(found)


def _check_unchanged(changes: Sequence[FileChange]) -> None:
    for change in changes:
        if _read_bytes(change.path) != change.original:
            raise ChangedSinceRead(change.path, "changed")
        if change.renamed and change.new_path.exists():
            raise ChangedSinceRead(change.new_path, "appeared")


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _stage(change: FileChange) -> Path:
    """The new text in a temporary file beside the target, with the original's mode. Its name
    starts with a dot and does not end in `.py`: Django never loads it as a migration."""
    fd, temp = tempfile.mkstemp(prefix=".migdoctor-", suffix=".tmp", dir=change.new_path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(change.data)
            handle.flush()
            os.fsync(handle.fileno())
        shutil.copymode(change.path, temp)
    except OSError:
        _remove_all([Path(temp)])
        raise
    return Path(temp)


def _remove_all(paths: Iterable[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
