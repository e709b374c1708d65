"""Execute a plan: ask what the policy says to ask, check again, back up, run, verify, journal.

Stops at the first failure and says what state the system is in; Ctrl-C between or during steps
stops cleanly and says what ran. "Fixed" means the verification passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from migdoctor.wizard.backup import check_dump, restore_line
from migdoctor.wizard.checks import Precondition, changes
from migdoctor.wizard.journal import Journal, entry
from migdoctor.wizard.plan import Plan, PlannedStep
from migdoctor.wizard.policy import Decision
from migdoctor.wizard.prompt import Prompter
from migdoctor.wizard.runners import Invocation, Runner

Recheck = Callable[[Plan], tuple[Precondition, ...]]
_MEASURED = frozenset({"true", "false"})  # a check's value when the database answered
STATUSES = ("verified", "unverified", "failed", "refused", "cancelled", "interrupted", "dry-run")


@dataclass(frozen=True)
class StepRun:
    step: PlannedStep
    argv: tuple[str, ...]  # as really run (Compose may have turned `exec` into `run --rm`)
    exit_code: int | None  # None: recorded, not run (--dry-run)
    verify: bool = False


@dataclass(frozen=True)
class Outcome:
    plan: Plan
    status: str  # one of STATUSES
    message: str = ""
    ran: tuple[StepRun, ...] = ()
    backup: Path | None = None
    restore: str = ""  # the command that restores the backup

    @property
    def verified(self) -> bool:
        return self.status == "verified"


@dataclass(frozen=True)
class Session:
    """What a run talks to: the runner, the person, the journal, where progress is written,
    and how to measure the checks again."""

    runner: Runner
    prompter: Prompter
    journal: Journal | None
    out: TextIO
    recheck: Recheck | None = None
    secrets: tuple[str, ...] = field(default=(), repr=False)


class _Stop(Exception):
    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class _Progress:
    """How far a run got: `reached` plan steps started, the last one still `running`."""

    ran: list[StepRun] = field(default_factory=list)
    backup: Path | None = None
    restore: str = ""
    reached: int = 0
    running: PlannedStep | None = None
    verifying: bool = False


def execute(plan: Plan, decision: Decision, session: Session, dry: bool = False) -> Outcome:
    """Run `plan` as `decision` allows; `dry` passes every step to the runner (a recording
    one), asks nothing, writes no journal, and says whether the policy would refuse it."""
    if dry:
        return _dry(plan, decision, session)
    done = _Progress()
    try:
        _gate(plan, decision, session)
        passed_before = plan.repairs and _verification_passes(plan, session)
        for number, step in enumerate(plan.steps, 1):
            _step(plan, step, number, decision, session, done)
        status, message = _verify(plan, session, done)
        probed = _probe_verdict(plan, session) if status == "verified" else None
        if probed:
            status, message = "unverified", probed
        elif status == "verified" and passed_before and probed is None:
            status, message = "unverified", (
                "the steps ran, but the verification already passed before them, so it cannot "
                "tell whether the problem is gone: run the command that failed again")
    except _Stop as stop:
        status, message = stop.status, stop.message
    except KeyboardInterrupt:
        status, message = "interrupted", _interrupted(plan, done)
    return Outcome(plan, status, message, tuple(done.ran), done.backup, done.restore)


def _dry(plan: Plan, decision: Decision, session: Session) -> Outcome:
    """Every step through the runner (a recording one): nothing asked, nothing journaled."""
    done = _Progress()
    for steps, verify in ((plan.steps, False), (plan.verify, True)):
        for step in (s for s in steps if s.runs):
            _run(plan, step, session, done, dry=True, verify=verify)
    why = "; ".join(plan.problems) or ("" if decision.allowed else decision.reason)
    if why:
        return Outcome(plan, "refused", f"dry run: nothing was run; it would be refused: {why}",
                       tuple(done.ran))  # fmt: skip
    return Outcome(plan, "dry-run", "dry run: nothing was run", tuple(done.ran))


def _gate(plan: Plan, decision: Decision, session: Session) -> None:
    """Everything that must hold before the first step; raises _Stop when something does not."""
    if plan.problems:
        raise _Stop("refused", "the plan cannot run: " + "; ".join(plan.problems))
    if not decision.allowed:
        raise _Stop("refused", f"refused: {decision.reason}; nothing ran")
    if decision.backup and not any(s.runs for s in plan.backups):
        raise _Stop("refused", "refused: a destructive option needs a backup first, and no "
                               "database to back up was found; nothing ran")
    ask = session.prompter
    if decision.ask_plan and not ask.confirm(f"Run these steps ({plan.context})?"):
        raise _Stop("cancelled", "cancelled at your answer; nothing ran")
    if decision.typed and not ask.typed(
        f"This is destructive. Type the database name ({plan.database}) to continue",
        plan.database,
    ):
        raise _Stop("refused", f"refused: the name typed is not {plan.database}; nothing ran")
    _recheck(plan, session)


def _recheck(plan: Plan, session: Session) -> None:
    if session.recheck is None:
        return
    changed = changes(plan.checks, session.recheck(plan))
    if changed:
        raise _Stop("refused", "refused: the state changed since the plan was made ("
                    + "; ".join(changed) + "); nothing ran. Run the same command again to "
                    "plan from the new state")  # fmt: skip


def _step(plan: Plan, step: PlannedStep, number: int, decision: Decision, session: Session,
          done: _Progress) -> None:  # fmt: skip
    total = len(plan.steps)
    if step.verb == "manual":
        _by_hand(plan, step, number, session, done)
        return
    if not step.runs:
        done.reached = number
        session.out.write(f"[{number}/{total}] note: {step.text}\n")
        return
    asked = decision.ask_steps and bool(step.confirm)
    if asked and not session.prompter.confirm(step.confirm):
        raise _Stop("cancelled", f"stopped before step {number} at your answer. "
                    + _state(plan, done))  # fmt: skip
    done.reached = number
    session.out.write(f"[{number}/{total}] ({step.context}) $ {step.line()}\n")
    session.out.flush()
    run = _run(plan, step, session, done)
    if run.exit_code not in (0, None):
        raise _Stop("failed", f"step {number} failed with exit code {run.exit_code}: "
                    f"{step.line()}. " + _state(plan, done, partial=True))  # fmt: skip
    if step.verb == "backup" and run.exit_code == 0:
        _backup_taken(plan, step, session, done)


def _by_hand(plan: Plan, step: PlannedStep, number: int, session: Session,
             done: _Progress) -> None:  # fmt: skip
    """A change only a person can make: asked for at a terminal; without one, the run stops
    here and lists what is left, because no flag can say the change was made."""
    session.out.write(f"[{number}/{len(plan.steps)}] by hand: {step.text}\n")
    session.out.flush()
    if session.prompter.interactive:
        if session.prompter.confirm("Done? Continue with the next step"):
            done.reached = number
            return
        raise _Stop("cancelled", f"stopped at step {number}, the change to make by hand. "
                    + _state(plan, done))  # fmt: skip
    change = step.text.rstrip(".")
    raise _Stop("refused", f"stopped at step {number}: it is a change to make by hand "
                f"({change}). " + _state(plan, done) + " Make the change, then run the steps "
                "not run, or run this fix again at a terminal")  # fmt: skip


def _run(plan: Plan, step: PlannedStep, session: Session, done: _Progress, dry: bool = False,
         verify: bool = False) -> StepRun:  # fmt: skip
    call = Invocation(step.argv, step.context, plan.cwd, step.env, stdout=step.stdout)
    done.running = step
    result = session.runner.run(call)
    if not result.interrupted:
        done.running = None
    run = StepRun(step, result.argv, result.exit_code, verify)
    done.ran.append(run)
    if session.journal is not None and not dry:
        session.journal.write(entry(plan.playbook, plan.option.id, step.context, result.argv,
                                    result.exit_code, step.env, session.secrets))  # fmt: skip
    if result.interrupted:
        raise KeyboardInterrupt
    return run


def _backup_taken(plan: Plan, step: PlannedStep, session: Session, done: _Progress) -> None:
    file, source = step.stdout, step.source
    assert file is not None and source is not None  # a backup step that runs has both
    problem = check_dump(source, file, plan.cwd)
    if problem:
        raise _Stop("failed", f"the backup is not usable: {problem}. " + _state(plan, done))
    done.backup, done.restore = file, restore_line(source, file)
    session.out.write(f"Backup: {file}\nRestore it with: {done.restore}\n")


def _verification_passes(plan: Plan, session: Session) -> bool:
    """Whether the verification already passes before any step: then it proves nothing.
    Under Compose it runs only in containers that are up (`exec`, never a one-off `run`), so
    checking starts nothing; a service that is down fails it, which leaves the proof to after."""
    checks = [s for s in plan.verify if s.runs]
    if not checks:
        return False
    session.out.write("Checking whether the verification fails now (it should):\n")
    for step in checks:
        call = Invocation(step.argv, step.context, plan.cwd, step.env, stdout=step.stdout,
                          one_off=False)  # fmt: skip
        result = session.runner.run(call)
        if result.interrupted:
            raise KeyboardInterrupt
        if result.exit_code != 0:
            return False
    return True


def _verify(plan: Plan, session: Session, done: _Progress) -> tuple[str, str]:
    if not any(s.runs for s in plan.verify):
        return "unverified", "the steps ran, but this option has no verification"
    done.verifying = True
    for step in (s for s in plan.verify if s.runs):
        session.out.write(f"[verify] ({step.context}) $ {step.line()}\n")
        session.out.flush()
        run = _run(plan, step, session, done, verify=True)
        if run.exit_code != 0:
            return "unverified", (f"the steps ran, but the verification failed: `{step.line()}` "
                                  f"exited with {run.exit_code}")  # fmt: skip
    return "verified", "fixed: the verification passed"


def _probe_verdict(plan: Plan, session: Session) -> str | None:
    """The probe that proved the problem, measured again: None when there was none, "" when
    it no longer finds the problem, else what it still finds. A plan's checks that held
    before (the column missing, the migration unrecorded) prove the problem; the fix must
    change at least one of them."""
    proof = [c for c in plan.checks if c.kind == "check" and c.value == c.expect]
    if not proof or session.recheck is None:
        return None
    now = {(c.subject, c.args): c.value for c in session.recheck(plan)}
    if any(now.get((c.subject, c.args)) in _MEASURED - {c.expect} for c in proof):
        session.out.write("[verify] the probe that proved the problem no longer finds it\n")
        return ""
    return ("the steps ran and their verification passed, but the probe that proved the "
            "problem still finds it: " + "; ".join(c.text for c in proof))


def _state(plan: Plan, done: _Progress, partial: bool = False) -> str:
    """What the system is now: which steps are in effect, which did not run, the backup.
    `partial`: the last step reached failed or was stopped half-way."""
    started = [s for s in plan.steps[:done.reached] if s.runs]
    complete = started[:-1] if partial and started else started
    parts = []
    if complete:
        parts.append("In effect: " + "; ".join(f"`{s.line()}`" for s in complete) + ".")
    else:
        parts.append("No step before it had run." if partial else "No step had run.")
    if partial:
        parts.append("The step that stopped may have left part of its work done.")
    rest = [s for s in plan.steps[done.reached:] if s.runs]
    if rest:
        parts.append("Not run: " + "; ".join(f"`{s.line()}`" for s in rest) + ".")
    if done.backup is not None:
        parts.append(f"The backup taken before is {done.backup}; restore it with: {done.restore}")
    return " ".join(parts)


def _interrupted(plan: Plan, done: _Progress) -> str:
    step = done.running
    if step is None:
        return "interrupted between steps. " + _state(plan, done)
    if done.verifying:
        return (f"interrupted during the verification `{step.line()}`, which was stopped; "
                "every step had run, the fix is not verified. " + _state(plan, done))
    return f"interrupted during `{step.line()}`, which was stopped. " + _state(plan, done, True)
