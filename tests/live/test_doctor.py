"""`migdoctor doctor` on copies of the lab project, real databases, and a Docker socket that
is not there (the Docker engine's own checks are in test_doctor_docker.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from psycopg import sql

from tests.live.cli import NO_DOCKER, Result, closed_port, environ, run
from tests.live.conftest import Templates
from tests.live.lab import AdminConnection, clone, copy_project, lab_env, unique, url

pytestmark = pytest.mark.postgres

FILE_CHECKS = ["project", "manage-py", "migration-files", "migration-conflicts",
               "migration-dependencies", "migration-cycles"]  # fmt: skip
DOCKER_CHECKS = ["compose-file", "env-file", "postgres-env", "docker-daemon", "db-service",
                 "db-logs"]  # fmt: skip


def statuses(result: Result) -> dict[str, str]:
    return {c["id"]: c["status"] for c in result.json["checks"]}


def check(result: Result, id: str) -> dict[str, Any]:
    return next(c for c in result.json["checks"] if c["id"] == id)


def with_env(project: Path, dbname: str) -> Path:
    (project / ".env").write_text("".join(f"{k}={v}\n" for k, v in lab_env(dbname).items()))
    return project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


def test_a_healthy_project_without_compose_passes_every_check(
    project: Path, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    (project / "compose.yaml").unlink()
    with_env(project, clone(admin, made, templates.full))
    result = run("doctor", "--json", cwd=project)
    assert result.code == 0, result.output
    assert result.json["findings"] == []
    assert statuses(result) == {
        **dict.fromkeys(FILE_CHECKS, "ok"), **dict.fromkeys(DOCKER_CHECKS, "skip"),
        "database-settings": "ok", "database:local": "ok", "privileges:local": "ok",
        "drift:local": "ok",
    }  # fmt: skip
    assert check(result, "drift:local") == {
        "id": "drift:local", "status": "ok", "playbook": None, "hint": "",
        "message": "all 8 migration files applied, the schema matches them"}
    assert check(result, "compose-file")["message"] == "no compose file: Docker not used"


def test_the_checklist_in_text(
    project: Path, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    with_env(project, clone(admin, made, templates.full))
    result = run("doctor", cwd=project)
    assert result.code == 1, result.output  # the Docker daemon is not there
    lines = result.stdout.splitlines()
    assert lines[0] == f"Doctor summary for {project} (details: migdoctor doctor --verbose)"
    assert lines[1:11] == [
        f"[✓] Django project: {project}",
        "[✓] manage.py: src/manage.py",
        "[✓] Migration files: 8 migrations in 2 apps (kb, tickets) parse",
        "[✓] Conflicting migrations: one leaf per app, no duplicate numbers",
        "[✓] Migration dependencies: every dependency names a migration that exists",
        "[✓] Dependency cycles: no dependency cycle",
        "[✓] Compose file: compose.yaml (web: web, db: db)",
        "[✓] .env loaded: .env loaded by db, web (env_file)",
        "[✓] POSTGRES_* variables: web and db agree on POSTGRES_DB, POSTGRES_USER, "
        "POSTGRES_PASSWORD",
        f"[✗] Docker daemon: the Docker daemon at {NO_DOCKER} cannot be reached: no socket at "
        "/nonexistent/migdoctor-test-docker.sock",
    ]
    assert lines[12:14] == ["[-] db service: the Docker daemon cannot be reached",
                            "[-] db log: the Docker daemon cannot be reached"]
    assert lines[-1] == "✗ 16/19 checks passed (1 failed, 2 skipped)"


def test_drift_of_both_databases_with_remedies_in_both_forms(
    project: Path, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    """The local database misses a row (safe to fake); the container's lacks three migrations.
    Found as migdoctor finds them: the shell's POSTGRES_DB for local, .env for the db service."""
    local = clone(admin, made, templates.full,
                  "DELETE FROM django_migrations WHERE app = 'kb' AND name = '0002_article_slug'")
    docker = clone(admin, made, templates.partial)
    with_env(project, docker)
    result = run("doctor", "--json", cwd=project, env=environ(POSTGRES_DB=local))
    assert result.code == 1
    assert check(result, "drift:local") == {
        "id": "drift:local", "status": "fail", "message": "1 fake-candidate",
        "hint": "fake it: python src/manage.py migrate kb 0002_article_slug --fake",
        "playbook": "duplicate-column"}
    assert check(result, "drift:docker") == {
        "id": "drift:docker", "status": "warn", "message": "3 pending",
        "hint": "apply them: docker compose exec web python src/manage.py migrate",
        "playbook": "local-vs-docker-database"}
    findings = [(f["playbook"], f["entities"], f["evidence"][0]["text"])
                for f in result.json["findings"]]
    assert findings[0][:2] == ("docker-daemon-unreachable", {})
    assert findings[1:] == [
        ("duplicate-column", {"app_label": "kb", "migration": "0002_article_slug",
                              "relation": "kb_article", "column": "slug"},
         "kb.0002_article_slug is not applied on local, but every change it makes is already "
         "there: safe to fake (migrate kb 0002_article_slug --fake)"),
        ("local-vs-docker-database", {"app_label": "kb"},
         "kb.0001_initial is not applied on docker, but is on local: migrate this database the "
         "way the other one was migrated"),
        ("undefined-column", {"app_label": "kb", "migration": "0002_article_slug",
                              "relation": "kb_article", "column": "slug"},
         "kb.0002_article_slug is not applied on docker: run migrate"),
        ("local-vs-docker-database", {"app_label": "tickets"},
         "tickets.0006_queue_ticket_queue_and_more is not applied on docker, but is on local: "
         "migrate this database the way the other one was migrated"),
    ]
    fake = result.json["findings"][1]["options"][0]
    assert fake["id"] == "fake-migration"
    assert ["python", "src/manage.py", "migrate", "kb", "0002_article_slug", "--fake"] in [
        s["local"] for s in fake["steps"]]


