"""Read-only probes. Each one answers a question from facts and reports problems as findings.

Shared vocabulary lives here so that every probe speaks it; the probes themselves are modules
(`migration_files`, `migration_graph`, `schema_state`, ...) imported where they are needed.
"""

from __future__ import annotations

from dataclasses import dataclass

NodeKey = tuple[str, str]
"""A migration's identity, as Django's graph keys it: `(app_label, name)`."""


@dataclass(frozen=True)
class ProbeFinding:
    """A problem a probe found.

    `kind` names the check that found it (`conflict`, `dangling`, ...), `label` the playbook that
    addresses it (`migration-conflict`, `node-not-found`, ...). `nodes` are the migrations
    involved, `path` and `line` where to look.
    """

    kind: str
    label: str
    message: str
    hint: str
    path: str | None = None
    line: int | None = None
    nodes: tuple[NodeKey, ...] = ()


__all__ = ["NodeKey", "ProbeFinding"]
