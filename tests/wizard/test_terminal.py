"""The interactive flow through a real pseudo-terminal: the questions appear, the answers count."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from tests.wizard.lab import Lab

pytestmark = pytest.mark.postgres
SLOW_STEP = "import time; print('started', flush=True); time.sleep(30)"
SLOW = f"""\
id: slow-steps
kind: howto
title: Two quick steps around a slow one
summary: A step that takes long, to stop with Ctrl-C.
cause: A step that takes long.
options:
  - id: wait
    title: Wait
    risk: safe
    steps:
      - host: ["true"]
      - host: [{sys.executable}, -c, "{SLOW_STEP}"]
      - host: ["true"]
    verify:
      - host: ["true"]
"""


def spawn(lab: Lab, *args: str) -> pexpect.spawn:
    child = pexpect.spawn(sys.executable, ["-m", "migdoctor", *args], cwd=str(lab.root),
                          env=lab.env, encoding="utf-8", timeout=120,
                          dimensions=(50, 250))  # fmt: skip
    return child


def finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus if child.exitstatus is not None else -(child.signalstatus or 0))


def test_no_at_the_plan_changes_nothing(lab: Lab) -> None:
    lab.rows("DELETE FROM django_migrations WHERE app = 'kb' AND name = '0002_article_slug'")
    before = lab.checksums()
    child = spawn(lab, *lab.fix_args("fake-migration", "--option", "fake-one-migration",
                                      "--set", "app_label=kb", "--set", "migration=0002"))
    child.expect_exact("Policy: a yes/no for the plan; each step's own question")
    child.expect_exact("Run these steps (local)? [y/N] ")
    child.sendline("n")
    child.expect_exact("cancelled at your answer; nothing ran")
    assert finish(child) == 1
    assert lab.checksums() == before and lab.journal() == []


def test_a_value_the_option_needs_is_asked_and_checked(lab: Lab) -> None:
    lab.rows("DELETE FROM django_migrations WHERE app = 'kb' AND name = '0002_article_slug'")
    child = spawn(lab, *lab.fix_args("fake-migration", "--option", "fake-one-migration",
                                      "--set", "app_label=kb"))
    child.expect_exact("Which migration (e.g. 0018)? ")
    child.sendline("0002; rm -rf ~")
    child.expect_exact("'0002; rm -rf ~' is not a valid migration")
    child.expect_exact("Which migration (e.g. 0018)? ")
    child.sendline("0002")
    child.expect_exact("src/manage.py migrate kb 0002 --fake")
    child.expect_exact("Run these steps (local)? [y/N] ")
    child.sendline("")
    child.expect_exact("cancelled at your answer; nothing ran")
    assert finish(child) == 1


def test_a_wrong_database_name_refuses_the_destructive_option(lab: Lab) -> None:
    before = lab.checksums()
    child = spawn(lab, *lab.fix_args("fresh-database", "--option", "flush-data"))
    child.expect_exact("Policy: a checked backup first; a yes/no for the plan; the database "
                       "name typed; each step's own question")
    child.expect_exact("Run these steps (local)? [y/N] ")
    child.sendline("y")
    child.expect_exact(f"This is destructive. Type the database name ({lab.dbname}) to "
                       "continue: ")
    child.sendline(lab.dbname[:-1])
    child.expect_exact(f"refused: the name typed is not {lab.dbname}; nothing ran")
    assert finish(child) == 1
    assert lab.checksums() == before
    assert lab.backups() == [] and lab.journal() == []


def test_the_right_name_runs_it_after_a_backup(lab: Lab) -> None:
    before = lab.checksums()
    child = spawn(lab, *lab.fix_args("fresh-database", "--option", "flush-data"))
    child.expect_exact("Run these steps (local)? [y/N] ")
    child.sendline("y")
    child.expect_exact("to continue: ")
    child.sendline(lab.dbname)
    child.expect_exact("[1/2] (local) $ pg_dump -Fc -h 127.0.0.1 -p 5432 -U postgres -d "
                       f"{lab.dbname} > ")
    child.expect_exact("Backup: ")
    child.expect_exact("Restore it with: pg_restore --clean --if-exists --no-owner")
    child.expect_exact("Delete all rows of every table (the migration history is kept)? [y/N] ")
    assert lab.checksums() == before, "nothing deleted before the step's own answer"
    child.sendline("y")
    child.expect_exact("fixed: the verification passed")
    assert finish(child) == 0
    assert lab.checksums()["tickets_ticket"][0] == 0
    assert lab.checksums()["django_migrations"] == before["django_migrations"]
    [backup] = lab.backups()
    listed = subprocess.run(["pg_restore", "--list", str(backup)], capture_output=True,
                            text=True, check=False)  # fmt: skip
    assert listed.returncode == 0 and "TABLE DATA public tickets_ticket" in listed.stdout
    assert [e["argv"][0] for e in lab.journal()] == ["pg_dump", sys.executable, sys.executable]


def test_ctrl_c_during_a_step_stops_cleanly_and_says_what_ran(lab: Lab, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "slow-steps.yaml").write_text(SLOW)
    child = spawn(lab, *lab.fix_args("slow-steps", "--kb", str(kb)))
    child.expect_exact("Run these steps (local)? [y/N] ")
    child.sendline("y")
    slow = shlex.join([sys.executable, "-c", SLOW_STEP])
    child.expect_exact(f"[2/3] (local) $ {slow}")
    child.expect_exact("started")
    child.sendintr()
    child.expect_exact(f"interrupted during `{slow}`, which was stopped. In effect: `true`. "
                       "The step that stopped may have left part of its work done. Not run: "
                       "`true`.")
    assert finish(child) == 130
    assert [(e["argv"], e["exit_code"]) for e in lab.journal()] == [
        (["true"], 0), ([sys.executable, "-c", SLOW_STEP], -2)]


def test_ctrl_c_at_a_question_runs_nothing(lab: Lab) -> None:
    lab.rows("DELETE FROM django_migrations WHERE app = 'kb' AND name = '0002_article_slug'")
    child = spawn(lab, *lab.fix_args("fake-migration", "--option", "fake-initial"))
    child.expect_exact("Run these steps (local)? [y/N] ")
    child.sendintr()
    child.expect_exact("interrupted between steps. No step had run.")
    assert finish(child) == 130
    assert lab.journal() == []


BY_HAND = """\
id: by-hand
kind: howto
title: A change made by hand between two commands
summary: Edit a file, then run what needs it.
cause: A change only a person can make.
options:
  - id: edit-then-run
    title: Edit, then run
    risk: safe
    steps:
      - host: ["true"]
      - manual: Create the file done.txt in the project folder.
      - host: [test, -f, done.txt]
    verify:
      - host: [test, -f, done.txt]
