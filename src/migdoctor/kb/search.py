"""Offline fuzzy search over the knowledge base, for questions in plain words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from migdoctor.model import Playbook

STOPWORDS = frozenset("""
    a an the of to in on for my i me is it how do does can what why with and or from be when
    where which this that these those all any get got want need
""".split())
# Plain words users type, mapped to the words the playbooks use.
SYNONYMS = {
    "undo": "rollback", "revert": "rollback", "unapply": "rollback", "back": "rollback",
    "wipe": "fresh", "empty": "fresh", "scratch": "fresh", "reset": "reset", "over": "fresh",
    "merge": "conflict", "combine": "squash", "compress": "squash", "rename": "rename",
    "container": "docker", "compose": "docker",
}


@dataclass(frozen=True)
class Hit:
    playbook: Playbook
    score: float


def _words(text: str) -> list[str]:
    words = [w for w in re.findall(r"[a-z0-9_]+", text.lower()) if w not in STOPWORDS]
    return words + [SYNONYMS[w] for w in words if w in SYNONYMS]


def _score(query: str, playbook: Playbook) -> float:
    from rapidfuzz import fuzz

    q = " ".join(_words(query))
    if not q:
        return 0.0
    head = " ".join([playbook.id.replace("-", " "), playbook.title, *playbook.keywords])
    fields = (
        (fuzz.token_set_ratio(q, " ".join(_words(head))), 1.0),
        (max((fuzz.token_set_ratio(q, " ".join(_words(k))) for k in playbook.keywords),
             default=0.0), 1.0),
        (fuzz.token_set_ratio(q, " ".join(_words(playbook.summary))), 0.85),
        (fuzz.partial_ratio(q, " ".join(_words(playbook.cause))), 0.6),
    )
    return round(max(score * weight for score, weight in fields), 1)


def _stems(text: str) -> set[str]:
    return {w.removesuffix("s") for w in _words(text)}


def _rank(query: str, playbook: Playbook) -> float:
    """The fuzzy score, nudged by how much of the query the title and keywords cover and by
    how much of the playbook's own name the query says (a tie of 100s is common otherwise)."""
    words = _stems(query)
    head = _stems(" ".join([playbook.title, *playbook.keywords]))
    name = _stems(playbook.id.replace("-", " "))
    covered = len(words & head) / len(words) if words else 0.0
    named = len(words & name) / len(name) if name else 0.0
    signals = playbook.match.signals if playbook.match else ()
    said = max((len(s) for s in signals if s.lower() in query.lower()), default=0)
    return round(0.7 * _score(query, playbook) + 15 * covered + 15 * named
                 + min(10, said / 2), 1)


def search(query: str, playbooks: list[Playbook], limit: int = 5) -> list[Hit]:
    """Best-first playbooks for a query; an exact id comes first."""
    hits = [Hit(p, 100.0 if p.id == query.strip() else _rank(query, p)) for p in playbooks]
    hits.sort(key=lambda h: (-h.score, h.playbook.id))
    return [h for h in hits[:limit] if h.score > 0]
