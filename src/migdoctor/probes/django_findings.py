"""The Django probe's findings: a run that failed, and what a report says is wrong.

`failure` and `classify_failure` label a failed run from its text (a Compose service that is
not running, a database that refuses the login, a missing driver, ...); `report_findings` turns
a report's failed sections, inconsistent histories, conflicts and missing migrations into
findings.
"""

from __future__ import annotations

import re
from typing import Final

from migdoctor.probes import ProbeFinding
from migdoctor.probes.django_report import DjangoReport, Inconsistency, Makemigrations, SectionError

_LABELS: Final = (  # (label, pattern in a failed run's stderr or a section's error), first wins
    ("compose-service-not-running", r"service \S+ is not running|no container found for"),
    ("docker-daemon-unreachable", r"cannot connect to the docker daemon|docker\.sock"),
    ("compose-file-missing", r"no configuration file provided|can't find a suitable configurat"),
    ("db-driver-missing", r"psycopg|mysqlclient|mysqldb|error loading \w+ module"),
    ("db-missing", r'database "[^"]*" does not exist|database file does not exist'),
    ("db-auth-failed", r'authentication failed|role "[^"]*" does not exist|no password supplied'),
    ("db-host-unresolved", r"translate host name|resolve host|name or service not known"),
    ("db-connection-refused", r"connection refused|could not connect|connection to server"),
)


def _label(text: str) -> str:
    return next((label for label, pattern in _LABELS if re.search(pattern, text, re.I)), "none")


def failure(message: str, label: str | None, context: str, hint: str = "") -> ProbeFinding:
    """A one-line finding of kind `django`, labelled from its text when `label` is None."""
    one_line = " ".join(message.split())
    label = label or _label(one_line)
    if not hint and label == "db-driver-missing":
        hint = "install the driver in the project's environment: pip install 'psycopg[binary]'"
    return ProbeFinding("django", label, f"Django probe ({context}): {one_line}", hint)


def classify_failure(returncode: int, stderr: str, shown: str, context: str) -> ProbeFinding:
    """A run that exited non-zero: the last line of its stderr, labelled when it is known."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    last = lines[-1] if lines else "(no output)"
    return failure(f"{shown} exited with status {returncode}: {last}", _label(stderr), context)


def report_findings(report: DjangoReport) -> list[ProbeFinding]:
    """What a report says is wrong: failed sections, history, conflicts, missing migrations."""
    found = [_section_finding(db.alias, name, error, report.context)
             for db in report.databases.values() for name, error in db.errors.items()]  # fmt: skip
    found += [_inconsistent(db.inconsistent) for db in report.databases.values()
              if db.inconsistent is not None]  # fmt: skip
    conflicts = report.graph.conflicts if report.graph else {}
    found += [_conflict(app, names) for app, names in sorted(conflicts.items())]
    return found + _missing(report.makemigrations)


def _section_finding(alias: str, name: str, error: SectionError, context: str) -> ProbeFinding:
    return failure(f"database {alias!r}, {name}: {error.type}: {error.message}", None, context)


def _inconsistent(found: Inconsistency) -> ProbeFinding:
    nodes = tuple(key for pair in found.pairs for key in pair)
    return ProbeFinding("django", "inconsistent-history", found.message, "apply the missing "
                        "dependency with --fake if its tables exist, else roll the dependent "
                        "migration back first", nodes=nodes)  # fmt: skip


def _conflict(app: str, names: tuple[str, ...]) -> ProbeFinding:
    message = ("Conflicting migrations detected; multiple leaf nodes in the migration graph: "
               f"({', '.join(names)} in {app}).")  # fmt: skip
    return ProbeFinding("django", "migration-conflict", message,
                        f"python manage.py makemigrations --merge {app}",
                        nodes=tuple((app, name) for name in names))  # fmt: skip


def _missing(result: Makemigrations) -> list[ProbeFinding]:
    if result.exit_status == 3:  # the non-interactive questioner gave up
        lines = [line.strip() for line in result.output.splitlines() if line.strip()]
        return [ProbeFinding("django", "non-nullable-field", lines[-1] if lines else "",
                             "give the field a default, or null=True, then makemigrations")]
    return [
        ProbeFinding("django", "missing-migrations", f"Your models in app(s): {app!r} have "
                     "changes that are not yet reflected in a migration: "
                     + "; ".join(result.changes.get(app, ())),
                     f"python manage.py makemigrations {app}")
        for app in result.apps or ()
    ]  # fmt: skip
