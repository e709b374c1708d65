"""`migdoctor kb validate`: every load-time rule, plus each example diagnosed as its playbook."""

from __future__ import annotations

from pathlib import Path

from migdoctor.kb.loader import load_dir
from migdoctor.kb.locate import builtin_dir
from migdoctor.kb.problem import PlaybookError
from migdoctor.model import Playbook


def validate_dir(directory: Path | None = None) -> list[PlaybookError]:
    """Problems of one folder (the built-in one by default), examples checked with built-ins."""
    from migdoctor.kb.loader import load

    target = directory or builtin_dir()
    if not target.is_dir():
        return [PlaybookError(str(target), 0, (), "not a folder of playbooks")]
    loaded, problems = load_dir(target)
    ids: dict[str, str] = {}
    for playbook in loaded:
        if playbook.id in ids:
            problems.append(PlaybookError(playbook.source, 0, ("id",),
                                          f"id also used by {ids[playbook.id]}"))
        ids[playbook.id] = playbook.source
    everything = dict(load([target] if directory else None).playbooks)
    everything.update((p.id, p) for p in loaded)
    problems.extend(example_problems(loaded, list(everything.values())))
    return problems


def example_problems(own: list[Playbook], everything: list[Playbook]) -> list[PlaybookError]:
    from migdoctor.match.diagnose import diagnose_text

    problems = []
    for playbook in own:
        examples = playbook.match.examples if playbook.match else ()
        for index, example in enumerate(examples):
            findings = diagnose_text(example, everything)
            first = findings[0].playbook.id if findings else "no finding"
            if first != playbook.id:
                problems.append(PlaybookError(playbook.source, 0, ("match", "examples", index),
                                              f"example diagnoses as {first}"))
    return problems
