"""Whether the Docker engine answers, through the docker SDK (imported only when used).

Every call has a timeout. A unix socket is tried first with a plain connect: a missing socket,
a forbidden one or a refused connection is reported without the SDK (which leaks its socket when
the connect itself fails).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from migdoctor.probes import ProbeFinding

if TYPE_CHECKING:
    from docker import DockerClient

DEFAULT_TIMEOUT = 5.0
DEFAULT_SOCKET = "unix:///var/run/docker.sock"


@dataclass(frozen=True)
class DaemonStatus:
    """Whether the engine answered at `base_url`, and why not (`error`)."""

    reachable: bool
    base_url: str
    server_version: str | None = None
    api_version: str | None = None
    error: str = ""


def open_client(
    environ: Mapping[str, str] | None = None, timeout: float = DEFAULT_TIMEOUT
) -> tuple[DockerClient | None, DaemonStatus]:
    """A client of the engine that DOCKER_HOST (or the default socket) names, once it answered.

    The engine is first asked for its version by a client of the oldest API version the SDK
    speaks (no constructor talks to the engine, and that client is always closed).
    """
    import docker
    from docker.utils import kwargs_from_env

    env = dict(os.environ if environ is None else environ)
    base_url = env.get("DOCKER_HOST") or DEFAULT_SOCKET
    refused = unix_socket_error(base_url, timeout)
    if refused:  # checked first: the SDK leaks its socket when the connect itself fails
        return None, DaemonStatus(False, base_url, error=refused)
    try:
        options: dict[str, Any] = {**kwargs_from_env(environment=env)}
        options["timeout"] = max(1, round(timeout))
        version = _engine_version(options)
    except engine_errors() as exc:
        return None, DaemonStatus(False, base_url, error=daemon_error(exc, base_url, timeout))
    client = docker.DockerClient(**options, version=_api_version(version))
    return client, DaemonStatus(True, base_url, version.get("Version"), version.get("ApiVersion"))


def _engine_version(options: Mapping[str, Any]) -> dict[str, Any]:
    import docker
    from docker.constants import MINIMUM_DOCKER_API_VERSION

    first = docker.DockerClient(**options, version=MINIMUM_DOCKER_API_VERSION)
    try:
        return dict(first.api.version(api_version=False))
    finally:
        first.close()


def _api_version(version: Mapping[str, Any]) -> str:
    """The engine's API version, or the SDK's newest when the engine speaks a newer one."""
    from docker.constants import DEFAULT_DOCKER_API_VERSION, MINIMUM_DOCKER_API_VERSION
    from docker.utils import version_lt

    api = str(version.get("ApiVersion") or MINIMUM_DOCKER_API_VERSION)
    return api if version_lt(api, DEFAULT_DOCKER_API_VERSION) else DEFAULT_DOCKER_API_VERSION


def unix_socket_error(base_url: str, timeout: float) -> str:
    """Why a `unix://` socket cannot be connected to (empty when it can, or is not unix)."""
    import socket

    if not base_url.startswith("unix://"):
        return ""
    path = base_url.removeprefix("unix://")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except OSError as exc:
            return daemon_error(exc, base_url, timeout)
    return ""


def engine_errors() -> tuple[type[BaseException], ...]:
    """What the SDK raises when the engine cannot be reached or fails (its own and requests')."""
    import docker.errors
    import requests.exceptions

    return (docker.errors.DockerException, requests.exceptions.RequestException, OSError)


def daemon_error(exc: BaseException, base_url: str, timeout: float) -> str:
    """Why the engine did not answer, in a few words."""
    text = " ".join(str(e) for e in _chain(exc))
    socket = base_url.removeprefix("unix://")
    if "Permission denied" in text or any(isinstance(e, PermissionError) for e in _chain(exc)):
        return f"permission denied on {socket}"
    if "No such file" in text or any(isinstance(e, FileNotFoundError) for e in _chain(exc)):
        return f"no socket at {socket}"
    if "timed out" in text.lower() or "timeout" in type(exc).__name__.lower():
        return f"no answer within {timeout:g}s"
    if "refused" in text.lower():
        return "connection refused"
    return f"{type(exc).__name__}: {text[:200]}"


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is not None and item not in seen and len(seen) < 20:
            seen.append(item)
            todo += [item.__cause__, item.__context__, *(a for a in item.args
                                                         if isinstance(a, BaseException))]
    return seen


def daemon_finding(status: DaemonStatus) -> ProbeFinding | None:
    if status.reachable:
        return None
    hint = {
        "permission": "add your user to the docker group (sudo usermod -aG docker $USER, then "
                      "log in again), or run the command with sudo",
        "no socket": "start the Docker engine (Docker Desktop, or `sudo systemctl start "
                     "docker`), or point DOCKER_HOST at its socket",
    }
    key = next((k for k in hint if status.error.startswith(k)), "")
    return ProbeFinding(
        "docker-daemon-unreachable", "docker-daemon-unreachable",
        f"the Docker daemon at {status.base_url} cannot be reached: {status.error}",
        hint.get(key, "check that the Docker engine runs and answers (`docker version`)"),
    )
