"""Scenario: two git branches each added `0007_*` to `tickets`, and were merged. The real
`migrate` stops with "Conflicting migrations detected; multiple leaf nodes"; `migdoctor diagnose
--fix` runs Django's merge, or with `--option renumber-unapplied-branch` moves the branch no
database has applied after the other one (`migdoctor edit rebase-branch`). The database proves
the result, and that no row was lost.

The helpers here make the conflict the way a team does: migration files with the model fields
they add, one branch migrated before the other arrives.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.scenarios.lab import PYTHON, Project

pytestmark = pytest.mark.postgres

BASE = "0006_queue_ticket_queue_and_more"
HISTORY = "django_migrations"
LEAVES_ERROR = ("CommandError: Conflicting migrations detected; multiple leaf nodes in the "
                "migration graph: (0007_ticket_due, 0007_ticket_priority in tickets).")  # fmt: skip
MIGRATION = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
{dependencies}
    ]

    operations = [
{operations}
    ]
"""
MODEL_ANCHOR = 'related_name="tickets"\n    )\n'


@dataclass(frozen=True)
class Field:
    """A field of tickets.Ticket one branch adds: its model line and its migration."""

    migration: str
    name: str
    definition: str  # as the model and the migration write it

    @property
    def operation(self) -> str:
        return (f'        migrations.AddField(\n            model_name="ticket",\n'
                f'            name="{self.name}",\n            field={self.definition},\n'
                "        ),")  # fmt: skip


PRIORITY = Field("0007_ticket_priority", "priority", "models.IntegerField(default=0)")
DUE = Field("0007_ticket_due", "due", "models.DateField(blank=True, null=True)")
DUE_INDEX = ("0008_ticket_due_index", '        migrations.RunSQL(\n'
             '            "CREATE INDEX ticket_due_idx ON tickets_ticket (due)",\n'
             '            "DROP INDEX ticket_due_idx",\n        ),')  # fmt: skip
ARTICLE_DUE = ("0003_article_due_view", '        migrations.RunSQL(\n'
               '            "CREATE VIEW kb_article_due AS SELECT a.id, t.due FROM kb_article a "\n'
               '            "JOIN tickets_ticket t ON t.id = a.ticket_id",\n'
               '            "DROP VIEW kb_article_due",\n        ),')  # fmt: skip


def dependency(app: str, name: str) -> str:
    return f'        ("{app}", "{name}"),'


def migration_text(dependencies: list[str], operation: str) -> str:
    return MIGRATION.format(dependencies="\n".join(dependencies), operations=operation)


def add_field(project: Project, field: Field) -> None:
    """One branch's work: the model field and the migration that adds it."""
    project.edit("tickets/models.py", MODEL_ANCHOR,
                 f"{MODEL_ANCHOR}    {field.name} = {field.definition}\n")  # fmt: skip
    project.write(f"tickets/migrations/{field.migration}.py",
                  migration_text([dependency("tickets", BASE)], field.operation))  # fmt: skip


def remove_field(project: Project, field: Field) -> None:
    """Back to a branch without it (a `git checkout` of the other branch)."""
    project.edit("tickets/models.py", f"    {field.name} = {field.definition}\n", "")
    project.path(f"tickets/migrations/{field.migration}.py").unlink()


def add_due_index(project: Project) -> None:
    """A hand-written second migration on the due branch."""
    name, operation = DUE_INDEX
    project.write(f"tickets/migrations/{name}.py",
                  migration_text([dependency("tickets", DUE.migration)], operation))  # fmt: skip


def add_article_view(project: Project) -> None:
    """A migration of kb that needs the due column: it depends on the due branch."""
    name, operation = ARTICLE_DUE
    project.write(f"kb/migrations/{name}.py", migration_text(
        [dependency("kb", "0002_article_slug"), dependency("tickets", DUE.migration)],
        operation))  # fmt: skip


def priority_applied_then_due_merged(project: Project) -> str:
    """The priority branch was merged and migrated; then the due branch, made on top of 0006
    too, is merged. `migrate` stops."""
    add_field(project, PRIORITY)
    project.ok("migrate", "-v0")
    add_field(project, DUE)
    return project.fails("migrate")


def both_merged_unapplied(project: Project) -> str:
    """Both branches merged before anyone migrated."""
    add_field(project, PRIORITY)
    add_field(project, DUE)
    return project.fails("migrate")


def both_applied(project: Project) -> str:
    """A developer migrated on each branch in turn (`git checkout`, `migrate`), then merged."""
    add_field(project, PRIORITY)
    project.ok("migrate", "-v0")
    remove_field(project, PRIORITY)
    add_field(project, DUE)
    project.ok("migrate", "-v0")
    add_field(project, PRIORITY)
    return project.fails("migrate")


def manage(*args: str) -> list[str]:
    return [PYTHON, "src/manage.py", *args]


def edit(*args: str) -> list[str]:
    return [PYTHON, "-m", "migdoctor", "edit", *args]


def without(sums: dict[str, tuple[int, str]], *tables: str) -> dict[str, tuple[int, str]]:
    return {t: v for t, v in sums.items() if t not in tables}


NEW_COLUMNS = {"tickets_ticket": ("priority", "due")}


