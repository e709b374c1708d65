"""`migdoctor edit rebase-branch APP`: two branches of one app, one line again, without a merge
migration.

When two git branches each added migrations on top of the same one, the app has two leaves and
Django refuses to migrate. The branch no database has applied is moved after the other one:
its migrations are renumbered after the other leaf (`0007_x`, `0008_y` after `0007_z` become
`0008_x`, `0009_y`), its first migration depends on the other leaf instead of the common
ancestor, and every `dependencies`, `replaces` and `run_before` entry of the project that
names a renamed migration names its new name. Hand-written operations stay as they are: only
the name strings change.

Everything is planned first (and refused, changing nothing, when a file cannot be parsed, an
entry is computed in code, or the result would not be one line); then the files are written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from migdoctor.edits.file_writes import ChangedSinceRead, FileChange, WriteError, apply_changes
from migdoctor.edits.rebase_choice import choose
from migdoctor.edits.rebase_graph import Line, refuse, straight_line, two_branches
from migdoctor.edits.rebase_targets import PROBE_TIMEOUT, Reading, read_databases
from migdoctor.edits.references import (
    EntryError,
    MigrationSource,
    Reference,
    SourceError,
    read_migration,
    rewritten,
)
from migdoctor.errors import MigdoctorError
from migdoctor.probes import NodeKey
from migdoctor.probes.drift import ProjectMigrations, graph_for, load_project
from migdoctor.probes.migration_graph import build_graph, cycles, leaf_nodes
from migdoctor.probes.migration_parse import MigrationFile
from migdoctor.probes.project import discover_project

_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Rename:
    old: NodeKey
    new: NodeKey
    path: Path
    new_path: Path


@dataclass(frozen=True)
class Retarget:
    """One name string changed: in `path` (as named after the renames), at `line`."""

    path: Path
    line: int
    attribute: str
    old: NodeKey
    new: NodeKey


@dataclass(frozen=True)
class Moves:
    """Where every reference goes: renamed migrations to their new names, and the first moved
    migration's dependency on the common ancestor to the other leaf."""

    renames: Mapping[NodeKey, NodeKey]
    first: NodeKey
    ancestor: NodeKey
    onto: NodeKey

    def reference(self, owner: NodeKey, attribute: str, key: NodeKey) -> NodeKey:
        if owner == self.first and attribute == "dependencies" and key == self.ancestor:
            return self.onto
        return self.renames.get(key, key)


@dataclass(frozen=True)
class Rebase:
    """What was done (or, in a dry run, would be)."""

    root: Path
    app_label: str
    leaves: tuple[str, str]
    ancestor: str
    moved: str
    onto: str
    new_leaf: str
    reason: str
    notes: tuple[str, ...]
    readings: tuple[Reading, ...]
    applied_in: Mapping[str, tuple[str, ...]]  # each leaf: the databases that applied its branch
    renames: tuple[Rename, ...]
    retargets: tuple[Retarget, ...]
    dry_run: bool


def rebase_branch(
    project_root: str | Path | None, app_label: str, *, branch: str | None = None,
    assume_unapplied: bool = False, compose_files: Sequence[str] = (),
    environ: Mapping[str, str] | None = None, dry_run: bool = False,
    timeout: float = PROBE_TIMEOUT,
) -> Rebase:  # fmt: skip
    """Move the unapplied branch of `app_label` after the other leaf (see the module)."""
    project = discover_project(project_root)
    migs, findings = load_project(project.migrations_dirs)
    if findings:
        raise refuse(f"{findings[0].message}: nothing was changed", findings[0].hint)
    graph = graph_for(migs, ())
    branches = two_branches(graph, app_label)
    environ = os.environ if environ is None else environ
    readings, notes = read_databases(project.root, app_label, environ, compose_files, timeout)
    choice = choose(branches, readings, branch, assume_unapplied, graph.nodes)
    line = straight_line(graph, choice.moving)
    moves = Moves(_renumbered(line, choice.staying.name, migs), line.chain[0].key, line.parent,
                  choice.staying.leaf)  # fmt: skip
    _check_result(migs, moves, app_label)
    changes, retargets = _plan_files(migs.files, moves, project.root)
    _check_retargeted(retargets, moves)
    if not dry_run:
        _write(changes, project.root)
    renames = tuple(Rename(m.key, moves.renames[m.key], Path(m.path), _new_path(m, moves))
                    for m in line.chain)  # fmt: skip
    return Rebase(project.root, app_label, (branches[0].name, branches[1].name),
                  line.parent[1], choice.moving.name, choice.staying.name,
                  moves.renames[choice.moving.leaf][1], choice.reason,
                  (*notes, *choice.notes), readings, choice.applied_in, renames,
                  tuple(retargets), dry_run)  # fmt: skip


