"""Questions about a built migration graph: leaves, roots, dependency order, plans and cycles.

They answer as Django's `MigrationGraph` does (`leaf_nodes`, `root_nodes`, `forwards_plan`),
with ties broken by key so that every answer is stable.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from migdoctor.probes import NodeKey
from migdoctor.probes.migration_build import MigrationGraph


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
