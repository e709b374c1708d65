"""The migration graph of a project: `scan_project`, and the entry point of the graph modules.

`scan_project` discovers, parses, builds and checks a project's migrations in one call. The work
is done in `migration_build` (the graph as Django's loader builds it), `migration_queries`
(leaves, order, plans, cycles) and `migration_checks` (findings); their public names are
importable from here as well.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from migdoctor.probes import NodeKey, ProbeFinding
from migdoctor.probes.migration_build import Edge, MigrationGraph, Squash, build_graph
from migdoctor.probes.migration_checks import (
    check_graph,
    conflict_findings,
    cycle_findings,
    dangling_findings,
    duplicate_numbers,
    misleading_name,
    suggest_name,
)
from migdoctor.probes.migration_discovery import discover
from migdoctor.probes.migration_files import load_migrations
from migdoctor.probes.migration_parse import DEFAULT_SETTINGS, Settings
from migdoctor.probes.migration_queries import (
    cycles,
    forwards_plan,
    leaf_nodes,
    leaves_by_app,
    root_nodes,
    successors,
    topological_order,
)

__all__ = [  # the public names, defined here or in the modules above
    "Edge", "MigrationGraph", "Squash", "build_graph", "check_graph", "conflict_findings",
    "cycle_findings", "cycles", "dangling_findings", "duplicate_numbers", "forwards_plan",
    "leaf_nodes", "leaves_by_app", "misleading_name", "root_nodes", "scan_project",
    "successors", "suggest_name", "topological_order",
]  # fmt: skip


def scan_project(
    root: str | Path,
    paths: Sequence[str | Path] | None = None,
    applied: Collection[NodeKey] | None = None,
    settings: Settings = DEFAULT_SETTINGS,
) -> tuple[MigrationGraph, list[ProbeFinding]]:
    """Discover, parse and check a project's migrations: the graph and every finding."""
    dirs = discover(root, paths)
    files, findings = load_migrations(dirs, settings)
    graph = build_graph(files, applied, apps=[d.app_label for d in dirs])
    return graph, check_graph(graph, findings)
