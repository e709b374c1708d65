"""The weaker second pass: lines that resemble a playbook's examples when no regex hit."""

from __future__ import annotations

from migdoctor.match.normalize import split_lines
from migdoctor.model import Evidence, Finding, Playbook

CUTOFF = 88.0  # rapidfuzz score (0..100) under which a resemblance is not worth reporting
CEILING = 0.7  # a fuzzy finding never looks as sure as a pattern hit
MAX_LINES = 400


def fuzzy_findings(text: str, playbooks: list[Playbook]) -> list[Finding]:
    """At most one finding: the playbook whose example best resembles one of the lines."""
    from rapidfuzz import fuzz, process

    choices: list[str] = []
    owners: list[Playbook] = []
    for playbook in playbooks:
        if playbook.match is not None:
            for example in playbook.match.examples:
                for example_line in example.splitlines():
                    low = example_line.lower()
                    # Only an example's key lines: a bare command or a frame says nothing.
                    if len(example_line.strip()) >= 25 and any(
                        s.lower() in low for s in playbook.match.signals
                    ):
                        choices.append(example_line.strip())
                        owners.append(playbook)
    best: tuple[float, Playbook, Evidence] | None = None
    for line in split_lines(text)[:MAX_LINES]:
        probe = line.text.strip()
        if len(probe) < 25:
            continue
        found = process.extractOne(probe, choices, scorer=fuzz.ratio, score_cutoff=CUTOFF)
        if found and (best is None or found[1] > best[0]):
            best = (found[1], owners[found[2]], Evidence(line.no, probe[:300]))
    if best is None:
        return []
    score, playbook, evidence = best
    confidence = round(0.5 + (score - CUTOFF) / (100 - CUTOFF) * (CEILING - 0.5), 3)
    return [Finding(playbook, confidence, {}, (evidence,))]
