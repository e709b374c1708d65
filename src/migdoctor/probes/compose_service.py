"""One Compose service as migdoctor reads it, and which service is `web` and which is `db`."""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migdoctor.probes import compose_yaml as cy
from migdoctor.probes.compose_env import EnvValue, redact

WEB_NAMES = ("web", "app", "django")
WEB_SERVERS = ("gunicorn", "uvicorn", "daphne", "uwsgi", "runserver")
DB_NAMES = ("db", "postgres", "database", "postgresql")
DB_VARIABLES = ("POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD")
@dataclass(frozen=True)
class EnvFileRef:
    """One `env_file:` entry: the path as written, where it points, and whether it must exist."""

    path: str
    resolved: Path
    required: bool = True

    @property
    def exists(self) -> bool:
        return self.resolved.is_file()


@dataclass(frozen=True)
class PortMapping:
    """A published port: `127.0.0.1:5433:5432` is host_ip, published port, target port."""

    target: int
    published: int | None = None
    host_ip: str = ""
    protocol: str = "tcp"


@dataclass(frozen=True)
class Dependency:
    service: str
    condition: str = "service_started"
    required: bool = True


@dataclass(frozen=True)
class Healthcheck:
    test: tuple[str, ...]
    interval: str | None = None
    timeout: str | None = None
    retries: int | None = None
    start_period: str | None = None
    disabled: bool = False


@dataclass(frozen=True)
class ServiceConfig:
    """One service after merging all compose files. `environment` holds `environment:` only."""

    name: str
    image: str | None = None
    build: str | None = None
    command: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    environment: dict[str, EnvValue] = field(default_factory=dict)
    env_files: tuple[EnvFileRef, ...] = ()
    ports: tuple[PortMapping, ...] = ()
    network_mode: str | None = None
    depends_on: tuple[Dependency, ...] = ()
    healthcheck: Healthcheck | None = None
    container_name: str | None = None

    @property
    def runs_manage_py(self) -> bool:
        return any("manage.py" in part for part in (*self.entrypoint, *self.command))


def parse_service(
    name: str, raw: Mapping[str, Any], root: Path, env: Mapping[str, str]
) -> ServiceConfig:
    """A merged, interpolated service mapping as a `ServiceConfig` (paths relative to `root`)."""
    build = raw.get("build")
    return ServiceConfig(
        name=name,
        image=_opt_str(raw.get("image")),
        build=_opt_str(build.get("context", ".") if isinstance(build, dict) else build),
        command=_argv(raw.get("command")),
        entrypoint=_argv(raw.get("entrypoint")),
        environment=redact(_resolved_environment(raw.get("environment"), env)),
        env_files=tuple(_env_file(item, root) for item in cy.as_list(raw.get("env_file"))),
        ports=tuple(p for item in cy.as_list(raw.get("ports")) for p in parse_port(item)),
        network_mode=_opt_str(raw.get("network_mode")),
        depends_on=tuple(
            _dependency(k, v) for k, v in cy.depends_on_map(raw.get("depends_on")).items()
        ),
        healthcheck=_healthcheck(raw.get("healthcheck")),
        container_name=_opt_str(raw.get("container_name")),
    )


def find_web(services: Mapping[str, ServiceConfig], given: str | None = None) -> str | None:
    """The service that runs Django: `given`, else the one running manage.py, else by name."""
    if given is not None:
        return given if given in services else None
    for service in services.values():
        if service.runs_manage_py:
            return service.name
    named = next((n for n in WEB_NAMES if n in services), None)
    if named is not None:
        return named
    for service in services.values():
        if any(s in part for part in (*service.entrypoint, *service.command) for s in WEB_SERVERS):
            return service.name
    return None


