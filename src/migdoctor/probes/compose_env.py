"""Environment values kept safely, and the env files of services.

Values of variables whose names contain PASSWORD, SECRET, TOKEN or KEY are kept only as `Secret`
digests, keyed per process: they compare equal when the values are equal and show nothing.
"""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from migdoctor.probes import ProbeFinding
from migdoctor.probes.envfile import read_env_file
from migdoctor.probes.names import EXAMPLE_ENV_FILES

if TYPE_CHECKING:
    from migdoctor.probes.compose_service import ServiceConfig

SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "KEY")
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][\w+.-]*://[^:/@\s]*:)[^@\s]+(?=@)")
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
    """`value` as it may be kept: a `Secret` when the name says it is one; a password inside a
    URL (`postgres://user:password@host/db`) becomes `<secret>`."""
    if value is None:
        return None
    if not is_secret_name(name):
        return _URL_PASSWORD.sub(r"\g<head><secret>", value)
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


POSTGRES_SHARED = ("POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD")
"""What `web` and `db` must agree on: the database, the role, and the role's password."""
_MISMATCH_LABEL = {"POSTGRES_DB": "db-missing"}


@dataclass(frozen=True)
class EnvIssue:
    """One variable that is not what it should be. `against` is `compose file` or a service.

    `problem` is `missing` or `differs`; `detail` never holds a secret value.
    """

    service: str
    variable: str
    problem: str
    against: str
    detail: str = ""


def diff_environment(
    service: str, expected: Mapping[str, EnvValue], received: Mapping[str, EnvValue]
) -> list[EnvIssue]:
    """The variables the compose files give `service` that its container lacks or has otherwise."""
    issues: list[EnvIssue] = []
    for name, value in expected.items():
        if name not in received:
            issues.append(EnvIssue(service, name, "missing", "compose file"))
        elif received[name] != value:
            detail = _values(("container", received[name]), ("compose file", value))
            issues.append(EnvIssue(service, name, "differs", "compose file", detail))
    return issues


def diff_postgres(
    web: str, web_env: Mapping[str, EnvValue], db: str, db_env: Mapping[str, EnvValue]
) -> list[EnvIssue]:
    """POSTGRES_* that `web` and `db` both received with different values. `web_env` may hold
    the settings of its DATABASE_URL (`database_url_settings`); its own POSTGRES_* win."""
    issues: list[EnvIssue] = []
    settings = _shared(web_env)
    for name in POSTGRES_SHARED:
        mine, theirs = settings.get(name), db_env.get(name)
        if mine is not None and theirs is not None and mine != theirs:
            detail = _values((web, mine), (db, theirs))
            issues.append(EnvIssue(web, name, "differs", db, detail))
    return issues


def _shared(env: Mapping[str, EnvValue]) -> dict[str, EnvValue]:
    return {name: env[name] for name in POSTGRES_SHARED if name in env}


def database_url_settings(env: Mapping[str, str | None]) -> dict[str, EnvValue]:
    """POSTGRES_DB, POSTGRES_USER and POSTGRES_PASSWORD as the DATABASE_URL of the raw `env`
    gives them, the password as a `Secret` (read before `redact` hides it)."""
    from urllib.parse import unquote, urlsplit

    url = env.get("DATABASE_URL")
    if not isinstance(url, str) or not url.startswith(("postgres://", "postgresql://")):
        return {}
    parts = urlsplit(url)
    found = {"POSTGRES_DB": unquote(parts.path.lstrip("/")) or None,
             "POSTGRES_USER": unquote(parts.username) if parts.username else None,
             "POSTGRES_PASSWORD": unquote(parts.password) if parts.password else None}
    return {name: env_value(name, value) for name, value in found.items() if value is not None}


def _values(first: tuple[str, EnvValue], second: tuple[str, EnvValue]) -> str:
    if isinstance(first[1], Secret) or isinstance(second[1], Secret):
        return "the values differ (not shown: a secret)"
    return f"{first[0]} has {first[1]!r}, {second[0]} has {second[1]!r}"


def env_issue_finding(issue: EnvIssue) -> ProbeFinding:
    """An `EnvIssue` as a finding: a POSTGRES_* disagreement names the failure it leads to."""
    if issue.against != "compose file":
        label = _MISMATCH_LABEL.get(issue.variable, "db-auth-failed")
        return ProbeFinding(
            "postgres-env-mismatch", label,
            f"{issue.variable} differs between services {issue.service} and {issue.against}: "
            f"{issue.detail}",
            f"give both services the same {issue.variable} (one env file for both), then "
            f"`docker compose up -d`; the database keeps the credentials it was created with",
        )
    what = "lacks" if issue.problem == "missing" else "has another value for"
    detail = f" ({issue.detail})" if issue.detail else ""
    return ProbeFinding(
        f"env-{issue.problem}", "env-file-missing",
        f"the container of service {issue.service} {what} {issue.variable} from the compose "
        f"file{detail}",
        f"recreate it so that it gets the current settings: docker compose up -d {issue.service}",
    )
