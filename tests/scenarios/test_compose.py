"""Scenarios under Docker Compose: the lab project as a real stack (`web` and `db`, host
network, 127.0.0.1 only), broken the way users break it, the real error of the real command,
then `migdoctor diagnose --fix --yes`, and proof from the container's database that it is
fixed and no row was lost. The engine, the image and Compose come from scripts/lab/docker-up.sh:
a missing part fails these tests, never skips them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scenarios.compose import FLAVOURS, Stack, lab_up, running_stack
from tests.scenarios.lab import PYTHON, Fixed, Project, scratch_database

pytestmark = [pytest.mark.docker, pytest.mark.postgres]

HISTORY = "django_migrations"
WEB = ["docker", "compose", "exec", "web"]


def ran(fixed: Fixed) -> list[list[str]]:
    """The commands a fix ran, `exec -T` read as `exec` (without a terminal the runner adds -T)."""
    return [[a for i, a in enumerate(argv) if not (a == "-T" and argv[i - 1] == "exec")]
            for argv in fixed.commands]  # fmt: skip


def without(sums: dict[str, tuple[int, str]], *tables: str) -> dict[str, tuple[int, str]]:
    return {t: v for t, v in sums.items() if t not in tables}


@pytest.fixture(scope="session")
def engine() -> None:
    lab_up()


@pytest.fixture
def stack(engine: None, tmp_path: Path) -> Iterator[Stack]:
    with running_stack(tmp_path) as running:
        yield running


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_a_missing_env_file_is_created_from_the_example(engine: None, tmp_path: Path,
                                                        flavour: str) -> None:  # fmt: skip
    """A fresh clone (`.env` is not committed) of a project whose volume already holds data;
    with Compose v2, and on a machine that only has v1."""
    compose = list(FLAVOURS[flavour])
    with running_stack(tmp_path, flavour=flavour) as stack:
        project = stack.project
        rows, history = project.checksums(), project.history()
        stack.check("down", "--timeout", "1")
        (project.root / ".env").unlink()
        up = stack.compose("up", "-d")
        assert up.code != 0, str(up)
        findings = project.diagnose(up.output)
        assert findings[0]["playbook"] == "env-file-missing", up.output

        fixed = project.fix(up.output, context="compose")

        assert (fixed.code, fixed.outcome["option"], fixed.outcome["verified"]) == (
            0, "create-env-from-example", True), str(fixed)
        assert ran(fixed) == [
            ["cp", "-n", ".env.example", ".env"], [*compose, "up", "-d"],
            [*compose, "config", "--quiet"],
            [*compose, "exec", "web", "printenv", "POSTGRES_DB", "POSTGRES_USER",
             "POSTGRES_HOST"]]  # fmt: skip
        assert (project.root / ".env").read_text() == (project.root / ".env.example").read_text()
        stack.wait_for_postgres()
        assert stack.manage("migrate").output.endswith("No migrations to apply.\n")
        assert (project.checksums(), project.history()) == (rows, history)


@pytest.fixture
def scram_stack(engine: None, tmp_path: Path) -> Iterator[Stack]:
    with running_stack(tmp_path, scram=True) as running:
        yield running


def test_a_wrong_password_is_refused_with_the_manual_step(scram_stack: Stack) -> None:
    """POSTGRES_PASSWORD changed in `.env` after the volume was initialised: the database keeps
    the old one. No safe automatic fix: the run compares what it may show, names the manual
    step, fails its verification and changes nothing; the manual step then fixes it."""
    stack, project = scram_stack, scram_stack.project
    rows, history = project.checksums(), project.history()
    old = project.settings["POSTGRES_PASSWORD"]
    new = "changed-in-env-7d1f"
    env_file = project.root / ".env"
    env_file.write_text(env_file.read_text().replace(old, new))
    stack.check("up", "-d", "--timeout", "1")
    stack.wait_for_postgres()
    migrate = stack.manage("migrate")
    assert 'password authentication failed for user "postgres"' in migrate.output, str(migrate)
    findings = project.diagnose(migrate.output)
    assert (findings[0]["playbook"], findings[0]["entities"].get("user")) == (
        "db-auth-failed", "postgres")

    fixed = project.fix(migrate.output, context="compose")

    assert (fixed.code, fixed.outcome["option"], fixed.outcome["verified"]) == (
        1, "compare-credentials", False), str(fixed)
    assert ran(fixed) == [
        [*WEB, "printenv", "POSTGRES_USER", "POSTGRES_DB", "POSTGRES_HOST", "POSTGRES_PORT"],
        ["docker", "compose", "exec", "db", "printenv", "POSTGRES_USER", "POSTGRES_DB"],
        ["docker", "compose", "logs", "--tail", "50", "db"],
        [*WEB, "python", "src/manage.py", "showmigrations"]]  # fmt: skip
    assert [s["exit_code"] for s in fixed.outcome["steps"]] == [0, 0, 0, 1]
    assert ("note: The db log names the failing role and why (for example `Role \"x\" does not "
            "exist` or `password does not match`). Passwords are not printed here on purpose: "
            "compare them in `.env` yourself.") in fixed.log
    assert ("the steps ran, but the verification failed: `docker compose exec web python "
            "src/manage.py showmigrations` exited with 1") in fixed.log
    assert old not in fixed.log + str(fixed.outcome) and new not in fixed.log

    # The manual step: the role gets the password .env holds (over the db container's socket).
    stack.check("exec", "-T", "db", "sh", "-c", "runuser -u postgres -- psql -h /tmp -p "
                '"$POSTGRES_PORT" -c "ALTER ROLE postgres PASSWORD \'$POSTGRES_PASSWORD\'"')
    project.server["password"] = new
    assert stack.manage("migrate").output.endswith("No migrations to apply.\n")
    assert (project.checksums(), project.history()) == (rows, history)


def test_migrate_run_locally_against_host_db_runs_inside_compose(stack: Stack) -> None:
    """New code (kb.0002) pulled; `python src/manage.py migrate` on the machine, without the
    Compose environment, uses the default host `db`, which only resolves inside Compose."""
    project = stack.project
    assert stack.manage("migrate", "kb", "0001", "-v0").code == 0
    rows, history = project.checksums(), project.history()
    local = project.run(project.without_dns([PYTHON, "src/manage.py", "migrate"]))
    assert local.code == 1 and "failed to resolve host 'db'" in local.output, str(local)
    findings = project.diagnose(local.output)
    assert (findings[0]["playbook"], findings[0]["entities"]) == (
        "db-host-unresolved", {"host": "db"})

    fixed = project.fix(local.output, dns=False)

    assert (fixed.code, fixed.outcome["option"], fixed.outcome["verified"]) == (
        0, "run-inside-compose", True), str(fixed)
    up, wait, *rest = ran(fixed)
    assert up == ["docker", "compose", "up", "-d", "db"]
    assert wait[:5] == ["docker", "compose", "exec", "db", "sh"], "waits for PostgreSQL"
    assert rest == [[*WEB, "python", "src/manage.py", "migrate"],
                    [*WEB, "python", "src/manage.py", "showmigrations"],
                    [*WEB, "python", "src/manage.py", "migrate", "--check"]]  # fmt: skip
    assert stack.manage("migrate").output.endswith("No migrations to apply.\n")
    assert project.history() == [*history, ("kb", "0002_article_slug")]
    after = project.checksums(ignore={"kb_article": ("slug",)})
    assert without(after, HISTORY) == without(rows, HISTORY)


def test_a_migration_applied_locally_but_not_in_docker_is_applied_in_the_container(
    stack: Stack, template: str,
) -> None:
    """The local database (127.0.0.1:5432, exported in the shell) has every migration; the
    container's lacks kb.0002, so the app in Docker fails where the local one works."""
    project = stack.project
    assert stack.manage("migrate", "kb", "0001", "-v0").code == 0
    with scratch_database("mdscn_local", template) as name:
        local = Project(project.root, name, project.env, project.state)
        project.env.update(POSTGRES_DB=name, POSTGRES_USER="postgres", POSTGRES_PASSWORD="",
                           POSTGRES_HOST="127.0.0.1", POSTGRES_PORT="5432")  # fmt: skip
        local_rows = local.checksums()
        assert project.ok("dumpdata", "kb", "-o", "/dev/null") == ""
        rows, history = project.checksums(), project.history()
        error = stack.compose("exec", "-T", "web", "python", "src/manage.py", "dumpdata", "kb")
        assert error.code == 1, str(error)
        findings = project.diagnose(error.output)
        assert (findings[0]["playbook"], findings[0]["entities"]) == (
            "undefined-column", {"relation": "kb_article", "column": "slug"})

        fixed = project.fix(error.output, context="compose")

        assert (fixed.code, fixed.outcome["option"], fixed.outcome["verified"]) == (
            0, "apply-pending-migrations", True), str(fixed)
        assert ran(fixed) == [[*WEB, "python", "src/manage.py", *args] for args in (
            ["showmigrations"], ["migrate"], ["migrate", "--check"])]  # fmt: skip
        assert stack.compose("exec", "-T", "web", "python", "src/manage.py", "dumpdata", "kb",
                             "-o", "/dev/null").code == 0  # fmt: skip
        assert project.history() == [*history, ("kb", "0002_article_slug")]
        after = project.checksums(ignore={"kb_article": ("slug",)})
        assert without(after, HISTORY) == without(rows, HISTORY)
        assert local.checksums() == local_rows, "the local database is not touched"


