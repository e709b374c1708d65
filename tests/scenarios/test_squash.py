"""Squashing from the wizard: allowed only for a range every database has applied, refused
(nothing written, nothing run) when one of them has not."""

from __future__ import annotations

import json

import pytest

from tests.scenarios.lab import Project

pytestmark = pytest.mark.postgres


def squash(project: Project, app: str, first: str, last: str) -> tuple[int, dict[str, object], str]:
    proc = project.migdoctor("fix", "squash-migrations", "--option", "squash-range", "--set",
                             f"app_label={app}", "--set", f"start_migration={first}", "--set",
                             f"migration={last}", "--yes", "--context", "local", "--project",
                             str(project.root), "--json")  # fmt: skip
    outcome = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return proc.returncode, outcome, proc.stderr


def test_a_range_every_database_applied_is_squashed(project: Project) -> None:
    code, outcome, log = squash(project, "tickets", "0001", "0004")

    assert (code, outcome["verified"]) == (0, True), log
    assert "Facts: squash-range fits: local, docker applied tickets.0001_initial to " \
        "0004_alter_ticket_title_max_length" in log
    assert "0001_initial_squashed_0004_alter_ticket_title_max_length.py" in project.migration_files(
        "tickets")
    assert project.ok("migrate").endswith("No migrations to apply.\n")


def test_a_range_one_database_has_not_applied_is_refused(project: Project) -> None:
    project.ok("migrate", "kb", "0001", "-v0")
    files, history = project.migration_files("kb"), project.history()

    code, outcome, log = squash(project, "kb", "0001", "0002")

    assert (code, outcome) == (1, {}), log
    assert ("option squash-range does not fit here: local has not applied kb.0002_article_slug: "
            "squash only what every database has applied") in log
    assert (project.migration_files("kb"), project.history()) == (files, history)
