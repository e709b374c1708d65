"""A copy of the lab project run as a Compose stack on the lab's engine (host network, loopback).

The stack's name is in its `.env` (COMPOSE_PROJECT_NAME), so that `docker compose` and migdoctor
both find it without `-p`. Its PostgreSQL listens on 127.0.0.1 at a free port.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.live.cli import closed_port, environ
from tests.live.lab import REPO, copy_project

DOCKER_UP = REPO / "scripts" / "lab" / "docker-up.sh"
SOCKET = "unix:///var/run/docker.sock"
FLAVOURS: dict[str, tuple[str, ...]] = {"v2": ("docker", "compose"), "v1": ("docker-compose",)}


def lab_up() -> None:
    """The engine, the image and both Compose CLIs, by the project's own script."""
    proc = subprocess.run(["bash", str(DOCKER_UP)], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=1800, check=False)
    if proc.returncode != 0:
        pytest.fail(f"scripts/lab/docker-up.sh failed:\n{proc.stdout}{proc.stderr}", pytrace=False)


@dataclass(frozen=True)
class Stack:
    flavour: str
    name: str
    root: Path
    port: int
    password: str

    @classmethod
    def create(cls, flavour: str, folder: Path) -> Stack:
        name, port = f"mdlive-{flavour}-{uuid.uuid4().hex[:8]}", closed_port()
        password = f"lab-pw-{uuid.uuid4().hex[:10]}"
        root = copy_project(folder, {
            "COMPOSE_PROJECT_NAME": name, "POSTGRES_DB": "lab", "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": password, "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": str(port)})  # fmt: skip
        return cls(flavour, name, root, port, password)

    def compose(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        env = environ(DOCKER_HOST=SOCKET)
        return subprocess.run([*FLAVOURS[self.flavour], *args], cwd=self.root, env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout, check=False)  # fmt: skip

    def check(self, *args: str) -> None:
        proc = self.compose(*args)
        assert proc.returncode == 0, f"{' '.join(proc.args)}: {proc.stdout}{proc.stderr}"

    def wait_for_postgres(self, timeout: float = 90) -> None:
        deadline, last = time.monotonic() + timeout, ""
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                                     dbname="lab", connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                last = str(exc)
                time.sleep(0.3)
        pytest.fail(f"the db service of {self.name} is not ready on port {self.port}: {last}")

    def down(self) -> None:
        self.compose("down", "-v", "--timeout", "1")
