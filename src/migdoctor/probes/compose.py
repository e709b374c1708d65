"""The Compose project live: the daemon, the project's containers, what they received, their logs.

The docker SDK is imported only when a client is opened. Every engine call carries the client's
timeout; a daemon that cannot be reached, a service that is not running and a compose file that
is missing are findings, never exceptions. Secret values are compared, never kept (compose_env).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from migdoctor.probes import ProbeFinding
from migdoctor.probes.compose_config import ComposeConfig
from migdoctor.probes.compose_daemon import (
    DEFAULT_SOCKET,
    DEFAULT_TIMEOUT,
    DaemonStatus,
    daemon_error,
    daemon_finding,
    engine_errors,
    open_client,
)
from migdoctor.probes.compose_env import (
    EnvIssue,
    EnvValue,
    diff_environment,
    diff_postgres,
    env_issue_finding,
)
from migdoctor.probes.compose_state import (
    ContainerState,
    LogDiagnosis,
    container_state,
    diagnose_log,
    log_findings,
    main_container,
    secret_values,
    service_findings,
)

if TYPE_CHECKING:
    from docker import DockerClient

    from migdoctor.match.engine import Library

DEFAULT_TAIL = 200
PROJECT_LABEL = "com.docker.compose.project"


@dataclass(frozen=True)
class ComposeCli:
    """The installed Compose CLIs and their versions (None: not installed)."""

    v2: str | None = None
    v1: str | None = None

    @property
    def flavour(self) -> str:
        """`v2`, `v1`, `both` or `none`."""
        if self.v2 and self.v1:
            return "both"
        return "v2" if self.v2 else "v1" if self.v1 else "none"

    @property
    def command(self) -> tuple[str, ...]:
        """How to call Compose here: v2 when installed, else v1, else nothing."""
        return ("docker", "compose") if self.v2 else ("docker-compose",) if self.v1 else ()


@dataclass(frozen=True)
class ComposeReport:
    """What the live probe found for one Compose project."""

    daemon: DaemonStatus
    project: str
    containers: tuple[ContainerState, ...] = ()
    env_issues: tuple[EnvIssue, ...] = ()
    logs: tuple[LogDiagnosis, ...] = ()
    findings: tuple[ProbeFinding, ...] = ()


def compose_cli(
    timeout: float = DEFAULT_TIMEOUT, environ: Mapping[str, str] | None = None
) -> ComposeCli:
    """Which Compose CLIs answer `version --short` within `timeout` seconds each."""
    env = dict(os.environ if environ is None else environ)
    return ComposeCli(
        v2=_cli_version(["docker", "compose", "version", "--short"], timeout, env),
        v1=_cli_version(["docker-compose", "version", "--short"], timeout, env),
    )


def _cli_version(argv: list[str], timeout: float, env: dict[str, str]) -> str | None:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    version = proc.stdout.strip().removeprefix("v")
    return version if proc.returncode == 0 and version[:1].isdigit() else None


def probe(
    config: ComposeConfig,
    client: DockerClient | None,
    status: DaemonStatus,
    knowledge: Library | None = None,
    *,
    tail: int = DEFAULT_TAIL,
) -> ComposeReport:
    """The live state of `config`'s project through `client` (from `open_client`).

    Static findings of the config come first; then the daemon, the services' states, the
    environment they received, and what the matcher finds in the tails of `db` and `web` logs.
    """
    findings = list(config.findings)
    unreachable = daemon_finding(status)
    if client is None or unreachable is not None:
        return ComposeReport(status, config.project_name,
                             findings=(*findings, *([unreachable] if unreachable else [])))
    try:
        return _live(config, client, status, knowledge, tail, findings)
    except engine_errors() as exc:  # the engine went away or timed out mid-way
        timeout = float(getattr(client.api, "timeout", DEFAULT_TIMEOUT))
        failed = DaemonStatus(False, status.base_url,
                              error=daemon_error(exc, status.base_url, timeout))
        lost = daemon_finding(failed)
        return ComposeReport(failed, config.project_name,
                             findings=(*findings, *([lost] if lost else [])))


def _live(
    config: ComposeConfig,
    client: DockerClient,
    status: DaemonStatus,
    knowledge: Library | None,
    tail: int,
    findings: list[ProbeFinding],
) -> ComposeReport:
    project, containers = find_project(client, config)
    attrs = [c.attrs for c in containers]
    states = tuple(sorted((container_state(a) for a in attrs),
                          key=lambda s: (s.service, s.oneoff, s.number or 0)))
    issues = env_issues(config, states)
    logs = read_logs(client, config, states, attrs, knowledge, tail)
    findings += service_findings(project, list(config.services), states, _main(config))
    findings += [env_issue_finding(issue) for issue in issues]
    findings += [f for diagnosis in logs for f in log_findings(diagnosis)]
    return ComposeReport(status, project, states, issues, logs, tuple(findings))


def _main(config: ComposeConfig) -> tuple[str, ...]:
    return tuple(name for name in (config.db, config.web) if name is not None)


def find_project(client: DockerClient, config: ComposeConfig) -> tuple[str, list[Any]]:
    """The project's containers by their Compose label, under the v2 name, else the v1 name."""
    names = dict.fromkeys((config.project_name, config.project_name_v1))
    for name in (n for n in names if n):
        found = client.containers.list(
            all=True, filters={"label": f"{PROJECT_LABEL}={name}"}, ignore_removed=True
        )
        if found:
            return name, list(found)
    return config.project_name, []


def env_issues(config: ComposeConfig, states: Sequence[ContainerState]) -> tuple[EnvIssue, ...]:
    """What the containers received against the compose files, and `web` against `db`."""
    issues: list[EnvIssue] = []
    for service, expected in config.expected_env.items():
        state = main_container(states, service)
        if state is not None:
            issues += diff_environment(service, expected, state.environment)
    web = main_container(states, config.web) if config.web else None
    db = main_container(states, config.db) if config.db else None
    if web is not None and db is not None:
        web_env: dict[str, EnvValue] = {**web.database_url, **web.environment}
        issues += diff_postgres(web.service, web_env, db.service, db.environment)
    return tuple(issues)


def read_logs(
    client: DockerClient,
    config: ComposeConfig,
    states: Sequence[ContainerState],
    attrs: Sequence[Mapping[str, Any]],
    knowledge: Library | None,
    tail: int,
) -> tuple[LogDiagnosis, ...]:
    """The last `tail` lines of the `db` and `web` containers' logs through the matcher."""
    if knowledge is None:
        from migdoctor.kb.loader import load

        knowledge = load()
    secrets = frozenset().union(*(secret_values(a) for a in attrs))
    diagnoses = []
    for service in _main(config):
        state = main_container(states, service)
        if state is not None:
            log = client.api.logs(state.id, stdout=True, stderr=True, tail=tail)
            diagnoses.append(diagnose_log(state, log, knowledge, secrets))
    return tuple(diagnoses)


__all__ = [
    "DEFAULT_SOCKET",
    "DEFAULT_TAIL",
    "DEFAULT_TIMEOUT",
    "ComposeCli",
    "ComposeReport",
    "ContainerState",
    "DaemonStatus",
    "EnvIssue",
    "LogDiagnosis",
    "compose_cli",
    "daemon_finding",
    "env_issues",
    "find_project",
    "open_client",
    "probe",
    "read_logs",
]
