"""`migdoctor fix` for real: the lab project, its real manage.py, a real PostgreSQL database."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from migdoctor.wizard.checks import changes, measure
from migdoctor.wizard.facts import gather
from migdoctor.wizard.plan import build
from migdoctor.wizard.policy import Decision
from migdoctor.wizard.run import Session, execute
from migdoctor.wizard.runners import LocalRunner
from tests.wizard.lab import Lab, explain
from tests.wizard.test_run import Answers

pytestmark = pytest.mark.postgres
SECRET = "pw-Secr3t-9f1c"
FAKE = ("fake-migration", "--option", "fake-one-migration", "--set", "app_label=kb",
        "--set", "migration=0002")  # fmt: skip


def test_fake_a_migration_whose_effect_is_present(lab: Lab) -> None:
    lab.rows("DELETE FROM django_migrations WHERE app = 'kb' AND name = '0002_article_slug'")
    before = lab.checksums()
    proc = lab.cli(*lab.fix_args(*FAKE, "--yes", "--json"))
    assert proc.returncode == 0, explain(proc)
    result = json.loads(proc.stdout)
    manage = [sys.executable, "src/manage.py"]
    assert result == {"playbook": "fake-migration", "option": "fake-one-migration",
                      "backup": None, "verified": True, "steps": [
        {"argv": [*manage, *args], "context": "local", "exit_code": 0}
        for args in (["showmigrations", "kb"], ["sqlmigrate", "kb", "0002"],
                     ["migrate", "kb", "0002", "--fake"], ["migrate"],
                     ["showmigrations", "kb"], ["migrate", "--check"])]}  # fmt: skip
    assert lab.applied("kb") == ["0001_initial", "0002_article_slug"]
    changed = {t for t in before if before[t] != lab.checksums()[t]}
    assert changed == {"django_migrations"}, "only the history changed, no schema, no rows"
    assert "[ ] 0002_article_slug" in proc.stderr, "manage.py's own output is streamed"
    assert [e["exit_code"] for e in lab.journal()] == [0] * 6


PLAIN_MIGRATE = """\
id: plain-migrate
kind: howto
title: Migrate
summary: Show the history, then migrate.
cause: Unapplied migrations.
options:
  - id: migrate
    title: Migrate
    risk: safe
    steps:
      - manage: [showmigrations]
      - manage: [migrate]
    verify:
      - manage: [migrate, --check]
"""


def test_an_option_the_facts_rule_out_is_refused_before_anything_runs(lab: Lab) -> None:
    """kb.0002's column is there but its row is gone: `migrate` would run its SQL and fail."""
    lab.rows("DELETE FROM django_migrations WHERE app = 'kb' AND name = '0002_article_slug'")
    proc = lab.cli(*lab.fix_args("undefined-column", "--option", "apply-pending-migrations",
                                 "--set", "column=slug", "--set", "relation=kb_article",
                                 "--yes", "--json"))  # fmt: skip
    assert (proc.returncode, proc.stdout) == (1, ""), explain(proc)
    assert ("option apply-pending-migrations does not fit here: migrate would run "
            "kb.0002_article_slug and fail: its column kb_article.slug is already there in "
            "local") in proc.stderr
    assert "options that fit: fake-migration" in proc.stderr
    assert lab.journal() == []


def test_a_step_that_fails_stops_the_run_and_says_what_is_in_effect(lab: Lab,
                                                                   tmp_path: Path) -> None:  # fmt: skip
    """The same history through a playbook without verdicts: `migrate` runs the SQL and fails,
    the run stops."""
    lab.rows("DELETE FROM django_migrations WHERE app = 'kb' AND name = '0002_article_slug'")
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "plain-migrate.yaml").write_text(PLAIN_MIGRATE)
    proc = lab.cli(*lab.fix_args("plain-migrate", "--kb", str(kb), "--yes", "--json"))
    assert proc.returncode == 1, explain(proc)
    result = json.loads(proc.stdout)
    assert [s["exit_code"] for s in result["steps"]] == [0, 1]
    assert result["verified"] is False
    assert 'column "slug" of relation "kb_article" already exists' in proc.stderr
    assert "step 2 failed with exit code 1" in proc.stderr
    assert f"In effect: `{sys.executable} src/manage.py showmigrations`." in proc.stderr


def test_destructive_with_yes_and_no_terminal_is_refused(lab: Lab) -> None:
    before = lab.checksums()
    proc = lab.cli(*lab.fix_args("fresh-database", "--option", "flush-data", "--yes", "--json"))
    assert proc.returncode == 1, explain(proc)
    assert json.loads(proc.stdout) == {"playbook": "fresh-database", "option": "flush-data",
                                       "steps": [], "backup": None, "verified": False}
    assert ("refused: a destructive option needs the database name typed at a terminal, and "
            "there is none (--yes never covers it); pass --allow-destructive") in proc.stderr
    assert lab.checksums() == before
    assert lab.backups() == [] and lab.journal() == []


def test_dev_only_is_refused_on_a_production_looking_target(tmp_path: Path,
                                                            lab_template: str) -> None:
    from tests.wizard.lab import scratch_database, unique

    with scratch_database(unique("mdwiz_prod"), lab_template) as name:
        lab = Lab.create(tmp_path, name, debug="0")
        before = lab.checksums()
        proc = lab.cli(*lab.fix_args("fresh-database", "--option", "flush-data",
                                     "--allow-destructive"))  # fmt: skip
        assert proc.returncode == 1, explain(proc)
        assert ("refused: this option is for development databases only, and the target looks "
                "like production (DEBUG is off: DEBUG in the environment is '0'); pass "
                "--allow-production if it is not; nothing ran") in proc.stdout
        assert lab.checksums() == before


