"""The migration graph, built from parsed files the way Django's `MigrationLoader` builds it.

`build_graph` follows the loader step by step: nodes for every file, same-app dependencies,
then cross-app ones (`__first__` / `__latest__` resolved to the app's first root or leaf), then
squashed migrations (`replaces`): the squashed node is used when all or none of the replaced
ones are applied, else the replaced ones are. References to missing nodes are kept as
`dangling` edges instead of raising; dependencies on apps that were not scanned (say, Django's
contrib apps in site-packages) are kept as `external` edges.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from migdoctor.probes import NodeKey, ProbeFinding
from migdoctor.probes.migration_files import (
    DEFAULT_SETTINGS,
    MigrationFile,
    Operation,
    Settings,
    discover,
    load_migrations,
)

_SPECIAL = ("__first__", "__latest__")
_DIGITS = re.compile(r"\d+")


class Edge(NamedTuple):
    """`child` depends on `parent` (Django: `graph.add_dependency(migration, child, parent)`)."""

    child: NodeKey
    parent: NodeKey


@dataclass(frozen=True)
class Squash:
    """A squashed migration: what it replaces, which of those are applied, whether it is used."""

    key: NodeKey
    replaces: tuple[NodeKey, ...]
    applied: tuple[NodeKey, ...]
    used: bool


@dataclass(frozen=True)
class MigrationGraph:
    """Nodes and edges as Django's loader leaves them (after squash replacement).

    `files` holds every parsed file, including replaced ones that are not nodes.
    """

    nodes: Mapping[NodeKey, MigrationFile]
    edges: frozenset[Edge]
    dangling: tuple[Edge, ...] = ()
    external: tuple[Edge, ...] = ()
    squashes: tuple[Squash, ...] = ()
    files: Mapping[NodeKey, MigrationFile] = field(default_factory=dict)


@dataclass
class _Draft:
    """The graph while `build_graph` works on it; `None` marks a referenced but missing node."""

    nodes: dict[NodeKey, MigrationFile | None] = field(default_factory=dict)
    parents: dict[NodeKey, set[NodeKey]] = field(default_factory=dict)
    children: dict[NodeKey, set[NodeKey]] = field(default_factory=dict)
    by_app: dict[str, set[NodeKey]] = field(default_factory=dict)
    external: list[Edge] = field(default_factory=list)


def _add_node(draft: _Draft, key: NodeKey, migration: MigrationFile | None) -> None:
    draft.nodes[key] = migration
    draft.parents[key] = set()
    draft.children[key] = set()
    draft.by_app.setdefault(key[0], set()).add(key)


def _remove_node(draft: _Draft, key: NodeKey) -> tuple[set[NodeKey], set[NodeKey]]:
    """Drop a node; return its former parents and children (links to it are cut)."""
    del draft.nodes[key]
    draft.by_app[key[0]].discard(key)
    parents, children = draft.parents.pop(key), draft.children.pop(key)
    for parent in parents - {key}:
        draft.children[parent].discard(key)
    for child in children - {key}:
        draft.parents[child].discard(key)
    return parents - {key}, children - {key}


def _link(draft: _Draft, child: NodeKey, parent: NodeKey) -> None:
    for key in (child, parent):
        if key not in draft.nodes:
            _add_node(draft, key, None)
    draft.parents[child].add(parent)
    draft.children[parent].add(child)


def _ends(draft: _Draft, app: str, links: dict[NodeKey, set[NodeKey]]) -> list[NodeKey]:
    """Nodes of `app` with no same-app link in `links` (roots for parents, leaves for children)."""
    keys = draft.by_app.get(app, set())
    return sorted(k for k in keys if all(other[0] != app for other in links[k]))


def _resolve(draft: _Draft, key: NodeKey, current_app: str) -> NodeKey | None:
    """Django's `MigrationLoader.check_key`: `__first__` / `__latest__` to a real node."""
    if key[1] not in _SPECIAL or key in draft.nodes:
        return key
    if key[0] == current_app:
        return None
    links = draft.parents if key[1] == "__first__" else draft.children
    ends = _ends(draft, key[0], links)
    return ends[0] if ends else None


