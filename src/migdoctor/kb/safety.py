"""A static check against regexes that can backtrack catastrophically (nested repeats)."""

from __future__ import annotations

# The regex parser of the standard library: private, but the only exact view of a regex's shape.
import re._constants as _c  # type: ignore[import-not-found]
import re._parser as _p  # type: ignore[import-not-found]
from typing import Any

_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT)}


def backtracking_risk(source: str) -> str:
    """A reason the regex is risky, or "" when it has no repeat nested inside another."""
    try:
        tree = _p.parse(source)
    except Exception:
        return ""
    return _scan(list(tree), inside_repeat=False)


def _children(op: Any, av: Any) -> list[list[Any]]:
    if op in _REPEATS:
        return [list(av[2])]
    if op is _c.SUBPATTERN:
        return [list(av[-1])]
    if op is _c.BRANCH:
        return [list(b) for b in av[1]]
    if op in (_c.ASSERT, _c.ASSERT_NOT):
        return [list(av[1])]
    return []


def _scan(items: list[Any], inside_repeat: bool) -> str:
    for op, av in items:
        is_repeat = op in _REPEATS and av[1] > 1
        if is_repeat and inside_repeat:
            return "a repeated group contains another repeat (like (a+)+)"
        for child in _children(op, av):
            if is_repeat and op is not _c.BRANCH and _has_overlapping_branch(child):
                return "a repeated group contains alternatives (like (a|ab)+)"
            reason = _scan(child, inside_repeat or is_repeat)
            if reason:
                return reason
    return ""


def _has_overlapping_branch(items: list[Any]) -> bool:
    for op, av in items:
        if op is _c.SUBPATTERN:
            return _has_overlapping_branch(list(av[-1]))
        if op is _c.BRANCH:
            firsts = [list(b)[:1] for b in av[1]]
            return len({repr(f) for f in firsts}) < len(firsts) or any(
                not f or f[0][0] is not _c.LITERAL for f in firsts)
    return False
