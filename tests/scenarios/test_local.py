"""Scenarios on the local PostgreSQL: the lab project broken the way users break it, the real
error of the real command, `migdoctor diagnose --json` on it, then `migdoctor diagnose --fix --yes
--context local`, and proof from the database itself that it is fixed and no row was lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from tests.scenarios.lab import PYTHON, Project

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