def _add_internal(draft: _Draft, migration: MigrationFile) -> None:
    for parent in migration.dependencies:
        if parent[0] == migration.app_label and parent[1] != "__first__":
            _link(draft, migration.key, parent)


def _add_external(draft: _Draft, migration: MigrationFile, apps: Collection[str]) -> None:
    key = migration.key
    for parent in migration.dependencies:
        if parent[0] != key[0]:
            _add_resolved(draft, Edge(key, parent), parent, key[0], apps)
    for child in migration.run_before:
        _add_resolved(draft, Edge(child, key), child, key[0], apps)


def _add_resolved(
    draft: _Draft, edge: Edge, other: NodeKey, current_app: str, apps: Collection[str]
) -> None:
    """Add `edge` once its `other` end is resolved; keep it as external if that app is unknown."""
    if other[0] not in apps:
        draft.external.append(edge)
        return
    resolved = _resolve(draft, other, current_app)
    if resolved is not None:
        _link(
            draft,
            *(Edge(resolved, edge.parent) if other == edge.child else Edge(edge.child, resolved)),
        )


def _use_squash(draft: _Draft, squash: NodeKey, replaced: Iterable[NodeKey]) -> None:
    """Django's `remove_replaced_nodes`: links to the replaced nodes move to the squash."""
    olds = set(replaced)
    for old in olds.intersection(draft.nodes):
        parents, children = _remove_node(draft, old)
        for child in children - olds:
            _link(draft, child, squash)
        for parent in parents - olds:
            _link(draft, squash, parent)


def _drop_squash(draft: _Draft, squash: NodeKey, replaced: Iterable[NodeKey]) -> None:
    """Django's `remove_replacement_node`: the squash's children move to the last replaced."""
    _, children = _remove_node(draft, squash)
    olds = set(replaced).intersection(draft.nodes)
    lasts = olds - set().union(*(draft.parents[old] for old in olds))
    for child in children:
        for last in lasts:
            _link(draft, child, last)


def _replace(
    draft: _Draft, files: Iterable[MigrationFile], applied: Collection[NodeKey]
) -> list[Squash]:
    squashes = []
    for migration in files:
        if not migration.replaces:
            continue
        done = tuple(k for k in migration.replaces if k in applied)
        used = len(done) in (0, len(migration.replaces))
        if migration.key in draft.nodes:
            (_use_squash if used else _drop_squash)(draft, migration.key, migration.replaces)
        squashes.append(Squash(migration.key, migration.replaces, done, used))
    return squashes


def build_graph(
    files: Iterable[MigrationFile],
    applied: Collection[NodeKey] | None = None,
    apps: Iterable[str] = (),
) -> MigrationGraph:
    """The graph of `files` as Django's loader builds it, given the applied migrations.

    `apps` adds app labels that have a migrations folder but no files; the apps of `files`
    are always known. Dependencies on any other app are `external`.
    """
    index: dict[NodeKey, MigrationFile] = {}
    for migration in files:
        index.setdefault(migration.key, migration)
    draft = _Draft()
    for key, migration in index.items():
        _add_node(draft, key, migration)
    known = {key[0] for key in index}.union(apps)
    for migration in index.values():
        _add_internal(draft, migration)
    for migration in index.values():
        _add_external(draft, migration, known)
    squashes = _replace(draft, index.values(), frozenset(applied or ()))
    return _freeze(draft, index, squashes)


def _freeze(
    draft: _Draft, index: dict[NodeKey, MigrationFile], squashes: list[Squash]
) -> MigrationGraph:
    links = {Edge(child, parent) for child, parents in draft.parents.items() for parent in parents}
    real = {key: m for key, m in draft.nodes.items() if m is not None}
    edges = frozenset(e for e in links if e.child in real and e.parent in real)
    return MigrationGraph(
        nodes=real,
        edges=edges,
        dangling=tuple(sorted(links - edges)),
        external=tuple(sorted(set(draft.external))),
        squashes=tuple(squashes),
        files=index,
    )


def successors(graph: MigrationGraph) -> dict[NodeKey, list[NodeKey]]:
    """For each node, the nodes that depend on it directly, sorted."""
    children: dict[NodeKey, list[NodeKey]] = {key: [] for key in graph.nodes}
    for edge in sorted(graph.edges):
        children[edge.parent].append(edge.child)
    return children