def find_db(
    services: Mapping[str, ServiceConfig],
    web: str | None,
    expected: Mapping[str, Mapping[str, EnvValue]] | None = None,
) -> str | None:
    """The PostgreSQL service: a postgres image, then a db-like name, then POSTGRES_* settings."""
    scores = {
        name: _db_score(service, (expected or {}).get(name, service.environment))
        for name, service in services.items() if name != web
    }
    best = max(scores, key=lambda name: scores[name], default=None)
    return best if best is not None and scores[best] > 0 else None


def _db_score(service: ServiceConfig, env: Mapping[str, EnvValue]) -> int:
    image = (service.image or "").lower()
    score = 8 if "postgres" in image or "postgis" in image else 0
    score += 4 if service.name.lower() in DB_NAMES else 0
    score += 2 if any("postgres" in part for part in service.command) else 0
    return score + (1 if any(v in env for v in DB_VARIABLES) else 0)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _argv(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        try:
            return tuple(shlex.split(raw))
        except ValueError:  # an unbalanced quote: Compose refuses it, we keep the words
            return tuple(raw.split())
    return tuple(str(part) for part in cy.as_list(raw))


def _resolved_environment(raw: Any, env: Mapping[str, str]) -> dict[str, str | None]:
    """`environment:`; a name without a value takes the shell's (Compose's pass-through)."""
    declared = cy.environment_map(raw)
    return {k: env.get(k) if v is None else v for k, v in declared.items()}


def _env_file(item: Any, root: Path) -> EnvFileRef:
    if isinstance(item, dict):
        path, required = str(item.get("path", "")), item.get("required", True)
        required = required if isinstance(required, bool) else str(required).lower() != "false"
    else:
        path, required = str(item), True
    resolved = Path(os.path.normpath(root / Path(path).expanduser()))
    return EnvFileRef(path, resolved, required)


def parse_port(item: Any) -> tuple[PortMapping, ...]:
    """Short (`5432`, `5433:5432`, `127.0.0.1:5433:5432/tcp`, ranges) or long form ports."""
    if isinstance(item, dict):
        published = item.get("published")
        return (PortMapping(int(item["target"]), _port(published), str(item.get("host_ip", "")),
                            str(item.get("protocol", "tcp"))),)
    spec, _, protocol = str(item).partition("/")
    host_ip, published, target = _split_port_spec(spec)
    targets, publisheds = _port_range(target), _port_range(published)
    if publisheds and len(publisheds) != len(targets):
        publisheds = [publisheds[0]] * len(targets)  # a range of host ports for one target
    return tuple(
        PortMapping(t, publisheds[i] if publisheds else None, host_ip, protocol or "tcp")
        for i, t in enumerate(targets)
    )


def _split_port_spec(spec: str) -> tuple[str, str, str]:
    if spec.startswith("["):  # [::1]:5433:5432
        host, _, rest = spec[1:].partition("]:")
        published, _, target = rest.rpartition(":")
        return host, published, target
    parts = spec.rsplit(":", 2)
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return "", "", parts[0]


def _port_range(text: str) -> list[int]:
    if not text:
        return []
    low, _, high = text.partition("-")
    return list(range(int(low), int(high or low) + 1))


def _port(value: Any) -> int | None:
    return None if value in (None, "") else int(str(value).split("-")[0])


def _dependency(name: str, spec: Mapping[str, Any]) -> Dependency:
    required = spec.get("required", True)
    return Dependency(name, str(spec.get("condition", "service_started")), required is not False)


def _healthcheck(raw: Any) -> Healthcheck | None:
    if not isinstance(raw, dict):
        return None
    test = raw.get("test")
    argv = ("CMD-SHELL", test) if isinstance(test, str) else tuple(str(t) for t in test or ())
    retries = raw.get("retries")
    return Healthcheck(
        test=argv,
        interval=_opt_str(raw.get("interval")),
        timeout=_opt_str(raw.get("timeout")),
        retries=None if retries is None else int(retries),
        start_period=_opt_str(raw.get("start_period")),
        disabled=bool(raw.get("disable")) or argv[:1] == ("NONE",),
    )
