"""What each database of the project has applied of one app, read-only.

The databases are the project's targets (`resolve_targets`: the environment's `DATABASE_URL`,
the local one of `.env`, the Compose db service's), each probed once, all at the same time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from migdoctor.probes import ProbeFinding
from migdoctor.probes.database import DatabaseSnapshot, probe
from migdoctor.probes.targets import Target, resolve_targets

PROBE_TIMEOUT = 3.0  # seconds, for the connection and each query


@dataclass(frozen=True)
class Reading:
    """One database: the names of the app's applied migrations, or None and why not."""

    name: str
    url: str  # with the password starred
    applied: frozenset[str] | None
    problem: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "url": self.url, "read": self.applied is not None,
                "problem": self.problem or None}  # fmt: skip


def read_databases(
    root: Path, app: str, environ: Mapping[str, str], compose_files: Sequence[str] = (),
    timeout: float = PROBE_TIMEOUT,
) -> tuple[tuple[Reading, ...], tuple[str, ...]]:  # fmt: skip
    """Every target's reading, and the notes on targets that could not be resolved."""
    from migdoctor.live.gather import probe_all

    resolution = resolve_targets(root, environ, compose_files=compose_files)

    def read(target: Target) -> DatabaseSnapshot | ProbeFinding:
        return probe(target, timeout=timeout, statement_timeout=timeout)

    results = probe_all(resolution.targets, read)
    readings = tuple(_reading(t, results[t.name], app) for t in resolution.targets)
    return readings, resolution.notes


def _reading(target: Target, result: DatabaseSnapshot | ProbeFinding, app: str) -> Reading:
    url = target.redacted()
    if isinstance(result, ProbeFinding):
        return Reading(target.name, url, None, result.message)
    if result.migrations_unreadable:
        return Reading(target.name, url, None, "django_migrations may not be read by "
                       f"{result.user}")  # fmt: skip
    return Reading(target.name, url, frozenset(result.applied(app)))