def test_an_unreachable_database_fails_its_check_within_the_timeout(
    project: Path, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    local = clone(admin, made, templates.full)
    port = closed_port()
    result = run("doctor", "--json", "--database", f"local={url(local)}", "--database",
                 f"docker=postgresql://postgres:pw-31x@127.0.0.1:{port}/lab", cwd=project)
    assert result.code == 1 and result.seconds < 15
    reach = check(result, "database:docker")
    assert (reach["status"], reach["playbook"]) == ("fail", "db-connection-refused")
    assert reach["message"].startswith(
        f"docker (postgresql://postgres:***@127.0.0.1:{port}/lab): connection failed:")
    assert reach["hint"] == (f"is PostgreSQL running and listening on 127.0.0.1:{port}? For the "
                             "Compose db service: docker compose ps db; docker compose logs db")
    assert statuses(result)["privileges:docker"] == "skip"
    assert statuses(result)["drift:docker"] == "skip"
    assert statuses(result)["drift:local"] == "ok"
    refused = [f for f in result.json["findings"] if f["playbook"] == "db-connection-refused"]
    assert refused[0]["entities"] == {"host": "127.0.0.1", "port": str(port)}
    assert "pw-31x" not in result.output


def test_no_project_here_is_a_failed_check(tmp_path: Path) -> None:
    result = run("doctor", "--json", cwd=tmp_path)
    assert result.code == 1
    assert result.json == {"checks": [{
        "id": "project", "status": "fail", "playbook": None,
        "message": f"no Django project found in {tmp_path} or its parents (looked for "
                   "manage.py, src/manage.py and a compose file)",
        "hint": "run migdoctor inside the project, or pass --project DIR"}], "findings": []}


BROKEN_FILES = {
    "bad-migration-file": ("migration-files", "0003_broken.py", "this is not python(\n"),
    "migration-conflict": ("migration-conflicts", "0003_other.py",
                           "from django.db import migrations\n\n\n"
                           "class Migration(migrations.Migration):\n"
                           "    dependencies = [('kb', '0001_initial')]\n"
                           "    operations = []\n"),
    "node-not-found": ("migration-dependencies", "0003_orphan.py",
                       "from django.db import migrations\n\n\n"
                       "class Migration(migrations.Migration):\n"
                       "    dependencies = [('kb', '0002_article_slug'), ('kb', '0009_gone')]\n"
                       "    operations = []\n"),
}


@pytest.mark.parametrize("label", list(BROKEN_FILES))
def test_broken_migration_files(label: str, project: Path) -> None:
    id, name, source = BROKEN_FILES[label]
    (project / "src" / "kb" / "migrations" / name).write_text(source)
    result = run("doctor", "--json", "--database", "local=postgresql://x@127.0.0.1:1/x",
                 cwd=project)
    assert (check(result, id)["status"], check(result, id)["playbook"]) == ("fail", label)
    assert [c for c, s in statuses(result).items() if c in FILE_CHECKS and s != "ok"] == [id]
    finding = next(f for f in result.json["findings"] if f["playbook"] == label)
    assert finding["entities"]["app_label"] == "kb"


def test_a_dependency_cycle(project: Path) -> None:
    first = project / "src" / "kb" / "migrations" / "0001_initial.py"
    first.write_text(first.read_text().replace(
        '("tickets", "0006_queue_ticket_queue_and_more"),',
        '("tickets", "0006_queue_ticket_queue_and_more"), ("kb", "0002_article_slug"),'))
    result = run("doctor", "--json", cwd=project)
    assert check(result, "migration-cycles")["status"] == "fail"
    assert check(result, "migration-cycles")["message"] == (
        "Circular dependency: kb.0001_initial, kb.0002_article_slug")


def test_a_missing_env_file_and_disagreeing_postgres_variables(project: Path) -> None:
    result = run("doctor", "--json", cwd=project)
    env = check(result, "env-file")
    assert (env["status"], env["playbook"]) == ("fail", "env-file-missing")
    assert env["message"] == f"env file .env of service db, web does not exist ({project}/.env)"
    assert env["hint"] == "create it: cp .env.example .env, then fill in the values"
    (project / ".env").write_text((project / ".env.example").read_text())
    (project / "compose.override.yaml").write_text(
        "services:\n  web:\n    environment:\n      POSTGRES_DB: other\n")
    result = run("doctor", "--json", cwd=project)
    assert check(result, "env-file")["status"] == "ok"
    pg = check(result, "postgres-env")
    assert (pg["status"], pg["playbook"]) == ("fail", "db-missing")
    assert pg["message"] == ("POSTGRES_DB differs between services web and db: web has 'other', "
                             "db has 'lab'")


def test_a_role_that_may_not_create_in_public_nor_read_the_history(
    project: Path, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    db, role = clone(admin, made, templates.full), unique("mdlive_role")
    admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        result = run("doctor", "--json", "--verbose", "--database",
                     f"app=postgresql://{role}@127.0.0.1:5432/{db}", cwd=project)
    finally:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(db)))
        made.remove(db)
        admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    privileges = check(result, "privileges:app")
    assert (privileges["status"], privileges["playbook"]) == ("fail", "schema-permission-denied")
    assert privileges["message"] == (f"app: user {role} may not create tables in schema public of "
                                     f"{db} (owned by postgres): migrate will fail")
    assert check(result, "drift:app")["status"] == "skip"
    denied = [f for f in result.json["findings"] if f["playbook"] == "schema-permission-denied"]
    assert [f["entities"] for f in denied] == [{"schema": "public", "database": db,
                                                "user": role}] * 2


def test_verbose_lists_the_details(
    project: Path, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    (project / "compose.yaml").unlink()
    db = clone(admin, made, templates.full, "ALTER TABLE tickets_ticket DROP COLUMN status")
    with_env(project, db)
    result = run("doctor", "--verbose", cwd=project)
    assert result.code == 1
    assert ("[✗] Drift local: 1 missing\n"
            "    ✗ re-create the column tickets_ticket.status: re-run tickets.0002_ticket_status, "
            "or restore it from a backup  (migdoctor docs undefined-column)\n"
            "    • tickets.0002_ticket_status is applied on local, but the column "
            "tickets_ticket.status it creates is missing (dropped by hand, faked, or an older "
            "dump restored): queries and later migrations fail with UndefinedColumn\n"
            ) in result.stdout
    assert f"    • local: postgresql://postgres@127.0.0.1:5432/{db} (POSTGRES_* in .env)" in (
        result.stdout)
    assert result.stdout.endswith("\n✗ 9/16 checks passed (1 failed, 6 skipped)\n")
    quiet = run("doctor", "--fail-on", "warn", cwd=project)
    assert quiet.code == 1 and "• local:" not in quiet.stdout
