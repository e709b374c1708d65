"""What is wrong with a project's migrations, as findings: the checks run on a built graph.

Dangling dependencies, cycles, apps with more than one leaf (conflicts), two migrations with
one number, and names that say add / remove / rename while the operations do something else
(`suggest_name` gives the name `makemigrations` would have chosen). `check_graph` runs them all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import MappingProxyType

from migdoctor.probes import NodeKey, ProbeFinding
from migdoctor.probes.migration_ast import Operation
from migdoctor.probes.migration_build import MigrationGraph
from migdoctor.probes.migration_parse import MigrationFile
from migdoctor.probes.migration_queries import cycles, leaf_nodes, leaves_by_app

_DIGITS = re.compile(r"\d+")


def _dotted(key: NodeKey) -> str:
    return f"{key[0]}.{key[1]}"


def conflict_findings(graph: MigrationGraph) -> list[ProbeFinding]:
    """An app with more than one leaf: two branches that nobody merged."""
    findings = []
    for app, leaves in sorted(leaves_by_app(graph).items()):
        if len(leaves) > 1:
            names = ", ".join(name for _, name in leaves)
            findings.append(
                ProbeFinding(
                    kind="conflict",
                    label="migration-conflict",
                    message="Conflicting migrations detected; multiple leaf nodes in the "
                    f"migration graph: ({names} in {app}).",
                    hint=f"Merge them: python manage.py makemigrations --merge {app}",
                    path=graph.nodes[leaves[-1]].path,
                    line=graph.nodes[leaves[-1]].line,
                    nodes=tuple(leaves),
                )
            )
    return findings


def _dangling_hint(graph: MigrationGraph, missing: NodeKey) -> str:
    for squash in graph.squashes:
        if missing in squash.replaces and not squash.used:
            return (
                f"{_dotted(missing)} is replaced by {_dotted(squash.key)}, which Django cannot "
                "use because only some of the migrations it replaces are applied: apply the "
                "rest of them, or restore the replaced file."
            )
    leaves = leaf_nodes(graph, missing[0])
    if leaves:
        return (
            f"Restore {missing[1]}.py in {missing[0]}/migrations, or point the dependency at a "
            f"migration that exists (the latest of {missing[0]} is {leaves[-1][1]})."
        )
    return f"App {missing[0]} has no such migration: restore its migrations or drop the dependency."


def dangling_findings(graph: MigrationGraph) -> list[ProbeFinding]:
    """Dependencies (or run_before) that name a migration which is not on disk."""
    findings = []
    for edge in graph.dangling:
        role = "parent" if edge.parent not in graph.nodes else "child"
        origin, missing = (edge.child, edge.parent) if role == "parent" else edge[::-1]
        migration = graph.nodes.get(origin)
        findings.append(
            ProbeFinding(
                kind="dangling",
                label="node-not-found",
                message=f"Migration {_dotted(origin)} dependencies reference nonexistent "
                f"{role} node {missing!r}",
                hint=_dangling_hint(graph, missing),
                path=migration.path if migration else None,
                line=migration.line if migration else None,
                nodes=(origin, missing),
            )
        )
    return findings


def cycle_findings(graph: MigrationGraph) -> list[ProbeFinding]:
    findings = []
    for cycle in cycles(graph):
        first = graph.nodes[cycle[0]]
        findings.append(
            ProbeFinding(
                kind="cycle",
                label="circular-dependency",
                message="Circular dependency: " + ", ".join(map(_dotted, cycle)),
                hint="Remove one dependency of the cycle; when two apps need each other, split "
                "one app's migration so that each dependency points one way.",
                path=first.path,
                line=first.line,
                nodes=tuple(cycle),
            )
        )
    return findings


def _number(name: str) -> str:
    """The leading digits of a migration name: `0042` of `0042_book_isbn`."""
    match = _DIGITS.match(name)
    return match.group() if match else ""


def duplicate_numbers(files: Iterable[MigrationFile]) -> list[ProbeFinding]:
    """Two migrations of one app with the same number (a squash and what it replaces excepted)."""
    groups: dict[tuple[str, str], list[MigrationFile]] = {}
    for migration in files:
        number = _number(migration.name)
        if number:
            groups.setdefault((migration.app_label, number), []).append(migration)
    findings = []
    for (app, number), group in sorted(groups.items()):
        if len(group) < 2:
            continue
        replaced = {key for migration in group for key in migration.replaces}
        clash = sorted((m for m in group if m.key not in replaced), key=lambda m: m.name)
        if len(clash) > 1:
            names = ", ".join(m.name for m in clash)
            findings.append(
                ProbeFinding(
                    kind="duplicate-number",
                    label="migration-conflict",
                    message=f"App {app} has {len(clash)} migrations numbered {number}: {names}.",
                    hint="Two branches each added this number. If the app also has two leaves, "
                    f"run: python manage.py makemigrations --merge {app}; otherwise renumber "
                    "the later one and every dependency on it.",
                    path=clash[-1].path,
                    line=clash[-1].line,
                    nodes=tuple(m.key for m in clash),
                )
            )
    return findings


_VERBS = MappingProxyType(
    {"add": "add", "create": "add", "remove": "remove", "delete": "remove", "drop": "remove"}
    | {"rename": "rename"}
)
_EFFECTS = MappingProxyType(
    dict.fromkeys(("CreateModel", "AddField", "AddIndex", "AddConstraint"), "add")
    | dict.fromkeys(("DeleteModel", "RemoveField", "RemoveIndex", "RemoveConstraint"), "remove")
    | dict.fromkeys(("RenameModel", "RenameField", "RenameIndex"), "rename")
)
_FRAGMENTS = MappingProxyType(
    {
        "CreateModel": "{name}",
        "DeleteModel": "delete_{name}",
        "RenameModel": "rename_{old_name}_{new_name}",
        "AlterModelTable": "alter_{name}_table",
        "AlterModelOptions": "alter_{name}_options",
        "AddField": "{model_name}_{name}",
        "RemoveField": "remove_{model_name}_{name}",
        "AlterField": "alter_{model_name}_{name}",
        "RenameField": "rename_{old_name}_{model_name}_{new_name}",
        "RemoveIndex": "remove_{model_name}_{name}",
        "RemoveConstraint": "remove_{model_name}_{name}",
    }
)


def suggest_name(operations: Iterable[Operation]) -> str | None:
    """The name `makemigrations` would give these operations (None: it would use a date)."""
    fragments = []
    for op in operations:
        words = {k: v.lower() for k, v in op.args.items() if isinstance(v, str)}
        try:
            fragments.append(re.sub(r"\W+", "_", _FRAGMENTS[op.kind].format_map(words)))
        except KeyError:
            return None
    if not fragments:
        return None
    name = fragments[0]
    for fragment in fragments[1:]:
        if len(f"{name}_{fragment}") > 52:
            return f"{name}_and_more"
        name = f"{name}_{fragment}"
    return name


def _describe(op: Operation) -> str:
    words = [v for k, v in op.args.items() if k in ("model_name", "name", "old_name", "new_name")]
    return f"{op.kind}({'.'.join(str(w) for w in words)})"


def misleading_name(migration: MigrationFile) -> ProbeFinding | None:
    """A name that says add / remove / rename while every operation does something else."""
    words = migration.name.split("_")
    verb = _VERBS.get(words[1].lower()) if len(words) > 1 and _number(migration.name) else None
    effects = {_EFFECTS.get(op.kind) for op in migration.operations}
    if verb is None or not effects or None in effects or verb in effects:
        return None
    suggestion = suggest_name(migration.operations)
    better = f" such as {_number(migration.name)}_{suggestion}" if suggestion else ""
    return ProbeFinding(
        kind="misleading-name",
        label="rename-misleading-migration",
        message=f"Migration {_dotted(migration.key)} is named '{words[1]}' but its operations "
        f"only {' and '.join(sorted(str(e) for e in effects))}: "
        + ", ".join(map(_describe, migration.operations)),
        hint=f"Rename the file to say what it does{better}, update every dependency on it, "
        "and rename its row in django_migrations wherever it is applied.",
        path=migration.path,
        line=migration.line,
        nodes=(migration.key,),
    )


def check_graph(
    graph: MigrationGraph, parse_findings: Iterable[ProbeFinding] = ()
) -> list[ProbeFinding]:
    """Every finding about the migrations: bad files first, then the graph, then the names."""
    files = list(graph.files.values())
    found = list(parse_findings)
    found += dangling_findings(graph) + cycle_findings(graph) + conflict_findings(graph)
    found += duplicate_numbers(files)
    found += [f for f in map(misleading_name, files) if f is not None]
    return found
