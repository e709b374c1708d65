"""The live Compose probe against real stacks of the lab project, with Compose v2 and v1.

One stack per flavour serves every test of the module (the db-stopping test runs last). The
engine, the image and both CLIs come from scripts/lab/docker-up.sh: a missing part fails these
tests, it never skips them. Containers use the host network and 127.0.0.1 only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest

from migdoctor.kb.loader import KnowledgeBase
from migdoctor.probes import ProbeFinding
from migdoctor.probes.compose import ComposeReport, open_client, probe
from migdoctor.probes.compose_config import Secret, container_name, env_value, load_config
from migdoctor.probes.compose_env import EnvIssue
from tests.probes_compose.lab import FLAVOURS, LabStack, compose_environ

if TYPE_CHECKING:
    from docker import DockerClient

pytestmark = pytest.mark.docker

WRONG_PASSWORD = "wrong-pw-7f3a9c"
WRONG_PASSWORD_OVERRIDE = """\
services:
  web:
    environment:
      POSTGRES_PASSWORD: wrong-pw-7f3a9c
"""


@pytest.fixture(scope="module", params=list(FLAVOURS))
def stack(
    request: pytest.FixtureRequest, lab_engine: DockerClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LabStack]:
    lab = LabStack.create(request.param, tmp_path_factory.mktemp(f"stack-{request.param}"))
    try:
        lab.check("up", "-d", timeout=300)
        lab.wait_for_postgres()
        yield lab
    finally:
        lab.down()


def _probe(stack: LabStack, knowledge: KnowledgeBase, *files: str) -> ComposeReport:
    environ = compose_environ()
    config = load_config(stack.root, files=files, project_name=stack.project, environ=environ)
    client, status = open_client(environ)
    try:
        return probe(config, client, status, knowledge)
    finally:
        if client is not None:
            client.close()


def _assert_no_secret(stack: LabStack, report: ComposeReport) -> None:
    texts = [repr(report), *(f.message + f.hint for f in report.findings)]
    for secret in (stack.password, WRONG_PASSWORD):
        assert not any(secret in text for text in texts)


def test_both_services_run_and_received_the_env_file(
    stack: LabStack, knowledge: KnowledgeBase, lab_engine: DockerClient
) -> None:
    report = _probe(stack, knowledge)
    assert report.daemon.reachable and report.project == stack.project
    by_service = {s.service: s for s in report.containers}
    assert {name: s.name for name, s in by_service.items()} == {
        service: container_name(stack.project, service, 1, flavour=stack.flavour)
        for service in ("db", "web")
    }
    for state in by_service.values():
        assert (state.state, state.health, state.restart_count, state.exit_code) == (
            "running", None, 0, None)
        assert state.compose_version.startswith("2." if stack.flavour == "v2" else "1.")
        labels = lab_engine.containers.get(state.id).labels
        assert labels["com.docker.compose.project"] == stack.project
        assert labels["com.docker.compose.service"] == state.service
        env = state.environment
        assert (env["POSTGRES_DB"], env["POSTGRES_USER"], env["POSTGRES_PORT"]) == (
            "lab", "postgres", str(stack.port))
        assert env["POSTGRES_PASSWORD"] == env_value("POSTGRES_PASSWORD", stack.password)
        assert isinstance(env["POSTGRES_PASSWORD"], Secret)
    assert report.env_issues == ()
    assert report.findings == ()
    assert [(d.service, d.container, d.findings) for d in report.logs] == [
        ("db", by_service["db"].name, ()), ("web", by_service["web"].name, ())]
    _assert_no_secret(stack, report)


def test_an_error_in_the_db_log_is_found_through_the_matcher(
    stack: LabStack, knowledge: KnowledgeBase
) -> None:
    missing = f"nope_{uuid.uuid4().hex[:8]}"
    with pytest.raises(psycopg.OperationalError, match=f'database "{missing}" does not exist'):
        stack.connect(dbname=missing)
    report = _probe(stack, knowledge)
    (db_log,) = [d for d in report.logs if d.service == "db"]
    assert [(f.playbook.id, f.entities.get("database")) for f in db_log.findings] == [
        ("db-missing", missing)]
    (finding,) = [f for f in report.findings if f.kind == "log"]
    assert finding.label == "db-missing"
    assert finding.message.startswith(
        f"log of service db ({db_log.container}): The database named in the settings does not exist")
    assert finding.message.endswith(f'FATAL:  database "{missing}" does not exist')
    assert finding.hint == "migdoctor docs db-missing"


def test_a_wrong_password_in_web_is_reported_without_its_value(
    stack: LabStack, knowledge: KnowledgeBase
) -> None:
    (stack.root / "wrong-password.yaml").write_text(WRONG_PASSWORD_OVERRIDE)
    files = ("compose.yaml", "wrong-password.yaml")
    try:
        stack.check("-f", files[0], "-f", files[1], "up", "-d", "--no-deps", "--timeout", "1", "web")
        report = _probe(stack, knowledge, *files)
        assert report.env_issues == (EnvIssue(
            "web", "POSTGRES_PASSWORD", "differs", "db", "the values differ (not shown: a secret)"),)
        assert [f for f in report.findings if f.kind != "log"] == [ProbeFinding(
            "postgres-env-mismatch", "db-auth-failed",
            "POSTGRES_PASSWORD differs between services web and db: the values differ "
            "(not shown: a secret)",
            "give both services the same POSTGRES_PASSWORD (one env file for both), then "
            "`docker compose up -d`; the database keeps the credentials it was created with",
        )]
        _assert_no_secret(stack, report)
        # Read against compose.yaml alone, the web container is also stale against its file.
        stale = _probe(stack, knowledge)
        assert [(f.kind, f.label, f.message) for f in stale.findings if f.kind == "env-differs"] == [(
            "env-differs", "env-file-missing",
            "the container of service web has another value for POSTGRES_PASSWORD from the "
            "compose file (the values differ (not shown: a secret))",
        )]
        _assert_no_secret(stack, stale)
    finally:
        stack.check("up", "-d", "--no-deps", "--timeout", "1", "web")
    assert _probe(stack, knowledge).env_issues == ()


def test_a_stopped_db_is_a_service_not_running(stack: LabStack, knowledge: KnowledgeBase) -> None:
    stack.check("stop", "db")
    try:
        report = _probe(stack, knowledge)
        db = next(s for s in report.containers if s.service == "db")
        assert (db.state, db.exit_code is not None) == ("exited", True)
        not_running = [f for f in report.findings if f.label == "compose-service-not-running"]
        assert not_running == [ProbeFinding(
            "compose-service-not-running", "compose-service-not-running",
            f"service db is not running: {db.name} is exited, exit code {db.exit_code}",
            "start it: docker compose up -d db; see why it stopped: docker compose logs db",
        )]
    finally:
        stack.check("start", "db")


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_a_missing_env_file_is_found_statically_and_in_compose_s_own_error(
    flavour: str, lab_engine: DockerClient, knowledge: KnowledgeBase, tmp_path: Path
) -> None:
    from migdoctor.match.diagnose import diagnose_text
    from tests.probes_compose.lab import copy_project, explain, run

    root = copy_project(tmp_path / "project", port=55432, password="unused", with_env=False)
    config = load_config(root, environ=compose_environ())
    assert config.findings == (ProbeFinding(
        "env-file-missing", "env-file-missing",
        f"env file .env of service db, web does not exist ({root / '.env'})",
        "create it: cp .env.example .env, then fill in the values", path=str(root / ".env"),
    ),)
    proc = run([*FLAVOURS[flavour], "-p", f"mdcp-noenv-{flavour}", "config"], root, timeout=60)
    assert proc.returncode != 0, explain(proc)
    found = diagnose_text(proc.stderr, knowledge)
    assert [f.playbook.id for f in found][:1] == ["env-file-missing"], explain(proc)


def test_a_project_that_is_not_up(lab_engine: DockerClient, knowledge: KnowledgeBase,
                                  tmp_path: Path) -> None:
    from tests.probes_compose.lab import copy_project

    root = copy_project(tmp_path / "project", port=55432, password="unused")
    project = f"mdcp-none-{uuid.uuid4().hex[:8]}"
    config = load_config(root, project_name=project, environ=compose_environ())
    client, status = open_client(compose_environ())
    report = probe(config, client, status, knowledge)
    assert report.containers == ()
    assert report.findings == (ProbeFinding(
        "compose-service-not-running", "compose-service-not-running",
        f"no container of project {project} exists: the stack is not up (or runs under another "
        "project name)", "start it: docker compose up -d",
    ),)
