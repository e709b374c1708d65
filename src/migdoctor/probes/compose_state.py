"""Containers of a Compose project as the engine reports them, and what their logs say.

Pure functions over the engine's data (`container.attrs`, log bytes): the client calls are made
by `probes.compose`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from migdoctor.probes import ProbeFinding
from migdoctor.probes.compose_env import EnvValue, database_url_settings, redact

if TYPE_CHECKING:
    from migdoctor.match.engine import Library
    from migdoctor.model import Finding

SERVICE_LABEL = "com.docker.compose.service"
NUMBER_LABEL = "com.docker.compose.container-number"
ONEOFF_LABEL = "com.docker.compose.oneoff"
VERSION_LABEL = "com.docker.compose.version"
SECRET_MASK = "<secret>"


@dataclass(frozen=True)
class ContainerState:
    """One container of the project. `environment` is what it received (secrets as digests);
    `database_url` the POSTGRES_DB/USER/PASSWORD its DATABASE_URL gives, if any."""

    id: str
    name: str
    service: str
    number: int | None
    state: str
    health: str | None
    restart_count: int
    exit_code: int | None
    oneoff: bool
    image: str
    compose_version: str
    environment: dict[str, EnvValue] = field(default_factory=dict)
    database_url: dict[str, EnvValue] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return self.state == "running"


def raw_environment(attrs: Mapping[str, Any]) -> dict[str, str]:
    """`Config.Env` of a container as a dict. Holds secrets: never keep it."""
    pairs = (item.partition("=") for item in (attrs.get("Config") or {}).get("Env") or ())
    return {name: value for name, _, value in pairs}


def container_state(attrs: Mapping[str, Any]) -> ContainerState:
    """A container's state from its inspect data (`container.attrs`)."""
    config, state = attrs.get("Config") or {}, attrs.get("State") or {}
    labels = config.get("Labels") or {}
    number = str(labels.get(NUMBER_LABEL, ""))
    raw = raw_environment(attrs)
    status = str(state.get("Status", "unknown"))
    return ContainerState(
        id=str(attrs.get("Id", "")),
        name=str(attrs.get("Name", "")).lstrip("/"),
        service=str(labels.get(SERVICE_LABEL, "")),
        number=int(number) if number.isdigit() else None,
        state=status,
        health=(state.get("Health") or {}).get("Status"),
        restart_count=int(attrs.get("RestartCount") or 0),
        exit_code=None if status == "running" else int(state.get("ExitCode") or 0),
        oneoff=str(labels.get(ONEOFF_LABEL, "False")).lower() == "true",
        image=str(config.get("Image", "")),
        compose_version=str(labels.get(VERSION_LABEL, "")),
        environment=redact(raw),
        database_url=database_url_settings(raw),
    )


def secret_values(attrs: Mapping[str, Any], min_length: int = 4) -> frozenset[str]:
    """The secret values a container received, to mask them in its log. Never keep them."""
    from migdoctor.probes.compose_env import is_secret_name

    raw = raw_environment(attrs)
    return frozenset(v for k, v in raw.items() if is_secret_name(k) and len(v) >= min_length)


def mask(text: str, secrets: frozenset[str]) -> str:
    for value in sorted(secrets, key=len, reverse=True):
        text = text.replace(value, SECRET_MASK)
    return text


def main_container(states: Sequence[ContainerState], service: str) -> ContainerState | None:
    """The service's container to look at: a running one first, then the lowest number."""
    mine = [s for s in states if s.service == service and not s.oneoff]
    mine.sort(key=lambda s: (not s.running, s.number or 0))
    return mine[0] if mine else None


def service_findings(
    project: str,
    services: Sequence[str],
    states: Sequence[ContainerState],
    main: Sequence[str] = (),
) -> list[ProbeFinding]:
    """`compose-service-not-running` for each `main` service (db, web) without a healthy running
    container, and for any other service that crashed (a one-shot job that exited 0 is fine)."""
    if services and not any(not s.oneoff for s in states):
        return [_finding(f"no container of project {project} exists: the stack is not up "
                         f"(or runs under another project name)",
                         "start it: docker compose up -d")]
    findings = []
    for service in services:
        state = main_container(states, service)
        if service not in main and (state is None or state.exit_code in (None, 0)):
            continue
        problem = _not_running(service, state)
        if problem:
            findings.append(_finding(problem, f"start it: docker compose up -d {service}; "
                                              f"see why it stopped: docker compose logs {service}"))
    return findings


def _not_running(service: str, state: ContainerState | None) -> str:
    if state is None:
        return f"service {service} has no container (it was never started, or was removed)"
    restarts = f", restarted {state.restart_count} times" if state.restart_count else ""
    if state.running and state.health == "unhealthy":
        return f"service {service} runs but is unhealthy ({state.name}{restarts})"
    if state.running:
        return ""
    return (f"service {service} is not running: {state.name} is {state.state}, "
            f"exit code {state.exit_code}{restarts}")


def _finding(message: str, hint: str) -> ProbeFinding:
    return ProbeFinding("compose-service-not-running", "compose-service-not-running", message, hint)


@dataclass(frozen=True)
class LogDiagnosis:
    """What the matcher found in the tail of one container's log (secrets masked)."""

    service: str
    container: str
    lines: int
    findings: tuple[Finding, ...] = ()


def diagnose_log(
    state: ContainerState, log: bytes, knowledge: Library, secrets: frozenset[str] = frozenset()
) -> LogDiagnosis:
    """The log tail of `state`'s container fed through the matcher."""
    from migdoctor.match.diagnose import diagnose_text

    text = mask(log.decode("utf-8", errors="replace"), secrets)
    found = tuple(diagnose_text(text, knowledge)) if text.strip() else ()
    return LogDiagnosis(state.service, state.name, text.count("\n"), found)


def log_findings(diagnosis: LogDiagnosis) -> list[ProbeFinding]:
    """Each matcher finding of a log as a probe finding naming the service and the line."""
    findings = []
    for found in diagnosis.findings:
        line = found.evidence[0].text.strip() if found.evidence else ""
        findings.append(ProbeFinding(
            "log", found.playbook.id,
            f"log of service {diagnosis.service} ({diagnosis.container}): {found.playbook.title}"
            + (f": {line[:300]}" if line else ""),
            f"migdoctor docs {found.playbook.id}",
            line=found.evidence[0].line if found.evidence else None,
        ))
    return findings
