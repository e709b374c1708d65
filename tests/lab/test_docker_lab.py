"""The Docker part of the test lab works: engine, image, Compose v2 and v1, the Engine API.

The session fixture runs scripts/lab/docker-up.sh, which installs and starts whatever is missing,
so these tests set up their own parts. A missing part fails them: they never skip.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import docker
import psycopg
import pytest

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
DOCKER_UP = REPO / "scripts" / "lab" / "docker-up.sh"
DOCKER_DOWN = REPO / "scripts" / "lab" / "docker-down.sh"
COMPOSE_DIR = Path(__file__).resolve().parent / "compose"
IMAGE = "migdoctor-lab:base"
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
DEFAULT_PORT = 55432

# The two Compose flavours and how each is called.
FLAVOURS: dict[str, tuple[str, ...]] = {
    "v2": ("docker", "compose"),
    "v1": ("docker-compose",),
}


def _env_file() -> dict[str, str]:
    values = {}
    for line in (COMPOSE_DIR / ".env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


ENV = _env_file()


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As a server would: connections left in TIME_WAIT do not make the port busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _lab_port() -> int:
    """The stack's port from .env, or another free loopback port when that one is taken."""
    port = int(ENV["POSTGRES_PORT"])
    if _port_is_free(port):
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(
    args: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args),
        cwd=COMPOSE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"$ {' '.join(proc.args)}\nexit {proc.returncode}\n{proc.stdout}{proc.stderr}"