"""


@pytest.mark.parametrize("answer", ["y", "n"])
def test_a_step_by_hand_waits_for_the_person(lab: Lab, tmp_path: Path, answer: str) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "by-hand.yaml").write_text(BY_HAND)
    child = spawn(lab, *lab.fix_args("by-hand", "--kb", str(kb)))
    child.expect_exact("Run these steps (local)? [y/N] ")
    child.sendline("y")
    child.expect_exact("[2/3] by hand: Create the file done.txt in the project folder.")
    child.expect_exact("Done? Continue with the next step [y/N] ")
    if answer == "y":
        (lab.root / "done.txt").write_text("")
    child.sendline(answer)
    if answer == "y":
        child.expect_exact("fixed: the verification passed")
        assert finish(child) == 0
        assert [e["argv"] for e in lab.journal()] == [
            ["true"], ["test", "-f", "done.txt"], ["test", "-f", "done.txt"]]
    else:
        child.expect_exact("stopped at step 2, the change to make by hand. In effect: `true`. "
                           "Not run: `test -f done.txt`.")
        assert finish(child) == 1
        assert [e["argv"] for e in lab.journal()] == [["true"]]


def test_without_a_terminal_a_step_by_hand_stops_the_run(lab: Lab, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "by-hand.yaml").write_text(BY_HAND)
    done = lab.cli(*lab.fix_args("by-hand", "--kb", str(kb), "--yes", "--json"))
    assert done.returncode == 1, done.stderr
    assert ("stopped at step 2: it is a change to make by hand (Create the file done.txt in the "
            "project folder). In effect: `true`. Not run: `test -f done.txt`.") in done.stderr
    assert [e["argv"] for e in lab.journal()] == [["true"]]
