"""The migration graph, built from parsed files the way Django's `MigrationLoader` builds it.

`build_graph` follows the loader step by step: nodes for every file, same-app dependencies,
then cross-app ones (`__first__` / `__latest__` resolved to the app's first root or leaf), then
squashed migrations (`replaces`): the squashed node is used when all or none of the replaced
ones are applied, else the replaced ones are. References to missing nodes are kept as
`dangling` edges instead of raising; dependencies on apps that were not scanned (say, Django's
contrib apps in site-packages) are kept as `external` edges.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from migdoctor.probes import NodeKey
from migdoctor.probes.migration_parse import MigrationFile

_SPECIAL = ("__first__", "__latest__")


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