def test_a_stopped_db_service_is_started_and_the_migration_run(stack: Stack) -> None:
    """`docker compose stop db` (to free memory, or after a crash), then `migrate` in `web`:
    the connection is refused. The facts (db not running) choose starting it."""
    project = stack.project
    assert stack.manage("migrate", "kb", "0001", "-v0").code == 0
    rows, history = project.checksums(), project.history()
    stack.check("stop", "--timeout", "1", "db")
    error = stack.manage("migrate")
    assert error.code == 1 and "Connection refused" in error.output, str(error)
    findings = project.diagnose(error.output)
    assert findings[0]["playbook"] == "db-connection-refused", error.output

    fixed = project.fix(error.output, context="compose")

    assert (fixed.code, fixed.outcome["option"], fixed.outcome["verified"]) == (
        0, "start-db-service", True), str(fixed)
    assert "Facts: start-db-service fits: the db service is not running" in fixed.log
    up, wait, *rest = ran(fixed)
    assert up == ["docker", "compose", "up", "-d", "db"]
    assert wait[:5] == ["docker", "compose", "exec", "db", "sh"], "waits for PostgreSQL"
    assert rest == [["docker", "compose", "ps"], [*WEB, "python", "src/manage.py", "migrate"],
                    [*WEB, "python", "src/manage.py", "showmigrations"]]  # fmt: skip
    assert stack.manage("migrate").output.endswith("No migrations to apply.\n")
    assert project.history() == [*history, ("kb", "0002_article_slug")]
    after = project.checksums(ignore={"kb_article": ("slug",)})
    assert without(after, HISTORY) == without(rows, HISTORY)


