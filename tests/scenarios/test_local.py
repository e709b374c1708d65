"""Scenarios on the local PostgreSQL: the lab project broken the way users break it, the real
error of the real command, `migdoctor diagnose --json` on it, then `migdoctor diagnose --fix --yes
--context local`, and proof from the database itself that it is fixed and no row was lost.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from tests.scenarios.lab import PYTHON, Project, drop_database

pytestmark = pytest.mark.postgres

HISTORY = "django_migrations"


def manage(*args: str) -> list[str]:
    return [PYTHON, "src/manage.py", *args]


def pg_dump(project: Project) -> list[str]:
    return ["pg_dump", "-Fc", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-d",
            project.dbname]  # fmt: skip


def without(sums: dict[str, tuple[int, str]], *tables: str) -> dict[str, tuple[int, str]]:
    return {t: v for t, v in sums.items() if t not in tables}


# --------------------------------------------------------------------------- how users break it


def table_created_by_hand(project: Project) -> str:
    """kb was rolled back; someone re-created kb_article from `sqlmigrate` output by hand and
    filled it; then `migrate` wants to create it again."""
    project.ok("migrate", "kb", "zero", "-v0")
    project.sql(project.ok("sqlmigrate", "kb", "0001"))
    project.sql("INSERT INTO kb_article (title, body, ticket_id) SELECT 'article ' || id, "
                "'by hand ' || id, id FROM tickets_ticket WHERE id % 5 = 0")  # fmt: skip
    return project.fails("migrate")


def history_row_deleted(project: Project) -> str:
    """A row of django_migrations deleted by hand ("to run it again"): kb.0001 is now recorded
    before its dependency tickets.0006."""
    project.sql(f"DELETE FROM {HISTORY} WHERE app = 'tickets' "
                "AND name = '0006_queue_ticket_queue_and_more'")  # fmt: skip
    return project.fails("migrate")


RENAMED = ("0006_queue_ticket_queue_and_more", "0006_add_queue")


def applied_migration_renamed(project: Project) -> str:
    """The guide's advice to give an auto-named migration a descriptive name, followed for the
    file and the dependency pointing at it, but not for the database that had applied it."""
    old, new = RENAMED
    project.path(f"tickets/migrations/{old}.py").rename(project.path(f"tickets/migrations/{new}.py"))
    project.edit("kb/migrations/0001_initial.py", old, new)
    return project.fails("migrate")


@dataclass(frozen=True)
class Fixable:
    breaks: Callable[[Project], str]
    playbook: str
    entities: dict[str, str]
    option: str
    commands: Callable[[Project], list[list[str]]]
    recorded: list[tuple[str, str]]  # rows the fix adds to django_migrations, in order
    restored: dict[str, tuple[str, ...]] = field(default_factory=dict)  # columns a fix adds


def _record_dependency(dependency: str) -> Callable[[Project], list[list[str]]]:
    insert = (f"INSERT INTO django_migrations (app, name, applied) VALUES ('tickets', "
              f"'{dependency}', now());")  # fmt: skip
    return lambda p: [pg_dump(p), manage("showmigrations", "kb", "tickets"),
                      manage("sqlmigrate", "tickets", dependency), ["psql", "-c", insert],
                      manage("migrate"), manage("showmigrations", "tickets"),
                      manage("migrate", "--check")]  # fmt: skip


FIXABLE = {
    "table-created-by-hand": Fixable(
        table_created_by_hand, "duplicate-table",
        {"relation": "kb_article", "app_label": "kb", "migration": "0001_initial"},
        "fake-initial",
        lambda p: [manage("showmigrations"), manage("migrate", "--fake-initial"),
                   manage("migrate", "--check")],
        [("kb", "0001_initial"), ("kb", "0002_article_slug")],
        {"kb_article": ("slug",)},
    ),
    "history-row-deleted": Fixable(
        history_row_deleted, "inconsistent-history",
        {"app_label": "kb", "migration": "0001_initial", "dependency_app": "tickets",
         "dependency": "0006_queue_ticket_queue_and_more"},
        "record-dependency-as-applied", _record_dependency("0006_queue_ticket_queue_and_more"),
        [("tickets", "0006_queue_ticket_queue_and_more")],
    ),
    "applied-migration-renamed": Fixable(
        applied_migration_renamed, "inconsistent-history",
        {"app_label": "kb", "migration": "0001_initial", "dependency_app": "tickets",
         "dependency": "0006_add_queue"},
        "record-dependency-as-applied", _record_dependency("0006_add_queue"),
        [("tickets", "0006_add_queue")],
    ),
}


@pytest.mark.parametrize("case", FIXABLE.values(), ids=FIXABLE.keys())
def test_fixed_without_losing_a_row(project: Project, case: Fixable) -> None:
    error = case.breaks(project)
    findings = project.diagnose(error)
    assert (findings[0]["playbook"], findings[0]["entities"]) == (case.playbook, case.entities)
    rows, history = project.checksums(), project.history()

    fixed = project.fix(error)

    assert fixed.code == 0, str(fixed)
    assert (fixed.outcome["playbook"], fixed.outcome["option"]) == (case.playbook, case.option)
    assert fixed.outcome["verified"] is True
    assert fixed.commands == case.commands(project)
    assert [s["exit_code"] for s in fixed.outcome["steps"]] == [0] * len(fixed.commands)
    assert project.ok("migrate").endswith("No migrations to apply.\n")
    assert project.history() == history + case.recorded
    after = project.checksums(ignore=case.restored)
    assert without(after, HISTORY) == without(rows, HISTORY)


def column_dropped_by_hand(project: Project) -> str:
    """kb_article.slug dropped in psql; the next command that reads articles fails."""
    project.sql("ALTER TABLE kb_article DROP COLUMN slug")
    return project.fails("dumpdata", "kb")


def test_a_column_dropped_by_hand_comes_back_by_rerunning_its_migration(project: Project) -> None:
    """Chosen from the facts (the migration that adds the column is applied, the column is
    missing): fake the history back before that migration, found in the graph, then migrate
    forward; a backup is taken first."""
    error = column_dropped_by_hand(project)
    findings = project.diagnose(error)
    assert (findings[0]["playbook"], findings[0]["entities"]) == (
        "undefined-column", {"relation": "kb_article", "column": "slug"})
    rows, history = project.checksums(), project.history()

    fixed = project.fix(error)

    assert (fixed.code, fixed.outcome["option"], fixed.outcome["verified"]) == (
        0, "rerun-adding-migration", True), str(fixed)
    assert ("Facts: rerun-adding-migration fits: kb.0002_article_slug is applied but the "
            "column kb_article.slug is missing in local") in fixed.log
    assert fixed.commands == [
        pg_dump(project), manage("showmigrations", "kb"),
        manage("sqlmigrate", "kb", "0002_article_slug"),
        manage("migrate", "kb", "0001_initial", "--fake"), manage("migrate", "kb"),
        manage("showmigrations", "kb"), manage("migrate", "--check"),
        manage("dbshell", "--", "-c", 'SELECT "slug" FROM "kb_article" LIMIT 0')]  # fmt: skip
    assert fixed.outcome["backup"] is not None
    assert project.manage("dumpdata", "kb").code == 0
    assert project.ok("migrate").endswith("No migrations to apply.\n")
    moved = ("kb", "0002_article_slug")
    assert project.history() == [h for h in history if h != moved] + [moved]
    assert project.sql("SELECT DISTINCT slug FROM kb_article") == [("",)]
    after = project.checksums(ignore={"kb_article": ("slug",)})
    assert without(after, HISTORY) == without(rows, HISTORY)


def test_a_deleted_migration_others_depend_on_is_refused_with_the_manual_step(
    project: Project,
) -> None:
    """No automatic fix brings a file back: the run shows where git has it, names the manual
    step, fails its verification and changes nothing. The manual step then fixes it."""
    deleted = "src/tickets/migrations/0006_queue_ticket_queue_and_more.py"
    project.git("init", "-q", "-b", "main")
    project.git("add", ".")
    project.git("commit", "-q", "-m", "lab project")
    project.git("rm", "-q", deleted)
    project.git("commit", "-q", "-m", "remove an old migration")
    error = project.fails("migrate")
    findings = project.diagnose(error)
    assert (findings[0]["playbook"], findings[0]["entities"]) == ("node-not-found", {
        "app_label": "kb", "migration": "0001_initial", "parent_app": "tickets",
        "parent": "0006_queue_ticket_queue_and_more"})  # fmt: skip
    rows, history = project.checksums(), project.history()

    fixed = project.fix(error)

    assert (fixed.code, fixed.outcome["option"], fixed.outcome["verified"]) == (
        1, "restore-missing-migration", False), str(fixed)
    assert fixed.commands == [
        ["git", "log", "--all", "--oneline", "--name-status", "--",
         "*migrations/0006_queue_ticket_queue_and_more.py"]]  # fmt: skip
    assert [s["exit_code"] for s in fixed.outcome["steps"]] == [0]
    assert (f"D\t{deleted}\n" in fixed.log) and (f"A\t{deleted}\n" in fixed.log)
    assert ("[2/2] by hand: Restore it with git checkout COMMIT^ -- PATH (the commit that "
            "deleted it), or merge the branch that adds it") in fixed.log
    assert "stopped at step 2: it is a change to make by hand" in fixed.log
    assert (project.checksums(), project.history()) == (rows, history)
    assert not project.path("tickets/migrations/0006_queue_ticket_queue_and_more.py").exists()

    commit = project.git("log", "-1", "--format=%h", "--diff-filter=D", "--", deleted).output
    project.git("checkout", f"{commit.strip()}^", "--", deleted)
    assert project.ok("migrate").endswith("No migrations to apply.\n")
    assert (project.checksums(), project.history()) == (rows, history)


def test_a_destructive_remedy_takes_a_backup_whose_restore_command_brings_the_rows_back(
    project: Project,
) -> None:
    error = table_created_by_hand(project)
    rows, history = project.checksums(), project.history()
    assert rows["kb_article"][0] == 10

    fixed = project.fix(error, "--option", "drop-stray-table", "--allow-destructive")

    assert (fixed.code, fixed.outcome["option"], fixed.outcome["verified"]) == (
        0, "drop-stray-table", True), str(fixed)
    backup = fixed.outcome["backup"]
    assert fixed.commands == [
        pg_dump(project), ["psql", "-c", 'SELECT count(*) FROM "kb_article";'],
        ["psql", "-c", 'DROP TABLE "kb_article";'], manage("migrate"),
        manage("showmigrations", "kb"), manage("migrate", "--check")]  # fmt: skip
    assert project.sql("SELECT count(*) FROM kb_article") == [(0,)], "the rows are gone"
    assert project.applied("kb") == ["0001_initial", "0002_article_slug"]

    restore = [line.removeprefix("Restore it with: ") for line in fixed.log.splitlines()
               if line.startswith("Restore it with: ")]  # fmt: skip
    assert restore[0] == (f"pg_restore --clean --if-exists --no-owner -h 127.0.0.1 -p 5432 "
                          f"-U postgres -d {project.dbname} {backup}")  # fmt: skip
    done = project.run(shlex.split(restore[0]))
    assert done.code == 0, str(done)
    assert (project.checksums(), project.history()) == (rows, history)


def test_a_field_added_without_its_migration_gets_one_made_and_applied(project: Project) -> None:
    """A new field in models.py, `makemigrations` forgotten: the first query fails. No
    migration file creates the column, so the facts choose making one."""
    project.edit("kb/models.py", "    slug = ", "    summary = models.TextField(default='')\n    slug = ")
    error = project.fails("dumpdata", "kb")
    findings = project.diagnose(error)
    assert (findings[0]["playbook"], findings[0]["entities"]) == (
        "undefined-column", {"relation": "kb_article", "column": "summary"})
    rows = project.checksums()

    fixed = project.fix(error)

    assert (fixed.code, fixed.outcome["option"], fixed.outcome["verified"]) == (
        0, "make-and-apply-migration", True), str(fixed)
    assert "Ruled out: apply-pending-migrations: no migration file creates the column" in fixed.log
    assert project.migration_files("kb")[-1] == "0003_article_summary.py"
    assert project.applied("kb")[-1] == "0003_article_summary"
    assert project.manage("dumpdata", "kb").code == 0
    after = project.checksums(ignore={"kb_article": ("summary",)})
    assert without(after, HISTORY) == without(rows, HISTORY)


def test_a_table_dropped_by_hand_is_rebuilt_and_the_probe_proves_it(project: Project) -> None:
    """`DROP TABLE kb_article` by hand (its rows are gone already): migrate thinks all is well,
    so only the probe that found the table missing can prove the fix."""
    project.sql("DROP TABLE kb_article")
    error = project.fails("dumpdata", "kb")
    findings = project.diagnose(error)
    assert (findings[0]["playbook"], findings[0]["entities"]) == (
        "undefined-table", {"relation": "kb_article"})
    rows = project.checksums()

    fixed = project.fix(error)

    assert (fixed.code, fixed.outcome["option"], fixed.outcome["verified"]) == (
        0, "rerun-app-migrations", True), str(fixed)
    assert "the probe that proved the problem no longer finds it" in fixed.log
    assert project.sql("SELECT count(*) FROM kb_article") == [(0,)]
    assert project.ok("migrate").endswith("No migrations to apply.\n")
    after = project.checksums()
    assert without(after, HISTORY, "kb_article") == without(rows, HISTORY)


def test_a_column_added_by_hand_before_its_migration_is_faked(project: Project) -> None:
    """kb.0002 not applied yet, but someone added `slug` by hand: its migration now fails with
    DuplicateColumn; the schema already has its change, so recording it is safe."""
    project.ok("migrate", "kb", "0001", "-v0")
    project.sql("ALTER TABLE kb_article ADD COLUMN slug varchar(200) NOT NULL DEFAULT ''")
    project.sql("CREATE INDEX kb_article_slug_aea76b41 ON kb_article (slug)")
    project.sql("CREATE INDEX kb_article_slug_aea76b41_like ON kb_article (slug varchar_pattern_ops)")
    error = project.fails("migrate")
    findings = project.diagnose(error)
    assert findings[0]["playbook"] == "duplicate-column", error
    rows, history = project.checksums(), project.history()

    fixed = project.fix(error)

    assert (fixed.code, fixed.outcome["option"], fixed.outcome["verified"]) == (
        0, "fake-migration", True), str(fixed)
    assert project.history() == [*history, ("kb", "0002_article_slug")]
    assert project.ok("migrate").endswith("No migrations to apply.\n")
    assert without(project.checksums(), HISTORY) == without(rows, HISTORY)


def test_a_database_never_created_is_created_and_migrated(project: Project) -> None:
    """A new machine: `.env` names a database nobody created yet on the server."""
    fresh = f"{project.dbname}_new"
    project.env["POSTGRES_DB"] = fresh
    error = project.fails("migrate")
    findings = project.diagnose(error)
    assert (findings[0]["playbook"], findings[0]["entities"]["database"]) == ("db-missing", fresh)
    try:
        fixed = project.fix(error)

        assert (fixed.code, fixed.outcome["option"], fixed.outcome["verified"]) == (
            0, "create-database", True), str(fixed)
        assert fixed.commands[0] == ["psql", "-d", "postgres", "-c", f'CREATE DATABASE "{fresh}"']
        assert project.ok("migrate").endswith("No migrations to apply.\n")
    finally:
        drop_database(fresh)
