"""The two branches of an app with two leaves, read from the migration graph.

A branch is every migration of the app that leads to one leaf and not to the other: the
migrations one git branch added after the history both branches share. Only same-app
dependencies count, as for Django's leaves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from migdoctor.errors import MigdoctorError
from migdoctor.probes import NodeKey
from migdoctor.probes.migration_graph import MigrationGraph, leaf_nodes
from migdoctor.probes.migration_parse import MigrationFile

REFUSED = 1  # the exit code of a refusal: nothing was changed


def refuse(message: str, hint: str = "") -> MigdoctorError:
    return MigdoctorError(message, hint, exit_code=REFUSED)


@dataclass(frozen=True)
class Branch:
    """The migrations after the common ancestor up to `leaf`."""

    leaf: NodeKey
    members: frozenset[NodeKey]

    @property
    def name(self) -> str:
        return self.leaf[1]


@dataclass(frozen=True)
class Line:
    """A branch as one straight line: `chain` oldest first, `parent` the migration it starts
    from (the common ancestor)."""

    chain: tuple[MigrationFile, ...]
    parent: NodeKey


def same_app_parents(graph: MigrationGraph, app: str) -> dict[NodeKey, set[NodeKey]]:
    parents: dict[NodeKey, set[NodeKey]] = {key: set() for key in graph.nodes if key[0] == app}
    for edge in graph.edges:
        if edge.child[0] == app and edge.parent[0] == app:
            parents[edge.child].add(edge.parent)
    return parents


def ancestors(key: NodeKey, parents: Mapping[NodeKey, set[NodeKey]]) -> set[NodeKey]:
    """`key` and every migration it depends on, directly or not."""
    found, todo = {key}, [key]
    while todo:
        for parent in parents.get(todo.pop(), ()):
            if parent not in found:
                found.add(parent)
                todo.append(parent)
    return found


def two_branches(graph: MigrationGraph, app: str) -> tuple[Branch, Branch]:
    """The app's two branches, by leaf name; anything but two leaves is refused."""
    leaves = leaf_nodes(graph, app)
    if not leaves:
        raise MigdoctorError(f"app {app} has no migrations in this project",
                             "give the label of an app that has a migrations folder")  # fmt: skip
    if len(leaves) == 1:
        raise refuse(f"{app} has one leaf ({leaves[0][1]}): there is no conflict to resolve")
    names = ", ".join(name for _, name in leaves)
    if len(leaves) > 2:
        raise refuse(f"{app} has {len(leaves)} leaves ({names}): a rebase joins two",
                     f"merge them: python manage.py makemigrations --merge {app}")  # fmt: skip
    parents = same_app_parents(graph, app)
    first, second = (ancestors(leaf, parents) for leaf in leaves)
    return (Branch(leaves[0], frozenset(first - second)),
            Branch(leaves[1], frozenset(second - first)))  # fmt: skip


def straight_line(graph: MigrationGraph, branch: Branch) -> Line:
    """The branch from its first migration to its leaf, each depending on the one before.

    A branch with a merge inside, or without an ancestor it shares with the other, cannot be
    moved by changing one dependency: refused."""
    parents = same_app_parents(graph, branch.leaf[0])
    chain, current = [branch.leaf], branch.leaf
    while True:
        above = parents[current]
        if len(above) != 1:
            raise _not_a_line(branch, current, above)
        (parent,) = above
        if parent not in branch.members:
            break
        chain.append(parent)
        current = parent
    if len(chain) != len(branch.members):
        stray = sorted(branch.members - set(chain))[0][1]
        raise refuse(f"the branch of {branch.name} is not one line of migrations ({stray} is "
                     "beside it)", _MERGE_HINT.format(app=branch.leaf[0]))  # fmt: skip
    return Line(tuple(graph.nodes[key] for key in reversed(chain)), parent)


_MERGE_HINT = "merge the branches instead: python manage.py makemigrations --merge {app}"


def _not_a_line(branch: Branch, key: NodeKey, above: set[NodeKey]) -> MigdoctorError:
    hint = _MERGE_HINT.format(app=key[0])
    if not above:
        return refuse(f"the branch of {branch.name} shares no migration with the other branch "
                      f"({key[1]} depends on no migration of {key[0]})", hint)  # fmt: skip
    names = ", ".join(sorted(name for _, name in above))
    return refuse(f"the branch of {branch.name} is not one line of migrations ({key[1]} "
                  f"depends on {names})", hint)  # fmt: skip
