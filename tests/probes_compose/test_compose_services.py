"""Services as the merged compose files define them: every form of the keys migdoctor reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from migdoctor.probes.compose_config import (
    ComposeConfig,
    Dependency,
    EnvFileRef,
    Healthcheck,
    PortMapping,
    Secret,
    ServiceConfig,
    env_value,
    load_config,
)


def _load(tmp_path: Path, tree: dict[str, str], environ: dict[str, str] | None = None,
          **options: Any) -> ComposeConfig:
    for name, text in tree.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return load_config(tmp_path, environ=environ or {}, search_parents=False, **options)


def _service(tmp_path: Path, body: str, environ: dict[str, str] | None = None) -> ServiceConfig:
    text = "services:\n  svc:\n" + "".join(f"    {line}\n" for line in body.splitlines())
    config = _load(tmp_path, {"compose.yaml": text}, environ)
    return config.services["svc"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param("environment:\n  - A=1\n  - B=x=y\n  - EMPTY=", {"A": "1", "B": "x=y", "EMPTY": ""},
                     id="list-form"),
        pytest.param("environment:\n  A: 1\n  B: 'x y'\n  ON: true\n  OFF: false",
                     {"A": "1", "B": "x y", "ON": "true", "OFF": "false"}, id="map-form"),
        pytest.param("environment:\n  - FROM_SHELL\n  - UNSET", {"FROM_SHELL": "shell", "UNSET": None},
                     id="list-pass-through"),
        pytest.param("environment:\n  FROM_SHELL:\n  UNSET:", {"FROM_SHELL": "shell", "UNSET": None},
                     id="map-pass-through"),
        pytest.param("environment:\n  PORT: ${PORT:-5432}\n  HOST: ${HOST-db}\n  DOLLAR: $$x",
                     {"PORT": "5432", "HOST": "db", "DOLLAR": "$x"}, id="interpolated-defaults"),
        pytest.param("environment:\n  SET: ${FROM_SHELL:+yes}\n  NOT: ${UNSET:+yes}\n  RAW: $FROM_SHELL",
                     {"SET": "yes", "NOT": "", "RAW": "shell"}, id="interpolated-alternatives"),
    ],
)
def test_environment(tmp_path: Path, body: str, expected: dict[str, str | None]) -> None:
    service = _service(tmp_path, body, {"FROM_SHELL": "shell"})
    assert service.environment == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param("env_file: .env", [(".env", ".env", True)], id="string"),
        pytest.param("env_file: [.env, config/db.env]",
                     [(".env", ".env", True), ("config/db.env", "config/db.env", True)], id="list"),
        pytest.param("env_file:\n  - path: .env\n  - path: ./local.env\n    required: false",
                     [(".env", ".env", True), ("./local.env", "local.env", False)], id="long-form"),
        pytest.param("env_file: ../shared.env", [("../shared.env", "../shared.env", True)],
                     id="parent-folder"),
    ],
)
def test_env_file(tmp_path: Path, body: str, expected: list[tuple[str, str, bool]]) -> None:
    project = tmp_path / "proj"
    service = _service(project, body)
    assert service.env_files == tuple(
        EnvFileRef(path, (project / resolved).resolve(), required)
        for path, resolved, required in expected
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param("'5432'", [PortMapping(5432)], id="target-only"),
        pytest.param("'5433:5432'", [PortMapping(5432, 5433)], id="published-target"),
        pytest.param("'127.0.0.1:5433:5432'", [PortMapping(5432, 5433, "127.0.0.1")],
                     id="loopback-published-target"),
        pytest.param("'127.0.0.1::5432'", [PortMapping(5432, None, "127.0.0.1")], id="ip-random-port"),
        pytest.param("'[::1]:5433:5432'", [PortMapping(5432, 5433, "::1")], id="ipv6"),
        pytest.param("'5433:5432/udp'", [PortMapping(5432, 5433, "", "udp")], id="protocol"),
        pytest.param("'8000-8001:9000-9001'", [PortMapping(9000, 8000), PortMapping(9001, 8001)],
                     id="range"),
        pytest.param("{target: 5432, published: '5433', host_ip: 127.0.0.1}",
                     [PortMapping(5432, 5433, "127.0.0.1")], id="long-form"),
        pytest.param("{target: 5432}", [PortMapping(5432)], id="long-form-target-only"),
    ],
)
def test_ports(tmp_path: Path, spec: str, expected: list[PortMapping]) -> None:
    assert _service(tmp_path, f"ports:\n  - {spec}").ports == tuple(expected)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param("depends_on: [db, cache]", [Dependency("db"), Dependency("cache")], id="list"),
        pytest.param("depends_on:\n  db:\n    condition: service_healthy\n  migrate:\n"
                     "    condition: service_completed_successfully\n    required: false",
                     [Dependency("db", "service_healthy"),
                      Dependency("migrate", "service_completed_successfully", False)], id="map"),
    ],
)
def test_depends_on(tmp_path: Path, body: str, expected: list[Dependency]) -> None:
    assert _service(tmp_path, body).depends_on == tuple(expected)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param('healthcheck:\n  test: ["CMD", "pg_isready", "-U", "app"]\n  interval: 5s\n'
                     "  timeout: 3s\n  retries: 5\n  start_period: 10s",
                     Healthcheck(("CMD", "pg_isready", "-U", "app"), "5s", "3s", 5, "10s"),
                     id="list-test"),
        pytest.param("healthcheck:\n  test: pg_isready -U app",
                     Healthcheck(("CMD-SHELL", "pg_isready -U app")), id="string-test"),
        pytest.param("healthcheck:\n  disable: true", Healthcheck((), disabled=True), id="disabled"),
        pytest.param('healthcheck:\n  test: ["NONE"]', Healthcheck(("NONE",), disabled=True),
                     id="test-none"),
    ],
)
def test_healthcheck(tmp_path: Path, body: str, expected: Healthcheck) -> None:
    assert _service(tmp_path, body).healthcheck == expected


@pytest.mark.parametrize(
    ("body", "field", "expected"),
    [
        pytest.param("command: python src/manage.py runserver 0.0.0.0:8000", "command",
                     ("python", "src/manage.py", "runserver", "0.0.0.0:8000"), id="command-string"),
        pytest.param('command: ["sh", "-c", "python manage.py migrate && gunicorn app.wsgi"]',
                     "command", ("sh", "-c", "python manage.py migrate && gunicorn app.wsgi"),
                     id="command-list"),
        pytest.param("entrypoint: /docker-entrypoint.sh", "entrypoint", ("/docker-entrypoint.sh",),
                     id="entrypoint"),
        pytest.param("image: postgres:15-alpine", "image", "postgres:15-alpine", id="image"),
        pytest.param("build: .", "build", ".", id="build-string"),
        pytest.param("build:\n  context: ./docker\n  dockerfile: Dockerfile.dev", "build", "./docker",
                     id="build-map"),
        pytest.param("network_mode: host", "network_mode", "host", id="network-mode"),
        pytest.param("container_name: shop_db", "container_name", "shop_db", id="container-name"),
    ],
)
def test_plain_keys(tmp_path: Path, body: str, field: str, expected: object) -> None:
    assert getattr(_service(tmp_path, body), field) == expected


BASE = """\
services:
  web:
    image: app
    command: python manage.py runserver
    env_file: .env
    environment: [DEBUG=0, POSTGRES_HOST=db]
    ports: ["8000:8000"]
    depends_on: [db]
  db:
    image: postgres:15
    healthcheck: {test: pg_isready, interval: 10s}
