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

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from migdoctor.edits.file_writes import (
    ChangedSinceRead,
    FileChange,
    WriteError,
    apply_changes,
    stale_bytecode,
)
from migdoctor.edits.history import (
    WOULD_RENAME,
    DatabaseResult,
    Rename,
    check_all,
    rename_row,
    unreachable,
)
from migdoctor.edits.references import (
    EntryError,
    MigrationSource,
    SourceError,
    mentions,
    migration_source,
    rewritten,
)
from migdoctor.edits.rename_report import Edit, RenameReport
from migdoctor.errors import MigdoctorError
from migdoctor.probes.drift import ProjectMigrations, graph_for, load_project
from migdoctor.probes.migration_files import migration_paths
from migdoctor.probes.project import Project, discover_project
from migdoctor.probes.targets import Target, resolve_targets

# Django imports each module of the folder not starting with `_` or `~`, digits first or not.
_MODULE_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]*")


@dataclass(frozen=True)
class _Plan:
    """Every file change (the renamed file's included), the references it rewrites, and the
    compiled files it makes stale."""

    project: Project
    rename: Rename
    old_path: Path
    new_path: Path
    changes: tuple[FileChange, ...]
    edits: tuple[Edit, ...]
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
    old_path, new_path = paths[old], paths[old].with_name(f"{new}.py")
    changes, edits, notes = _rewrites(project, rename, old_path, new_path)
    return _Plan(project, rename, old_path, new_path, changes, edits,
                 tuple(stale_bytecode(changes)), notes)  # fmt: skip


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


def _rewrites(project: Project, rename: Rename, old_path: Path, new_path: Path,
              ) -> tuple[tuple[FileChange, ...], tuple[Edit, ...], tuple[str, ...]]:  # fmt: skip
    """Every migration file of the project that names the migration, rewritten in memory, and
    the migration's own file moved to `new_path`.

    Every file is read: one that cannot be, or whose lists are computed in code, stops the
    rename, since whether it names the migration could not be known."""
    changes, edits, notes = [], [], []
    key = (rename.app, rename.old)
    for directory in project.migrations_dirs:
        for _, name in migration_paths(directory):
            path = Path(name)
            shown = _shown(project, path)
            source = _read(path, shown, rename.old)
            references = {r: rename.new for r in source.references if r.key == key}
            try:
                data = rewritten(source, references)
            except EntryError as exc:
                raise MigdoctorError(f"{exc.located(shown)}; nothing was changed",
                                     exc.hint) from None  # fmt: skip
            notes += [f"{shown}:{line} also says {rename.old!r}, not as a reference to "
                      f"{rename.app}.{rename.old}: left as is"
                      for line in mentions(source, rename.old)]  # fmt: skip
            edits += [Edit(shown, r.line, r.attribute) for r in references]
            moved = new_path if path == old_path else path
            if references or moved != path:
                changes.append(FileChange(path, moved, source.raw, data))
    return tuple(changes), tuple(edits), tuple(notes)


def _read(path: Path, shown: str, old: str) -> MigrationSource:
    hint = "fix that file first; nothing was changed"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MigdoctorError(f"{shown} cannot be read: {exc.strerror or exc}", hint) from None
    try:
        return migration_source(path, raw)
    except SourceError as exc:
        subject = f"{shown} names {old} and" if old.encode() in raw else shown
        raise MigdoctorError(f"{subject} cannot be read: {exc}", hint) from None
    except EntryError as exc:
        raise MigdoctorError(f"{exc.located(shown)}; nothing was changed", exc.hint) from None


def _shown(project: Project, path: Path) -> str:
    """A path as the report shows it: relative to the project's root when it is under it."""
    try:
        return str(path.resolve().relative_to(project.root))
    except ValueError:
        return str(path)


def _write_files(plan: _Plan) -> list[Path]:
    """The files rewritten and the migration's renamed, all at once (see `apply_changes`);
    the compiled files removed."""
    try:
        return apply_changes(plan.changes)
    except ChangedSinceRead as exc:
        hint = "run the rename again; nothing was changed" if exc.what == "changed" else (
            "nothing was changed")  # fmt: skip
        raise MigdoctorError(f"{exc.path} {exc.what} while the rename was planned",
                             hint) from None  # fmt: skip
    except WriteError as exc:
        done = ", ".join(str(p) for p in exc.replaced) or "nothing"
        raise MigdoctorError(f"writing the rename stopped: {exc}",
                             f"already rewritten: {done}; the databases were not changed",
                             exit_code=1) from None  # fmt: skip


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
        edits=plan.edits,
        removed=tuple(_shown(plan.project, p) for p in removed),
        databases=tuple(results), notes=(*plan.notes, *notes), dry_run=dry_run,
        manual_sql=plan.rename.manual_sql(),
    )  # fmt: skip
