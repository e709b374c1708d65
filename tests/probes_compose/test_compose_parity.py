"""The static reading agrees with Compose v2's own (`docker compose config --format json`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from migdoctor.probes.compose_config import (
    ComposeConfig,
    Dependency,
    PortMapping,
    load_config,
    redact,
)
from tests.probes_compose.lab import compose_environ, explain, run

if TYPE_CHECKING:
    from docker import DockerClient

pytestmark = pytest.mark.docker

PROJECTS: dict[str, dict[str, str]] = {
    "guide-with-override": {
        "compose.yaml": """\
name: Shop_${STAGE:-dev}
services:
  web:
    build: .
    command: python src/manage.py runserver 0.0.0.0:8000
    env_file: .env
    environment: [DEBUG=0, POSTGRES_HOST=db, "GREETING=hello world"]
    ports: ["127.0.0.1:8000:8000"]
    depends_on: [db]
  db:
    image: postgres:16
    env_file: .env
    ports: ["127.0.0.1:5433:5432"]
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U $${POSTGRES_USER}"]
      interval: 5s
      retries: 5
""",
        "compose.override.yml": """\
services:
  web:
    environment: {DEBUG: "1", EXTRA: "${EXTRA_FROM_SHELL:-none}"}
    env_file:
      - path: .env.local
        required: false
    ports: ["5678:5678"]
    depends_on:
      db: {condition: service_healthy}
""",
        ".env": "POSTGRES_DB=shop\nPOSTGRES_USER=shop\nPOSTGRES_PASSWORD='p@ss word'\nSTAGE=ci\n",
    },
    "yes-no-on-off-stay-strings": {
        "docker-compose.yml": """\
services:
  app:
    image: app
    environment:
      ON: on
      YES: yes
      PORTS: 5433:5432
      MODE: "0755"
    ports: ["8000-8001:9000-9001/udp", "9229"]
    entrypoint: ["/entry.sh", "--flag"]
    network_mode: host
""",
    },
}


def _write(root: Path, files: dict[str, str]) -> Path:
    root.mkdir()
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def _compose_view(root: Path) -> dict[str, Any]:
    proc = run(["docker", "compose", "config", "--format", "json"], root, timeout=60)
    assert proc.returncode == 0, explain(proc)
    return dict(json.loads(proc.stdout))


def _ours(config: ComposeConfig, name: str) -> dict[str, Any]:
    service = config.services[name]
    return {
        "environment": config.expected_env[name],
        "ports": sorted(service.ports, key=repr),
        "depends_on": sorted(service.depends_on, key=repr),
        "command": service.command, "entrypoint": service.entrypoint,
        "image": service.image, "network_mode": service.network_mode,
        "healthcheck": service.healthcheck.test if service.healthcheck else None,
    }


def _unescaped(values: Any) -> tuple[str, ...]:
    """Compose's output writes a literal `$` as `$$` (so that it can be read again)."""
    return tuple(str(v).replace("$$", "$") for v in values or ())


def _theirs(raw: dict[str, Any]) -> dict[str, Any]:
    env = {k: v for k, v in (raw.get("environment") or {}).items() if v is not None}
    ports = [PortMapping(int(p["target"]), int(p["published"]) if p.get("published") else None,
                         p.get("host_ip", ""), p.get("protocol", "tcp")) for p in raw.get("ports", [])]
    return {
        "environment": redact({k: v.replace("$$", "$") for k, v in env.items()}),
        "ports": sorted(ports, key=repr),
        "depends_on": sorted((Dependency(k, v["condition"], v.get("required", True))
                              for k, v in (raw.get("depends_on") or {}).items()), key=repr),
        "command": _unescaped(raw.get("command")), "entrypoint": _unescaped(raw.get("entrypoint")),
        "image": raw.get("image"), "network_mode": raw.get("network_mode"),
        "healthcheck": _unescaped(raw["healthcheck"]["test"]) if raw.get("healthcheck") else None,
    }


@pytest.mark.parametrize("case", sorted(PROJECTS))
def test_services_as_compose_sees_them(
    case: str, lab_engine: DockerClient, tmp_path: Path
) -> None:
    root = _write(tmp_path / "proj", PROJECTS[case])
    view = _compose_view(root)
    config = load_config(root, environ=compose_environ(), search_parents=False)
    assert config.project_name == view["name"]
    assert sorted(config.services) == sorted(view["services"])
    for name, raw in view["services"].items():
        ours, theirs = _ours(config, name), _theirs(raw)
        if raw.get("image") is None:  # Compose names the image of a build after the project
            ours["image"] = theirs["image"] = None
        assert ours == theirs, name


def test_the_lab_project_as_compose_sees_it(lab_engine: DockerClient, tmp_path: Path) -> None:
    from tests.probes_compose.lab import copy_project

    root = copy_project(tmp_path / "project", port=55432, password="unused")
    view = _compose_view(root)
    config = load_config(root, environ=compose_environ())
    assert (config.project_name, config.web, config.db) == (view["name"], "web", "db")
    for name, raw in view["services"].items():
        assert _ours(config, name) == _theirs(raw), name
