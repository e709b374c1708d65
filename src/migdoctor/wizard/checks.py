"""The checks before: what a plan assumes, measured when it is made and again right before its
first step. A tool or `manage.py` that is missing stops the plan; any value that changed in
between (a migration recorded, a column added, a tool gone) refuses the run with a remedy."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from migdoctor.model import Check
from migdoctor.probes import ProbeFinding

if TYPE_CHECKING:
    from migdoctor.probes.database import DatabaseSnapshot
    from migdoctor.probes.targets import Target

    Snapshot = DatabaseSnapshot | ProbeFinding

MISSING = "missing"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Precondition:
    """`kind` tool | file | database | check; `subject` what is looked at; `value` what was
    found; `expect` for a playbook check, the value that confirms the diagnosis."""

    kind: str
    subject: str
    text: str
    value: str = ""
    expect: str = ""
    args: tuple[str, ...] = ()

    @property
    def blocking(self) -> bool:
        """A missing tool or file: the plan cannot run."""
        return self.kind in ("tool", "file") and self.value == MISSING


def preconditions(argvs: Iterable[tuple[str, ...]], root: Path, manage: str | None,
                  target: Target | None, checks: Iterable[Check],
                  entities: Mapping[str, str]) -> tuple[Precondition, ...]:  # fmt: skip
    """What the plan's steps need, unmeasured."""
    found: list[Precondition] = []
    for tool in dict.fromkeys(argv[0] for argv in argvs if argv):
        found.append(Precondition("tool", tool, f"{tool} can be run"))
    if manage is not None:
        found.append(Precondition("file", str(root / manage), f"{manage} exists"))
    if target is not None:
        found.append(Precondition("database", target.name,
                                  f"the {target.name} database's history and schema"))
        found += [_check(c, entities) for c in checks if _measurable(c, entities)]
    return tuple(found)


def _measurable(check: Check, entities: Mapping[str, str]) -> bool:
    return check.probe in PROBES and all(a in entities for a in check.args)


def _check(check: Check, entities: Mapping[str, str]) -> Precondition:
    args = tuple(entities[a] for a in check.args)
    text = f"{check.id}: {check.probe}({', '.join(args)}) is {str(check.expect).lower()}"
    return Precondition("check", check.probe, text, expect=str(check.expect).lower(), args=args)


def measure(items: Iterable[Precondition], target: Target | None) -> tuple[Precondition, ...]:
    """Each precondition with the value found now (the database is read once)."""
    items = tuple(items)
    snap = _snapshot(target) if target and any(p.kind != "tool" for p in items) else None
    return tuple(replace(p, value=_value(p, snap)) for p in items)


def _snapshot(target: Target) -> Snapshot:
    from migdoctor.probes.database import probe

    return probe(target)


def _value(item: Precondition, snap: Snapshot | None) -> str:
    if item.kind == "tool":
        return shutil.which(item.subject) or MISSING
    if item.kind == "file":
        return "present" if Path(item.subject).is_file() else MISSING
    if snap is None:
        return UNKNOWN
    if isinstance(snap, ProbeFinding):
        return f"unreachable ({snap.label})"
    if item.kind == "database":
        return fingerprint(snap)
    return PROBES[item.subject](snap, item.args)


def fingerprint(snap: DatabaseSnapshot) -> str:
    applied = snap.applied()
    schema = sorted(f"{t.name}.{c.name}:{c.type}" for t in snap.tables.values() for c in t.columns)
    digest = hashlib.sha256("\n".join((*applied, "", *schema)).encode()).hexdigest()[:12]
    last = applied[-1] if applied else "none"
    return (f"{len(applied)} migrations recorded (last {last}), {len(snap.tables)} tables "
            f"[{digest}]")  # fmt: skip


def changes(before: Iterable[Precondition], after: Iterable[Precondition]) -> list[str]:
    """What is no longer as it was when the plan was made."""
    now = {(p.kind, p.subject, p.args): p for p in after}
    return [f"{p.text}: was {p.value}, now {now[(p.kind, p.subject, p.args)].value}"
            for p in before
            if (p.kind, p.subject, p.args) in now
            and now[(p.kind, p.subject, p.args)].value != p.value]  # fmt: skip


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _applied(snap: DatabaseSnapshot, args: tuple[str, ...]) -> str:
    app, migration = args
    names = snap.applied(app)
    return _bool(any(n == migration or n.startswith(migration + "_") for n in names))


PROBES: dict[str, Callable[[DatabaseSnapshot, tuple[str, ...]], str]] = {
    "db.reachable": lambda snap, args: "true",
    "db.table_exists": lambda snap, args: _bool(snap.has_table(args[0].removeprefix("public."))),
    "db.column_exists": lambda snap, args: _bool(
        snap.has_column(args[0].removeprefix("public."), args[1])),
    "db.index_exists": lambda snap, args: _bool(args[0] in snap.object_names()),
    "db.migration_applied": _applied,
}
