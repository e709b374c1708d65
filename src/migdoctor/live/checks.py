"""A doctor check: its status, message, hint and playbook, and the findings behind it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from migdoctor.kb.loader import KnowledgeBase
from migdoctor.match.entities import validate
from migdoctor.model import Evidence, Finding, Playbook
from migdoctor.probes import ProbeFinding

STATUSES: Final = ("ok", "warn", "fail", "skip")


@dataclass(frozen=True)
class Check:
    """One line of the checklist. `findings` are diagnose-shaped answers for a failed check."""

    id: str
    title: str
    status: str
    message: str
    hint: str = ""
    playbook: str | None = None
    details: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = field(default=(), repr=False)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "message": self.message,
                "hint": self.hint, "playbook": self.playbook}  # fmt: skip


def ok(id: str, title: str, message: str, details: Iterable[str] = ()) -> Check:
    return Check(id, title, "ok", message, details=tuple(details))


def skip(id: str, title: str, message: str) -> Check:
    return Check(id, title, "skip", message)


def from_probe(
    id: str,
    title: str,
    found: list[ProbeFinding],
    knowledge: KnowledgeBase,
    status: str = "fail",
    entities: dict[str, str] | None = None,
) -> Check:
    """A check that failed with these probe findings (the first one speaks for it)."""
    first = found[0]
    more = [f.message for f in found[1:]]
    return Check(id, title, status, first.message, first.hint, first.label,
                 tuple(more), tuple(as_findings(found, knowledge, entities or {})))  # fmt: skip


def as_findings(
    found: Iterable[ProbeFinding], knowledge: KnowledgeBase, entities: dict[str, str]
) -> list[Finding]:
    """Probe findings in the shape of `diagnose` findings: their playbook and its remedies."""
    results = []
    for item in found:
        playbook = knowledge.get(item.label)
        if playbook is not None:
            evidence = (Evidence(item.line or 0, item.message),)
            known, rejected = checked_entities(playbook, {**node_entities(item), **entities})
            results.append(Finding(playbook, 1.0, known, evidence, rejected))
    return results


def node_entities(item: ProbeFinding) -> dict[str, str]:
    """The migrations a finding names, as the entities of its playbook call them."""
    names = ("app_label", "migration", "parent_app", "parent")
    if item.label == "migration-conflict":
        names = ("app_label", "migration", "", "other_migration")
    pairs = [value for node in item.nodes[:2] for value in node]
    return {name: value for name, value in zip(names, pairs, strict=False) if name}


def checked_entities(
    playbook: Playbook, values: dict[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The values the playbook declares, valid for their type; and why the others were not."""
    known: dict[str, str] = {}
    rejected: dict[str, str] = {}
    for name, value in values.items():
        spec = playbook.entities.get(name)
        if spec is None:
            continue
        why = validate(spec.type, value)
        if why is None:
            known[name] = value
        else:
            rejected[name] = why
    return known, rejected


def worst(statuses: Iterable[str]) -> str:
    """`fail` over `warn` over `ok`; `skip` only when nothing else."""
    found = set(statuses)
    return next((s for s in ("fail", "warn", "ok") if s in found), "skip")
