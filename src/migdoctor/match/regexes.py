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


_META = set("\\.^$*+?{}[]()|")


@lru_cache(maxsize=4096)
def required_literal(source: str) -> str:
    """The longest plain text every match of `source` must contain, lowercased ("" if none).

    A cheap scan of the source, not a parse: checking it is in a line is far cheaper than
    compiling a regex that cannot match there. Only text outside groups and classes counts,
    and a regex with a top-level alternative has none.
    """
    depth, best, run, i = 0, "", "", 0
    while i < len(source):
        char = source[i]
        if char == "\\":
            run, i = "", i + 2
            continue
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "|" and depth == 0:
            return ""
        if depth == 0 and char not in _META:
            run += char
        else:
            if char in "?*{" and run:
                run = run[:-1]  # the character before a quantifier may be absent
            best, run = max(best, run, key=len), ""
        i += 1
    return max(best, run, key=len).lower()
