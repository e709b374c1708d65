"""Precise rewrites of migration files: the string constants that name a migration in the
`dependencies`, `replaces` and `run_before` lists, located with `ast` and replaced token by token.

Everything else in the file (formatting, quotes, comments, encoding, line endings) stays byte for
byte as it was. Files are written through a temporary file and `os.replace`, so a reader never
sees half a file.
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from migdoctor.probes import NodeKey

REFERENCE_LISTS: Final = ("dependencies", "replaces", "run_before")
_LINE: Final = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")  # the lines as the tokenizer counts
_LITERAL: Final = re.compile(
    r"(?P<prefix>[rRuU]*)(?P<quote>'''|\"\"\"|'|\")(?P<body>.*)(?P=quote)", re.DOTALL
)


class SourceError(Exception):
    """A file that cannot be read, decoded or parsed: the reason, in a few words."""


@dataclass(frozen=True)
class Source:
    """A file's text as decoded, with the encoding that writes it back unchanged."""

    path: Path
    raw: bytes
    text: str
    encoding: str

    def encode(self, text: str) -> bytes:
        return text.encode(self.encoding)


@dataclass(frozen=True)
class Reference:
    """One string constant naming the migration: its line, its list, its span in the text."""

    line: int
    attribute: str
    start: int
    end: int


def read_source(path: Path) -> Source:
    """The file decoded the way Python decodes it (coding cookie, BOM); `SourceError` if not."""
    try:
        raw = path.read_bytes()
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        text = raw.decode(encoding)
    except OSError as exc:
        raise SourceError(exc.strerror or str(exc)) from None
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot be decoded: {exc}") from None
    if text.encode(encoding) != raw:  # written back, it would not be the same file
        raise SourceError(f"does not survive a round trip through {encoding}")
    return Source(path, raw, text, encoding)


@dataclass(frozen=True)
class Scan:
    """What one file says of a migration: its references, and the lines of other string
    constants equal to its name (built elsewhere in the file: left for a person to check)."""

    references: tuple[Reference, ...]
    other_lines: tuple[int, ...]


def scan(source: Source, key: NodeKey) -> Scan:
    """Every `(app, name)` tuple of the Migration class's reference lists that names `key`, as
    the span of its name's constant (conditional and concatenated lists too); `SourceError`
    when the file does not parse."""
    try:
        tree = ast.parse(source.text, filename=str(source.path))
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        raise SourceError(f"does not parse: {exc}" + (f" (line {line})" if line else "")) from None
    cls = next((s for s in tree.body if isinstance(s, ast.ClassDef) and s.name == "Migration"),
               None)  # fmt: skip
    offsets = _LineOffsets(source.text)
    found = []
    for attribute, value in _list_assignments(cls) if cls else ():
        for node in ast.walk(value):
            constant = _named_constant(node, key)
            if constant is not None:
                start, end = offsets.span(constant)
                found.append(Reference(constant.lineno, attribute, start, end))
    spans = {(r.start, r.end) for r in found}
    others = {node.lineno for node in ast.walk(tree) if isinstance(node, ast.Constant)
              and node.value == key[1] and offsets.span(node) not in spans}  # fmt: skip
    return Scan(tuple(sorted(found, key=lambda r: r.start)), tuple(sorted(others)))


def _list_assignments(cls: ast.ClassDef) -> list[tuple[str, ast.expr]]:
    """`dependencies = ...`, `run_before += ...` and the like, in the class body."""
    found = []
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        else:
            continue
        found += [(t.id, value) for t in targets
                  if isinstance(t, ast.Name) and t.id in REFERENCE_LISTS]  # fmt: skip
    return found


def _named_constant(node: ast.AST, key: NodeKey) -> ast.Constant | None:
    """The name's constant of a `("app", "name")` tuple (or list) equal to `key`."""
    if not isinstance(node, (ast.Tuple, ast.List)) or len(node.elts) != 2:
        return None
    app, name = node.elts
    if not (isinstance(app, ast.Constant) and isinstance(name, ast.Constant)):
        return None
    return name if (app.value, name.value) == key else None


class _LineOffsets:
    """`ast` positions (line, UTF-8 byte column) as offsets into the text."""

    def __init__(self, text: str) -> None:
        self.lines = _LINE.findall(text)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, line: int, byte_column: int) -> int:
        encoded = self.lines[line - 1].encode("utf-8")
        return self.starts[line - 1] + len(encoded[:byte_column].decode("utf-8"))

    def span(self, node: ast.expr) -> tuple[int, int]:
        end_line, end_column = node.end_lineno or node.lineno, node.end_col_offset or 0
        return self.offset(node.lineno, node.col_offset), self.offset(end_line, end_column)


def rewritten(source: Source, references: tuple[Reference, ...], old: str, new: str) -> str:
    """The text with each reference's constant naming `new` instead of `old`."""
    text = source.text
    for ref in sorted(references, key=lambda r: r.start, reverse=True):
        text = text[: ref.start] + _literal(text[ref.start : ref.end], old, new) + text[ref.end :]
    return text


def _literal(token: str, old: str, new: str) -> str:
    """`token` naming `new`: same prefix and quotes when it is the plain literal of `old`;
    otherwise (implicit concatenation, escapes) one literal in the token's first quote."""
    match = _LITERAL.fullmatch(token)
    if match and match["body"] == old:
        return f"{match['prefix']}{match['quote']}{new}{match['quote']}"
    quote = next((c for c in token if c in "'\""), '"')
    return f"{quote}{new}{quote}"  # `new` is letters, digits and _: nothing to escape


def write_replacing(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file next to `path`, with its permissions, then swap it in."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.migdoctor-tmp")
    mode = path.stat().st_mode & 0o7777
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
