"""Benchmarks of `migdoctor diagnose` (issue targets in brackets).

(a) cold start on a pasted traceback, against `python -c "import typer"` measured in the same
    run [--json at most 1.5x; human output at most 1.3x `import typer, rich.console`];
(b) a 100 MB Compose log with 50 embedded errors [all 50 found; throughput at least a third of
    `grep -E` with the same patterns];
(c) a generated knowledge base of 5,000 playbooks [diagnose at most 2x the built-in one].

Run: .venv/bin/python -m benchmarks.bench_diagnose [--runs N]
(writes benchmarks/results/diagnose.md)
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.common import PYTHON, ROOT, wall

PASTE = (ROOT / "examples" / "undefined-column.txt").read_text(encoding="utf-8")
MIGDOCTOR = [PYTHON, "-m", "migdoctor"]


def cold_start(runs: int) -> list[tuple[str, float, float, str]]:
    typer = wall([PYTHON, "-c", "import typer"], runs)
    typer_rich = wall([PYTHON, "-c", "import typer, rich.console"], runs)
    as_json = wall([*MIGDOCTOR, "diagnose", "--json", PASTE], runs)
    human = wall([*MIGDOCTOR, "diagnose", PASTE], runs)
    return [
        ("diagnose --json vs import typer", as_json, typer, "<= 1.5x"),
        ("diagnose (human) vs import typer, rich.console", human, typer_rich, "<= 1.3x"),
    ]


def _corpus_errors() -> list[dict[str, Any]]:
    """The first 50 positive cases of the real corpus: 50 distinct errors."""
    data = yaml.safe_load((ROOT / "tests" / "corpus" / "dev.yaml").read_text(encoding="utf-8"))
    return [case for case in data["cases"] if case["label"] != "none"][:50]


def _found(span: tuple[str, int, int], findings: list[dict[str, Any]]) -> bool:
    """A finding of the error's playbook has evidence inside the lines where it was embedded."""
    label, first, last = span
    return any(f["playbook"] == label and any(first <= e["line"] <= last for e in f["evidence"])
               for f in findings)


def make_log(path: Path, errors: list[dict[str, Any]], size: int) -> list[tuple[str, int, int]]:
    """A Compose log of about `size` bytes: request lines with the errors spread evenly through
    it; returns (label, first line, last line) of each embedded error."""
    lines = 5000
    filler = "".join(
        f"web-1  | 2024-05-01T10:{i // 60 % 60:02d}:{i % 60:02d}.000Z "
        f"\"GET /api/tickets/{i}/ HTTP/1.1\" 200 5123 \"-\" \"Mozilla/5.0\"\n"
        for i in range(lines)
    ).encode()
    blocks = max(len(errors) + 1, size // len(filler))
    every = blocks // (len(errors) + 1)
    spans, line = [], 0
    with path.open("wb") as out:
        for block in range(blocks):
            out.write(filler)
            line += lines
            slot = block // every
            if block % every == every - 1 and slot < len(errors):
                text = str(errors[slot]["text"]).splitlines()
                out.writelines(f"web-1  | {t}\n".encode() for t in text)
                spans.append((str(errors[slot]["label"]), line + 1, line + len(text)))
                line += len(text)
    return spans


def ere(source: str) -> str | None:
    """A Python regex as POSIX ERE for grep -E, or None when it has no ERE form."""
    if re.search(r"\(\?[=!<]|\\[AZbB]", source):
        return None
    out = re.sub(r"\(\?P<\w+>", "(", source).replace("(?:", "(").replace("(?i)", "")
    out = out.replace(r"\d", "[0-9]").replace(r"\w", "[[:alnum:]_]").replace(r"\s", "[[:space:]]")
    out = out.replace(r"\S", "[^[:space:]]").replace(r"\W", "[^[:alnum:]_]")
    return None if "(?" in out else out


def big_log(size_mb: int) -> list[tuple[str, float, float, str]]:
    from migdoctor.kb.loader import load

    kb = load()
    errors = _corpus_errors()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "compose.log"
        spans = make_log(log, errors, size_mb << 20)
        patterns = Path(tmp) / "patterns.txt"
        sources = [p.source for pb in kb.playbooks.values() if pb.match for p in pb.match.patterns]
        converted = [c for c in (ere(s) for s in sources) if c]
        patterns.write_text("\n".join(converted) + "\n", encoding="utf-8")
        start = time.perf_counter()
        subprocess.run(["grep", "-E", "-c", "-f", str(patterns), str(log)],
                       stdout=subprocess.DEVNULL, check=False)
        grep = time.perf_counter() - start
        start = time.perf_counter()
        result = subprocess.run([*MIGDOCTOR, "diagnose", "--json", "--file", str(log)],
                                capture_output=True, text=True, check=False)
        ours = time.perf_counter() - start
    found = json.loads(result.stdout)["findings"]
    hit = sum(1 for span in spans if _found(span, found))
    note = (f"{hit}/{len(errors)} embedded errors found, {len(found)} findings; "
            f"grep -E used {len(converted)}/{len(sources)} patterns")
    mb = size_mb
    return [(f"{mb} MB log: migdoctor {mb / ours:.0f} MB/s vs grep -E {mb / grep:.0f} MB/s",
             ours, grep, f"<= 3x ({note})")]


GENERATED = """\
id: generated-{i:05d}
kind: error
title: Generated problem {i}
summary: A generated playbook that stands for one more real problem.
match:
  signals: [GenError{i:05d}, gen-problem-{i:05d}]
  patterns:
    - regex: 'GenError{i:05d}: table "(?P<relation>\\w+)" is broken'
      weight: 0.9
    - 'gen-problem-{i:05d} in (?P<app_label>\\w+)\\.(?P<migration>\\d{{4}}\\w*)'
entities:
  relation: {{type: relation}}
  app_label: {{type: app_label}}
  migration: {{type: migration}}
cause: Generated.
options:
  - id: look
    title: Look at the migrations
    risk: safe
    steps:
      - manage: [showmigrations, "{{app_label}}"]
"""


def big_kb(runs: int, count: int) -> list[tuple[str, float, float, str]]:
    """A knowledge base of `count` generated playbooks beside the built-in ones."""
    builtin = wall([*MIGDOCTOR, "diagnose", "--json", PASTE], runs)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            (Path(tmp) / f"generated-{i:05d}.yaml").write_text(GENERATED.format(i=i))
        start = time.perf_counter()
        subprocess.run([*MIGDOCTOR, "diagnose", "--kb", tmp, "--json", PASTE],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        first = time.perf_counter() - start
        big = wall([*MIGDOCTOR, "diagnose", "--kb", tmp, "--json", PASTE], runs)
    return [(f"{count} extra playbooks vs built-in only", big, builtin,
             f"<= 2x (first run, which checks and caches them: {first:.2f} s)")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--playbooks", type=int, default=5000)
    args = parser.parse_args()
    rows = cold_start(args.runs) + big_log(args.size_mb) + big_kb(args.runs, args.playbooks)
    lines = ["| benchmark | migdoctor (s) | baseline (s) | ratio | target |",
             "|---|---|---|---|---|"]
    for name, ours, base, target in rows:
        lines.append(f"| {name} | {ours:.3f} | {base:.3f} | {ours / base:.2f}x | {target} |")
    table = "\n".join(lines)
    print(table)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "diagnose.md").write_text(
        f"Command: `.venv/bin/python -m benchmarks.bench_diagnose --runs {args.runs}`\n\n{table}\n",
        encoding="utf-8")


if __name__ == "__main__":
    main()