"""
OVERRIDE = """\
services:
  web:
    command: python manage.py runserver 0.0.0.0:9000
    env_file: [.env, .env.local]
    environment: {DEBUG: "1"}
    ports: ["9000:9000"]
    depends_on: {db: {condition: service_healthy}}
  db:
    healthcheck: {retries: 3}
"""


def test_override_merges_like_compose(tmp_path: Path) -> None:
    config = _load(tmp_path, {"compose.yaml": BASE, "compose.override.yaml": OVERRIDE})
    web, db = config.services["web"], config.services["db"]
    assert web.command == ("python", "manage.py", "runserver", "0.0.0.0:9000")
    assert web.environment == {"DEBUG": "1", "POSTGRES_HOST": "db"}
    assert [ref.path for ref in web.env_files] == [".env", ".env.local"]
    assert web.ports == (PortMapping(8000, 8000), PortMapping(9000, 9000))
    assert web.depends_on == (Dependency("db", "service_healthy"),)
    assert db.healthcheck == Healthcheck(("CMD-SHELL", "pg_isready"), "10s", retries=3)


def test_f_files_merge_in_order(tmp_path: Path) -> None:
    config = _load(tmp_path, {"base.yml": BASE, "ci.yml": OVERRIDE}, files=["ci.yml", "base.yml"])
    assert config.services["web"].command == ("python", "manage.py", "runserver")
    assert config.files == (tmp_path / "ci.yml", tmp_path / "base.yml")


@pytest.mark.parametrize(
    ("compose", "given", "web", "db"),
    [
        pytest.param("web: {image: app, command: python src/manage.py runserver}\n"
                     "  db: {image: postgres:16}", None, "web", "db", id="guide-layout"),
        pytest.param("api: {image: app, entrypoint: [python, manage.py]}\n"
                     "  web: {image: nginx}\n  pg: {image: postgis/postgis:16}", None, "api", "pg",
                     id="manage-py-beats-the-name-web"),
        pytest.param("django: {build: .}\n  database: {image: mydb}", None, "django", "database",
                     id="by-names"),
        pytest.param("site: {image: app, command: gunicorn config.wsgi}\n"
                     "  store: {image: custom, environment: [POSTGRES_PASSWORD=x]}\n"
                     "  cache: {image: redis}", None, "site", "store", id="wsgi-server-and-postgres-env"),
        pytest.param("web: {image: app}\n  worker: {image: app, command: python manage.py qcluster}\n"
                     "  db: {image: postgres}", "web", "web", "db", id="given-service"),
        pytest.param("web: {image: app}\n  db: {image: postgres}", "nope", None, "db",
                     id="given-unknown"),
        pytest.param("cache: {image: redis}", None, None, None, id="neither"),
    ],
)
def test_roles(tmp_path: Path, compose: str, given: str | None, web: str | None,
               db: str | None) -> None:
    config = _load(tmp_path, {"compose.yaml": f"services:\n  {compose}\n"}, web=given)
    assert (config.web, config.db) == (web, db)


def test_unknown_given_service_is_a_finding(tmp_path: Path) -> None:
    config = _load(tmp_path, {"compose.yaml": "services:\n  web: {image: a}\n  db: {image: b}\n"},
                   web="django")
    assert [(f.kind, f.label, f.message) for f in config.findings] == [(
        "service-unknown", "compose-service-not-running",
        "no service django in the compose files (services: web, db)",
    )]


LAB_STYLE = """\
services:
  db:
    image: postgres:15
    env_file: .env
  web:
    image: app
    env_file:
      - .env
      - path: .env.local
        required: false
    environment:
      POSTGRES_HOST: db
      POSTGRES_PASSWORD: ${WEB_PASSWORD:-from-compose}
