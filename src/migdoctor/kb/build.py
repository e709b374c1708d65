"""Validate the plain data of one playbook and build its frozen model."""

from __future__ import annotations

import re
from typing import Any

from migdoctor.kb.problem import KeyPath, PlaybookError, line_of
from migdoctor.model import (
    Check,
    EntitySpec,
    Match,
    Option,
    Pattern,
    Playbook,
    Step,
)

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
VERBS = ("manage", "compose", "psql", "host", "edit", "backup", "note", "manual")
RISKS = ("safe", "caution", "destructive")
KINDS = ("error", "howto")
DEFAULT_WEIGHT = 0.9


class _Ctx:
    """Where we are in the file, so every error names its line and key path."""

    def __init__(self, source: str, lines: dict[KeyPath, int]) -> None:
        self.source, self.lines = source, lines

    def fail(self, path: KeyPath, message: str) -> PlaybookError:
        return PlaybookError(self.source, line_of(self.lines, path), path, message)

    def get(self, data: Any, path: KeyPath, key: str, kind: type | tuple[type, ...],
            default: Any = ...) -> Any:
        if not isinstance(data, dict):
            raise self.fail(path, "expected a mapping")
        if key not in data:
            if default is ...:
                raise self.fail(path, f"missing required key {key!r}")
            return default
        value = data[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise self.fail((*path, key), f"expected {names}, got {type(value).__name__}")
        return value

    def strings(self, data: Any, path: KeyPath, key: str) -> tuple[str, ...]:
        items = self.get(data, path, key, list, [])
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise self.fail((*path, key, i), "expected a string")
        return tuple(items)


def _pattern(ctx: _Ctx, item: Any, path: KeyPath) -> Pattern:
    if isinstance(item, str):
        return Pattern(item, DEFAULT_WEIGHT)
    source = ctx.get(item, path, "regex", str)
    weight = ctx.get(item, path, "weight", (int, float), DEFAULT_WEIGHT)
    if not 0 < weight <= 1:
        raise ctx.fail((*path, "weight"), "weight must be in (0, 1]")
    return Pattern(source, float(weight))


def _match(ctx: _Ctx, data: Any, path: KeyPath) -> Match:
    patterns = ctx.get(data, path, "patterns", list)
    if not patterns:
        raise ctx.fail((*path, "patterns"), "at least one pattern is needed")
    signals = ctx.strings(data, path, "signals")
    if not signals:
        raise ctx.fail((*path, "signals"), "at least one signal is needed")
    return Match(
        signals=signals,
        patterns=tuple(_pattern(ctx, p, (*path, "patterns", i)) for i, p in enumerate(patterns)),
        exclude=ctx.strings(data, path, "exclude"),
        examples=ctx.strings(data, path, "examples"),
    )


def _step(ctx: _Ctx, data: Any, path: KeyPath) -> Step:
    if not isinstance(data, dict):
        raise ctx.fail(path, "a step is a mapping such as {manage: [migrate]}")
    verbs = [v for v in VERBS if v in data]
    if len(verbs) != 1:
        raise ctx.fail(path, f"a step needs exactly one verb of {', '.join(VERBS)}")
    verb = verbs[0]
    unknown = set(data) - {verb, "confirm", "context", *(("database",) if verb == "psql" else ())}
    if unknown:
        raise ctx.fail((*path, sorted(unknown)[0]), "unknown key")
    raw = data[verb]
    if verb in ("psql", "note", "manual"):
        args: tuple[str, ...] = (ctx.get(data, path, verb, str),)
    elif verb == "backup":
        ctx.get(data, path, verb, dict)
        args = ()
    else:
        args = ctx.strings(data, path, verb)
        if not args:
            raise ctx.fail((*path, verb), "an empty command")
    context = ctx.get(data, path, "context", str, "")
    if context not in ("", "local", "compose"):
        raise ctx.fail((*path, "context"), "context is local or compose")
    del raw
    database = ctx.get(data, path, "database", str, "")
    return Step(verb, args, ctx.get(data, path, "confirm", str, ""), context, database)


def _steps(ctx: _Ctx, data: Any, path: KeyPath, key: str) -> tuple[Step, ...]:
    items = ctx.get(data, path, key, list, [])
    return tuple(_step(ctx, item, (*path, key, i)) for i, item in enumerate(items))


def _option(ctx: _Ctx, data: Any, path: KeyPath) -> Option:
    risk = ctx.get(data, path, "risk", str)
    if risk not in RISKS:
        raise ctx.fail((*path, "risk"), f"risk is one of {', '.join(RISKS)}")
    steps = _steps(ctx, data, path, "steps")
    if not steps:
        raise ctx.fail((*path, "steps"), "an option needs at least one step")
    return Option(
        id=ctx.get(data, path, "id", str),
        title=ctx.get(data, path, "title", str),
        risk=risk,
        steps=steps,
        verify=_steps(ctx, data, path, "verify"),
        dev_only=ctx.get(data, path, "dev_only", bool, False),
        requires=ctx.strings(data, path, "requires"),
        when=ctx.get(data, path, "when", str, "").strip(),
    )


def _entities(ctx: _Ctx, data: Any, path: KeyPath) -> dict[str, EntitySpec]:
    from migdoctor.match.entities import TYPES

    raw = ctx.get(data, path, "entities", dict, {})
    specs: dict[str, EntitySpec] = {}
    for name, spec in raw.items():
        where = (*path, "entities", name)
        kind = ctx.get(spec, where, "type", str)
        if kind not in TYPES:
            raise ctx.fail((*where, "type"), f"unknown entity type {kind!r}")
        specs[str(name)] = EntitySpec(kind, ctx.get(spec, where, "prompt", str, ""))
    return specs


def _check(ctx: _Ctx, data: Any, path: KeyPath) -> Check:
    args = ctx.strings(data, path, "args")
    return Check(ctx.get(data, path, "id", str), ctx.get(data, path, "probe", str), args,
                 data.get("expect") if isinstance(data, dict) else None)


TOP_KEYS = {"id", "kind", "title", "summary", "keywords", "match", "entities", "cause",
            "checks", "options", "references", "related"}


def build_playbook(data: Any, lines: dict[KeyPath, int], source: str) -> Playbook:
    """Turn parsed YAML into a Playbook, or raise PlaybookError naming what is wrong."""
    ctx = _Ctx(source, lines)
    unknown = set(data) - TOP_KEYS if isinstance(data, dict) else set()
    if unknown:
        raise ctx.fail((sorted(unknown)[0],), "unknown key")
    pid = ctx.get(data, (), "id", str)
    if not ID_RE.match(pid):
        raise ctx.fail(("id",), "an id is lowercase words joined by '-'")
    kind = ctx.get(data, (), "kind", str)
    if kind not in KINDS:
        raise ctx.fail(("kind",), "kind is error or howto")
    if kind == "error" and "match" not in data:
        raise ctx.fail((), "an error playbook needs a 'match' section")
    options = ctx.get(data, (), "options", list, [])
    return Playbook(
        id=pid,
        kind=kind,
        title=ctx.get(data, (), "title", str),
        summary=ctx.get(data, (), "summary", str).strip(),
        cause=ctx.get(data, (), "cause", str, "").strip(),
        entities=_entities(ctx, data, ()),
        options=tuple(_option(ctx, o, ("options", i)) for i, o in enumerate(options)),
        match=_match(ctx, data["match"], ("match",)) if "match" in data else None,
        checks=tuple(_check(ctx, c, ("checks", i))
                     for i, c in enumerate(ctx.get(data, (), "checks", list, []))),
        keywords=ctx.strings(data, (), "keywords"),
        references=ctx.strings(data, (), "references"),
        related=ctx.strings(data, (), "related"),
        source=source,
    )
