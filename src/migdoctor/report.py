"""The JSON shapes of migdoctor's answers (stable, documented in the README)."""

from __future__ import annotations

from typing import Any

from migdoctor.model import TEXT_VERBS, Finding, Option
from migdoctor.steps import Command, command, ranked


def step_json(cmd: Command) -> dict[str, Any]:
    if cmd.verb in TEXT_VERBS:
        return {"verb": cmd.verb, "text": cmd.text}
    return {
        "verb": cmd.verb,
        "local": list(cmd.local),
        "compose": list(cmd.compose),
        "confirm": cmd.confirm or None,
        "missing": list(cmd.missing),
        "stdout": cmd.stdout or None,
    }


def option_json(option: Option, entities: dict[str, str]) -> dict[str, Any]:
    return {
        "id": option.id,
        "title": option.title,
        "risk": option.risk,
        "steps": [step_json(command(s, entities)) for s in option.steps],
    }


def finding_json(finding: Finding) -> dict[str, Any]:
    playbook = finding.playbook
    return {
        "playbook": playbook.id,
        "title": playbook.title,
        "confidence": finding.confidence,
        "entities": finding.entities,
        "evidence": [{"line": e.line, "text": e.text} for e in finding.evidence],
        "options": [option_json(o, finding.entities)
                    for o in ranked(playbook.options, finding.entities)],
    }


def diagnosis_json(findings: list[Finding]) -> dict[str, Any]:
    return {"findings": [finding_json(f) for f in findings]}