"""


def test_expected_environment_is_env_files_then_environment(tmp_path: Path) -> None:
    config = _load(tmp_path, {
        "compose.yaml": LAB_STYLE,
        ".env": "# lab\nPOSTGRES_DB=lab\nexport POSTGRES_USER='lab'\nPOSTGRES_PASSWORD=\"s3cret\"\n"
                "POSTGRES_HOST=localhost  # overridden\n",
    })
    assert config.findings == ()
    assert config.expected_env["db"] == {
        "POSTGRES_DB": "lab", "POSTGRES_USER": "lab",
        "POSTGRES_PASSWORD": env_value("POSTGRES_PASSWORD", "s3cret"), "POSTGRES_HOST": "localhost",
    }
    assert config.expected_env["web"] == {
        "POSTGRES_DB": "lab", "POSTGRES_USER": "lab", "POSTGRES_HOST": "db",
        "POSTGRES_PASSWORD": env_value("POSTGRES_PASSWORD", "from-compose"),
    }


def test_a_missing_env_file_is_one_finding_naming_its_services(tmp_path: Path) -> None:
    config = _load(tmp_path, {"compose.yaml": LAB_STYLE, ".env.example": "POSTGRES_DB=lab\n"})
    assert config.findings == (
        config.findings[0].__class__(
            "env-file-missing", "env-file-missing",
            f"env file .env of service db, web does not exist ({tmp_path / '.env'})",
            "create it: cp .env.example .env, then fill in the values", path=str(tmp_path / ".env"),
        ),
    )
    assert config.expected_env["db"] == {}


def test_an_optional_env_file_may_be_missing(tmp_path: Path) -> None:
    config = _load(tmp_path, {"compose.yaml": LAB_STYLE, ".env": "POSTGRES_DB=lab\n"})
    assert config.findings == ()
    assert not config.services["web"].env_files[1].exists


@pytest.mark.parametrize("name", ["POSTGRES_PASSWORD", "DJANGO_SECRET_KEY", "API_TOKEN", "aws_key_id",
                                  "db_password"])
def test_secret_values_never_show(tmp_path: Path, name: str) -> None:
    value = "hunter2-very-secret"
    config = _load(tmp_path, {
        "compose.yaml": f"services:\n  web:\n    image: a\n    env_file: .env\n"
                        f"    environment:\n      {name}: {value}\n",
        ".env": f"{name}={value}\n",
    })
    kept = config.services["web"].environment[name]
    assert isinstance(kept, Secret)
    assert kept == env_value(name, value) != env_value(name, "other")
    for text in (repr(config), str(config), repr(config.expected_env), str(kept)):
        assert value not in text
    assert "<secret>" in repr(config.services["web"])


@pytest.mark.parametrize("name", ["POSTGRES_DB", "POSTGRES_USER", "DEBUG", "MONKEY"])
def test_plain_values_stay_plain(name: str) -> None:
    assert env_value(name, "x") == ("x" if name != "MONKEY" else env_value("MONKEY", "x"))


def test_env_file_values_are_read_like_compose_reads_them(tmp_path: Path) -> None:
    config = _load(tmp_path, {
        "compose.yaml": "services:\n  db:\n    image: postgres\n    env_file: db.env\n",
        "db.env": "POSTGRES_USER=${LAB_USER:-lab}\nPOSTGRES_DB=${POSTGRES_USER}_db\n",
        ".env": "LAB_USER=shop\n",
    })
    assert config.expected_env["db"] == {"POSTGRES_USER": "shop", "POSTGRES_DB": "shop_db"}


def test_an_unreadable_env_file_line_is_named_without_its_value(tmp_path: Path) -> None:
    config = _load(tmp_path, {
        "compose.yaml": "services:\n  db:\n    image: postgres\n    env_file: .env\n",
        ".env": "POSTGRES_DB=lab\nPOSTGRES_PASSWORD=\"never-shown\n",
    })
    assert [(f.kind, f.label, f.message) for f in config.findings] == [(
        "env-file-invalid", "env-file-missing",
        f"env file {tmp_path / '.env'}: line 2: POSTGRES_PASSWORD: unterminated quoted value",
    )]
