"""Rolling back across an irreversible RunPython, on the local PostgreSQL.

The lab's `tickets.0005_lowercase_status` is a data migration written the way users write one:
`RunPython(lowercase_status)` without `reverse_code`. `migrate tickets 0004` unapplies kb (which
depends on tickets.0006) and tickets.0006, then stops there with the real IrreversibleError.
migdoctor previews that before anything runs, refuses a rollback that would stop half-way, and
does not claim a fix it cannot make: the remedy starts with a change only a person can make.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.scenarios.lab import Project

pytestmark = pytest.mark.postgres

MIGRATION = "tickets/migrations/0005_lowercase_status.py"
IRREVERSIBLE_CALL = "migrations.RunPython(lowercase_status),"
REVERSIBLE_CALL = "migrations.RunPython(lowercase_status, reverse_code=migrations.RunPython.noop),"
TARGET = "0004_alter_ticket_title_max_length"
BEFORE_STOP = ["kb.0002_article_slug", "kb.0001_initial",
               "tickets.0006_queue_ticket_queue_and_more"]  # fmt: skip
STOP = "tickets.0005_lowercase_status"


def planned_rollback(project: Project, *args: str) -> tuple[int, dict[str, Any], str]:
    """`migdoctor fix rollback-migrations --option rollback-to-migration ... --yes --dry-run`
    back to tickets.0004: exit code, the JSON outcome, the plan text."""
    proc = project.migdoctor(
        "fix", "rollback-migrations", "--option", "rollback-to-migration",
        "--set", "app_label=tickets", "--set", f"migration={TARGET}", "--yes", "--dry-run",
        "--context", "local", "--project", str(project.root), "--json", *args,
    )  # fmt: skip
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def unapplied_since(before: list[tuple[str, str]], after: list[tuple[str, str]]) -> set[str]:
    return {f"{app}.{name}" for app, name in before if (app, name) not in after}


def test_a_planned_rollback_shows_what_it_unapplies_and_is_refused(project: Project) -> None:
    """The preview lists the dependent app's migrations first and stops where Django stops;
    the real rollback then unapplies exactly what the preview said, and fails there."""
    rows, history = project.checksums(), project.history()

    code, outcome, plan = planned_rollback(project)

    assert code == 1, plan
    assert outcome["steps"] and all(s["exit_code"] is None for s in outcome["steps"])
    rollback = outcome["rollback"]
    assert [u["migration"] for u in rollback["unapply"]] == [*BEFORE_STOP, STOP]
    assert (rollback["stops_at"], rollback["unapplied_before_stop"]) == (STOP, BEFORE_STOP)
    assert (
        f"Rollback: `migrate tickets {TARGET}` unapplies, in this order:\n"
        "  kb.0002_article_slug\n  kb.0001_initial\n"
        "  tickets.0006_queue_ticket_queue_and_more\n"
        "  tickets.0005_lowercase_status (Django stops here)\n"
    ) in plan
    assert "    kb.0001_initial: CreateModel Article: drops table kb_article\n" in plan
    assert (
        "  Irreversible:\n    tickets.0005_lowercase_status: RunPython(lowercase_status) "
        "has no reverse_code (Django stops here)\n"
    ) in plan
    assert (
        f"it would be refused: `migrate tickets {TARGET}` would stop at {STOP}: irreversible "
        "(RunPython(lowercase_status) has no reverse_code), after unapplying "
        + ", ".join(BEFORE_STOP)
    ) in plan
    assert (project.checksums(), project.history()) == (rows, history), "a dry run changes nothing"

    error = project.fails("migrate", "tickets", TARGET)
    assert unapplied_since(history, project.history()) == set(BEFORE_STOP)
    assert f"in {STOP} is not reversible" in error


def test_a_fake_rollback_past_it_is_not_refused(project: Project) -> None:
    """`--fake` runs no reverse code: the irreversible migration does not stop it."""
    proc = project.migdoctor(
        "fix", "irreversible-migration", "--option", "fake-past-irreversible",
        "--set", "app_label=tickets", "--set", "migration=0005_lowercase_status",
        "--set", "target=0004", "--yes", "--dry-run", "--context", "local",
        "--project", str(project.root), "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["rollback"]["fake"] is True
    assert (
        "Rollback: `migrate tickets 0004 --fake` records these as unapplied, in this order; "
        "with --fake no operation runs backwards and nothing is dropped:"
    ) in proc.stderr
    assert "would stop at" not in proc.stderr


def test_the_fix_stops_at_the_manual_step_and_the_rollback_passes_once_it_is_made(
    project: Project,
) -> None:
    assert IRREVERSIBLE_CALL in project.path(MIGRATION).read_text()
    error = project.fails("migrate", "tickets", TARGET)
    assert (
        "django.db.migrations.exceptions.IrreversibleError: Operation <RunPython <function "
        "lowercase_status at 0x"
    ) in error
    assert error.rstrip().endswith(f"in {STOP} is not reversible")
    findings = project.diagnose(error)
    assert (findings[0]["playbook"], findings[0]["entities"]) == (
        "irreversible-migration",
        {"app_label": "tickets", "migration": "0005_lowercase_status"},
    )
    rows, history = project.checksums(), project.history()
    assert [f"{a}.{n}" for a, n in history if a in ("tickets", "kb")][-1] == STOP

    fixed = project.fix(error)

    assert (fixed.code, fixed.outcome["option"], fixed.outcome["verified"]) == (
        1,
        "add-reverse-code",
        False,
    ), str(fixed)
    assert fixed.commands == [], "nothing ran: the first step is a change made by hand"
    manual = ("In tickets/migrations/0005_lowercase_status.py change RunPython(forwards) to "
              "RunPython(forwards, reverse_code=migrations.RunPython.noop), or add reverse_sql "
              "to RunSQL.")  # fmt: skip
    assert f"[1/3] by hand: {manual}\n" in fixed.log
    assert f"stopped at step 1: it is a change to make by hand ({manual[:-1]})" in fixed.log
    assert "Not run: " in fixed.log and "showmigrations tickets" in fixed.log
    assert (project.checksums(), project.history()) == (rows, history)

    project.edit(MIGRATION, IRREVERSIBLE_CALL, REVERSIBLE_CALL)
    code, outcome, plan = planned_rollback(project)
    assert (code, outcome["rollback"]["stops_at"]) == (0, None), plan
    assert [u["migration"] for u in outcome["rollback"]["unapply"]] == [STOP]

    done = project.ok("migrate", "tickets", TARGET)
    assert f"Unapplying {STOP}... OK" in done
    assert project.applied("tickets")[-1] == TARGET
    assert project.applied("kb") == []
    assert project.ok("migrate").endswith("Applying kb.0002_article_slug... OK\n"), (
        "and forwards again"
    )
