"""Shared helpers: timing whole commands the way a user runs them."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def wall(argv: list[str], runs: int, stdin: bytes | None = None) -> float:
    """Median wall time in seconds of `argv` over `runs` runs (one warm-up run first)."""
    times = []
    for index in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(argv, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
        if index:
            times.append(time.perf_counter() - start)
    return statistics.median(times)