def test_backup_restore_round_trip_and_a_journal_without_secrets(tmp_path: Path,
                                                                 lab_template: str) -> None:
    from tests.wizard.lab import scratch_database, unique

    with scratch_database(unique("mdwiz_rt"), lab_template) as name:
        lab = Lab.create(tmp_path, name, password=SECRET)
        lab.env["DATABASE_URL"] = f"postgresql://postgres:{SECRET}@127.0.0.1:5432/{name}"
        before = lab.checksums()
        assert before["tickets_ticket"][0] == 50
        proc = lab.cli(*lab.fix_args("fresh-database", "--option", "recreate-local-database",
                                     "--allow-destructive", "--json"))  # fmt: skip
        assert proc.returncode == 0, explain(proc)
        result = json.loads(proc.stdout)
        backup = Path(result["backup"])
        assert lab.backups() == [backup] and backup.stat().st_size > 0
        assert [s["argv"][0] for s in result["steps"]][:3] == ["pg_dump", "dropdb", "createdb"]
        assert result["verified"] is True
        assert lab.checksums()["tickets_ticket"][0] == 0

        restore = next(line for line in proc.stderr.splitlines()
                       if line.startswith("Restore it with: "))  # fmt: skip
        argv = shlex.split(restore.removeprefix("Restore it with: "))
        assert argv == ["pg_restore", "--clean", "--if-exists", "--no-owner", "-h", "127.0.0.1",
                        "-p", "5432", "-U", "postgres", "-d", name, str(backup)]
        done = subprocess.run(argv, env=lab.env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        assert lab.checksums() == before

        journal = (lab.state / "migdoctor" / "journal.jsonl").read_text()
        assert SECRET not in journal and SECRET not in proc.stdout + proc.stderr
        entries = [json.loads(line) for line in journal.splitlines()]
        assert [e["argv"][0] for e in entries][:3] == ["pg_dump", "dropdb", "createdb"]
        assert entries[0]["env"] == {"PGPASSWORD": "***"}
        assert entries[1]["env"]["PGPASSWORD"] == "***" and entries[1]["env"]["PGHOST"]
        assert set(entries[0]) == {"time", "playbook", "option", "context", "argv", "env",
                                   "exit_code"}

        history = lab.cli("fix", "--history")
        assert history.returncode == 0
        assert "fresh-database/recreate-local-database  $ dropdb --if-exists " in history.stdout
        as_json = json.loads(lab.cli("fix", "--history", "--json").stdout)
        assert as_json["entries"] == entries


def test_diagnose_fix_reads_the_error_from_stdin(lab: Lab) -> None:
    lab.manage("migrate", "kb", "0001", "-v0")
    text = ("Traceback (most recent call last):\n"
            "psycopg.errors.UndefinedColumn: column kb_article.slug does not exist\n"
            "LINE 1: SELECT kb_article.slug FROM kb_article\n")  # fmt: skip
    args = lab.fix_args("--yes", "--json")[1:]
    proc = lab.cli("diagnose", "--fix", *args, stdin=text)
    assert proc.returncode == 0, explain(proc)
    result = json.loads(proc.stdout)
    assert (result["playbook"], result["option"], result["verified"]) == (
        "undefined-column", "apply-pending-migrations", True)
    assert lab.applied("kb") == ["0001_initial", "0002_article_slug"]


def test_a_changed_state_before_the_first_step_is_refused(lab: Lab) -> None:
    """Between the plan and the first step someone records the migration: nothing runs."""
    from migdoctor.kb.loader import load

    lab.rows("DELETE FROM django_migrations WHERE app = 'kb' AND name = '0002_article_slug'")
    facts = gather(str(lab.root), sys.executable, (), lab.env)
    playbook = load().resolve("fake-migration")
    plan = build(playbook, playbook.options[0], {"app_label": "kb", "migration": "0002"}, facts,
                 "local", backup_dir=lab.state)  # fmt: skip

    class Meanwhile(Answers):
        def confirm(self, question: str) -> bool:
            lab.rows("INSERT INTO django_migrations (app, name, applied) "
                     "VALUES ('kb', '0002_article_slug', now())")
            return True

    session = Session(LocalRunner(), Meanwhile(), None, sys.stderr,
                      lambda p: measure(p.checks, facts.target(p.context)))
    out = execute(plan, Decision(True, ask_plan=True), session)
    assert out.status == "refused" and out.ran == ()
    assert "the local database's history and schema: was 25 migrations recorded" in out.message
    assert "now 26 migrations recorded (last kb.0002_article_slug)" in out.message
    changed = changes(plan.checks, measure(plan.checks, facts.local))
    assert len(changed) == 1 and f"made ({changed[0]}); nothing ran." in out.message


def test_dry_run_runs_nothing(lab: Lab) -> None:
    before = lab.checksums()
    proc = lab.cli(*lab.fix_args("fresh-database", "--option", "recreate-local-database",
                                 "--allow-destructive", "--dry-run", "--json"))  # fmt: skip
    assert proc.returncode == 0, explain(proc)
    result = json.loads(proc.stdout)
    assert [(s["argv"][0], s["exit_code"]) for s in result["steps"]] == [
        ("pg_dump", None), ("dropdb", None), ("createdb", None), (sys.executable, None),
        (sys.executable, None), (sys.executable, None)]
    assert (result["backup"], result["verified"]) == (None, False)
    assert "dry run: nothing was run" in proc.stderr
    assert lab.checksums() == before
    assert lab.backups() == [] and lab.journal() == []
