"""Executing a plan with an injected runner and prompter: what runs, what is asked, where it
stops and what it says."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from migdoctor.model import Option, Playbook, Step
from migdoctor.wizard.backup import DumpSource
from migdoctor.wizard.checks import Precondition
from migdoctor.wizard.facts import Facts
from migdoctor.wizard.journal import Journal
from migdoctor.wizard.plan import Plan, build
from migdoctor.wizard.policy import Decision
from migdoctor.wizard.run import Session, execute
from migdoctor.wizard.runners import Invocation, RecordingRunner, Result
from migdoctor.wizard.show import outcome_json

PY = sys.executable
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ASK_ALL = Decision(True, ask_plan=True, ask_steps=True)
TYPED = Decision(True, ask_plan=True, ask_steps=True, typed=True, backup=True)


@dataclass
class Answers:
    """A person at a terminal who answers from a script and remembers the questions."""

    confirms: list[bool] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)
    interactive: bool = True

    def say(self, text: str) -> None:
        self.asked.append(f"said: {text}")

    def confirm(self, question: str) -> bool:
        self.asked.append(question)
        return self.confirms.pop(0)

    def typed(self, question: str, expected: str) -> bool:
        self.asked.append(question)
        return self.names.pop(0) == expected

    def ask(self, question: str, check: Callable[[str], str | None]) -> str | None:
        raise AssertionError(f"unexpected question {question}")


def plan_for(root: Path, risk: str = "caution", backup: bool = False) -> Plan:
    (root / "src").mkdir(exist_ok=True)
    (root / "src" / "manage.py").touch()
    steps = [Step("manage", ("showmigrations",)),
             Step("manage", ("migrate", "kb", "0002", "--fake"), confirm="Fake kb.0002?"),
             Step("note", ("Look at the output.",)), Step("manage", ("migrate",))]
    if backup:
        steps.insert(0, Step("backup", ()))
    option = Option("o", "Option", risk, tuple(steps),  # type: ignore[arg-type]
                    (Step("manage", ("migrate", "--check")),))
    pb = Playbook("pb", "howto", "T", "", "", {}, (option,))
    facts = Facts(root, python=PY, dumps={"local": DumpSource("local", "shop", "127.0.0.1",
                                                              5432, "postgres")})  # fmt: skip
    return build(pb, option, {}, facts, "local", backup_dir=root / "backups", now=NOW)


def manage(*args: str) -> tuple[str, ...]:
    return (PY, "src/manage.py", *args)


def session(runner: object, prompter: object, root: Path,
            recheck: Callable[[Plan], tuple[Precondition, ...]] | None = None) -> Session:  # fmt: skip
    return Session(runner, prompter, Journal(root / "journal.jsonl"), io.StringIO(),  # type: ignore[arg-type]
                   recheck)


def ran(runner: RecordingRunner) -> list[tuple[str, ...]]:
    return [c.argv for c in runner.calls]


def test_every_step_then_the_verification(tmp_path: Path) -> None:
    runner, answers = RecordingRunner(result=0), Answers([True, True])
    out = execute(plan_for(tmp_path), ASK_ALL, session(runner, answers, tmp_path))
    assert out.status == "verified" and out.message == "fixed: the verification passed"
    assert ran(runner) == [manage("showmigrations"), manage("migrate", "kb", "0002", "--fake"),
                           manage("migrate"), manage("migrate", "--check")]
    assert answers.asked == ["Run these steps (local)?", "Fake kb.0002?"]
    assert outcome_json(out) == {"playbook": "pb", "option": "o", "backup": None,
                                 "verified": True, "steps": [
        {"argv": list(argv), "context": "local", "exit_code": 0} for argv in ran(runner)]}
    lines = (tmp_path / "journal.jsonl").read_text().splitlines()
    assert [json.loads(line)["argv"] for line in lines] == [list(a) for a in ran(runner)]


def test_the_first_failure_stops_and_says_what_state_is_left(tmp_path: Path) -> None:
    runner = RecordingRunner(result=0, codes={manage("migrate", "kb", "0002", "--fake"): 1})
    out = execute(plan_for(tmp_path), Decision(True), session(runner, Answers(), tmp_path))
    assert out.status == "failed"
    assert ran(runner) == [manage("showmigrations"), manage("migrate", "kb", "0002", "--fake")]
    m = f"{PY} src/manage.py"
    assert out.message == (
        f"step 2 failed with exit code 1: {m} migrate kb 0002 --fake. In effect: "
        f"`{m} showmigrations`. The step that stopped may have left part of its work done. "
        f"Not run: `{m} migrate`.")


def test_a_failed_verification_is_not_fixed(tmp_path: Path) -> None:
    runner = RecordingRunner(result=0, codes={manage("migrate", "--check"): 1})
    out = execute(plan_for(tmp_path), Decision(True), session(runner, Answers(), tmp_path))
    assert (out.status, out.verified) == ("unverified", False)
    assert out.message.endswith("migrate --check` exited with 1")


def test_no_at_the_plan_runs_nothing(tmp_path: Path) -> None:
    runner = RecordingRunner(result=0)
    out = execute(plan_for(tmp_path), ASK_ALL, session(runner, Answers([False]), tmp_path))
    assert (out.status, out.message) == ("cancelled", "cancelled at your answer; nothing ran")
    assert runner.calls == [] and not (tmp_path / "journal.jsonl").exists()


def test_no_at_a_step_stops_before_it(tmp_path: Path) -> None:
    runner = RecordingRunner(result=0)
    out = execute(plan_for(tmp_path), ASK_ALL, session(runner, Answers([True, False]), tmp_path))
    assert out.status == "cancelled"
    assert ran(runner) == [manage("showmigrations")]
    assert out.message.startswith("stopped before step 2 at your answer. In effect: ")


def test_a_wrong_database_name_refuses_before_anything(tmp_path: Path) -> None:
    runner = RecordingRunner(result=0)
    answers = Answers([True], ["sho"])
    out = execute(plan_for(tmp_path, "destructive", backup=True), TYPED,
                  session(runner, answers, tmp_path))
    assert (out.status, out.message) == ("refused",
                                         "refused: the name typed is not shop; nothing ran")
    assert answers.asked[1] == "This is destructive. Type the database name (shop) to continue"
    assert runner.calls == []


def test_a_changed_state_refuses_with_a_remedy(tmp_path: Path) -> None:
    plan = plan_for(tmp_path)
    before = Precondition("database", "local", "the local database", "3 migrations recorded")
    plan = replace(plan, checks=(before,))
    after = (Precondition("database", "local", "the local database", "4 migrations recorded"),)
    runner = RecordingRunner(result=0)
    out = execute(plan, Decision(True), session(runner, Answers(), tmp_path, lambda p: after))
    assert out.status == "refused" and runner.calls == []
    assert out.message == (
        "refused: the state changed since the plan was made (the local database: was 3 "
        "migrations recorded, now 4 migrations recorded); nothing ran. Run the same command "
        "again to plan from the new state")


@dataclass
class Interrupting:
    """Stops at the given argv as a Ctrl-C during that step would."""

    at: tuple[str, ...]
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def run(self, call: Invocation) -> Result:
        self.calls.append(call.argv)
        return Result(call.argv, -2 if call.argv == self.at else 0, call.argv == self.at)


def test_ctrl_c_during_a_step_stops_and_says_what_ran(tmp_path: Path) -> None:
    runner = Interrupting(manage("migrate", "kb", "0002", "--fake"))
    out = execute(plan_for(tmp_path), Decision(True), session(runner, Answers(), tmp_path))
    m = f"{PY} src/manage.py"
    assert out.status == "interrupted"
    assert out.message == (
        f"interrupted during `{m} migrate kb 0002 --fake`, which was stopped. In effect: "
        f"`{m} showmigrations`. The step that stopped may have left part of its work done. "
        f"Not run: `{m} migrate`.")
    lines = (tmp_path / "journal.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["exit_code"] == -2


def test_ctrl_c_at_a_question_between_steps(tmp_path: Path) -> None:
    class Impatient(Answers):
        def confirm(self, question: str) -> bool:
            if question == "Fake kb.0002?":
                raise KeyboardInterrupt
            return True

    runner = RecordingRunner(result=0)
    out = execute(plan_for(tmp_path), ASK_ALL, session(runner, Impatient(), tmp_path))
    assert out.status == "interrupted"
    assert out.message == (f"interrupted between steps. In effect: `{PY} src/manage.py "
                           f"showmigrations`. Not run: `{PY} src/manage.py migrate kb 0002 "
                           f"--fake`; `{PY} src/manage.py migrate`.")


@dataclass
class Writing:
    """Writes `data` where a step's output goes."""

    data: bytes
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def run(self, call: Invocation) -> Result:
        self.calls.append(call.argv)
        if call.stdout:
            call.stdout.parent.mkdir(parents=True, exist_ok=True)
            call.stdout.write_bytes(self.data)
        return Result(call.argv, 0)