def test_the_real_error_diagnoses_as_a_migration_conflict(project: Project) -> None:
    error = both_merged_unapplied(project)

    assert LEAVES_ERROR in error
    finding = project.diagnose(error)[0]
    assert (finding["playbook"], finding["entities"]) == ("migration-conflict", {
        "migration": "0007_ticket_due", "other_migration": "0007_ticket_priority",
        "app_label": "tickets"})  # fmt: skip


def test_the_default_fix_merges_the_branches(project: Project) -> None:
    error = both_merged_unapplied(project)
    rows, history = project.checksums(ignore=NEW_COLUMNS), project.history()

    fixed = project.fix(error)

    outcome = (fixed.code, fixed.outcome["option"], fixed.outcome["verified"])
    assert outcome == (0, "merge-migrations", True), str(fixed)
    assert fixed.commands == [
        manage("showmigrations"), manage("makemigrations", "--merge", "--noinput"),
        manage("migrate"), manage("makemigrations", "--check", "--dry-run"),
        manage("migrate", "--check")]  # fmt: skip
    merge = [n for n in project.migration_files("tickets") if n.startswith("0008_merge")]
    assert len(merge) == 1, project.migration_files("tickets")
    assert project.ok("migrate").endswith("No migrations to apply.\n")
    assert project.applied("tickets")[-1] == merge[0].removesuffix(".py")
    assert sorted(project.applied("tickets")[-3:-1]) == ["0007_ticket_due", "0007_ticket_priority"]
    assert project.history()[: len(history)] == history
    assert without(project.checksums(ignore=NEW_COLUMNS), HISTORY) == without(rows, HISTORY)


def test_the_unapplied_branch_is_renumbered_after_the_applied_one(project: Project) -> None:
    error = priority_applied_then_due_merged(project)
    rows, history = project.checksums(ignore=NEW_COLUMNS), project.history()
    assert history[-1] == ("tickets", PRIORITY.migration)

    fixed = project.fix(error, "--option", "renumber-unapplied-branch")

    assert (fixed.code, fixed.outcome["verified"]) == (0, True), str(fixed)
    assert fixed.commands == [
        manage("showmigrations", "tickets"), edit("rebase-branch", "tickets"),
        manage("migrate"), manage("makemigrations", "--check", "--dry-run"),
        manage("migrate", "--check")]  # fmt: skip
    assert (
        "rename src/tickets/migrations/0007_ticket_due.py -> "
        "src/tickets/migrations/0008_ticket_due.py"
    ) in fixed.log
    assert project.migration_files("tickets")[-2:] == ["0007_ticket_priority.py",
                                                       "0008_ticket_due.py"]  # fmt: skip
    assert project.history() == [*history, ("tickets", "0008_ticket_due")]
    assert project.ok("migrate").endswith("No migrations to apply.\n")
    assert without(project.checksums(ignore=NEW_COLUMNS), HISTORY) == without(rows, HISTORY)
    assert project.sql("SELECT count(*) FROM tickets_ticket WHERE due IS NULL") == [(50,)]


def test_a_chain_and_another_apps_dependency_move_with_the_branch(project: Project) -> None:
    add_field(project, PRIORITY)
    project.ok("migrate", "-v0")
    add_field(project, DUE)
    add_due_index(project)
    add_article_view(project)
    error = project.fails("migrate")
    rows, history = project.checksums(ignore=NEW_COLUMNS), project.history()

    fixed = project.fix(error, "--option", "renumber-unapplied-branch")

    assert (fixed.code, fixed.outcome["verified"]) == (0, True), str(fixed)
    assert project.migration_files("tickets")[-3:] == [
        "0007_ticket_priority.py",
        "0008_ticket_due.py",
        "0009_ticket_due_index.py",
    ]
    view = project.path("kb/migrations/0003_article_due_view.py").read_text()
    assert '("tickets", "0008_ticket_due"),' in view
    assert project.history()[: len(history)] == history
    assert sorted(project.history()[len(history):]) == [
        ("kb", "0003_article_due_view"), ("tickets", "0008_ticket_due"),
        ("tickets", "0009_ticket_due_index")]  # fmt: skip
    assert project.sql("SELECT count(*) FROM pg_indexes WHERE indexname = 'ticket_due_idx'") == [
        (1,)
    ]
    assert project.sql("SELECT count(*) FROM kb_article_due") == [(10,)]
    assert project.ok("migrate").endswith("No migrations to apply.\n")
    assert without(project.checksums(ignore=NEW_COLUMNS), HISTORY) == without(rows, HISTORY)


def test_branches_both_applied_are_refused_and_left_as_they_are(project: Project) -> None:
    error = both_applied(project)
    files = {n: project.path(f"tickets/migrations/{n}").read_bytes()
             for n in project.migration_files("tickets")}  # fmt: skip
    rows, history = project.checksums(), project.history()

    fixed = project.fix(error, "--option", "renumber-unapplied-branch")

    assert (fixed.code, fixed.outcome["verified"]) == (1, False), str(fixed)
    assert (
        "migdoctor: error: both branches of tickets are applied (0007_ticket_due in local, "
        "docker; 0007_ticket_priority in local, docker): neither can be renumbered (merge "
        "them: python manage.py makemigrations --merge tickets)"
    ) in fixed.log
    assert [s["exit_code"] for s in fixed.outcome["steps"]][:2] == [0, 1]
    assert {n: project.path(f"tickets/migrations/{n}").read_bytes()
            for n in project.migration_files("tickets")} == files  # fmt: skip
    assert (project.checksums(), project.history()) == (rows, history)
