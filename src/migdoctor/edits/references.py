"""The migrations a migration file names in its `dependencies`, `replaces` and `run_before`:
located with `ast`, rewritten token by token.

Every entry of those lists must be a literal `("app", "name")` tuple (inside a list, a `+` of
lists or a conditional list) or `swappable_dependency(...)`, which names an app's first
migration and never a numbered one. Anything else is computed in code: which migration it names
cannot be known, so the file is refused (`EntryError`) rather than half rewritten.

A rewrite changes only the text between a name's quotes: formatting, quotes, string prefixes,
comments, encoding (coding cookie, BOM) and line endings stay byte for byte as they were.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from migdoctor.probes import NodeKey

REFERENCE_LISTS: Final = ("dependencies", "replaces", "run_before")
_LINE: Final = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")  # the lines as the tokenizer counts
_LITERAL: Final = re.compile(
    r"(?P<prefix>[rRuU]*)(?P<quote>'''|\"\"\"|'|\")(?P<body>.*)(?P=quote)", re.DOTALL
)
_REWRITE_HINT: Final = 'write it as literal ("app", "name") tuples, or edit the files by hand'


class SourceError(Exception):
    """A file that cannot be read, decoded or parsed, or has no Migration class: why, briefly."""


class EntryError(Exception):
    """An entry of a reference list that cannot be rewritten safely, at `line`."""

    def __init__(self, line: int, reason: str, hint: str = _REWRITE_HINT) -> None:
        super().__init__(reason)
        self.line = line
        self.hint = hint

    def located(self, shown_path: str) -> str:
        return f"{shown_path}:{self.line}: {self}"


@dataclass(frozen=True)
class Reference:
    """One `(app, name)` entry: its list, its line, and the span of the name's string constant
    as offsets into the decoded text."""

    attribute: str
    key: NodeKey
    line: int
    start: int
    end: int


@dataclass(frozen=True)
class MigrationSource:
    """A migration file as read: its bytes, its text as Python decodes it, and its references
    in file order."""

    path: Path
    raw: bytes
    text: str
    encoding: str
    references: tuple[Reference, ...]
    tree: ast.Module = field(repr=False, compare=False)


def read_migration(path: Path) -> MigrationSource:
    """The file at `path` read with its references; `SourceError` or `EntryError` if not."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(exc.strerror or str(exc)) from None
    return migration_source(path, raw)


def migration_source(path: Path, raw: bytes) -> MigrationSource:
    """`raw`, the bytes of the file at `path`, decoded and parsed with its references."""
    text, encoding = _decoded(raw)
    try:
        tree = ast.parse(text, filename=str(path))
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        raise SourceError(f"does not parse: {exc}" + (f" (line {line})" if line else "")) from None
    cls = next((s for s in tree.body if isinstance(s, ast.ClassDef) and s.name == "Migration"),
               None)  # fmt: skip
    if cls is None:
        raise SourceError("has no Migration class")
    offsets = _LineOffsets(text)
    found = {}
    for attribute, value in _list_assignments(cls):
        for entry in _entries(value, attribute):
            reference = _reference(entry, attribute, offsets)
            found[reference.start] = reference  # one entry, however many names it is bound to
    references = tuple(found[start] for start in sorted(found))
    return MigrationSource(path, raw, text, encoding, references, tree)


def mentions(source: MigrationSource, name: str) -> tuple[int, ...]:
    """The lines of string constants equal to `name` that are not references (a constant built
    elsewhere in the file: for a person to look at)."""
    offsets = _LineOffsets(source.text)
    spans = {(r.start, r.end) for r in source.references}
    return tuple(sorted({node.lineno for node in ast.walk(source.tree)
                         if isinstance(node, ast.Constant) and node.value == name
                         and offsets.span(node) not in spans}))  # fmt: skip


def rewritten(source: MigrationSource, new_names: Mapping[Reference, str]) -> bytes:
    """The file's bytes with each reference's name replaced by its new name. A name written as
    anything but one plain literal (an implicit concatenation, escapes) is refused: rewriting it
    would change more than the name."""
    text = source.text
    for reference in sorted(new_names, key=lambda r: r.start, reverse=True):
        token = text[reference.start : reference.end]
        match = _LITERAL.fullmatch(token)
        if match is None or match["body"] != reference.key[1]:
            raise EntryError(reference.line, f"the name {reference.key[1]!r} in "
                             f"{reference.attribute} is not written as a plain string")  # fmt: skip
        # A migration name is letters, digits and underscores: nothing to escape.
        literal = f"{match['prefix']}{match['quote']}{new_names[reference]}{match['quote']}"
        text = text[: reference.start] + literal + text[reference.end :]
    return text.encode(source.encoding)


def _decoded(raw: bytes) -> tuple[str, str]:
    """The text as Python decodes it (coding cookie, BOM), and that encoding."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        text = raw.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot be decoded: {exc}") from None
    if text.encode(encoding) != raw:  # written back, it would not be the same file
        raise SourceError(f"does not survive a round trip through {encoding}")
    return text, encoding


def _list_assignments(cls: ast.ClassDef) -> Iterator[tuple[str, ast.expr]]:
    """`dependencies = ...`, `run_before += ...` and the like, in the class body: each value
    once, under the first reference list it is bound to."""
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        else:
            continue
        names = [t.id for t in targets if isinstance(t, ast.Name) and t.id in REFERENCE_LISTS]
        if names:
            yield names[0], value


def _entries(node: ast.expr, attribute: str) -> Iterator[ast.Tuple]:
    """The literal tuples of a list expression; a computed entry is refused."""
    if isinstance(node, (ast.List, ast.Tuple)):
        for item in node.elts:
            if _is_swappable(item):
                continue
            if not _is_key(item):
                raise _computed(attribute, item)
            assert isinstance(item, ast.Tuple)
            yield item
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        yield from _entries(node.left, attribute)
        yield from _entries(node.right, attribute)
    elif isinstance(node, ast.IfExp):
        yield from _entries(node.body, attribute)
        yield from _entries(node.orelse, attribute)
    else:
        raise _computed(attribute, node)


def _is_key(node: ast.expr) -> bool:
    return (isinstance(node, ast.Tuple) and len(node.elts) == 2
            and all(isinstance(e, ast.Constant) and isinstance(e.value, str)
                    for e in node.elts))  # fmt: skip


def _is_swappable(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name == "swappable_dependency"


def _computed(attribute: str, node: ast.expr) -> EntryError:
    return EntryError(node.lineno, f"{attribute} is computed in code ({ast.unparse(node)}): "
                      "which migration it names cannot be known")  # fmt: skip


def _reference(entry: ast.Tuple, attribute: str, offsets: _LineOffsets) -> Reference:
    app, name = entry.elts
    assert isinstance(app, ast.Constant) and isinstance(name, ast.Constant)  # checked by _is_key
    assert isinstance(app.value, str) and isinstance(name.value, str)
    start, end = offsets.span(name)
    return Reference(attribute, (app.value, name.value), name.lineno, start, end)


class _LineOffsets:
    """`ast` positions (line, UTF-8 byte column) as offsets into the decoded text."""

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
