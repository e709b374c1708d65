"""Plans: the exact argv of every step, locally and under Compose v2 and v1, and what they need."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from migdoctor.kb.loader import KnowledgeBase
from migdoctor.model import Option, Playbook, Step
from migdoctor.probes.targets import Target
from migdoctor.wizard.backup import DumpSource
from migdoctor.wizard.facts import Facts, probe_entities, production
from migdoctor.wizard.plan import Plan, build, choose_context, needed

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
PY = sys.executable
V2 = ("docker", "compose")
V1 = ("docker-compose",)
SCRIPT = ('export PGPASSWORD="${POSTGRES_PASSWORD:-}"; pg_isready -q 2>/dev/null || export '
          'PGHOST=127.0.0.1 PGPORT=55432; exec pg_dump -Fc -U "${POSTGRES_USER:-postgres}" '
          '"${POSTGRES_DB:-${POSTGRES_USER:-postgres}}"')

WAIT = ("for i in $(seq 60); do pg_isready -q -h 127.0.0.1 -p 55432 && exit 0; sleep 1; done; "
        "echo 'PostgreSQL is not ready after 60 s' >&2; exit 1")


def facts(root: Path, compose: tuple[str, ...] = V2, **changes: object) -> Facts:
    """A project in `root` with src/manage.py, as the probes would describe it."""
    (root / "src").mkdir(exist_ok=True)
    (root / "src" / "manage.py").touch()
    dumps = {"local": DumpSource("local", "shop", "127.0.0.1", 5432, "postgres", "s3cret-pw"),
             "compose": DumpSource("compose", "lab", port=55432, user="postgres",
                                   compose=compose, service="db")}  # fmt: skip
    values: dict[str, object] = {"root": root, "python": PY, "compose": compose,
                                 "services": ("web", "db"), "apps": ("tickets", "kb"),
                                 "dumps": dumps, "debug": {"local": (True, "DEBUG in .env")},
                                 "db_host": {"local": "127.0.0.1", "compose": "db"}}  # fmt: skip
    return Facts(**{**values, **changes})  # type: ignore[arg-type]


def plan_of(kb: KnowledgeBase, playbook: str, option: str, context: str, found: Facts,
            **entities: str) -> Plan:  # fmt: skip
    pb = kb.resolve(playbook)
    chosen = next(o for o in pb.options if o.id == option)
    return build(pb, chosen, entities, found, context, backup_dir=found.root / "backups",
                 reason="given with --context", now=NOW)  # fmt: skip


def argvs(plan: Plan) -> list[tuple[str, tuple[str, ...]]]:
    return [(s.context, s.argv) for s in (*plan.steps, *plan.verify) if s.runs]


def test_fake_migration_locally(knowledge: KnowledgeBase, tmp_path: Path) -> None:
    plan = plan_of(knowledge, "fake-migration", "fake-one-migration", "local", facts(tmp_path),
                   app_label="kb", migration="0002")
    manage = (PY, "src/manage.py")
    assert argvs(plan) == [
        ("local", (*manage, "showmigrations", "kb")),
        ("local", (*manage, "sqlmigrate", "kb", "0002")),
        ("local", (*manage, "migrate", "kb", "0002", "--fake")),
        ("local", (*manage, "migrate")),
        ("local", (*manage, "showmigrations", "kb")),
        ("local", (*manage, "migrate", "--check")),
    ]
    assert plan.steps[3].confirm == ("Record kb.0002 (and earlier unapplied ones) as applied "
                                     "without running their SQL?")
    assert plan.steps[2].verb == "note" and not plan.steps[2].runs
    assert all(s.env == {} for s in plan.steps), "manage.py gets no libpq environment"
    assert plan.problems == ()


@pytest.mark.parametrize(("compose", "files"), [(V2, ()), (V1, ()),
                                                (V2, ("-f", "compose.yaml", "-f", "prod.yaml")),
                                                (V1, ("-f", "compose.yaml"))],
                         ids=["v2", "v1", "v2-files", "v1-file"])  # fmt: skip
def test_fake_migration_under_compose(knowledge: KnowledgeBase, tmp_path: Path,
                                      compose: tuple[str, ...], files: tuple[str, ...]) -> None:
    base = (*compose, *files)
    plan = plan_of(knowledge, "fake-migration", "fake-one-migration", "compose",
                   facts(tmp_path, base), app_label="kb", migration="0002")
    manage = (*base, "exec", "web", "python", "src/manage.py")
    assert argvs(plan) == [
        ("compose", (*manage, "showmigrations", "kb")),
        ("compose", (*manage, "sqlmigrate", "kb", "0002")),
        ("compose", (*manage, "migrate", "kb", "0002", "--fake")),
        ("compose", (*manage, "migrate")),
        ("compose", (*manage, "showmigrations", "kb")),
        ("compose", (*manage, "migrate", "--check")),
    ]


@pytest.mark.parametrize("compose", [V2, V1], ids=["v2", "v1"])
def test_fresh_compose_volume_backs_up_from_the_db_container(
    knowledge: KnowledgeBase, tmp_path: Path, compose: tuple[str, ...]
) -> None:
    plan = plan_of(knowledge, "fresh-database", "recreate-compose-volume", "local",
                   facts(tmp_path, compose))
    manage = (*compose, "exec", "web", "python", "src/manage.py")
    assert argvs(plan) == [
        ("compose", (*compose, "exec", "-T", "db", "sh", "-c", SCRIPT)),
        ("compose", (*compose, "down", "-v")),
        ("compose", (*compose, "up", "-d")),
        ("compose", (*compose, "exec", "-T", "db", "sh", "-c", WAIT)),
        ("compose", (*compose, "ps")),
        ("compose", (*manage, "migrate")),
        ("compose", (*manage, "showmigrations")),
        ("compose", (*manage, "migrate", "--check")),
    ]
    backup = plan.steps[0]
    assert backup.stdout == tmp_path / "backups" / "lab-20260102T030405Z.dump"
    assert backup.line().endswith(f" > {tmp_path}/backups/lab-20260102T030405Z.dump")
    assert plan.database == "lab", "the backup and the typed name are the container's database"


def test_fresh_local_database_uses_libpq_environment(knowledge: KnowledgeBase,
                                                     tmp_path: Path) -> None:
    plan = plan_of(knowledge, "fresh-database", "recreate-local-database", "local",
                   facts(tmp_path), database="shop")
    manage = (PY, "src/manage.py")
    assert argvs(plan) == [
        ("local", ("pg_dump", "-Fc", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres",
                   "-d", "shop")),
        ("local", ("dropdb", "--if-exists", "shop")),
        ("local", ("createdb", "shop")),
        ("local", (*manage, "migrate")),
        ("local", (*manage, "showmigrations")),
        ("local", (*manage, "migrate", "--check")),
    ]
    assert plan.steps[0].env == {"PGPASSWORD": "s3cret-pw"}
    assert plan.steps[1].env == {"PGHOST": "127.0.0.1", "PGPORT": "5432", "PGUSER": "postgres",
                                 "PGDATABASE": "shop", "PGPASSWORD": "s3cret-pw"}
    assert "s3cret-pw" not in repr(plan) and "s3cret-pw" not in plan.steps[0].line()
    assert plan.database == "shop"


def test_a_destructive_option_without_a_backup_step_gets_one_first(tmp_path: Path) -> None:
    option = Option("drop", "Drop it", "destructive", (Step("manage", ("flush",)),),
                    (Step("manage", ("migrate", "--check")),))
    pb = Playbook("t", "howto", "T", "", "", {}, (option,))
    plan = build(pb, option, {}, facts(tmp_path), "local", backup_dir=tmp_path, now=NOW)
    assert [s.verb for s in plan.steps] == ["backup", "manage"]
    assert plan.steps[0].argv[:2] == ("pg_dump", "-Fc")
    assert plan.steps[0].stdout == tmp_path / "shop-20260102T030405Z.dump"


def test_two_backups_get_two_files(tmp_path: Path) -> None:
    steps = (Step("backup", ()), Step("manage", ("flush",)), Step("backup", ()))
    option = Option("o", "O", "caution", steps)
    pb = Playbook("t", "howto", "T", "", "", {}, (option,))
    plan = build(pb, option, {}, facts(tmp_path), "local", backup_dir=tmp_path, now=NOW)
    assert [s.stdout.name for s in plan.backups if s.stdout] == [
        "shop-20260102T030405Z-1.dump", "shop-20260102T030405Z-2.dump"]


def test_missing_entities_and_compose_cli_are_problems(knowledge: KnowledgeBase,
                                                       tmp_path: Path) -> None:
    plan = plan_of(knowledge, "fake-migration", "fake-one-migration", "compose",
                   facts(tmp_path, ()), app_label="kb")
    assert plan.problems == (
        "`docker compose exec web python src/manage.py sqlmigrate kb '{migration}'` needs "
        "migration",
        "`docker compose exec web python src/manage.py migrate kb '{migration}' --fake` needs "
        "migration",
        "a step runs through Compose, and neither `docker compose` nor `docker-compose` is "
        "installed",
    )


def test_a_missing_tool_or_manage_py_blocks_the_plan(knowledge: KnowledgeBase,
                                                     tmp_path: Path) -> None:
    found = facts(tmp_path, python=str(tmp_path / "no-such-python"))
    (tmp_path / "src" / "manage.py").unlink()
    plan = plan_of(knowledge, "undefined-column", "apply-pending-migrations", "local", found,
                   column="slug", relation="kb_article")
    assert plan.problems == (f"{tmp_path}/no-such-python can be run: not found",
                             "src/manage.py exists: not found")


def test_needed_entities_in_order(knowledge: KnowledgeBase) -> None:
    pb = knowledge.resolve("fake-migration")
    assert [needed(o) for o in pb.options] == [["app_label", "migration"], [],
                                               ["app_label", "migration"]]


def test_choose_context(tmp_path: Path) -> None:
    assert choose_context(facts(tmp_path), "local") == ("local", "given with --context")
    assert choose_context(facts(tmp_path), None) == (
        "compose", "detected: the compose files define the web service and docker compose is "
        "installed")
    assert choose_context(facts(tmp_path, V1), None)[1].endswith("docker-compose is installed")
    assert choose_context(facts(tmp_path, ()), None) == (
        "local", "detected: no Compose CLI is installed")
    assert choose_context(facts(tmp_path, services=()), None) == (
        "local", "detected: no compose file defines a web service")


@pytest.mark.parametrize(("debug", "host", "expected"), [
    ((True, "DEBUG in .env is '1'"), "127.0.0.1", ""),
    ((None, ""), "localhost", ""),
    ((None, ""), "db", ""),
    ((None, ""), "/var/run/postgresql", ""),
    ((False, "DEBUG in .env is '0'"), "127.0.0.1", "DEBUG is off: DEBUG in .env is '0'"),
    ((True, "DEBUG in .env is '1'"), "db.example.com",
     "the database host db.example.com is not this machine"),
    ((False, "DEBUG = False in config/settings.py"), "10.0.0.5",
     "DEBUG is off: DEBUG = False in config/settings.py; the database host 10.0.0.5 is not "
     "this machine"),
], ids=["dev", "unknown-debug-localhost", "compose-service", "socket", "debug-off", "remote",
        "both"])  # fmt: skip
def test_production_looking_targets(tmp_path: Path, debug: tuple[bool | None, str], host: str,
                                    expected: str) -> None:
    found = facts(tmp_path, debug={"local": debug}, db_host={"local": host})
    assert production(found, "local") == expected


def test_entities_from_the_probes(tmp_path: Path) -> None:
    target = Target("local", "127.0.0.1", 5432, "shop", "postgres", "pw")
    found = facts(tmp_path, local=target, apps=("tickets", "tickets_extra"))
    assert probe_entities(found, "local", {"relation": "tickets_extra_note"}) == {
        "service": "web", "database": "shop", "user": "postgres", "host": "127.0.0.1",
        "port": "5432", "app_label": "tickets_extra"}
    assert probe_entities(found, "compose", {"database": "given"}) == {
        "service": "web", "user": "postgres"}
