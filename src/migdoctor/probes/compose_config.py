"""The project's Compose configuration, read statically: files, services, roles, project name.

Nothing here talks to Docker. Environment values of secret-named variables (PASSWORD, SECRET,
TOKEN, KEY) are kept only as `Secret` digests (see `compose_service`): compared, never shown.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migdoctor.probes import ProbeFinding
from migdoctor.probes import compose_yaml as cy
from migdoctor.probes.compose_env import (
    EnvValue,
    Secret,
    env_file_findings,
    env_value,
    expected_environment,
    is_secret_name,
    redact,
)
from migdoctor.probes.compose_service import (
    Dependency,
    EnvFileRef,
    Healthcheck,
    PortMapping,
    ServiceConfig,
    find_db,
    find_web,
    parse_service,
)
from migdoctor.probes.envfile import read_env_file
from migdoctor.probes.names import COMPOSE_FILE_NAMES

OVERRIDE_FILE_NAMES = (  # Compose v2's order: the first one present is read
    "compose.override.yml", "compose.override.yaml",
    "docker-compose.override.yml", "docker-compose.override.yaml",
)


@dataclass(frozen=True)
class ComposeConfig:
    """The Compose project of a folder, statically. `services` is empty when nothing was read.

    `expected_env` is what each service's container should receive: its existing env files in
    order, then `environment:`. `findings` are the static problems (missing compose or env files,
    unreadable files, an unknown service asked for).
    """

    root: Path
    files: tuple[Path, ...]
    project_name: str
    project_name_v1: str
    services: dict[str, ServiceConfig] = field(default_factory=dict)
    web: str | None = None
    db: str | None = None
    expected_env: dict[str, dict[str, EnvValue]] = field(default_factory=dict)
    findings: tuple[ProbeFinding, ...] = ()

    def service(self, name: str | None) -> ServiceConfig | None:
        return None if name is None else self.services.get(name)


def normalize_project_name(name: str) -> str:
    """A project name as Compose keeps it: lower case, `[a-z0-9_-]`, no leading `_` or `-`."""
    return re.sub(r"[^-_a-z0-9]", "", name.lower()).lstrip("_-")


def container_name(project: str, service: str, number: int = 1, *, flavour: str = "v2") -> str:
    """The name Compose gives a service's container: `proj-web-1` (v2) or `proj_web_1` (v1)."""
    sep = "_" if flavour == "v1" else "-"
    return f"{project}{sep}{service}{sep}{number}"


