"""`.env` files read the way Docker Compose reads them.

The rules are those of Compose's own parser (compose-go `dotenv`):

- blank lines and lines starting with `#` are skipped; `export NAME=value` is `NAME=value`;
  `NAME: value` (YAML style) is accepted too;
- an unquoted value ends at the line's end or at ` #` (an inline comment), trailing blanks
  trimmed; `$VAR` and `${VAR}` in it are interpolated;
- a quoted value may span lines, and a backslash escapes its quote; a single-quoted value is
  otherwise literal; a double-quoted one understands the escapes `\\n \\t \\r \\" \\\\ \\$`
  and is interpolated;
- a bare `NAME` takes its value from the environment, and is left out when that has none.

Interpolation looks a name up first among the variables defined above it in the same file, then
in the environment: `${VAR}`, `$VAR`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`,
`${VAR+alt}`, `${VAR:?message}` (a problem when unset) and `$$` for a literal `$`.

Values are often secrets: problems name the line and the variable, never a value, and an
`EnvFile`'s repr lists the names only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Final

Lookup = Callable[[str], str | None]

_KEY: Final = re.compile(r"(?:export[ \t]+)?([A-Za-z0-9_.\-\[\]]+)[ \t]*([=:]|\n|$)")
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES: Final = {"n": "\n", "r": "\r", "t": "\t", "a": "\a", "b": "\b", "f": "\f",
                   "v": "\v", '"': '"', "\\": "\\", "$": "$$"}  # fmt: skip


@dataclass(frozen=True)
class EnvFile:
    """One env file: its variables and, per line that could not be read, a problem."""

    path: Path
    values: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), repr=False)
    problems: tuple[str, ...] = ()
    exists: bool = True

    def __repr__(self) -> str:
        names = ", ".join(self.values)
        return f"EnvFile(path={str(self.path)!r}, names=[{names}], problems={self.problems!r})"

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.values.get(name, default)


def read_env_file(path: str | Path, environ: Mapping[str, str] | None = None) -> EnvFile:
    """Parse the file at `path`; a missing or unreadable file is an empty `EnvFile`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        exists = path.exists()
        return EnvFile(path, problems=() if not exists else (f"cannot read: {why}",),
                       exists=exists)  # fmt: skip
    values, problems = parse_env(text, environ or {})
    return EnvFile(path, MappingProxyType(values), problems)


def parse_env(text: str, environ: Mapping[str, str]) -> tuple[dict[str, str], tuple[str, ...]]:
    """The variables of an env file's text, and its problems (`line N: ...`)."""
    text = text.replace("\r\n", "\n").removeprefix("\ufeff")
    values: dict[str, str] = {}
    problems: list[str] = []
    pos = _statement_start(text, 0)
    while pos < len(text):
        pos = _statement(text, pos, values, environ, problems)
        pos = _statement_start(text, pos)
    return values, tuple(problems)


def _statement_start(text: str, pos: int) -> int:
    """The position of the next statement: blanks and comment lines skipped."""
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
        elif text[pos] == "#":
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end
        else:
            break
    return pos


def _statement(
    text: str, pos: int, values: dict[str, str], environ: Mapping[str, str], problems: list[str]
) -> int:
    """Read one `NAME=value` at `pos` into `values`; the position after it."""
    line = text.count("\n", 0, pos) + 1
    match = _KEY.match(text, pos)
    if match is None:
        problems.append(f"line {line}: not a NAME=value line")
        return _line_end(text, pos)
    name, separator = match.group(1), match.group(2)
    if separator in ("\n", ""):
        if name in environ:
            values[name] = environ[name]
        return match.end()
    lookup = _lookup(values, environ)
    value, end, problem = _value(text, _skip_blanks(text, match.end()), lookup)
    if problem:
        problems.append(f"line {line}: {name}: {problem}")
    if value is not None:
        values[name] = value
    return end


def _lookup(values: Mapping[str, str], environ: Mapping[str, str]) -> Lookup:
    """Earlier variables of the same file first, then the environment (as Compose does)."""
    return lambda name: values[name] if name in values else environ.get(name)


