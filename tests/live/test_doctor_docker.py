"""`migdoctor doctor` against a real Compose stack of the lab (Compose v2 and v1).

The container's database is migrated inside `web` up to tickets.0005 only, the local one (the
PostgreSQL of this machine) fully: the classic "applied locally, not in Docker". The engine, the
image and the CLIs come from scripts/lab/docker-up.sh; a missing part fails, never skips.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.live.cli import Result, environ, run
from tests.live.conftest import Templates
from tests.live.lab import AdminConnection, clone
from tests.live.stack import FLAVOURS, SOCKET, Stack, lab_up

pytestmark = [pytest.mark.docker, pytest.mark.postgres]


@pytest.fixture(scope="module", params=list(FLAVOURS))
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    lab_up()
    lab = Stack.create(request.param, tmp_path_factory.mktemp(f"stack-{request.param}"))
    try:
        lab.check("up", "-d")
        lab.wait_for_postgres()
        lab.check("exec", "-T", "web", "python", "src/manage.py", "migrate", "-v0")
        lab.check("exec", "-T", "web", "python", "src/manage.py", "migrate", "kb", "zero", "-v0")
        lab.check("exec", "-T", "web", "python", "src/manage.py", "migrate", "tickets", "0005",
                  "-v0")
        yield lab
    finally:
        lab.down()


def doctor(stack: Stack, local: str, *args: str) -> Result:
    env = environ(DOCKER_HOST=SOCKET, POSTGRES_DB=local, POSTGRES_PORT="5432",
                  POSTGRES_PASSWORD="")
    return run("doctor", "--json", *args, cwd=stack.root, env=env)


def checks(result: Result) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in result.json["checks"]}


def test_doctor_sees_the_running_stack_and_both_databases(
    stack: Stack, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    result = doctor(stack, clone(admin, made, templates.full))
    found = checks(result)
    assert {k: v["status"] for k, v in found.items()} == {
        "project": "ok", "manage-py": "ok", "migration-files": "ok", "migration-conflicts": "ok",
        "migration-dependencies": "ok", "migration-cycles": "ok", "compose-file": "ok",
        "env-file": "ok", "postgres-env": "ok", "docker-daemon": "ok", "db-service": "ok",
        "db-logs": "ok", "database-settings": "ok", "database:local": "ok",
        "database:docker": "ok", "privileges:local": "ok", "privileges:docker": "ok",
        "drift:local": "ok", "drift:docker": "warn",
    }, [c for c in found.values() if c["status"] != "ok"]  # fmt: skip
    assert result.code == 0
    assert found["db-service"]["message"].startswith(f"db is running ({stack.name}")
    assert found["docker-daemon"]["message"].startswith("Docker 20.10")
    assert found["drift:docker"]["message"] == "3 pending"
    assert found["drift:docker"]["hint"] == (
        f"apply them: {' '.join(('docker', 'compose'))} exec web python src/manage.py migrate")
    assert found["database:docker"]["message"].startswith(
        "PostgreSQL 15.") and f"postgres:***@127.0.0.1:{stack.port}/lab" in (
        found["database:docker"]["message"])
    assert doctor(stack, clone(admin, made, templates.full), "--fail-on", "warn").code == 1
    assert stack.password not in result.output


def test_a_stopped_db_service_and_its_database(
    stack: Stack, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    stack.check("stop", "db")
    try:
        result = doctor(stack, clone(admin, made, templates.full))
    finally:
        stack.check("start", "db")
        stack.wait_for_postgres()
    found = checks(result)
    assert result.code == 1 and result.seconds < 30
    assert (found["db-service"]["status"], found["db-service"]["playbook"]) == (
        "fail", "compose-service-not-running")
    assert found["db-service"]["message"].startswith("service db is not running:")
    assert (found["database:docker"]["status"], found["database:docker"]["playbook"]) == (
        "fail", "db-connection-refused")
    assert found["drift:docker"]["status"] == "skip"
    assert found["drift:local"]["status"] == "ok"
