"""`migdoctor edit rename-migration`: rename a migration safely.

A migration's name is its file name, and it is written in two more places: the `dependencies`
(`replaces`, `run_before`) of other migrations, in any app, and the `django_migrations` rows of
every database that applied it. A rename by hand that misses one gives NodeNotFoundError,
InconsistentMigrationHistory, or a migration run twice.

`rename_migration` plans everything first (the old name resolved, the new one checked, every
file that names the migration parsed and rewritten in memory, every database read), then writes
the files, then renames the rows. A refusal raises `MigdoctorError` before anything changes.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from migdoctor.edits.history import (
    WOULD_RENAME,
    DatabaseResult,
    Rename,
    check_all,
    rename_row,
    unreachable,
)
from migdoctor.edits.rename_report import Edit, RenameReport
from migdoctor.edits.sources import (
    Source,
    SourceError,
    read_source,
    rewritten,
    scan,
    write_replacing,
)
from migdoctor.errors import MigdoctorError
from migdoctor.probes.drift import ProjectMigrations, graph_for, load_project
from migdoctor.probes.migration_files import migration_paths
from migdoctor.probes.project import Project, discover_project
from migdoctor.probes.targets import Target, resolve_targets

# Django imports each module of the folder not starting with `_` or `~`, digits first or not.
_MODULE_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]*")


@dataclass(frozen=True)
class _FileChange:
    """One file's planned rewrite: the source it was planned from and the new bytes."""

    source: Source
    data: bytes
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class _Plan:
    project: Project
    rename: Rename
    old_path: Path
    new_path: Path
    changes: tuple[_FileChange, ...]
    stale: tuple[Path, ...]
    notes: tuple[str, ...]


def rename_migration(
    project_root: str | Path | None,
    app_label: str,
    old: str,
    new: str,
    *,
    environ: Mapping[str, str] | None = None,
    compose_files: Sequence[str | Path] = (),
    dry_run: bool = False,
    cwd: str | Path | None = None,
) -> RenameReport:
    """Rename migration `old` of `app_label` (or the one `old` is the unique prefix of) to
    `new`: the file, every reference in the project's migrations, and its row in each database
    (`environ` and `compose_files` say which: see `resolve_targets`)."""
    environ = os.environ if environ is None else environ
    project = discover_project(project_root, cwd=cwd)
    plan = _plan(project, app_label, old, new)
    databases, notes = _check_databases(plan, environ, compose_files)
    if dry_run:
        return _report(plan, [result for result, _ in databases], notes, plan.stale, dry_run=True)
    removed = _write_files(plan)
    done = [rename_row(target, plan.rename) if target else result for result, target in databases]
    return _report(plan, done, notes, removed, dry_run=False)


# ----------------------------------------------------------------------------- the files


def _plan(project: Project, app_label: str, old: str, new: str) -> _Plan:
    dirs = project.migrations_of(app_label)
    if not dirs:
        apps = ", ".join(project.apps) or "none"
        raise MigdoctorError(f"no app {app_label!r} with a migrations folder in {project.root}",
                             f"its apps: {apps}")  # fmt: skip
    migrations, _ = load_project(project.migrations_dirs)
    paths = {name: Path(path) for d in dirs for name, path in migration_paths(d)}
    old = resolve_name(app_label, old, sorted(paths))
    check_new_name(app_label, old, new, paths[old].parent)
    _refuse_replaced(migrations, (app_label, old))
    rename = Rename(app_label, old, new)
    changes, notes = _rewrites(project, rename)
    stale = tuple(sorted(paths[old].parent.glob(f"__pycache__/{old}.*.pyc")))
    return _Plan(project, rename, paths[old], paths[old].with_name(f"{new}.py"), changes, stale,
                 notes)  # fmt: skip


