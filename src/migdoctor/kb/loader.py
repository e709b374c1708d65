"""Load the built-in playbooks and the user's own, with a cache of the parsed YAML."""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from pathlib import Path
from typing import Any

from migdoctor.kb.locate import builtin_dir, playbook_files, user_dirs
from migdoctor.kb.problem import PlaybookError
from migdoctor.model import Playbook

CACHE_VERSION = 3


# A checked playbook: its source file, and its marshalled (data, line map) either in memory or
# as (cache file, offset, length) to read only if the playbook is ever needed.
Entry = tuple[str, "bytes | tuple[str, int, int]"]


class KnowledgeBase:
    """Checked playbooks kept as marshalled bytes: a Playbook is unpacked and built only when
    its signals appear in the text, so thousands of playbooks cost little at start-up."""

    def __init__(self, entries: dict[str, Entry], index: dict[str, list[str]],
                 problems: tuple[PlaybookError, ...]) -> None:
        self.entries = entries
        self.index = index  # lowercase signal -> ids of the playbooks that list it
        self.problems = problems  # broken user playbooks, reported and skipped
        self._built: dict[str, Playbook] = {}

    def get(self, playbook_id: str) -> Playbook | None:
        if playbook_id not in self._built:
            if playbook_id not in self.entries:
                return None
            from migdoctor.kb.build import build_playbook

            source, packed = self.entries[playbook_id]
            try:
                data, lines = marshal.loads(_unpack(packed))
            except (OSError, EOFError, ValueError):  # the cache changed under us: read the file
                data, lines = _check_file(Path(source))[1:3]
            self._built[playbook_id] = build_playbook(data, lines, source)
        return self._built[playbook_id]

    def resolve(self, playbook_id: str) -> Playbook:
        playbook = self.get(playbook_id)
        assert playbook is not None
        return playbook

    @property
    def playbooks(self) -> dict[str, Playbook]:
        return {pid: self.resolve(pid) for pid in self.entries}

    def signal_index(self) -> dict[str, list[str]]:
        return self.index


def load(extra: list[Path] | None = None, *, builtin: Path | None = None) -> KnowledgeBase:
    """Built-ins first, then user folders; a later playbook with the same id replaces one."""
    entries: dict[str, Entry] = {}
    problems: list[PlaybookError] = []
    indexes: list[tuple[Path, dict[str, list[str]]]] = []
    for directory in [builtin or builtin_dir(), *user_dirs(extra)]:
        if not directory.is_dir():
            problems.append(PlaybookError(str(directory), 0, (), "not a folder of playbooks"))
            continue
        checked = _checked(directory)
        problems.extend(PlaybookError(*args) for args in checked["errors"])
        entries.update(checked["ok"])
        indexes.append((directory, checked["index"]))
    return KnowledgeBase(entries, _merged(indexes, entries), tuple(problems))


def _merged(indexes: list[tuple[Path, dict[str, list[str]]]],
            entries: dict[str, Entry]) -> dict[str, list[str]]:
    """One signal index, each id only from the folder whose playbook won."""
    if len(indexes) == 1:
        return indexes[0][1]
    merged: dict[str, list[str]] = {}
    for directory, index in indexes:
        mine = str(directory) + os.sep
        for signal, ids in index.items():
            kept = [i for i in ids if entries[i][0].startswith(mine)]
            if kept:
                merged.setdefault(signal, []).extend(kept)
    return merged


def load_dir(directory: Path) -> tuple[list[Playbook], list[PlaybookError]]:
    """Every playbook of one folder, and the errors of those that are broken."""
    checked = _checked(directory)
    kb = KnowledgeBase(checked["ok"], checked["index"], ())
    broken = [PlaybookError(*args) for args in checked["errors"]]
    return list(kb.playbooks.values()), broken


def _unpack(packed: bytes | tuple[str, int, int]) -> bytes:
    if isinstance(packed, bytes):
        return packed
    name, offset, length = packed
    with open(name, "rb") as handle:
        handle.seek(offset)
        return handle.read(length)


def _checked(directory: Path) -> dict[str, Any]:
    """The folder's checked playbooks, errors and signal index, cached by the files' names,
    sizes and times. The full check (YAML parsed, regexes compiled, rules applied) runs only
    when a file changed, which keeps a cold `diagnose` fast."""
    files = playbook_files(directory)
    cache = _cache_path(directory, _fingerprint(files))
    cached = _read_cache(cache)
    if cached is not None:
        return cached
    checked: dict[str, Any] = {"ok": {}, "errors": [], "index": {}}
    for path in files:
        result = _check_file(path)
        if result[0] == "error":
            checked["errors"].append(result[1])
            continue
        data = result[1]
        checked["ok"][data["id"]] = (str(path), marshal.dumps((data, {})))
        for signal in (data.get("match") or {}).get("signals", ()):
            checked["index"].setdefault(signal.lower(), []).append(data["id"])
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
        stat = os.stat(path)
        digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _cache_path(directory: Path, key: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = hashlib.sha1(str(directory.resolve()).encode()).hexdigest()[:16]
    return Path(base) / "migdoctor" / f"kb-{folder}-{key[:20]}.marshal"


# Cache file: 8 bytes giving the index's length, the marshalled index (errors, signals, and per
# playbook its offset and length), then every playbook's marshalled data one after another.
def _read_cache(cache: Path) -> dict[str, Any] | None:
    try:
        with cache.open("rb") as handle:
            size = int.from_bytes(handle.read(8), "little")
            checked = dict(marshal.loads(handle.read(size)))
    except (OSError, EOFError, ValueError, TypeError):
        return None
    base = 8 + size
    name = str(cache)
    checked["ok"] = {pid: (source, (name, base + offset, length))
                     for pid, (source, offset, length) in checked["ok"].items()}
    return checked


def _write_cache(cache: Path, checked: dict[str, Any]) -> None:
    blobs, table, offset = [], {}, 0
    for pid, (source, packed) in checked["ok"].items():
        table[pid] = (source, offset, len(packed))
        blobs.append(packed)
        offset += len(packed)
    index = marshal.dumps({**checked, "ok": table})
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        for old in cache.parent.glob(cache.name.rsplit("-", 1)[0] + "-*.marshal"):
            old.unlink(missing_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            handle.write(len(index).to_bytes(8, "little"))
            handle.write(index)
            handle.writelines(blobs)
        tmp.replace(cache)
    except (OSError, ValueError):
        pass  # a read-only cache folder only costs speed
