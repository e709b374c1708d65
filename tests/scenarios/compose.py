"""The lab project as a running Compose stack (`web` and `db` on the host network, PostgreSQL on
127.0.0.1 at a free port, nothing leaves loopback), migrated by `docker compose exec web python
src/manage.py migrate` and seeded. The folder name is the Compose project name, unique per test;
the stack is removed by its labels, whatever the test did to its files.
"""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.scenarios.lab import REPO, SEED_SQL, Project, Result

DOCKER_UP = REPO / "scripts" / "lab" / "docker-up.sh"
FLAVOURS: dict[str, tuple[str, ...]] = {"v2": ("docker", "compose"), "v1": ("docker-compose",)}
PLUGINS = Path("/usr/libexec/docker/cli-plugins")  # where docker-up.sh puts Compose v2
# A private mount namespace where the Compose v2 plugin is not installed: a machine with v1 only.
HIDE = 'mount --bind "$0" "$1" && shift && exec "$@"'
# A db service that asks for the password over TCP, as the official postgres image does (the
# lab's own db-start.sh initialises with trust).
SCRAM_INITDB = (
    'printf \'%s\\n\' "$POSTGRES_PASSWORD" > /tmp/pwfile && chown postgres /tmp/pwfile\n'
    '    as_postgres "$PGBIN/initdb" -D "$PGDATA" --auth-local=trust --auth-host=scram-sha-256 '
    '--pwfile=/tmp/pwfile -U "$SUPERUSER"'
)


def lab_up() -> None:
    """The engine, the image and the Compose CLIs, by the project's own script: a missing part
    fails the test, never skips it."""
    proc = subprocess.run(["bash", str(DOCKER_UP)], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=1800, check=False)  # fmt: skip
    if proc.returncode != 0:
        pytest.fail(f"scripts/lab/docker-up.sh failed:\n{proc.stdout}{proc.stderr}", pytrace=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Stack:
    project: Project
    flavour: str = "v2"

    @property
    def name(self) -> str:
        return self.project.root.name

    def compose(self, *args: str) -> Result:
        return self.project.run([*FLAVOURS[self.flavour], *args])

    def check(self, *args: str) -> str:
        result = self.compose(*args)
        assert result.code == 0, str(result)
        return result.output

    def manage(self, *args: str) -> Result:
        """`docker compose exec web python src/manage.py ...`, as the guide runs it."""
        return self.compose("exec", "-T", "web", "python", "src/manage.py", *args)

    def wait_for_postgres(self, timeout: float = 90) -> None:
        """Until the db service's PostgreSQL answers on its port (a refused password is an
        answer too)."""
        deadline, last = time.monotonic() + timeout, ""
        while time.monotonic() < deadline:
            try:
                with self.project.connect() as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                last = str(exc)
                if "password authentication failed" in last:
                    return
                time.sleep(0.3)
        logs = self.compose("logs", "--no-color", "db")
        pytest.fail(f"PostgreSQL of {self.name} not ready within {timeout}s: {last}\n{logs}")

    def remove(self) -> None:
        """Containers (killed: nothing in them is kept) and volumes, found by their labels."""
        label = f"label=com.docker.compose.project={self.name}"
        ids = _docker("ps", "-aq", "--filter", label).split()
        if ids:
            _docker("rm", "-f", "-v", *ids)
        volumes = _docker("volume", "ls", "-q", "--filter", label).split()
        if volumes:
            _docker("volume", "rm", "-f", *volumes)


def _docker(*args: str) -> str:
    proc = subprocess.run(["docker", *args], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    assert proc.returncode == 0, f"docker {' '.join(args)}: {proc.stdout}{proc.stderr}"
    return proc.stdout


@contextmanager
def running_stack(folder: Path, *, scram: bool = False, flavour: str = "v2") -> Iterator[Stack]:
    """The lab project in `folder`, up, migrated in `web` and seeded; removed on leaving.
    `scram`: its db asks for the password over TCP. `flavour` v1: every command of the project
    (migdoctor's too) runs where only Compose v1 is installed."""
    port, password = free_port(), f"lab-pw-{uuid.uuid4().hex[:12]}"
    project = Project.create(folder, "lab", exported=False, POSTGRES_PASSWORD=password,
                             POSTGRES_PORT=str(port))  # fmt: skip
    example = project.root / ".env.example"
    example.write_text(example.read_text().replace("POSTGRES_PORT=55432", f"POSTGRES_PORT={port}"))
    if scram:
        start = project.root / "docker" / "db-start.sh"
        trust = 'as_postgres "$PGBIN/initdb" -D "$PGDATA" -A trust -U "$SUPERUSER"'
        assert trust in start.read_text()
        start.write_text(start.read_text().replace(trust, SCRAM_INITDB))
    if flavour == "v1":
        empty = folder / "no-plugins"
        empty.mkdir()
        project.prefix = ("unshare", "--mount", "--", "sh", "-c", HIDE, str(empty), str(PLUGINS))
    stack = Stack(project, flavour)
    try:
        stack.check("up", "-d")
        stack.wait_for_postgres()
        migrated = stack.manage("migrate", "--no-input", "-v0")
        assert migrated.code == 0, str(migrated)
        project.sql(SEED_SQL)
        yield stack
    finally:
        stack.remove()
