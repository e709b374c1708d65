"""Load-time rules the schema cannot express: placeholders, groups, requires, regex safety."""

from __future__ import annotations

import re
from collections.abc import Iterator

from migdoctor.kb.problem import KeyPath
from migdoctor.kb.safety import backtracking_risk
from migdoctor.match.regexes import entity_name
from migdoctor.model import Playbook, Step

PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")
# Probe ids a playbook check may name; kept explicit so a typo fails at load time.
KNOWN_PROBES = frozenset({
    "db.column_exists", "db.table_exists", "db.index_exists", "db.migration_applied",
    "db.reachable", "db.can_create_in_public", "files.has_conflict", "files.node_exists",
    "compose.service_running", "compose.env_file_exists", "compose.daemon_reachable",
})


def problems(playbook: Playbook) -> Iterator[tuple[KeyPath, str]]:
    """Every broken rule of one playbook, as (key path, message)."""
    yield from _regex_problems(playbook)
    check_ids = {c.id for c in playbook.checks}
    for i, check in enumerate(playbook.checks):
        if check.probe not in KNOWN_PROBES:
            yield ("checks", i, "probe"), f"unknown probe {check.probe!r}"
        for arg in check.args:
            if arg not in playbook.entities:
                yield ("checks", i, "args"), f"{arg!r} is not a declared entity"
    for i, option in enumerate(playbook.options):
        for req in option.requires:
            if req not in check_ids:
                yield ("options", i, "requires"), f"{req!r} names no check of this playbook"
        for key, steps in (("steps", option.steps), ("verify", option.verify)):
            for j, step in enumerate(steps):
                for name in _placeholders(step):
                    if name not in playbook.entities:
                        yield ("options", i, key, j), f"{{{name}}} is not a declared entity"
        if option.risk == "destructive" and option.steps[0].verb != "backup":
            yield ("options", i, "steps"), "a destructive option starts with a backup step"


def _placeholders(step: Step) -> set[str]:
    names = {m for arg in step.args for m in PLACEHOLDER.findall(arg)}
    return names | set(PLACEHOLDER.findall(step.confirm))


def _regex_problems(playbook: Playbook) -> Iterator[tuple[KeyPath, str]]:
    if playbook.match is None:
        return
    for i, pattern in enumerate(playbook.match.patterns):
        path: KeyPath = ("match", "patterns", i)
        try:
            rx = re.compile(pattern.source)
        except re.error as exc:
            yield path, f"regex does not compile: {exc}"
            continue
        risk = backtracking_risk(pattern.source)
        if risk:
            yield path, f"regex may backtrack catastrophically: {risk}"
        for group in rx.groupindex:
            if entity_name(group) not in playbook.entities:
                yield path, f"group {group!r} is not a declared entity"
        lowered = pattern.source.lower()
        if not any(_literal_in(s.lower(), lowered) for s in playbook.match.signals):
            yield path, "contains none of the playbook's signals literally"
    for i, source in enumerate(playbook.match.exclude):
        try:
            re.compile(source)
        except re.error as exc:
            yield ("match", "exclude", i), f"regex does not compile: {exc}"


def _literal_in(signal: str, regex_source: str) -> bool:
    """Whether the signal's text appears in the regex (allowing for escapes)."""
    unescaped = re.sub(r"\\(.)", r"\1", regex_source)
    return signal in regex_source or signal in unescaped
