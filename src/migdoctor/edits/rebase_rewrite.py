"""Migration names in `dependencies`, `replaces` and `run_before`, located in a file's source
with `ast` and replaced token by token: the rest of the file keeps its bytes.

Every entry of those lists must be a literal `("app", "name")` tuple (inside a list, a `+` of
lists or a conditional list) or `swappable_dependency(...)`, which names an app's first
migration and never a numbered one. Anything else is computed in code: its target cannot be
known, so the file is refused.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from migdoctor.edits.rebase_graph import refuse
from migdoctor.errors import MigdoctorError
from migdoctor.probes import NodeKey
from migdoctor.probes.migration_ast import class_attributes

KEY_LISTS = ("dependencies", "replaces", "run_before")
_QUOTES = "'\""


@dataclass(frozen=True)
class KeyToken:
    """One `(app, name)` entry: `start`, `end` are the byte offsets of the name's string;
    `quote` its quote character, empty when it is not a plain string literal (`"a" "b"`)."""

    attribute: str
    key: NodeKey
    line: int
    start: int
    end: int
    quote: str


def key_tokens(source: bytes, path: str) -> list[KeyToken]:
    """Every `(app, name)` entry of the Migration class's lists, in file order."""
    try:
        tree = ast.parse(source, filename=path)
        source.decode("utf-8")
    except (SyntaxError, ValueError) as exc:
        raise refuse(f"{path} cannot be parsed ({exc}): nothing was changed") from None
    cls = next((s for s in tree.body if isinstance(s, ast.ClassDef) and s.name == "Migration"),
               None)  # fmt: skip
    if cls is None:
        raise refuse(f"{path} has no Migration class: nothing was changed")
    offsets = _line_offsets(source)
    attributes = class_attributes(cls)
    tokens = []
    for attribute in KEY_LISTS:
        if attribute in attributes:
            for entry in _entries(attributes[attribute], path, attribute):
                tokens.append(_token(entry, attribute, source, offsets))
    return sorted(tokens, key=lambda t: t.start)


def replace_names(source: bytes, changes: Iterable[tuple[KeyToken, str]], path: str) -> bytes:
    """`source` with each token's name string replaced by the new name, same quotes."""
    out = source
    for token, name in sorted(changes, key=lambda change: change[0].start, reverse=True):
        if not token.quote:
            raise refuse(f"{path}:{token.line}: the name {token.key[1]!r} in {token.attribute} "
                         "is not written as a plain string: nothing was changed")  # fmt: skip
        literal = f"{token.quote}{name}{token.quote}".encode()
        out = out[: token.start] + literal + out[token.end :]
    return out


def _line_offsets(source: bytes) -> list[int]:
    """The byte offset where each line starts (ast numbers lines from 1; columns are bytes)."""
    offsets, total = [0], 0
    for line in source.splitlines(keepends=True):
        total += len(line)
        offsets.append(total)
    return offsets


def _entries(node: ast.expr, path: str, attribute: str) -> Iterator[ast.Tuple]:
    """The literal tuples of a list expression; a computed entry is refused."""
    if isinstance(node, (ast.List, ast.Tuple)):
        for item in node.elts:
            if _is_swappable(item):
                continue
            if not _is_key(item):
                raise _computed(path, attribute, item)
            assert isinstance(item, ast.Tuple)
            yield item
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        yield from _entries(node.left, path, attribute)
        yield from _entries(node.right, path, attribute)
    elif isinstance(node, ast.IfExp):
        yield from _entries(node.body, path, attribute)
        yield from _entries(node.orelse, path, attribute)
    else:
        raise _computed(path, attribute, node)


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


def _computed(path: str, attribute: str, node: ast.expr) -> MigdoctorError:
    return refuse(f"{path}:{node.lineno}: {attribute} is computed in code "
                  f"({ast.unparse(node)}): which migration it names cannot be known; nothing "
                  "was changed", 'write it as literal ("app", "name") tuples, or edit the files '
                  "by hand")  # fmt: skip


def _token(entry: ast.Tuple, attribute: str, source: bytes, offsets: list[int]) -> KeyToken:
    app, name = entry.elts
    assert isinstance(app, ast.Constant) and isinstance(name, ast.Constant)
    assert isinstance(app.value, str) and isinstance(name.value, str)  # checked by _is_key
    assert name.end_lineno is not None and name.end_col_offset is not None
    start = offsets[name.lineno - 1] + name.col_offset
    end = offsets[name.end_lineno - 1] + name.end_col_offset
    text = source[start:end].decode("utf-8")
    quote = text[:1]
    # Only a plain one-quote literal is rewritten in place: an implicit concatenation, a
    # prefix or triple quotes would need more than swapping the text between the quotes.
    if quote not in _QUOTES or text != f"{quote}{name.value}{quote}":
        quote = ""
    return KeyToken(attribute, (app.value, name.value), name.lineno, start, end, quote)
