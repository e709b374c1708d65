"""The Django probe in the web container of the lab's Compose stack (v2), against its db service.

The stack is a copy of tests/lab/project with its own project name and port; it is started with
the lab's own scripts (scripts/lab/docker-up.sh), migrated in `web`, and removed with its volume.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from migdoctor.probes import ProbeFinding
from migdoctor.probes.django_probe import DjangoReport, report_findings, run_django_probe
from migdoctor.probes.migration_graph import scan_project
from tests.probes_django.lab import LAB_PROJECT, REPO, add_priority_field

pytestmark = pytest.mark.docker


@dataclass(frozen=True)
class Stack:
    root: Path
    project: str
    port: int

    @property
    def compose_argv(self) -> tuple[str, ...]:
        return ("docker", "compose", "-p", self.project)

    def compose(self, *args: str) -> str:
        proc = subprocess.run([*self.compose_argv, *args], cwd=self.root, env=environ(),
                              capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
        assert proc.returncode == 0, f"compose {' '.join(args)}:\n{proc.stdout}{proc.stderr}"
        return proc.stdout

    def probe(self, **options: Any) -> DjangoReport | ProbeFinding:
        return run_django_probe("src/manage.py", context="compose", cwd=self.root, env=environ(),
                                compose_argv=self.compose_argv, **options)


def environ() -> dict[str, str]:
    drop = ("DOCKER_HOST", "DOCKER_CONTEXT", "COMPOSE_FILE", "COMPOSE_PROJECT_NAME")
    return {k: v for k, v in os.environ.items() if k not in drop}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_postgres(port: int, timeout: float = 60) -> None:
    deadline, last = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="lab",
                                 password="postgres", connect_timeout=2):  # fmt: skip
                return
        except psycopg.OperationalError as exc:
            last = str(exc)
            time.sleep(0.3)
    pytest.fail(f"the lab's db service is not ready on 127.0.0.1:{port}: {last}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    up = subprocess.run(["bash", str(REPO / "scripts" / "lab" / "docker-up.sh")],
                        capture_output=True, text=True, timeout=1800, check=False)  # fmt: skip
    if up.returncode:
        pytest.fail(f"scripts/lab/docker-up.sh failed:\n{up.stdout}{up.stderr}", pytrace=False)
    root = tmp_path_factory.mktemp("compose") / "project"
    shutil.copytree(LAB_PROJECT, root, ignore=shutil.ignore_patterns("__pycache__", ".env"))
    made = Stack(root, f"mddjango-{uuid.uuid4().hex[:8]}", free_port())
    env_text = (LAB_PROJECT / ".env.example").read_text()
    (root / ".env").write_text(env_text.replace("POSTGRES_PORT=55432", f"POSTGRES_PORT={made.port}"))
    try:
        made.compose("up", "-d")
        wait_for_postgres(made.port)
        made.compose("exec", "-T", "web", "python", "src/manage.py", "migrate", "--no-input", "-v0")
        yield made
    finally:
        subprocess.run([*made.compose_argv, "down", "-v", "--timeout", "1"], cwd=root, env=environ(),
                       capture_output=True, timeout=300, check=False)  # fmt: skip


def test_exec_in_the_web_container(stack: Stack) -> None:
    report = stack.probe()

    assert isinstance(report, DjangoReport), report
    assert (report.context, report.executable) == ("compose", "/opt/venv/bin/python")
    assert report.default.vendor == "postgresql"
    assert report.graph is not None and report.applied is not None
    assert set(report.applied) == set(report.graph.nodes)
    assert (report.plan, report.missing_migrations) == ((), ())
    assert report.tables is not None and "tickets_queue" in report.tables
    assert report_findings(report) == []
    static, _ = scan_project(stack.root / "src")
    assert sorted(k for k in report.graph.nodes if k[0] in ("tickets", "kb")) == sorted(static.nodes)


def test_run_in_a_one_off_container_sees_the_mounted_source(stack: Stack) -> None:
    models = stack.root / "src" / "tickets" / "models.py"
    before = models.read_text()
    add_priority_field(stack.root / "src" / "manage.py")
    try:
        report = stack.probe(compose_verb=("run", "--rm", "-T"))
    finally:
        models.write_text(before)

    assert isinstance(report, DjangoReport), report
    assert report.missing_migrations == ("tickets",)


def test_web_service_not_running(stack: Stack) -> None:
    stack.compose("stop", "--timeout", "1", "web")
    try:
        found = stack.probe()
    finally:
        stack.compose("start", "web")

    assert isinstance(found, ProbeFinding), found
    assert found.label == "compose-service-not-running"
    assert found.message.startswith("Django probe (compose): docker compose -p ")
    assert found.message.endswith('exited with status 1: service "web" is not running')