def leaf_nodes(graph: MigrationGraph, app: str | None = None) -> list[NodeKey]:
    """Nodes that no other node of their own app depends on (Django's `leaf_nodes`)."""
    has_child = {e.parent for e in graph.edges if e.parent[0] == e.child[0]}
    return sorted(k for k in graph.nodes if k not in has_child and app in (None, k[0]))


def root_nodes(graph: MigrationGraph, app: str | None = None) -> list[NodeKey]:
    """Nodes that depend on no other node of their own app (Django's `root_nodes`)."""
    has_parent = {e.child for e in graph.edges if e.parent[0] == e.child[0]}
    return sorted(k for k in graph.nodes if k not in has_parent and app in (None, k[0]))


def leaves_by_app(graph: MigrationGraph) -> dict[str, list[NodeKey]]:
    leaves: dict[str, list[NodeKey]] = {}
    for key in leaf_nodes(graph):
        leaves.setdefault(key[0], []).append(key)
    return leaves


def topological_order(graph: MigrationGraph) -> list[NodeKey]:
    """Every node after its dependencies (nodes on a cycle come last, in key order)."""
    children = successors(graph)
    waiting = {key: 0 for key in graph.nodes}
    for edge in graph.edges:
        waiting[edge.child] += 1
    ready = deque(sorted(k for k, n in waiting.items() if n == 0))
    order: list[NodeKey] = []
    while ready:
        key = ready.popleft()
        order.append(key)
        for child in children[key]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    seen = set(order)
    return order + sorted(k for k in graph.nodes if k not in seen)


def forwards_plan(graph: MigrationGraph, target: NodeKey) -> list[NodeKey]:
    """`target` and everything it depends on, dependencies first (what `migrate` would run)."""
    parents: dict[NodeKey, set[NodeKey]] = {}
    for edge in graph.edges:
        parents.setdefault(edge.child, set()).add(edge.parent)
    needed, todo = {target}, [target]
    while todo:
        for parent in parents.get(todo.pop(), ()):
            if parent not in needed:
                needed.add(parent)
                todo.append(parent)
    return [key for key in topological_order(graph) if key in needed]


def _components(nodes: list[NodeKey], succ: Mapping[NodeKey, list[NodeKey]]) -> list[list[NodeKey]]:
    """Strongly connected components (Tarjan, iterative), each sorted."""
    index: dict[NodeKey, int] = {}
    low: dict[NodeKey, int] = {}
    stack: list[NodeKey] = []
    on_stack: set[NodeKey] = set()
    found: list[list[NodeKey]] = []
    for root in (n for n in nodes if n not in index):
        work = [(root, iter(succ[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            nxt = next(pending, None)
            if nxt is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    found.append(_pop_component(node, stack, on_stack))
            elif nxt not in index:
                work.append((nxt, iter(succ[nxt])))
                index[nxt] = low[nxt] = len(index)
                stack.append(nxt)
                on_stack.add(nxt)
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
    return found


def _pop_component(root: NodeKey, stack: list[NodeKey], on_stack: set[NodeKey]) -> list[NodeKey]:
    component: list[NodeKey] = []
    while not component or component[-1] != root:
        component.append(stack.pop())
        on_stack.discard(component[-1])
    return sorted(component)


def _cycle_path(component: list[NodeKey], succ: Mapping[NodeKey, list[NodeKey]]) -> list[NodeKey]:
    """A shortest cycle through the component's first node; each node depends on the one before."""
    start, members = component[0], set(component)
    previous: dict[NodeKey, NodeKey] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in succ[node]:
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return path[::-1]
            if nxt in members and nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    return [start]


def cycles(graph: MigrationGraph) -> list[list[NodeKey]]:
    """One cycle per group of migrations that depend on each other, in dependency order."""
    succ = successors(graph)
    found = []
    for component in _components(sorted(graph.nodes), succ):
        if len(component) > 1 or component[0] in succ[component[0]]:
            found.append(_cycle_path(component, succ))
    return sorted(found)


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
