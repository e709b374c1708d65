"""Health, restart counts and exit codes of real containers, read by the live probe."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from migdoctor.probes.compose import ComposeReport, open_client, probe
from migdoctor.probes.compose_config import load_config
from tests.probes_compose.lab import FLAVOURS, compose_environ, explain, run

if TYPE_CHECKING:
    from docker import DockerClient

    from migdoctor.kb.loader import KnowledgeBase

pytestmark = pytest.mark.docker

STACK = """\
services:
  web:
    image: migdoctor-lab:base
    pull_policy: never
    network_mode: host
    command: ["sh", "-c", "trap 'exit 0' INT TERM; sleep infinity & wait"]
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      timeout: 1s
      retries: 1
  worker:
    image: migdoctor-lab:base
    pull_policy: never
    network_mode: host
    command: ["sh", "-c", "exit 3"]
    restart: on-failure:2
"""


def _settled(report: ComposeReport) -> bool:
    by_service = {s.service: s for s in report.containers}
    web, worker = by_service.get("web"), by_service.get("worker")
    return (web is not None and web.health == "unhealthy" and worker is not None
            and worker.state == "exited" and worker.restart_count == 2)


def _probe_until_settled(root: Path, project: str, knowledge: KnowledgeBase) -> ComposeReport:
    environ = compose_environ()
    config = load_config(root, project_name=project, environ=environ)
    deadline = time.monotonic() + 60
    while True:
        client, status = open_client(environ)
        try:
            report = probe(config, client, status, knowledge)
        finally:
            if client is not None:
                client.close()
        if _settled(report) or time.monotonic() > deadline:
            return report
        time.sleep(0.5)


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_unhealthy_and_crashing_services(
    flavour: str, lab_engine: DockerClient, knowledge: KnowledgeBase, tmp_path: Path
) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "compose.yaml").write_text(STACK)
    project = f"mdcp-health-{flavour}-{uuid.uuid4().hex[:6]}"
    compose = [*FLAVOURS[flavour], "-p", project]
    try:
        proc = run([*compose, "up", "-d"], root)
        assert proc.returncode == 0, explain(proc)
        report = _probe_until_settled(root, project, knowledge)
        by_service = {s.service: s for s in report.containers}
        web, worker = by_service["web"], by_service["worker"]
        assert (web.state, web.health, web.exit_code) == ("running", "unhealthy", None)
        assert (worker.state, worker.exit_code, worker.restart_count) == ("exited", 3, 2)
        assert [f.message for f in report.findings] == [
            f"service web runs but is unhealthy ({web.name})",
            f"service worker is not running: {worker.name} is exited, exit code 3, "
            "restarted 2 times",
        ]
    finally:
        run([*compose, "down", "-v", "--timeout", "1"], root)
