"""The labelled corpora of real error texts, loaded once for tests and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CORPUS = Path(__file__).parent / "corpus"
FILES = ("dev.yaml", "real.yaml")


@dataclass(frozen=True)
class Case:
    id: str
    label: str
    text: str
    entities: dict[str, str]
    source: str


def load_cases(names: tuple[str, ...] = FILES) -> list[Case]:
    cases = []
    for name in names:
        path = CORPUS / name
        if not path.exists():
            continue
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        for raw in data["cases"]:
            entities = {k: str(v) for k, v in (raw.get("entities") or {}).items()}
            cases.append(Case(raw["id"], raw["label"], raw["text"], entities, raw["source"]))
    return cases
