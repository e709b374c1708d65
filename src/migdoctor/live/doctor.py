"""`migdoctor doctor`: the checklist, in the style of `flutter doctor` and `expo doctor`.

Project and files first, then the guide's "Cannot migrate in Docker" list (compose file, `.env`,
POSTGRES_* variables, the daemon, the db service and its log), then each database: reachable,
privileges on schema public, drift. A probe that cannot run becomes a failed or skipped check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migdoctor.errors import MigdoctorError
from migdoctor.kb.loader import KnowledgeBase
from migdoctor.live import doctor_compose, doctor_db
from migdoctor.live.checks import Check, from_probe, ok
from migdoctor.live.gather import Facts, Handles, LiveOptions, gather
from migdoctor.probes.project import Project, discover_project
from migdoctor.report import finding_json

_FILE_CHECKS = (  # (id, title, label, message when fine)
    ("migration-conflicts", "Conflicting migrations", "migration-conflict",
     "one leaf per app, no duplicate numbers"),
    ("migration-dependencies", "Migration dependencies", "node-not-found",
     "every dependency names a migration that exists"),
    ("migration-cycles", "Dependency cycles", "circular-dependency", "no dependency cycle"),
)  # fmt: skip


@dataclass(frozen=True)
class DoctorReport:
    root: Path | None
    checks: tuple[Check, ...]

    def as_json(self) -> dict[str, Any]:
        findings = [finding_json(f) for c in self.checks if c.status in ("warn", "fail")
                    for f in c.findings]  # fmt: skip
        return {"checks": [c.as_json() for c in self.checks], "findings": findings}

    @property
    def statuses(self) -> list[str]:
        return [c.status for c in self.checks]


def run_doctor(options: LiveOptions, handles: Handles, knowledge: KnowledgeBase) -> DoctorReport:
    """Every check; usage errors (a bad --project, --database URL) raise `MigdoctorError`."""
    try:
        project = discover_project(options.project, options.manage, handles.cwd)
    except MigdoctorError as exc:
        if options.project is not None or options.manage is not None:
            raise
        return DoctorReport(None, (Check("project", "Django project", "fail", exc.message,
                                         exc.hint),))  # fmt: skip
    facts = gather(options, handles, project)
    checks = [*project_checks(project), *file_checks(facts, knowledge)]
    answering = any(t.container and t.name in facts.snapshots for t in facts.targets)
    checks += doctor_compose.checks(project, options, handles, knowledge, answering)
    checks += doctor_db.checks(facts, knowledge)
    return DoctorReport(project.root, tuple(checks))


def project_checks(project: Project) -> list[Check]:
    found = [ok("project", "Django project", str(project.root))]
    if project.manage_py is None:
        found.append(Check("manage-py", "manage.py", "fail",
                           f"no manage.py in {project.root}, src/ or one folder down",
                           "pass its path with --manage PATH"))  # fmt: skip
    else:
        found.append(ok("manage-py", "manage.py", _relative(project.manage_py, project.root)))
    return found


def _relative(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def file_checks(facts: Facts, knowledge: KnowledgeBase) -> list[Check]:
    checks = [_parse_check(facts, knowledge)]
    for id, title, label, fine in _FILE_CHECKS:
        found = [f for f in facts.findings if f.label == label]
        checks.append(from_probe(id, title, found, knowledge) if found else ok(id, title, fine))
    return checks


def _parse_check(facts: Facts, knowledge: KnowledgeBase) -> Check:
    title = "Migration files"
    bad = [f for f in facts.findings if f.label == "bad-migration-file"]
    if bad:
        return from_probe("migration-files", title, bad, knowledge)
    apps = facts.migrations.apps
    if not apps:
        return Check("migration-files", title, "warn", "no migrations folder found",
                     "run makemigrations, or pass --manage PATH if the apps live elsewhere")
    count = len(facts.migrations.files)
    return ok("migration-files", title,
              f"{count} migration{'s' * (count != 1)} in {len(apps)} app"
              f"{'s' * (len(apps) != 1)} ({', '.join(apps)}) parse", _notes(facts))


def _notes(facts: Facts) -> Iterable[str]:
    for migration in facts.migrations.files:
        for note in migration.notes:
            yield f"{migration.app_label}.{migration.name}: {note}"


def summary(statuses: list[str]) -> str:
    """`12/15 checks passed (2 warnings, 1 failed, 1 skipped)`."""
    counts = {s: statuses.count(s) for s in ("ok", "warn", "fail", "skip")}
    parts = [f"{counts['warn']} warning{'s' * (counts['warn'] != 1)}" if counts["warn"] else "",
             f"{counts['fail']} failed" if counts["fail"] else "",
             f"{counts['skip']} skipped" if counts["skip"] else ""]  # fmt: skip
    rest = ", ".join(p for p in parts if p)
    return f"{counts['ok']}/{len(statuses)} checks passed" + (f" ({rest})" if rest else "")