def _skip_blanks(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _value(text: str, pos: int, lookup: Lookup) -> tuple[str | None, int, str]:
    """The value at `pos`, the position after it, and a problem (empty when none)."""
    quote = text[pos] if pos < len(text) else ""
    if quote not in ("'", '"'):
        end = _line_end(text, pos)
        raw = text[pos:end].split(" #", 1)[0].rstrip()
        value, problem = interpolate(raw, lookup)
        return value, end, problem
    quoted = _quoted(text, pos)
    if quoted is None:
        return None, _line_end(text, pos), "unterminated quoted value"
    inner, end = quoted
    if quote == "'":
        return inner, end, ""
    value, problem = interpolate(unescape(inner), lookup)
    return value, end, problem


def _quoted(text: str, start: int) -> tuple[str, int] | None:
    """The text inside the quote at `start` and the position after its closing quote.

    A backslash escapes the next character: an escaped quote loses its backslash, any other
    escape is kept for `unescape`. None when the quote is not closed.
    """
    quote, escaped = text[start], False
    chars: list[str] = []
    for index in range(start + 1, len(text)):
        char = text[index]
        if escaped:
            escaped = False
            chars.append(char if char == quote else "\\" + char)
        elif char == "\\":
            escaped = True
        elif char == quote:
            return "".join(chars), index + 1
        else:
            chars.append(char)
    return None


def unescape(value: str) -> str:
    """The escapes of a double-quoted value; `\\$` becomes `$$` so interpolation keeps a `$`."""
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), value, flags=re.S)


def interpolate(value: str, lookup: Lookup) -> tuple[str, str]:
    """`value` with its variables substituted, and a problem (empty when none)."""
    out: list[str] = []
    problems: list[str] = []
    pos = 0
    while True:
        dollar = value.find("$", pos)
        if dollar < 0:
            out.append(value[pos:])
            break
        out.append(value[pos:dollar])
        text, pos = _substitution(value, dollar, lookup, problems)
        out.append(text)
    return "".join(out), "; ".join(problems)


def _substitution(value: str, dollar: int, lookup: Lookup, problems: list[str]) -> tuple[str, int]:
    """What the `$...` at `dollar` stands for, and the position after it."""
    after = value[dollar + 1 : dollar + 2]
    if after == "$":
        return "$", dollar + 2
    if after != "{":
        name = _NAME.match(value, dollar + 1)
        if name is None:
            return "$", dollar + 1
        return lookup(name.group()) or "", name.end()
    close = _closing_brace(value, dollar + 1)
    if close < 0:
        problems.append("unterminated ${")
        return value[dollar:], len(value)
    return _braced(value[dollar + 2 : close], lookup, problems), close + 1


def _closing_brace(value: str, start: int) -> int:
    """The index of the `}` that closes the `{` at `start`, nested `${...}` skipped, or -1."""
    depth = 0
    for index in range(start, len(value)):
        if value[index] == "{":
            depth += 1
        elif value[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _braced(body: str, lookup: Lookup, problems: list[str]) -> str:
    """`NAME`, `NAME:-default`, `NAME-default`, `NAME:+alt`, `NAME+alt`, `NAME:?message`."""
    name = _NAME.match(body)
    if name is None:
        problems.append(f"invalid substitution ${{{body.split(':')[0][:40]}}}")
        return ""
    found = lookup(name.group())
    rest = body[name.end() :]
    if not rest:
        return found or ""
    colon = rest.startswith(":")
    op, arg = rest[int(colon) : int(colon) + 1], rest[int(colon) + 1 :]
    present = bool(found) if colon else found is not None
    if op == "-":
        return (found or "") if present else interpolate(arg, lookup)[0]
    if op == "+":
        return interpolate(arg, lookup)[0] if present else ""
    if op == "?" and not present:
        problems.append(f"required variable {name.group()} is missing a value")
        return ""
    if op == "?":
        return found or ""
    problems.append(f"invalid substitution ${{{name.group()}{rest[:2]}...}}")
    return ""