@dataclass
class Stack:
    """One Compose project of the minimal lab stack (tests/lab/compose)."""

    flavour: str
    project: str
    port: int
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def new(cls, flavour: str) -> Stack:
        project = f"mdlab-{flavour}-{uuid.uuid4().hex[:8]}"
        port = _lab_port()
        env = {**os.environ, "POSTGRES_PORT": str(port)}
        return cls(flavour, project, port, env)

    def compose(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [*FLAVOURS[self.flavour], "-p", self.project, "-f", "compose.yaml", *args]
        return _run(command, env=self.env, timeout=timeout)

    def check(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        proc = self.compose(*args, timeout=timeout)
        assert proc.returncode == 0, _explain(proc)
        return proc

    def connect(self, timeout: float = 5) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=ENV["POSTGRES_USER"],
            password=ENV["POSTGRES_PASSWORD"],
            dbname=ENV["POSTGRES_DB"],
            connect_timeout=max(1, int(timeout)),
        )

    def wait_for_postgres(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with self.connect(timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                last = exc
                time.sleep(0.3)
        logs = self.compose("logs", "--no-color", "db", timeout=30)
        pytest.fail(
            f"postgres of {self.project} did not accept connections on 127.0.0.1:{self.port} "
            f"within {timeout}s: {last}\n{logs.stdout}{logs.stderr}"
        )

    def down(self) -> subprocess.CompletedProcess[str]:
        return self.compose("down", "-v", "--timeout", "10", timeout=180)


@pytest.fixture(scope="session")
def engine() -> Iterator[docker.DockerClient]:
    """The lab's engine and image, set up by the project's own script."""
    started = time.monotonic()
    proc = subprocess.run(
        ["bash", str(DOCKER_UP)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"scripts/lab/docker-up.sh failed:\n{proc.stdout}{proc.stderr}", pytrace=False)
    print(f"docker-up.sh took {time.monotonic() - started:.1f}s")
    client = docker.from_env()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module", params=sorted(FLAVOURS, reverse=True))
def stack(request: pytest.FixtureRequest, engine: docker.DockerClient) -> Iterator[Stack]:
    """A running lab stack, brought up with one Compose flavour; `down -v` at the end."""
    lab = Stack.new(request.param)
    try:
        lab.check("up", "-d", timeout=300)
        lab.wait_for_postgres()
        yield lab
    finally:
        lab.down()


def _project_containers(client: docker.DockerClient, project: str) -> list[object]:
    return list(client.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={project}"}))


def _project_volumes(client: docker.DockerClient, project: str) -> list[str]:
    volumes = client.volumes.list(filters={"label": f"{PROJECT_LABEL}={project}"})
    return sorted(v.name for v in volumes)


def test_engine_runs_as_the_lab_wants(engine: docker.DockerClient) -> None:
    info = engine.info()
    assert info["Driver"] == "vfs"
    assert engine.images.get(IMAGE).labels.get("org.migdoctor.lab.recipe")
    # No bridge: the engine has only the host and none networks.
    assert {n.attrs["Driver"] for n in engine.networks.list()} <= {"host", "null"}


@pytest.mark.parametrize(("flavour", "major"), [("v2", "2."), ("v1", "1.")])
def test_both_compose_flavours_are_installed(
    engine: docker.DockerClient, flavour: str, major: str
) -> None:
    proc = _run([*FLAVOURS[flavour], "version", "--short"])
    assert proc.returncode == 0, _explain(proc)
    assert proc.stdout.strip().lstrip("v").startswith(major), _explain(proc)


def test_postgres_in_db_serves_on_loopback_only(stack: Stack) -> None:
    with stack.connect() as conn:
        row = conn.execute(
            "SELECT current_user, current_database(), host(inet_server_addr()),"
            " current_setting('listen_addresses'), current_setting('server_version_num')::int"
        ).fetchone()
    assert row is not None
    user, database, server_addr, listen, version = row
    assert (user, database) == (ENV["POSTGRES_USER"], ENV["POSTGRES_DB"])
    assert server_addr == listen == "127.0.0.1"
    assert isinstance(version, int) and 150000 <= version < 160000


def test_web_has_django_and_psycopg_and_reaches_db(stack: Stack) -> None:
    code = (
        "import os, django, psycopg, psycopg2\n"
        "conn = psycopg.connect(host=os.environ['POSTGRES_HOST'], port=os.environ['POSTGRES_PORT'],"
        " user=os.environ['POSTGRES_USER'], dbname=os.environ['POSTGRES_DB'])\n"
        "print(django.__version__, psycopg.__version__, conn.execute('SELECT 42').fetchone()[0])\n"
    )
    proc = stack.check("exec", "-T", "web", "/opt/venv/bin/python", "-c", code)
    django_version, psycopg_version, answer = proc.stdout.split()
    assert django_version.startswith("5.")
    assert psycopg_version.startswith("3.")
    assert answer == "42"


def test_engine_api_lists_both_services_by_compose_labels(
    stack: Stack, engine: docker.DockerClient
) -> None:
    containers = engine.containers.list(filters={"label": f"{PROJECT_LABEL}={stack.project}"})
    by_service = {c.labels[SERVICE_LABEL]: c for c in containers}
    assert sorted(by_service) == ["db", "web"]
    for container in by_service.values():
        assert container.status == "running"
        assert container.labels[PROJECT_LABEL] == stack.project
        assert container.attrs["HostConfig"]["NetworkMode"] == "host"
        assert container.image is not None and IMAGE in container.image.tags
    # The stack made no network of its own (host network only).
    assert engine.networks.list(filters={"label": f"{PROJECT_LABEL}={stack.project}"}) == []
    assert _project_volumes(engine, stack.project) == [f"{stack.project}_pgdata"]


def test_down_removes_containers_and_volume(stack: Stack, engine: docker.DockerClient) -> None:
    assert _project_containers(engine, stack.project)
    proc = stack.down()
    assert proc.returncode == 0, _explain(proc)
    assert _project_containers(engine, stack.project) == []
    assert _project_volumes(engine, stack.project) == []
    assert _port_is_free(stack.port)


def test_docker_down_script_removes_a_lab_stack(engine: docker.DockerClient) -> None:
    lab = Stack.new("v2")
    try:
        lab.check("up", "-d", "db", timeout=300)
        assert _project_containers(engine, lab.project)
        proc = subprocess.run(
            ["bash", str(DOCKER_DOWN), lab.project],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert proc.returncode == 0, _explain(proc)
        assert f"removed stack {lab.project}" in proc.stdout
        assert _project_containers(engine, lab.project) == []
        assert _project_volumes(engine, lab.project) == []
    finally:
        lab.down()
