"""Clean pasted text: ANSI codes, CRLF, Compose log prefixes, timestamps, quoting, fences."""

from __future__ import annotations

import re
from dataclasses import dataclass

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Z0-9]")
# `web_1  | `, `proj-web-1  | `, `django   | ` (Compose v1 and v2 log prefixes).
COMPOSE_PREFIX = re.compile(r"^\s{0,4}([A-Za-z0-9][A-Za-z0-9_.-]{0,62})\s{0,40}\|\s?")
TIMESTAMP = re.compile(
    r"^\s{0,4}\[?\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?\]?\s{0,4}"
    r"|^\s{0,4}#\d{1,4} \d{1,5}\.\d{1,3} "  # BuildKit step counters: `#8 12.34 `
)
QUOTE = re.compile(r"^\s{0,4}(?:>\s?)+")
BOX = re.compile(r"^\s*[│┃║|]\s?|\s?[│┃║]\s*$")  # borders of boxed terminal UIs
FENCE = re.compile(r"^\s{0,4}(?:```|~~~)\w*\s*$")
WRAP_MIN = 60  # a line at least this long that ends mid-word may have been wrapped by a terminal


@dataclass(frozen=True)
class Line:
    no: int  # 1-based line number in the input
    text: str
    service: str = ""  # the Compose service that printed it, when a log prefix says so


def clean_line(raw: str) -> tuple[str, str]:
    """One raw line without decorations, and the Compose service from its prefix."""
    text = ANSI.sub("", raw) if "\x1b" in raw else raw
    text = text.rstrip("\r\n").replace("\r", "")
    service = ""
    prefix = COMPOSE_PREFIX.match(text)
    if prefix and not text.lstrip().startswith("|"):
        service = prefix.group(1)
        text = text[prefix.end():]
    text = TIMESTAMP.sub("", text, count=1)
    text = QUOTE.sub("", text, count=1)
    if "│" in text or "┃" in text or "║" in text:
        text = BOX.sub("", text)
    if FENCE.match(text):
        return "", service
    return text, service


def split_lines(text: str, first_no: int = 1) -> list[Line]:
    """Normalize a whole paste into numbered lines."""
    out = []
    for offset, raw in enumerate(text.split("\n")):
        clean, service = clean_line(raw)
        out.append(Line(first_no + offset, clean, service))
    return out


def joined_with_next(line: Line, nxt: Line | None) -> str | None:
    """The line joined with the next one when a terminal or UI may have wrapped it mid-word."""
    if nxt is None or len(line.text) < WRAP_MIN or not nxt.text or nxt.text[0].isspace():
        return None
    return line.text + nxt.text
