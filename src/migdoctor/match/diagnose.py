"""Diagnose text or a stream of any size: chunks of whole lines through one Scanner."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import BinaryIO

from migdoctor.errors import MigdoctorError
from migdoctor.kb.loader import KnowledgeBase
from migdoctor.match.engine import Library, Scanner
from migdoctor.match.fuzzy import fuzzy_findings
from migdoctor.model import Finding

BLOCK = 1 << 20
MAX_PENDING_LINE = 4 << 20  # a line longer than this is cut: bounded memory whatever the input
FUZZY_LIMIT = 256 << 10  # the fuzzy pass looks only at pastes, not at whole logs


def diagnose_text(text: str, playbooks: Library) -> list[Finding]:
    scanner = Scanner(playbooks)
    scanner.feed(text, 1)
    return scanner.findings() or _fuzzy(text, playbooks)


def diagnose_stream(stream: BinaryIO, playbooks: Library) -> tuple[list[Finding], str]:
    """Findings of `stream`, read block by block, and its head (for nearest-docs hints)."""
    scanner = Scanner(playbooks)
    head: list[str] = []
    size = 0
    line_no = 1
    for chunk in _text_chunks(stream):
        if size < FUZZY_LIMIT:
            head.append(chunk[: FUZZY_LIMIT - size])
        size += len(chunk)
        scanner.feed(chunk, line_no)
        line_no += chunk.count("\n")
    if size == 0 or not any(c.strip() for c in head):
        raise MigdoctorError("no text to diagnose: the input is empty",
                             "paste the error as an argument, with --file PATH, or on stdin")
    text = "".join(head)
    return scanner.findings() or _fuzzy(text, playbooks), text


def _fuzzy(text: str, library: Library) -> list[Finding]:
    if len(text) > FUZZY_LIMIT:
        return []
    playbooks = list(library.playbooks.values()) if isinstance(library, KnowledgeBase) else library
    return fuzzy_findings(text, playbooks)


def _text_chunks(stream: BinaryIO) -> Iterator[str]:
    """Decoded blocks that end on a line boundary (or at the cut of an overlong line)."""
    first = stream.read(BLOCK)
    # PowerShell's `>` writes UTF-16 with a byte order mark; everything else is taken as UTF-8.
    encoding = "utf-16" if _is_utf16(first) else "utf-8"
    if encoding == "utf-8":
        _refuse_binary(first)
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    pending = ""
    block = first
    while block:
        pending += decoder.decode(block)
        cut = pending.rfind("\n")
        if cut >= 0 or len(pending) >= MAX_PENDING_LINE:
            cut = len(pending) - 1 if cut < 0 else cut
            yield pending[: cut + 1]
            pending = pending[cut + 1:]
        block = stream.read(BLOCK)
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def _is_utf16(block: bytes) -> bool:
    """A UTF-16 byte order mark followed by text that is mostly ASCII (so every other byte 0)."""
    if block[:2] not in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return False
    sample = block[2:402]
    return sample.count(0) >= len(sample) // 3


def _refuse_binary(block: bytes) -> None:
    sample = block[:8192]
    controls = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 12, 13, 27))
    if b"\x00" in sample or controls > len(sample) // 10:
        raise MigdoctorError("the input looks like a binary file, not text",
                             "pass the error text or a log file")