def _number(name: str) -> str:
    found = _NUMBER.match(name)
    if found is None:
        raise refuse(f"{name} has no number to renumber", "rename it NNNN_name first")
    return found.group()


def _renumbered(line: Line, onto: str, migs: ProjectMigrations) -> dict[NodeKey, NodeKey]:
    """Each migration of the line numbered after `onto`, the name after the number kept."""
    after = int(_number(onto))
    app = line.parent[0]
    taken = set(migs.names(app))
    renames = {}
    for offset, migration in enumerate(line.chain, 1):
        digits = _number(migration.name)
        name = str(after + offset).zfill(len(digits)) + migration.name[len(digits) :]
        if name in taken:
            raise refuse(f"{app}.{migration.name} would become {name}, which already exists")
        renames[migration.key] = (app, name)
    return renames


def _moved(migration: MigrationFile, moves: Moves) -> MigrationFile:
    """The migration as it reads once the files are rewritten."""

    def remap(attribute: str, keys: tuple[NodeKey, ...]) -> tuple[NodeKey, ...]:
        return tuple(moves.reference(migration.key, attribute, key) for key in keys)

    new = moves.renames.get(migration.key, migration.key)
    return replace(migration, name=new[1],
                   dependencies=remap("dependencies", migration.dependencies),
                   replaces=remap("replaces", migration.replaces),
                   run_before=remap("run_before", migration.run_before))  # fmt: skip


def _check_result(migs: ProjectMigrations, moves: Moves, app: str) -> None:
    """The rewritten project must give the app one leaf, the moved one, and no cycle through a
    moved migration (another app's migration may sit between the two branches)."""
    after = build_graph([_moved(m, moves) for m in migs.files], (), migs.apps)
    last = list(moves.renames.values())[-1]
    leaves = leaf_nodes(after, app)
    if leaves != [last]:
        names = ", ".join(name for _, name in leaves)
        raise refuse(f"after the move {app} would have the leaves {names}: nothing was changed",
                     f"merge instead: python manage.py makemigrations --merge {app}")  # fmt: skip
    moved = set(moves.renames.values())
    for cycle in cycles(after):
        if moved.intersection(cycle):
            path = " -> ".join(f"{a}.{n}" for a, n in cycle)
            raise refuse(f"the move would make a dependency cycle ({path}): nothing was "
                         "changed", f"merge instead: python manage.py makemigrations --merge "
                         f"{app}")  # fmt: skip


def _plan_files(files: Iterable[MigrationFile], moves: Moves,
                root: Path) -> tuple[list[FileChange], list[Retarget]]:  # fmt: skip
    """The new text of every file that names a moved migration (or is one). Every file is
    read, so that an entry computed in code anywhere is refused."""
    changes: list[FileChange] = []
    retargets: list[Retarget] = []
    for migration in sorted(files, key=lambda m: m.path):
        path = Path(migration.path)
        shown = _shown(path, root)
        source = _read(path, shown)
        edits = _edits(migration.key, source, moves)
        new_path = _new_path(migration, moves)
        if edits or new_path != path:
            try:
                data = rewritten(source, {r: new[1] for r, new in edits.items()})
            except EntryError as exc:
                raise refuse(f"{exc.located(shown)}; nothing was changed", exc.hint) from None
            changes.append(FileChange(path, new_path, source.raw, data))
        retargets += [Retarget(new_path, r.line, r.attribute, r.key, new)
                      for r, new in edits.items()]  # fmt: skip
    return changes, retargets


