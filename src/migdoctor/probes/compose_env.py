"""Environment values kept safely, and the env files of services.

Values of variables whose names contain PASSWORD, SECRET, TOKEN or KEY are kept only as `Secret`
digests, keyed per process: they compare equal when the values are equal and show nothing.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from migdoctor.probes import ProbeFinding
from migdoctor.probes.envfile import read_env_file

if TYPE_CHECKING:
    from migdoctor.probes.compose_service import ServiceConfig

SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "KEY")
EXAMPLE_ENV_FILES = (".env.example", ".env.sample", ".env.template", "env.example")
_DIGEST_KEY = os.urandom(32)  # per process: a digest says nothing outside this run


@dataclass(frozen=True, repr=False)
class Secret:
    """A secret environment value, kept as a keyed digest: equal values compare equal."""

    digest: bytes

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


EnvValue = str | Secret | None
"""An environment value as migdoctor keeps it; None: declared without a value (not set)."""


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    return any(word in upper for word in SECRET_WORDS)


def env_value(name: str, value: str | None) -> EnvValue:
    """`value` as it may be kept: a `Secret` when the name says it is one."""
    if value is None or not is_secret_name(name):
        return value
    data = value.encode("utf-8", "surrogatepass")
    return Secret(hmac.new(_DIGEST_KEY, data, "sha256").digest())


def redact(environ: Mapping[str, str | None]) -> dict[str, EnvValue]:
    return {name: env_value(name, value) for name, value in environ.items()}


def expected_environment(
    service: ServiceConfig, env: Mapping[str, str] | None = None
) -> dict[str, EnvValue]:
    """What the service's container should get: its existing env files, then `environment:`.

    `env` is what `${VAR}` inside the env files resolves from (the shell and the project's .env).
    """
    values: dict[str, EnvValue] = {}
    for ref in service.env_files:
        if ref.exists:
            values.update(redact(dict(read_env_file(ref.resolved, env or {}).values)))
    values.update(service.environment)
    return {name: value for name, value in values.items() if value is not None}


def env_file_findings(
    services: Mapping[str, ServiceConfig], env: Mapping[str, str] | None = None
) -> list[ProbeFinding]:
    """One `env-file-missing` finding per required env file that is not there, and the lines
    of existing env files that Compose cannot read (named by line and variable, never value)."""
    users: dict[Path, list[ServiceConfig]] = {}
    for service in services.values():
        for ref in service.env_files:
            if ref.exists or ref.required:
                users.setdefault(ref.resolved, []).append(service)
    findings: list[ProbeFinding] = []
    for path, found in users.items():
        if not path.is_file():
            findings.append(_env_file_missing(path, found))
        else:
            findings.extend(_env_file_problems(path, env or {}))
    return findings


def _env_file_problems(path: Path, env: Mapping[str, str]) -> list[ProbeFinding]:
    return [
        ProbeFinding("env-file-invalid", "env-file-missing", f"env file {path}: {problem}",
                     "fix the line: NAME=value, quotes closed", path=str(path))
        for problem in read_env_file(path, env).problems
    ]


def _env_file_missing(path: Path, services: list[ServiceConfig]) -> ProbeFinding:
    names = ", ".join(s.name for s in services)
    written = next(r.path for r in services[0].env_files if r.resolved == path)
    examples = [e for e in EXAMPLE_ENV_FILES if (path.parent / e).is_file()]
    hint = (f"create it: cp {examples[0]} {path.name}, then fill in the values" if examples
            else f"create {path}, or mark the entry `required: false`")
    return ProbeFinding(
        "env-file-missing", "env-file-missing",
        f"env file {written} of service {names} does not exist ({path})", hint, path=str(path),
    )
