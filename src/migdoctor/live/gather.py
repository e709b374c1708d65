"""Collect the facts every live command starts from: project, migration files, databases, drift.

The I/O comes in through `Handles` (the environment, the folder, the database probe, the Docker
client opener), so that tests hand in real ones pointed at their own databases and sockets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migdoctor.probes import ProbeFinding
from migdoctor.probes.database import DatabaseSnapshot
from migdoctor.probes.drift import (
    DriftItem,
    ProjectMigrations,
    applied_keys,
    find_drift,
    graph_for,
    load_project,
)
from migdoctor.probes.migration_graph import check_graph
from migdoctor.probes.project import Project, discover_project
from migdoctor.probes.targets import Target, resolve_targets

if TYPE_CHECKING:
    from migdoctor.probes.compose import DaemonStatus

DatabaseProbe = Callable[[Target], "DatabaseSnapshot | ProbeFinding"]
DockerOpener = Callable[[Mapping[str, str]], "tuple[Any, DaemonStatus]"]
LIVE_TIMEOUT = 3.0  # seconds, for each connection and each engine call


@dataclass(frozen=True)
class LiveOptions:
    """What the user named on the command line (`--project`, `--database`, `-f`, ...)."""

    project: str | None = None
    manage: str | None = None
    database_url: str | None = None
    databases: tuple[str, ...] = ()
    compose_files: tuple[str, ...] = ()
    service: str | None = None


@dataclass(frozen=True)
class Handles:
    """The I/O a live command may do. `open_docker` is only needed by `doctor`."""

    environ: Mapping[str, str]
    cwd: Path
    probe_database: DatabaseProbe
    open_docker: DockerOpener | None = None


def real_handles(environ: Mapping[str, str], cwd: Path, timeout: float = LIVE_TIMEOUT) -> Handles:
    """Handles on the real world: each database call carries `timeout`, each engine call the
    Compose probe's own (a busy engine answers slower than a database)."""
    from migdoctor.probes import compose, database

    def probe_database(target: Target) -> DatabaseSnapshot | ProbeFinding:
        return database.probe(target, timeout=timeout, statement_timeout=timeout)

    def open_docker(env: Mapping[str, str]) -> tuple[Any, DaemonStatus]:
        return compose.open_client(env, timeout=max(timeout, compose.DEFAULT_TIMEOUT))

    return Handles(environ, cwd, probe_database, open_docker)


@dataclass(frozen=True)
class Facts:
    """What the files and the databases say. `results`: a snapshot or the finding of the
    failure, per target name; `drift`: per target that could be read; `running`: the Compose
    services up, when asked (the fix wizard asks)."""

    project: Project
    migrations: ProjectMigrations
    findings: tuple[ProbeFinding, ...]
    targets: tuple[Target, ...]
    notes: tuple[str, ...]
    results: Mapping[str, DatabaseSnapshot | ProbeFinding]
    drift: Mapping[str, tuple[DriftItem, ...]]
    running: frozenset[str] | None = None  # services with a running container (None: unknown)
    db_service: str = "db"

    @property
    def snapshots(self) -> dict[str, DatabaseSnapshot]:
        return {n: r for n, r in self.results.items() if isinstance(r, DatabaseSnapshot)}

    @property
    def failures(self) -> dict[str, ProbeFinding]:
        return {n: r for n, r in self.results.items() if isinstance(r, ProbeFinding)}


def gather(options: LiveOptions, handles: Handles, project: Project | None = None) -> Facts:
    """Discover the project (unless given), parse its migrations, probe every target."""
    if project is None:
        project = discover_project(options.project, options.manage, handles.cwd)
    migrations, parse_findings = load_project(project.migrations_dirs)
    findings = check_graph(graph_for(migrations, ()), parse_findings)
    resolution = resolve_targets(project.root, handles.environ, options.database_url,
                                 options.databases, options.compose_files)  # fmt: skip
    results = probe_all(resolution.targets, handles.probe_database)
    return Facts(project, migrations, tuple(findings), resolution.targets, resolution.notes,
                 results, drift_all(migrations, results))  # fmt: skip


def probe_all(
    targets: tuple[Target, ...], probe: DatabaseProbe
) -> dict[str, DatabaseSnapshot | ProbeFinding]:
    """Every target probed at once: the slowest one sets the wait, not their sum."""
    if not targets:
        return {}
    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        return dict(zip((t.name for t in targets), pool.map(probe, targets), strict=True))


def drift_all(
    migrations: ProjectMigrations, results: Mapping[str, DatabaseSnapshot | ProbeFinding]
) -> dict[str, tuple[DriftItem, ...]]:
    """Drift of each readable target, each knowing what the others applied."""
    snaps = {n: s for n, s in results.items()
             if isinstance(s, DatabaseSnapshot) and not s.migrations_unreadable}  # fmt: skip
    applied = {n: applied_keys(s, migrations.apps) for n, s in snaps.items()}
    return {name: find_drift(migrations, snap, {o: a for o, a in applied.items() if o != name})
            for name, snap in snaps.items()}  # fmt: skip