@pytest.mark.parametrize(("data", "problem"), [
    (b"", "is empty"), (b"not a dump", "pg_restore --list cannot read")])  # fmt: skip
def test_an_unusable_backup_stops_before_the_destructive_step(tmp_path: Path, data: bytes,
                                                               problem: str) -> None:
    runner = Writing(data)
    out = execute(plan_for(tmp_path, "destructive", backup=True), Decision(True, backup=True),
                  session(runner, Answers(), tmp_path))
    assert out.status == "failed" and problem in out.message
    assert [argv[0] for argv in runner.calls] == ["pg_dump"]
    assert out.backup is None


def test_dry_run_asks_nothing_and_journals_nothing(tmp_path: Path) -> None:
    runner = RecordingRunner()
    answers = Answers()
    out = execute(plan_for(tmp_path, "destructive", backup=True), TYPED,
                  session(runner, answers, tmp_path), dry=True)
    assert (out.status, out.message) == ("dry-run", "dry run: nothing was run")
    assert [r.exit_code for r in out.ran] == [None] * 5
    assert answers.asked == [] and not (tmp_path / "journal.jsonl").exists()
    assert list(tmp_path.iterdir()) == [tmp_path / "src"], "no backup file either"


def test_dry_run_says_when_the_policy_would_refuse(tmp_path: Path) -> None:
    runner = RecordingRunner()
    out = execute(plan_for(tmp_path), Decision(False, reason="no terminal"),
                  session(runner, Answers(), tmp_path), dry=True)
    assert (out.status, out.message) == (
        "refused", "dry run: nothing was run; it would be refused: no terminal")
    assert len(runner.calls) == 4
