"""`diagnose --live`: pasted errors confirmed, completed and re-ranked by real databases."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.live.cli import Result, environ, run
from tests.live.conftest import Templates
from tests.live.lab import AdminConnection, clone, copy_project, url

pytestmark = pytest.mark.postgres

DUPLICATE = 'django.db.utils.ProgrammingError: column "slug" of relation "kb_article" already exists'
UNDEFINED = "psycopg.errors.UndefinedColumn: column tickets_ticket.status does not exist"
TABLE_EXISTS = 'psycopg.errors.DuplicateTable: relation "tickets_queue" already exists'
INCONSISTENT = ("django.db.migrations.exceptions.InconsistentMigrationHistory: Migration "
                "kb.0001_initial is applied before its dependency "
                "tickets.0006_queue_ticket_queue_and_more on database 'default'.")  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


def live(project: Path, text: str, *databases: tuple[str, str], json_out: bool = True) -> Result:
    args = [a for name, db in databases for a in ("--database", f"{name}={url(db)}")]
    result = run("diagnose", *(["--json"] if json_out else []), "--live", *args, text, cwd=project)
    assert result.code == 0, result.output
    return result


def options(finding: dict[str, Any]) -> list[tuple[str, bool, str]]:
    return [(o["id"], o["available"], o["risk"]) for o in finding["live"]["options"]]


def test_a_duplicate_column_whose_migration_is_safe_to_fake(
    project: Path, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    db = clone(admin, made, templates.full,
               "DELETE FROM django_migrations WHERE app = 'kb' AND name = '0002_article_slug'")
    finding = live(project, DUPLICATE, ("local", db)).json["findings"][0]
    assert set(finding) == {"playbook", "title", "confidence", "entities", "evidence", "options",
                            "live"}  # fmt: skip
    assert finding["entities"] == {"column": "slug", "relation": "kb_article", "app_label": "kb",
                                   "migration": "0002_article_slug"}  # fmt: skip
    assert finding["live"] == {
        "relation": "kb_article", "column": "slug", "migration": "kb.0002_article_slug",
        "filled": {"app_label": "kb", "migration": "0002_article_slug"},
        "touched_by": ["kb.0002_article_slug"],
        "targets": {"local": {"reachable": True, "table": True, "column": True,
                              "migration_applied": False}},
        "drift": [{"kind": "fake-candidate", "target": "local", "app_label": "kb",
                   "migration": "0002_article_slug", "relation": "kb_article", "column": "slug",
                   "playbook": "duplicate-column",
                   "cause": "kb.0002_article_slug is not applied on local, but every change it "
                            "makes is already there: safe to fake (migrate kb 0002_article_slug "
                            "--fake)"}],
        "options": [
            {"id": "fake-migration", "available": True, "risk": "safe",
             "reason": "every change of kb.0002_article_slug is already in local, where it is "
                       "not applied"},
            {"id": "find-and-fake-migration", "available": True, "risk": "safe",
             "reason": "every change of kb.0002_article_slug is already in local, where it is "
                       "not applied"},
            {"id": "restore-original-migration", "available": True, "risk": "caution",
             "reason": ""},
            {"id": "drop-column-and-rerun", "available": True, "risk": "destructive",
             "reason": ""},
            {"id": "fresh-database", "available": True, "risk": "destructive", "reason": ""},
        ],
    }  # fmt: skip
    assert [o["id"] for o in finding["options"]] == [o["id"] for o in finding["live"]["options"]]
    fake = finding["options"][0]
    assert fake["risk"] == "safe" and fake["steps"][2]["local"] == [
        "python", "src/manage.py", "migrate", "kb", "0002_article_slug", "--fake"]


def test_a_dropped_column_is_confirmed_missing_and_faking_is_refused(
    project: Path, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    broken = clone(admin, made, templates.full, "ALTER TABLE tickets_ticket DROP COLUMN status")
    healthy = clone(admin, made, templates.full)
    finding = live(project, UNDEFINED, ("local", broken), ("docker", healthy)).json["findings"][0]
    assert finding["live"]["filled"] == {
        "app_label": "tickets", "migration": "0002_ticket_status",
        "adding_migration": "0002_ticket_status", "before_adding": "0001_initial"}
    assert finding["live"]["targets"] == {
        "local": {"reachable": True, "table": True, "column": False, "migration_applied": True},
        "docker": {"reachable": True, "table": True, "column": True, "migration_applied": True},
    }
    assert options(finding) == [
        ("rerun-adding-migration", True, "caution"), ("reset-app-migrations", True, "destructive"),
        ("fresh-database", True, "destructive"), ("apply-pending-migrations", False, "safe"),
        ("make-and-apply-migration", False, "safe"), ("migrate-in-container", False, "safe"),
        ("fake-migration", False, "caution"),
    ]
    reasons = {o["id"]: o["reason"] for o in finding["live"]["options"]}
    assert reasons["fake-migration"] == ("the column tickets_ticket.status is missing in local: "
                                         "faking would record work that was never done")
    assert reasons["apply-pending-migrations"] == (
        "tickets.0002_ticket_status, which creates the column tickets_ticket.status, is already "
        "applied in local: migrate has nothing to run")
    rerun = finding["options"][0]["steps"]
    assert ["python", "src/manage.py", "migrate", "tickets", "0001_initial", "--fake"] in [
        s["local"] for s in rerun]


def test_a_table_made_by_hand_is_only_partly_what_the_migration_makes(
    project: Path, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    db = clone(admin, made, templates.partial,
               "CREATE TABLE tickets_queue (id bigserial PRIMARY KEY, name varchar(100) UNIQUE)")
    finding = live(project, TABLE_EXISTS, ("local", db)).json["findings"][0]
    assert finding["live"]["migration"] == "tickets.0006_queue_ticket_queue_and_more"
    reasons = {o["id"]: (o["available"], o["reason"]) for o in finding["live"]["options"]}
    assert reasons["fake-migration"] == (
        False, "only part of tickets.0006_queue_ticket_queue_and_more's changes is in local")
    assert reasons["fake-initial"] == (
        False, "tickets.0006_queue_ticket_queue_and_more is not an initial migration")
    assert [o[0] for o in options(finding)][:2] == ["drop-stray-table", "fresh-database"]


def test_inconsistent_history_with_a_dependency_safe_to_record(
    project: Path, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    db = clone(admin, made, templates.full, "DELETE FROM django_migrations WHERE app = 'tickets' "
               "AND name = '0006_queue_ticket_queue_and_more'")
    finding = live(project, INCONSISTENT, ("local", db)).json["findings"][0]
    assert finding["live"]["filled"] == {}
    assert options(finding)[:2] == [("record-dependency-as-applied", True, "caution"),
                                    ("record-renamed-dependency", True, "caution")]
    assert options(finding)[-1] == ("reapply-in-order", False, "caution")


def test_the_text_form_shows_the_facts_and_what_is_not_offered(
    project: Path, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    db = clone(admin, made, templates.full, "ALTER TABLE tickets_ticket DROP COLUMN status")
    text = live(project, UNDEFINED, ("local", db), json_out=False).stdout
    assert ("Found: relation=tickets_ticket  column=status  app_label=tickets (probes)  "
            "migration=0002_ticket_status (probes)") in text
    assert ("   local: table tickets_ticket present, column status missing, "
            "tickets.0002_ticket_status applied\n") in text
    assert "  1. Restore the column by re-running the migration that adds it [caution]\n" in text
    assert ("   Not offered: Fake the problematic migration: the column tickets_ticket.status is "
            "missing in local: faking would record work that was never done\n") in text


def test_without_live_the_shape_is_unchanged_and_live_options_need_live(project: Path) -> None:
    plain = run("diagnose", "--json", DUPLICATE, cwd=project)
    assert plain.code == 0 and "live" not in plain.json["findings"][0]
    refused = run("diagnose", "--database-url", "postgresql://x@127.0.0.1/x", DUPLICATE,
                  cwd=project)
    assert refused.code == 2
    assert "need --live" in refused.stderr


def test_diagnose_without_live_imports_no_probe(project: Path) -> None:
    """Pasted text must start fast: no psycopg, docker, yaml-based probes, nor the live code."""
    script = (
        "import sys\n"
        "from migdoctor.cli import main\n"
        f"sys.argv = ['migdoctor', 'diagnose', '--json', {DUPLICATE!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('psycopg', 'docker', 'migdoctor.probes', 'migdoctor.live')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=environ(), cwd=project, timeout=60, check=True)
    assert json.loads(proc.stdout)["findings"][0]["playbook"] == "duplicate-column"
    assert proc.stderr.strip() == "[]"
