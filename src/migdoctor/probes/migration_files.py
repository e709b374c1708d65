"""A project's migration files read from disk, and the entry point of the parsing modules.

`load_migrations` parses every migration of the folders `discover` found, each with
`parse_migration`, optionally through a parse cache kept between runs (`read_cache`,
`write_cache`). The work is done in `migration_ast` (expressions as values),
`migration_parse` (one file's source) and `migration_discovery` (the folders); their public
names are importable from here as well.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import pickle
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from migdoctor.probes import ProbeFinding
from migdoctor.probes.migration_ast import (
    Call,
    Operation,
    Ref,
    dotted,
    to_call,
    to_operation,
    to_value,
)
from migdoctor.probes.migration_discovery import (
    SKIP_DIRS,
    MigrationsDir,
    app_label,
    discover,
    is_migration_file,
    migration_paths,
)
from migdoctor.probes.migration_parse import (
    DEFAULT_SETTINGS,
    MigrationFile,
    Settings,
    bad_file,
    from_class,
    model_app,
    parse_migration,
    setting,
)

__all__ = [  # the public names, defined here or in the modules above
    "DEFAULT_SETTINGS",
    "SKIP_DIRS",
    "Call",
    "MigrationFile",
    "MigrationsDir",
    "Operation",
    "ParseCache",
    "Ref",
    "Settings",
    "app_label",
    "bad_file",
    "discover",
    "dotted",
    "from_class",
    "is_migration_file",
    "load_file",
    "load_migrations",
    "load_migrations_cached",
    "migration_paths",
    "model_app",
    "parse_migration",
    "read_cache",
    "setting",
    "to_call",
    "to_operation",
    "to_value",
    "write_cache",
]  # fmt: skip


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


def load_migrations_cached(
    dirs: list[MigrationsDir], settings: Settings = DEFAULT_SETTINGS
) -> tuple[list[MigrationFile], list[ProbeFinding]]:
    """`load_migrations` with the parse cache of this project in the user's cache folder:
    ast.parse is most of a cold scan, and most files do not change between runs."""
    cache_file = _cache_file(dirs)
    cache = read_cache(cache_file) if cache_file else None
    known = dict(cache) if cache is not None else None
    files, findings = load_migrations(dirs, settings, cache)
    if cache_file and cache is not None and cache != known:
        with contextlib.suppress(OSError):
            write_cache(cache_file, cache)
    return files, findings


def _cache_file(dirs: list[MigrationsDir]) -> Path | None:
    if not dirs or os.environ.get("MIGDOCTOR_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    key = hashlib.sha1("\n".join(sorted(d.path for d in dirs)).encode()).hexdigest()[:16]
    return Path(base) / "migdoctor" / f"migrations-{key}.pickle"
