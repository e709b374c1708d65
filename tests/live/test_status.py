"""`migdoctor status` on the lab project and real databases: exact JSON, table, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live.cli import closed_port, environ, run
from tests.live.conftest import Templates
from tests.live.lab import AdminConnection, clone, copy_project, lab_env, url

pytestmark = pytest.mark.postgres

TICKETS = ["0001_initial", "0002_ticket_status", "0003_rename_description_ticket_body",
           "0004_alter_ticket_title_max_length", "0005_lowercase_status",
           "0006_queue_ticket_queue_and_more"]  # fmt: skip
KB = ["0001_initial", "0002_article_slug"]


def drift(kind: str, target: str, app: str | None, migration: str | None, relation: str | None,
          column: str | None, playbook: str) -> dict[str, str | None]:
    return {"kind": kind, "target": target, "app_label": app, "migration": migration,
            "relation": relation, "column": column, "playbook": playbook}  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


def test_local_and_docker_side_by_side_exact_json(
    project: Path, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    local, docker = clone(admin, made, templates.full), clone(admin, made, templates.partial)
    result = run("status", "--json", "--database", f"local={url(local)}",
                 "--database", f"docker={url(docker)}", cwd=project)
    assert result.code == 0, result.output  # pending migrations are warnings
    assert result.json == {
        "targets": ["local", "docker"],
        "apps": {
            "kb": {"files": KB, "applied": {"local": KB, "docker": []}},
            "tickets": {"files": TICKETS, "applied": {"local": TICKETS, "docker": TICKETS[:5]}},
        },
        "drift": [
            drift("pending", "docker", "kb", "0001_initial", "kb_article", None,
                  "local-vs-docker-database"),
            drift("pending", "docker", "kb", "0002_article_slug", "kb_article", "slug",
                  "local-vs-docker-database"),
            drift("pending", "docker", "tickets", TICKETS[5], "tickets_queue", None,
                  "local-vs-docker-database"),
        ],
    }
    strict = run("status", "--json", "--fail-on", "warn", "--database", f"local={url(local)}",
                 "--database", f"docker={url(docker)}", cwd=project)
    assert strict.code == 1 and strict.json == result.json


def test_the_table_shows_files_and_both_databases(
    project: Path, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    local = clone(admin, made, templates.full,
                  "DELETE FROM django_migrations WHERE app = 'kb' AND name = '0002_article_slug'")
    docker = clone(admin, made, templates.partial)
    result = run("status", "--database", f"local={url(local)}", "--database",
                 f"docker={url(docker)}", cwd=project)
    assert result.code == 1, result.output
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert lines[:4] == [
        "kb",
        "migration file local docker drift",
        "0001_initial ✓ ✓ · pending (docker)",
        "0002_article_slug ✓ · · fake-candidate (local), pending (docker)",
    ]
    assert "0006_queue_ticket_queue_and_more ✓ ✓ · pending (docker)" in lines
    assert ("✗ kb.0002_article_slug is not applied on local, but every change it makes is "
            "already there: safe to fake (migrate kb 0002_article_slug --fake)") in lines


def test_targets_found_from_env_and_the_compose_db_service(
    project: Path, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    """`.env` names the container's database; the shell's POSTGRES_DB wins for local runs."""
    local, docker = clone(admin, made, templates.full), clone(admin, made, templates.partial)
    (project / ".env").write_text("".join(f"{k}={v}\n" for k, v in lab_env(docker).items()))
    result = run("status", "--json", cwd=project / "src", env=environ(POSTGRES_DB=local))
    assert result.code == 0, result.output
    assert result.json["targets"] == ["local", "docker"]
    assert result.json["apps"]["kb"]["applied"] == {"local": KB, "docker": []}


def test_an_unreachable_database_is_a_drift_item_and_exit_1(
    project: Path, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    local = clone(admin, made, templates.full)
    dead = f"postgresql://postgres:pw-9f2c@127.0.0.1:{closed_port()}/nowhere"
    result = run("status", "--json", "--database", f"local={url(local)}",
                 "--database", f"docker={dead}", cwd=project)
    assert result.code == 1 and result.seconds < 15
    assert result.json["drift"] == [
        drift("unreachable", "docker", None, None, None, None, "db-connection-refused")]
    assert result.json["apps"]["kb"]["applied"] == {"local": KB, "docker": []}
    assert "pw-9f2c" not in result.output


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(("--fail-on", "error"), "--fail-on error: expected warn or fail", id="fail-on"),
    pytest.param(("--database", "nourl"), "--database expects NAME=URL", id="database-spec"),
    pytest.param(("--database-url", "mysql://x@h/db"), "not a PostgreSQL URL", id="scheme"),
    pytest.param(("--project", "/nonexistent/folder"), "not a directory", id="project"),
    pytest.param(("--manage", "nope/manage.py"), "--manage nope/manage.py: no such file",
                 id="manage"),
])  # fmt: skip
def test_usage_errors_exit_2(project: Path, args: tuple[str, ...], message: str) -> None:
    result = run("status", *args, cwd=project)
    assert result.code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_a_clean_database_and_no_database_at_all(
    project: Path, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    clean = run("status", "--database-url", url(clone(admin, made, templates.full)), cwd=project)
    assert clean.code == 0
    assert clean.stdout.splitlines()[-1] == (
        "✓ every migration file is applied in cli, and the schema matches")
    (project / "compose.yaml").unlink()
    alone = run("status", "--json", cwd=project)
    assert alone.code == 0
    assert alone.json == {"targets": [], "apps": {
        "kb": {"files": KB, "applied": {}}, "tickets": {"files": TICKETS, "applied": {}}},
        "drift": []}  # fmt: skip
    assert run("status", cwd=project).stdout.splitlines()[-1] == (
        "! no database to compare with: set POSTGRES_* (or DATABASE_URL) in .env, or pass "
        "--database-url URL")
