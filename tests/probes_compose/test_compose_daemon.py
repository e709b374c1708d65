"""The daemon and the Compose CLIs: unreachable engines end in a finding within the timeout."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from migdoctor.probes import ProbeFinding
from migdoctor.probes.compose import ComposeCli, compose_cli, open_client, probe
from migdoctor.probes.compose_config import load_config
from tests.probes_compose.lab import REPO, copy_project

if TYPE_CHECKING:
    from docker import DockerClient

    from migdoctor.kb.loader import KnowledgeBase

NO_SOCKET_HINT = ("start the Docker engine (Docker Desktop, or `sudo systemctl start docker`), "
                  "or point DOCKER_HOST at its socket")


def test_no_socket_is_a_finding_within_the_timeout(
    tmp_path: Path, knowledge: KnowledgeBase
) -> None:
    root = copy_project(tmp_path / "project", port=55432, password="unused")
    environ = {"DOCKER_HOST": "unix:///nonexistent.sock"}
    started = time.monotonic()
    client, status = open_client(environ, timeout=5)
    report = probe(load_config(root, environ=environ), client, status, knowledge)
    assert time.monotonic() - started < 5
    assert (client, status.reachable, status.error) == (None, False, "no socket at /nonexistent.sock")
    assert report.containers == report.logs == ()
    assert report.findings == (ProbeFinding(
        "docker-daemon-unreachable", "docker-daemon-unreachable",
        "the Docker daemon at unix:///nonexistent.sock cannot be reached: "
        "no socket at /nonexistent.sock", NO_SOCKET_HINT,
    ),)


def test_a_daemon_that_does_not_answer_is_a_finding_after_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "docker.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(4)  # connections are queued and never answered
        started = time.monotonic()
        client, status = open_client({"DOCKER_HOST": f"unix://{path}"}, timeout=1)
        elapsed = time.monotonic() - started
    assert (client, status.error) == (None, "no answer within 1s")
    assert 0.9 < elapsed < 4


def test_a_static_finding_stays_when_the_daemon_is_unreachable(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project", port=55432, password="unused", with_env=False)
    environ = {"DOCKER_HOST": "unix:///nonexistent.sock"}
    client, status = open_client(environ)
    report = probe(load_config(root, environ=environ), client, status, [])
    assert [f.label for f in report.findings] == ["env-file-missing", "docker-daemon-unreachable"]


@pytest.mark.docker
def test_permission_denied_on_the_socket(lab_engine: DockerClient) -> None:
    code = ("from migdoctor.probes.compose import open_client, daemon_finding\n"
            "print(daemon_finding(open_client({'DOCKER_HOST': 'unix:///var/run/docker.sock'})[1]))")
    proc = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
         sys.executable, "-c", code],
        capture_output=True, text=True, timeout=30, check=False, cwd="/",
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == repr(ProbeFinding(
        "docker-daemon-unreachable", "docker-daemon-unreachable",
        "the Docker daemon at unix:///var/run/docker.sock cannot be reached: "
        "permission denied on /var/run/docker.sock",
        "add your user to the docker group (sudo usermod -aG docker $USER, then log in again), "
        "or run the command with sudo",
    ))


@pytest.mark.docker
def test_the_lab_engine_answers(lab_engine: DockerClient) -> None:
    client, status = open_client({"DOCKER_HOST": "unix:///var/run/docker.sock"})
    assert client is not None
    client.close()
    assert (status.reachable, status.error) == (True, "")
    assert status.server_version == lab_engine.version()["Version"]


def _path_with(tmp_path: Path, *programs: str) -> dict[str, str]:
    folder = tmp_path / "bin"
    folder.mkdir()
    for program in programs:
        found = shutil.which(program)
        assert found is not None, f"{program} is not installed"
        (folder / program).symlink_to(found)
    return {"PATH": str(folder), "HOME": str(tmp_path)}


@pytest.mark.docker
@pytest.mark.parametrize(
    ("programs", "flavour", "command"),
    [
        pytest.param(("docker", "docker-compose"), "both", ("docker", "compose"), id="both"),
        pytest.param(("docker",), "v2", ("docker", "compose"), id="v2-plugin-only"),
        pytest.param(("docker-compose",), "v1", ("docker-compose",), id="v1-only"),
        pytest.param((), "none", (), id="none"),
    ],
)
def test_which_compose_cli_is_installed(
    lab_engine: DockerClient, tmp_path: Path, programs: tuple[str, ...], flavour: str,
    command: tuple[str, ...],
) -> None:
    cli = compose_cli(timeout=10, environ=_path_with(tmp_path, *programs))
    assert (cli.flavour, cli.command) == (flavour, command)
    assert (cli.v2 or "2.").startswith("2.") and (cli.v1 or "1.").startswith("1.")
    assert (cli.v2 is not None, cli.v1 is not None) == ("docker" in programs,
                                                        "docker-compose" in programs)


def test_compose_cli_answers_none_without_programs(tmp_path: Path) -> None:
    assert compose_cli(timeout=2, environ={"PATH": str(tmp_path)}) == ComposeCli(None, None)
