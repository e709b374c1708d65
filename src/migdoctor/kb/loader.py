"""Load the built-in playbooks and the user's own, with a cache of the parsed YAML."""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from pathlib import Path
from typing import Any

from migdoctor.kb.locate import builtin_dir, playbook_files, user_dirs
from migdoctor.kb.problem import KeyPath, PlaybookError
from migdoctor.model import Playbook

CACHE_VERSION = 1


Entry = tuple[Any, dict[KeyPath, int], str]  # checked data, line map, source file


class KnowledgeBase:
    """Checked playbook data; a Playbook is built only when asked for (a big KB starts fast)."""

    def __init__(self, entries: dict[str, Entry], problems: tuple[PlaybookError, ...]) -> None:
        self.entries = entries
        self.problems = problems  # broken user playbooks, reported and skipped
        self._built: dict[str, Playbook] = {}

    def get(self, playbook_id: str) -> Playbook | None:
        if playbook_id not in self._built:
            if playbook_id not in self.entries:
                return None
            from migdoctor.kb.build import build_playbook

            self._built[playbook_id] = build_playbook(*self.entries[playbook_id])
        return self._built[playbook_id]

    def resolve(self, playbook_id: str) -> Playbook:
        playbook = self.get(playbook_id)
        assert playbook is not None
        return playbook

    @property
    def playbooks(self) -> dict[str, Playbook]:
        return {pid: self.resolve(pid) for pid in self.entries}

    def signal_index(self) -> dict[str, list[str]]:
        """Lowercase signal -> ids of the playbooks that list it."""
        index: dict[str, list[str]] = {}
        for pid, (data, _, _) in self.entries.items():
            for signal in (data.get("match") or {}).get("signals", ()):
                index.setdefault(signal.lower(), []).append(pid)
        return index


def load(extra: list[Path] | None = None, *, builtin: Path | None = None) -> KnowledgeBase:
    """Built-ins first, then user folders; a later playbook with the same id replaces one."""
    entries: dict[str, Entry] = {}
    problems: list[PlaybookError] = []
    for directory in [builtin or builtin_dir(), *user_dirs(extra)]:
        if not directory.is_dir():
            problems.append(PlaybookError(str(directory), 0, (), "not a folder of playbooks"))
            continue
        for path, entry in _checked(directory).items():
            if entry[0] == "error":
                problems.append(PlaybookError(*entry[1]))
            else:
                entries[entry[1]["id"]] = (entry[1], entry[2], path)
    return KnowledgeBase(entries, tuple(problems))


def load_dir(directory: Path) -> tuple[list[Playbook], list[PlaybookError]]:
    """Every playbook of one folder, and the errors of those that are broken."""
    from migdoctor.kb.build import build_playbook

    loaded: list[Playbook] = []
    broken: list[PlaybookError] = []
    for path, entry in _checked(directory).items():
        if entry[0] == "error":
            broken.append(PlaybookError(*entry[1]))
            continue
        loaded.append(build_playbook(entry[1], entry[2], path))
    return loaded, broken


def _checked(directory: Path) -> dict[str, tuple[Any, ...]]:
    """Each file as ("ok", data, lines) or ("error", error args), cached by names, sizes, times.

    The full check (regexes compiled, rules applied) runs only when a file changed, which keeps
    a cold `diagnose` fast.
    """
    files = playbook_files(directory)
    cache = _cache_path(directory, _fingerprint(files))
    try:
        with cache.open("rb") as handle:
            return dict(marshal.load(handle))
    except (OSError, EOFError, ValueError, TypeError):
        pass
    checked = {str(path): _check_file(path) for path in files}
    _write_cache(cache, checked)
    return checked


def _check_file(path: Path) -> tuple[Any, ...]:
    from migdoctor.kb.build import build_playbook
    from migdoctor.kb.problem import line_of
    from migdoctor.kb.rules import problems
    from migdoctor.kb.yamlsource import read_yaml

    try:
        data, lines = read_yaml(path)
        playbook = build_playbook(data, lines, str(path))
        if playbook.id != path.stem:
            raise PlaybookError(str(path), line_of(lines, ("id",)), ("id",),
                                f"id {playbook.id!r} differs from the file name")
        for key_path, message in problems(playbook):
            raise PlaybookError(str(path), line_of(lines, key_path), key_path, message)
    except PlaybookError as exc:
        return ("error", (exc.source, exc.line, exc.path, exc.message))
    return ("ok", data, {})  # line numbers only serve errors, and this file has none


def _fingerprint(files: list[Path]) -> str:
    digest = hashlib.sha1(f"{CACHE_VERSION}:{sys.version_info[:2]}".encode())
    for path in files:
        stat = path.stat()
        digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _cache_path(directory: Path, key: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = hashlib.sha1(str(directory.resolve()).encode()).hexdigest()[:16]
    return Path(base) / "migdoctor" / f"kb-{folder}-{key[:20]}.marshal"


def _write_cache(cache: Path, checked: dict[str, tuple[Any, ...]]) -> None:
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        for old in cache.parent.glob(cache.name.rsplit("-", 1)[0] + "-*.marshal"):
            old.unlink(missing_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            marshal.dump(checked, handle)
        tmp.replace(cache)
    except (OSError, ValueError):
        pass  # a read-only cache folder only costs speed
