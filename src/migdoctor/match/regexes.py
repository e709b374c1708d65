"""Compile playbook regexes once, and only when a text could match them."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=4096)
def compiled(source: str) -> re.Pattern[str]:
    return re.compile(source)


def entity_name(group: str) -> str:
    """`column__2` captures the entity `column` in another alternative of the same regex."""
    return group.split("__", 1)[0]


def literal_union(words: list[str]) -> re.Pattern[str]:
    """One regex that finds any of the (lowercase) words; longest first so none shadows another."""
    unique = sorted(set(words), key=lambda w: (-len(w), w))
    return re.compile("|".join(re.escape(w) for w in unique))
