"""The real `migdoctor` command in a subprocess, with an environment the test controls."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NO_DOCKER = "unix:///nonexistent/migdoctor-test-docker.sock"


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def environ(**extra: str) -> dict[str, str]:
    """This process's environment without database or Docker settings, Docker pointed nowhere
    (unless `extra` says otherwise), and a wide terminal so that lines are not wrapped."""
    drop = ("POSTGRES_", "DATABASE_URL", "DOCKER_", "COMPOSE_", "PG")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**env, "DOCKER_HOST": NO_DOCKER, "COLUMNS": "200", "NO_COLOR": "1", **extra}


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60) -> Result:
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "migdoctor", *args], cwd=cwd, capture_output=True,
                          env=env or environ(), timeout=timeout, stdin=subprocess.DEVNULL)
    return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"),
                  proc.stderr.decode("utf-8", "replace"), time.monotonic() - start)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