def _read(path: Path, shown: str) -> MigrationSource:
    try:
        return read_migration(path)
    except SourceError as exc:
        raise refuse(f"{shown} cannot be read ({exc}): nothing was changed") from None
    except EntryError as exc:
        raise refuse(f"{exc.located(shown)}; nothing was changed", exc.hint) from None


def _edits(owner: NodeKey, source: MigrationSource, moves: Moves) -> dict[Reference, NodeKey]:
    """The references of `owner`'s file that change, each with the migration it then names."""
    found = {r: moves.reference(owner, r.attribute, r.key) for r in source.references}
    return {reference: new for reference, new in found.items() if new != reference.key}


def _write(changes: Sequence[FileChange], root: Path) -> None:
    try:
        apply_changes(changes)
    except ChangedSinceRead as exc:
        raise refuse(f"{_shown(exc.path, root)} {exc.what} while the rebase was planned: "
                     "nothing was changed", "run it again") from None  # fmt: skip
    except WriteError as exc:
        done = ", ".join(_shown(p, root) for p in exc.replaced) or "nothing"
        raise MigdoctorError(f"writing the rebase stopped: {exc}",
                             f"already written: {done}", exit_code=1) from None  # fmt: skip


def _check_retargeted(retargets: Sequence[Retarget], moves: Moves) -> None:
    """The first moved migration's dependency on the ancestor must have been found as text."""
    if not any(r.old == moves.ancestor and r.new == moves.onto for r in retargets):
        app, name = moves.first
        raise refuse(f"{app}.{name}: its dependency on {moves.ancestor[1]} is not a literal "
                     '("app", "name") tuple in its dependencies: nothing was '
                     "changed")  # fmt: skip


def _new_path(migration: MigrationFile, moves: Moves) -> Path:
    path = Path(migration.path)
    new = moves.renames.get(migration.key)
    return path if new is None else path.with_name(f"{new[1]}.py")


def _shown(path: Path, root: Path) -> str:
    """A path as the user knows it: relative to the project folder when it is inside."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _dotted(key: NodeKey) -> str:
    return f"{key[0]}.{key[1]}"


def as_text(result: Rebase) -> str:
    """What was (or would be) done, one line per change."""
    app, root = result.app_label, result.root
    lines = [f"{app} has two leaves, {' and '.join(result.leaves)}, after {result.ancestor}.",
             f"Moving {result.moved} after {result.onto}: {result.reason}."]  # fmt: skip
    lines += [f"note: {note}" for note in result.notes]
    lines += [f"rename {_shown(r.path, root)} -> {_shown(r.new_path, root)}"
              for r in result.renames]  # fmt: skip
    lines += [f"rewrite {_shown(r.path, root)}:{r.line} {r.attribute}: {_dotted(r.old)} -> "
              f"{_dotted(r.new)}" for r in result.retargets]  # fmt: skip
    if result.dry_run:
        lines.append("Dry run: nothing was changed.")
    else:
        lines.append(f"Done: {app} has one leaf, {result.new_leaf}. Next: python manage.py "
                     f"migrate {app}")  # fmt: skip
    return "\n".join(lines) + "\n"


def as_dict(result: Rebase) -> dict[str, object]:
    """The `--json` shape."""
    root = result.root
    return {
        "app_label": result.app_label,
        "leaves": list(result.leaves),
        "common_ancestor": result.ancestor,
        "moved": result.moved,
        "onto": result.onto,
        "new_leaf": result.new_leaf,
        "reason": result.reason,
        "notes": list(result.notes),
        "databases": [r.as_dict() for r in result.readings],
        "applied_in": {leaf: list(names) for leaf, names in result.applied_in.items()},
        "renames": [{"from": r.old[1], "to": r.new[1], "path": _shown(r.path, root),
                     "new_path": _shown(r.new_path, root)} for r in result.renames],
        "rewrites": [{"path": _shown(r.path, root), "line": r.line, "attribute": r.attribute,
                      "from": list(r.old), "to": list(r.new)} for r in result.retargets],
        "dry_run": result.dry_run,
        "changed": not result.dry_run,
    }  # fmt: skip