def test_local_context_still_migrates_the_container_that_lacks_the_migration(
    stack: Stack, template: str,
) -> None:
    """As above, but the user says `--context local`: the local database has every migration,
    so migrating locally would change nothing; the facts choose migrating in the container."""
    project = stack.project
    assert stack.manage("migrate", "kb", "0001", "-v0").code == 0
    with scratch_database("mdscn_local", template) as name:
        local = Project(project.root, name, project.env, project.state)
        project.env.update(POSTGRES_DB=name, POSTGRES_USER="postgres", POSTGRES_PASSWORD="",
                           POSTGRES_HOST="127.0.0.1", POSTGRES_PORT="5432")  # fmt: skip
        local_rows = local.checksums()
        rows, history = project.checksums(), project.history()
        error = stack.compose("exec", "-T", "web", "python", "src/manage.py", "dumpdata", "kb")
        assert error.code == 1, str(error)

        fixed = project.fix(error.output, context="local")

        assert (fixed.code, fixed.outcome["option"], fixed.outcome["verified"]) == (
            0, "migrate-in-container", True), str(fixed)
        assert "Ruled out: apply-pending-migrations: kb.0002_article_slug is already applied" \
            in fixed.log
        assert ran(fixed) == [
            [PYTHON, "src/manage.py", "showmigrations"],
            [*WEB, "python", "src/manage.py", "showmigrations"],
            [*WEB, "python", "src/manage.py", "migrate"],
            [*WEB, "python", "src/manage.py", "migrate", "--check"]]  # fmt: skip
        assert project.history() == [*history, ("kb", "0002_article_slug")]
        after = project.checksums(ignore={"kb_article": ("slug",)})
        assert without(after, HISTORY) == without(rows, HISTORY)
        assert local.checksums() == local_rows, "the local database is not touched"


def test_a_stopped_web_service_is_started_and_the_migration_run_in_it(stack: Stack) -> None:
    """`docker compose exec web ...` after the web container stopped: Compose says it is not
    running. The facts (web down) choose starting it."""
    project = stack.project
    assert stack.manage("migrate", "kb", "0001", "-v0").code == 0
    rows, history = project.checksums(), project.history()
    stack.check("stop", "--timeout", "1", "web")
    error = stack.manage("migrate")
    assert error.code != 0 and "is not running" in error.output, str(error)
    findings = project.diagnose(error.output)
    assert (findings[0]["playbook"], findings[0]["entities"].get("service")) == (
        "compose-service-not-running", "web"), error.output

    fixed = project.fix(error.output, context="compose")

    assert (fixed.code, fixed.outcome["option"], fixed.outcome["verified"]) == (
        0, "start-service", True), str(fixed)
    assert "Facts: start-service fits: the web service is not running" in fixed.log
    up, wait, *rest = ran(fixed)
    assert up == ["docker", "compose", "up", "-d", "web"]
    assert wait[:5] == ["docker", "compose", "exec", "db", "sh"], "waits for PostgreSQL"
    assert rest == [["docker", "compose", "ps"], [*WEB, "python", "src/manage.py", "migrate"],
                    [*WEB, "python", "src/manage.py", "migrate", "--check"]]  # fmt: skip
    assert project.history() == [*history, ("kb", "0002_article_slug")]
    after = project.checksums(ignore={"kb_article": ("slug",)})
    assert without(after, HISTORY) == without(rows, HISTORY)
