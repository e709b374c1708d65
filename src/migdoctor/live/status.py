"""`migdoctor status`: per app, the migration files against what each database has applied.

A target that cannot be read is a drift item of its own (`unreachable`, or `unreadable` when
`django_migrations` may not be read), labelled with the playbook of the failure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from migdoctor.errors import MigdoctorError
from migdoctor.live.gather import Facts
from migdoctor.probes.drift import DriftItem

LEVELS: Final = {"ok": 0, "skip": 0, "warn": 1, "fail": 2}


@dataclass(frozen=True)
class AppStatus:
    app: str
    files: tuple[str, ...]
    applied: Mapping[str, tuple[str, ...]]  # by target name, in the order they were applied

    def names(self) -> list[str]:
        """Every migration the files or any database name: files first, then the others."""
        extra = sorted({n for names in self.applied.values() for n in names} - set(self.files))
        return [*self.files, *extra]


@dataclass(frozen=True)
class StatusReport:
    targets: tuple[str, ...]
    apps: tuple[AppStatus, ...]
    drift: tuple[DriftItem, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "targets": list(self.targets),
            "apps": {a.app: {"files": list(a.files),
                             "applied": {t: list(n) for t, n in a.applied.items()}}
                     for a in self.apps},
            "drift": [item.as_dict() for item in self.drift],
        }  # fmt: skip

    def items(self, target: str, app: str, migration: str) -> list[DriftItem]:
        return [i for i in self.drift
                if (i.target, i.app_label, i.migration) == (target, app, migration)]  # fmt: skip


def status_report(facts: Facts) -> StatusReport:
    targets = tuple(t.name for t in facts.targets)
    snaps = facts.snapshots
    apps = tuple(
        AppStatus(app, facts.migrations.names(app),
                  {t: snaps[t].applied(app) if t in snaps else () for t in targets})
        for app in facts.migrations.apps
    )  # fmt: skip
    drift = [item for name in targets for item in facts.drift.get(name, ())]
    return StatusReport(targets, apps, (*_unread(facts), *drift))


def _unread(facts: Facts) -> list[DriftItem]:
    items = [DriftItem("unreachable", name, "", None, None, None, failure.label, failure.message)
             for name, failure in facts.failures.items()]  # fmt: skip
    items += [DriftItem("unreadable", name, "", None, "django_migrations", None,
                        "schema-permission-denied",
                        f"{name}: user {snap.user} may not read django_migrations")
              for name, snap in facts.snapshots.items() if snap.migrations_unreadable]
    return items


def check_fail_on(fail_on: str) -> str:
    if fail_on not in ("warn", "fail"):
        raise MigdoctorError(f"--fail-on {fail_on}: expected warn or fail")
    return fail_on


def exit_code(levels: Iterable[str], fail_on: str) -> int:
    """1 when any level reaches `fail_on` (`warn` or `fail`), else 0."""
    threshold = LEVELS[check_fail_on(fail_on)]
    return 1 if any(LEVELS[level] >= threshold for level in levels) else 0