def resolve_name(app_label: str, given: str, names: Sequence[str]) -> str:
    """The migration named `given`, else the only one it is a prefix of (as `migrate` reads
    `0006`)."""
    if given in names:
        return given
    matches = [n for n in names if n.startswith(given)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise MigdoctorError(f"no migration {given!r} in {app_label}",
                             f"its migrations: {', '.join(names) or 'none'}")  # fmt: skip
    raise MigdoctorError(f"{given!r} names more than one migration of {app_label}: "
                         f"{', '.join(matches)}", "give more of the name")  # fmt: skip


def check_new_name(app_label: str, old: str, new: str, folder: Path) -> None:
    """`new` must be a module name Django loads, free in the app's migrations folder."""
    if not _MODULE_NAME.fullmatch(new):
        raise MigdoctorError(
            f"{new!r} is not a valid migration name",
            "use letters, digits and underscores, not starting with _ (e.g. 0006_add_queue)",
        )
    if new == old:
        raise MigdoctorError(f"{app_label}.{old} already has that name")
    taken = [p for p in (folder / f"{new}.py", folder / new) if p.exists()]
    if taken:
        raise MigdoctorError(f"{taken[0]} already exists", "choose another name")


def _refuse_replaced(migrations: ProjectMigrations, key: tuple[str, str]) -> None:
    """A squash names the migrations it replaces: renaming one would orphan that record."""
    for squash in graph_for(migrations, ()).squashes:
        if key in squash.replaces:
            raise MigdoctorError(
                f"{key[0]}.{key[1]} is replaced by the squashed migration "
                f"{squash.key[0]}.{squash.key[1]}: it is not renamed",
                "rename the squashed migration instead, or delete the replaced ones once every "
                "database has applied the squash",
            )


def _rewrites(project: Project, rename: Rename) -> tuple[tuple[_FileChange, ...], tuple[str, ...]]:
    """Every migration file of the project that names the migration, rewritten in memory.

    A file is parsed only when its bytes hold the name; one that holds it and does not parse
    stops the rename, since its references could not be rewritten."""
    changes, notes = [], []
    needle = rename.old.encode()
    for directory in project.migrations_dirs:
        for _, path in migration_paths(directory):
            try:
                if needle not in Path(path).read_bytes():
                    continue
                source = read_source(Path(path))
                found = scan(source, (rename.app, rename.old))
            except (OSError, SourceError) as exc:
                raise MigdoctorError(
                    f"{_shown(project, Path(path))} names {rename.old} and cannot be read: {exc}",
                    "fix that file first; nothing was changed",
                ) from None
            notes += [f"{_shown(project, source.path)}:{line} also says {rename.old!r}, not as a "
                      f"reference to {rename.app}.{rename.old}: left as is"
                      for line in found.other_lines]  # fmt: skip
            if found.references:
                text = rewritten(source, found.references, rename.old, rename.new)
                edits = tuple(Edit(_shown(project, source.path), r.line, r.attribute)
                              for r in found.references)  # fmt: skip
                changes.append(_FileChange(source, source.encode(text), edits))
    return tuple(changes), tuple(notes)


def _shown(project: Project, path: Path) -> str:
    """A path as the report shows it: relative to the project's root when it is under it."""
    try:
        return str(path.resolve().relative_to(project.root))
    except ValueError:
        return str(path)


def _write_files(plan: _Plan) -> list[Path]:
    """Each rewritten file swapped in, then the file renamed, then stale bytecode removed (the
    bytecode files removed are returned). Every file is checked unchanged since the plan
    before the first write."""
    for change in plan.changes:
        if _read_bytes(change.source.path) != change.source.raw:
            raise MigdoctorError(f"{change.source.path} changed while the rename was planned",
                                 "run the rename again; nothing was changed")  # fmt: skip
    if plan.new_path.exists():
        raise MigdoctorError(f"{plan.new_path} appeared while the rename was planned",
                             "nothing was changed")  # fmt: skip
    written: list[str] = []
    try:
        for change in plan.changes:
            write_replacing(change.source.path, change.data)
            written.append(str(change.source.path))
        os.rename(plan.old_path, plan.new_path)
    except OSError as exc:
        done = ", ".join(written) or "nothing"
        raise MigdoctorError(f"writing the rename stopped: {exc}",
                             f"already rewritten: {done}; the databases were not changed",
                             exit_code=1) from None  # fmt: skip
    removed = []
    for stale in plan.stale:
        with contextlib.suppress(OSError):  # Python ignores it anyway: it has no source file
            stale.unlink()
            removed.append(stale)
    return removed


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


# ----------------------------------------------------------------------------- the databases


def _check_databases(plan: _Plan, environ: Mapping[str, str], compose_files: Sequence[str | Path],
                     ) -> tuple[list[tuple[DatabaseResult, Target | None]], list[str]]:  # fmt: skip
    """Each database of the project read, with the target to update when it has the row; and
    the notes on the databases that could not be resolved."""
    resolution = resolve_targets(plan.project.root, environ, compose_files=compose_files)
    results = check_all(resolution.targets, plan.rename)
    checked: list[tuple[DatabaseResult, Target | None]] = [
        (result, target if result.status == WOULD_RENAME else None)
        for result, target in zip(results, resolution.targets, strict=True)
    ]
    # A database the project names but no address from here reaches is reported, not skipped.
    named, notes = {t.name for t in resolution.targets}, []
    for note in resolution.notes:
        name, _, reason = note.partition(": ")
        if name in ("local", "docker") and name not in named:
            checked.append((unreachable(name, reason, plan.rename), None))
        elif not note.startswith("local and docker are the same database"):
            notes.append(note)
    return checked, notes


def _report(plan: _Plan, results: Sequence[DatabaseResult], notes: Sequence[str],
            removed: Sequence[Path], *, dry_run: bool) -> RenameReport:  # fmt: skip
    return RenameReport(
        app_label=plan.rename.app, old=plan.rename.old, new=plan.rename.new,
        old_path=_shown(plan.project, plan.old_path),
        new_path=_shown(plan.project, plan.new_path),
        edits=tuple(e for c in plan.changes for e in c.edits),
        removed=tuple(_shown(plan.project, p) for p in removed),
        databases=tuple(results), notes=(*plan.notes, *notes), dry_run=dry_run,
        manual_sql=plan.rename.manual_sql(),
    )  # fmt: skip
