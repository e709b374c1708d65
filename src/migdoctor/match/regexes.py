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
    """One regex that finds any of the words, shaped as a trie.

    Python's regex engine tries the alternatives of a flat `a|b|c` one by one at every
    position; a trie shares prefixes, so each position costs a few character tests instead.
    """
    trie: dict[str, dict] = {}  # type: ignore[type-arg]
    for word in set(words):
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return re.compile(_trie_regex(trie))


def _trie_regex(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
    if "" in node:
        return ""  # a shorter word ends here: any line with it is a candidate already
    branches = [re.escape(char) + _trie_regex(child) for char, child in sorted(node.items())]
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
