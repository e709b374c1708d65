"""Which of the two branches moves: the one no database has applied.

Renaming a migration a database has applied would leave that database's history naming a file
that no longer exists, so an applied branch never moves. When neither is applied, the branch
whose files changed last moves (it is most likely the one still being worked on).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from migdoctor.edits.rebase_graph import Branch, refuse
from migdoctor.edits.rebase_targets import Reading
from migdoctor.errors import MigdoctorError
from migdoctor.probes import NodeKey
from migdoctor.probes.migration_parse import MigrationFile


@dataclass(frozen=True)
class Choice:
    moving: Branch
    staying: Branch
    reason: str
    notes: tuple[str, ...] = ()
    applied_in: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # leaf: databases


def choose(branches: tuple[Branch, Branch], readings: Sequence[Reading], requested: str | None,
           assume_unapplied: bool, files: Mapping[NodeKey, MigrationFile]) -> Choice:  # fmt: skip
    """The branch to move and why; refused when that cannot be known or would break a
    database's history."""
    notes = _unknown(readings, assume_unapplied, branches[0].leaf[0])
    applied_in = {b.leaf: _applied_in(b, readings) for b in branches}
    shown = {b.name: tuple(applied_in[b.leaf]) for b in branches}
    if requested is not None:
        moving = _requested(branches, requested)
        if applied_in[moving.leaf]:
            raise _applied_refusal(moving, applied_in[moving.leaf])
        return Choice(moving, _other(branches, moving), "chosen with --branch", notes, shown)
    unapplied = [b for b in branches if not applied_in[b.leaf]]
    if not unapplied:
        raise _both_applied(branches, applied_in)
    if len(unapplied) == 1:
        moving, staying = unapplied[0], _other(branches, unapplied[0])
        reason = (f"{staying.name} is applied in {', '.join(applied_in[staying.leaf])}; "
                  f"{moving.name} is applied in no database")  # fmt: skip
        return Choice(moving, staying, reason, notes, shown)
    moving = max(branches, key=lambda b: (_last_modified(b, files), b.name))
    reason = (f"neither branch is applied in any database; {moving.name} has the files "
              "modified last (--branch picks the other)")  # fmt: skip
    return Choice(moving, _other(branches, moving), reason, notes, shown)


def _unknown(readings: Sequence[Reading], assume_unapplied: bool, app: str) -> tuple[str, ...]:
    """Notes on the databases that could not be read; without `assume_unapplied`, a refusal."""
    hint = ("when no database there has applied either branch, run again with "
            "--assume-unapplied")  # fmt: skip
    if not readings:
        if not assume_unapplied:
            raise refuse(f"no database of this project was found to tell which branch of {app} "
                         "is applied (DATABASE_URL, POSTGRES_* in .env, a Compose db service)",
                         hint)  # fmt: skip
        return ("no database was found: assumed neither branch is applied anywhere",)
    unread = [r for r in readings if r.applied is None]
    if unread and not assume_unapplied:
        which = "; ".join(f"database {r.name} ({r.url}) could not be read: {r.problem}"
                          for r in unread)  # fmt: skip
        raise refuse(which, hint)
    return tuple(f"database {r.name} ({r.url}) could not be read ({r.problem}): assumed it "
                 "applied neither branch" for r in unread)  # fmt: skip


def _applied_in(branch: Branch, readings: Sequence[Reading]) -> list[str]:
    names = {name for _, name in branch.members}
    return [r.name for r in readings if r.applied is not None and r.applied & names]


def _requested(branches: tuple[Branch, Branch], requested: str) -> Branch:
    """The branch whose leaf is `requested`, or whose leaf name alone starts with it."""
    exact = [b for b in branches if b.name == requested]
    found = exact or [b for b in branches if b.name.startswith(requested)]
    if len(found) == 1:
        return found[0]
    leaves = " or ".join(b.name for b in branches)
    why = "both leaves start with it" if found else "not one of the two leaves"
    raise MigdoctorError(f"--branch {requested}: {why}", f"give {leaves}")


def _other(branches: tuple[Branch, Branch], branch: Branch) -> Branch:
    return branches[1] if branch == branches[0] else branches[0]


def _last_modified(branch: Branch, files: Mapping[NodeKey, MigrationFile]) -> int:
    return max(os.stat(files[key].path).st_mtime_ns for key in branch.members)


def _applied_refusal(branch: Branch, where: list[str]) -> MigdoctorError:
    app = branch.leaf[0]
    return refuse(f"the branch of {branch.name} is applied in {', '.join(where)}: renaming it "
                  "would leave that history naming files that no longer exist",
                  f"move the other branch, or merge: python manage.py makemigrations --merge "
                  f"{app}")  # fmt: skip


def _both_applied(branches: tuple[Branch, Branch],
                  applied_in: Mapping[NodeKey, list[str]]) -> MigdoctorError:  # fmt: skip
    app = branches[0].leaf[0]
    where = "; ".join(f"{b.name} in {', '.join(applied_in[b.leaf])}" for b in branches)
    return refuse(f"both branches of {app} are applied ({where}): neither can be renumbered",
                  f"merge them: python manage.py makemigrations --merge {app}")  # fmt: skip
