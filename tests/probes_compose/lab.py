"""A copy of the lab project (tests/lab/project) run as a Compose stack with its own name and port.

Both services use the host network and PostgreSQL listens on 127.0.0.1 only: no traffic leaves
loopback. The copy lives in a temporary folder so that tests can remove `.env` or add override
files without touching the repository.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[2]
LAB_PROJECT = REPO / "tests" / "lab" / "project"
DOCKER_UP = REPO / "scripts" / "lab" / "docker-up.sh"
FLAVOURS: dict[str, tuple[str, ...]] = {"v2": ("docker", "compose"), "v1": ("docker-compose",)}
LAB_USER = "postgres"
LAB_DB = "lab"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def copy_project(target: Path, *, port: int, password: str, with_env: bool = True) -> Path:
    """The lab project in `target`, with an `.env` from `.env.example` for this port/password."""
    shutil.copytree(LAB_PROJECT, target, ignore=shutil.ignore_patterns(
        "__pycache__", ".env", "*.sqlite3"))
    if with_env:
        text = (LAB_PROJECT / ".env.example").read_text()
        text = text.replace("POSTGRES_PORT=55432", f"POSTGRES_PORT={port}")
        text = text.replace("POSTGRES_PASSWORD=postgres", f"POSTGRES_PASSWORD={password}")
        (target / ".env").write_text(text)
    return target


def compose_environ() -> dict[str, str]:
    """This process's environment without the settings that would point Compose elsewhere."""
    drop = ("DOCKER_HOST", "DOCKER_CONTEXT", "COMPOSE_FILE", "COMPOSE_PROJECT_NAME")
    return {k: v for k, v in os.environ.items() if k not in drop}


def run(args: Sequence[str], cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, env=compose_environ(), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout, check=False)


def explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"$ {' '.join(proc.args)}\nexit {proc.returncode}\n{proc.stdout}{proc.stderr}"


@dataclass(frozen=True)
class LabStack:
    flavour: str
    project: str
    root: Path
    port: int
    password: str

    @classmethod
    def create(cls, flavour: str, folder: Path) -> LabStack:
        port, password = free_port(), f"lab-pw-{uuid.uuid4().hex[:12]}"
        root = copy_project(folder / "project", port=port, password=password)
        return cls(flavour, f"mdcp-{flavour}-{uuid.uuid4().hex[:8]}", root, port, password)

    def compose(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return run([*FLAVOURS[self.flavour], "-p", self.project, *args], self.root, timeout)

    def check(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        proc = self.compose(*args, timeout=timeout)
        assert proc.returncode == 0, explain(proc)
        return proc

    def connect(self, dbname: str = LAB_DB, timeout: int = 3) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(host="127.0.0.1", port=self.port, user=LAB_USER, dbname=dbname,
                               password=self.password, connect_timeout=timeout)

    def wait_for_postgres(self, timeout: float = 60) -> None:
        deadline, last = time.monotonic() + timeout, ""
        while time.monotonic() < deadline:
            try:
                with self.connect(timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                last = str(exc)
                time.sleep(0.3)
        logs = self.compose("logs", "--no-color", "db", timeout=30)
        pytest.fail(f"postgres of {self.project} not ready on 127.0.0.1:{self.port} within "
                    f"{timeout}s: {last}\n{logs.stdout}{logs.stderr}")

    def down(self) -> None:
        self.compose("down", "-v", "--timeout", "1", timeout=180)


def lab_up() -> None:
    """The lab's engine, image and both Compose flavours, by the project's own script."""
    proc = subprocess.run(["bash", str(DOCKER_UP)], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=1800, check=False)
    if proc.returncode != 0:
        pytest.fail(f"scripts/lab/docker-up.sh failed:\n{proc.stdout}{proc.stderr}", pytrace=False)