def interpolation_env(root: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """What `${VAR}` in compose files resolves from: the project's `.env`, then the shell."""
    dotenv = root / ".env"
    values = read_env_file(dotenv, environ).values if dotenv.is_file() else {}
    return {**values, **environ}


def find_compose_files(
    root: Path,
    files: Sequence[str | Path] = (),
    environ: Mapping[str, str] | None = None,
    *,
    search_parents: bool = True,
) -> tuple[tuple[Path, ...], tuple[ProbeFinding, ...]]:
    """The compose files Compose would read, in order, and findings for the ones missing.

    Explicit `-f` files first, else `COMPOSE_FILE` (shell, then `.env`), else the first default
    name in `root` (or, like Compose, in the nearest parent that has one) and its override.
    """
    env = interpolation_env(root, os.environ if environ is None else environ)
    chosen = [Path(f) for f in files] or _from_compose_file_var(env)
    if chosen:
        paths = tuple(p if p.is_absolute() else root / p for p in chosen)
        missing = tuple(_missing_file(p) for p in paths if not p.is_file())
        return tuple(p for p in paths if p.is_file()), missing
    for folder in (root, *root.parents) if search_parents else (root,):
        found = _defaults_in(folder)
        if found:
            return found, ()
    return (), (_no_compose_file(root),)


def _from_compose_file_var(env: Mapping[str, str]) -> list[Path]:
    value = env.get("COMPOSE_FILE", "")
    sep = env.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
    return [Path(part) for part in value.split(sep) if part.strip()]


def _defaults_in(folder: Path) -> tuple[Path, ...]:
    base = next((folder / n for n in COMPOSE_FILE_NAMES if (folder / n).is_file()), None)
    if base is None:
        return ()
    override = next((folder / n for n in OVERRIDE_FILE_NAMES if (folder / n).is_file()), None)
    return (base,) if override is None else (base, override)


def _missing_file(path: Path) -> ProbeFinding:
    return ProbeFinding(
        "compose-file-missing",
        "compose-file-missing",
        f"compose file {path} does not exist",
        "fix the -f option or COMPOSE_FILE, or run from the folder that holds the compose file",
        path=str(path),
    )


def _no_compose_file(root: Path) -> ProbeFinding:
    names = ", ".join(COMPOSE_FILE_NAMES)
    return ProbeFinding(
        "compose-file-missing",
        "compose-file-missing",
        f"no compose file in {root} or its parents (looked for {names})",
        "run from the project folder, or pass the file with -f / COMPOSE_FILE",
        path=str(root),
    )


def load_config(
    root: Path,
    *,
    files: Sequence[str | Path] = (),
    project_name: str | None = None,
    web: str | None = None,
    environ: Mapping[str, str] | None = None,
    search_parents: bool = True,
) -> ComposeConfig:
    """The Compose project of `root` as `docker compose` would see it, with static findings.

    `files` are `-f` files, `project_name` is `-p`, `web` names the web service (`--service`).
    `environ` is the shell's environment (default: this process's).
    """
    shell = dict(os.environ if environ is None else environ)
    root = Path(os.path.abspath(root))
    paths, findings = find_compose_files(root, files, shell, search_parents=search_parents)
    project_dir = paths[0].parent if paths else root
    env = interpolation_env(project_dir, shell)
    merged, read_problems = _read_all(paths, env)
    services, service_problems = _parse_services(merged, project_dir, env)
    expected = {name: expected_environment(s, env) for name, s in services.items()}
    web_name = find_web(services, web)
    return ComposeConfig(
        root=project_dir,
        files=paths,
        project_name=derive_project_name(project_dir, project_name, env, merged.get("name")),
        project_name_v1=derive_project_name(
            project_dir, project_name, env, merged.get("name"), flavour="v1"
        ),
        services=services,
        web=web_name,
        db=find_db(services, web_name, expected),
        expected_env=expected,
        findings=(*findings, *read_problems, *service_problems,
                  *_unknown_service(web, services), *env_file_findings(services, env)),
    )


def _read_all(
    paths: Sequence[Path], env: Mapping[str, str]
) -> tuple[dict[str, Any], list[ProbeFinding]]:
    documents: list[dict[str, Any]] = []
    problems: list[ProbeFinding] = []
    for path in paths:
        try:
            documents.append(cy.interpolate(cy.read_compose_file(path), env))
        except cy.ComposeFileError as exc:
            problems.append(ProbeFinding(
                "compose-file-invalid", "compose-file-missing", str(exc),
                "fix the file until `docker compose config --quiet` accepts it", path=str(path),
            ))
    return cy.merge_files(documents), problems


def _parse_services(
    merged: Mapping[str, Any], root: Path, env: Mapping[str, str]
) -> tuple[dict[str, ServiceConfig], list[ProbeFinding]]:
    services: dict[str, ServiceConfig] = {}
    problems: list[ProbeFinding] = []
    for name, raw in merged.get("services", {}).items():
        try:
            services[str(name)] = parse_service(str(name), raw or {}, root, env)
        except (ValueError, TypeError, KeyError) as exc:
            problems.append(ProbeFinding(
                "compose-service-invalid", "compose-file-missing",
                f"service {name}: a value Compose would refuse ({type(exc).__name__}: {exc})",
                "check the service with `docker compose config`",
            ))
    return services, problems


def _unknown_service(
    given: str | None, services: Mapping[str, ServiceConfig]
) -> list[ProbeFinding]:
    if given is None or given in services or not services:
        return []
    return [ProbeFinding(
        "service-unknown", "compose-service-not-running",
        f"no service {given} in the compose files (services: {', '.join(services)})",
        "pass the name of a service the compose files define",
    )]


def derive_project_name(
    project_dir: Path,
    given: str | None,
    env: Mapping[str, str],
    name_key: Any,
    *,
    flavour: str = "v2",
) -> str:
    """`-p`, else COMPOSE_PROJECT_NAME, else `name:` (v2 only), else the folder's name."""
    name_key = name_key if flavour == "v2" else None  # Compose v1 refuses a top-level `name:`
    candidates = (given, env.get("COMPOSE_PROJECT_NAME"), name_key, project_dir.resolve().name)
    for candidate in candidates:
        if candidate:
            name = re.sub(r"[^-_a-z0-9]", "", str(candidate).lower())
            return name if flavour == "v1" else normalize_project_name(name)
    return ""


__all__ = [
    "COMPOSE_FILE_NAMES", "OVERRIDE_FILE_NAMES", "ComposeConfig", "Dependency", "EnvFileRef",
    "EnvValue", "Healthcheck", "PortMapping", "Secret", "ServiceConfig", "container_name",
    "derive_project_name", "env_value", "expected_environment", "find_compose_files", "find_db",
    "find_web", "is_secret_name", "load_config", "normalize_project_name", "redact",
]
