"""Frozen data shared by every layer: playbooks, findings and their parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Risk = Literal["safe", "caution", "destructive"]
Kind = Literal["error", "howto"]
RISK_ORDER: dict[str, int] = {"safe": 0, "caution": 1, "destructive": 2}
# Steps that are words for a person, never run: `note` informs, `manual` waits for them to act.
TEXT_VERBS = frozenset({"note", "manual"})


@dataclass(frozen=True)
class Pattern:
    source: str  # compiled lazily by match.regexes: most playbooks never run on a given text
    weight: float


@dataclass(frozen=True)
class Match:
    signals: tuple[str, ...]
    patterns: tuple[Pattern, ...]
    exclude: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class EntitySpec:
    type: str
    prompt: str = ""


@dataclass(frozen=True)
class Step:
    """One argv-level action; `verb` is one of the closed set in knowledge/README.md."""

    verb: str
    args: tuple[str, ...]
    confirm: str = ""
    context: str = ""
    database: str = ""  # psql: connect to this database instead of the project's (server-wide SQL)


@dataclass(frozen=True)
class Check:
    id: str
    probe: str
    args: tuple[str, ...]
    expect: Any


@dataclass(frozen=True)
class Option:
    id: str
    title: str
    risk: Risk
    steps: tuple[Step, ...]
    verify: tuple[Step, ...] = ()
    dev_only: bool = False
    requires: tuple[str, ...] = ()
    when: str = ""


@dataclass(frozen=True)
class Playbook:
    id: str
    kind: Kind
    title: str
    summary: str
    cause: str
    entities: dict[str, EntitySpec]
    options: tuple[Option, ...]
    match: Match | None = None
    checks: tuple[Check, ...] = ()
    keywords: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Evidence:
    line: int
    text: str


@dataclass(frozen=True)
class Finding:
    playbook: Playbook
    confidence: float
    entities: dict[str, str]
    evidence: tuple[Evidence, ...]
    rejected: dict[str, str] = field(default_factory=dict)
