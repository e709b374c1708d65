"""`migdoctor fix` and `diagnose --fix`: wire the wizard to the real project, runner, terminal
and journal. `cli.py` registers the command; nothing heavy is imported until it runs.

Exit codes: 0 the fix is verified (or a dry run that could run), 1 not verified, failed,
refused or cancelled, 2 usage, 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from migdoctor.errors import MigdoctorError

if TYPE_CHECKING:
    from migdoctor.model import Finding, Option, Playbook
    from migdoctor.wizard.facts import Facts
    from migdoctor.wizard.prompt import Prompter
    from migdoctor.wizard.run import Outcome

OptionId = Annotated[str | None, typer.Option("--option", help="The option (remedy) to run.")]
Context = Annotated[str | None, typer.Option("--context", help="local or compose (default: "
                                             "detected).")]  # fmt: skip
ProjectDir = Annotated[str | None, typer.Option("--project", help="The project folder.")]
Python = Annotated[str | None, typer.Option("--python", help="The project's Python.")]
ComposeFiles = Annotated[list[str] | None, typer.Option(
    "--compose-file", help="A compose file, passed on as -f (repeatable).")]  # fmt: skip
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Confirm safe and caution steps.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show the plan; run nothing.")]
AllowDestructive = Annotated[bool, typer.Option(
    "--allow-destructive", help="Run a destructive option without a terminal (after a "
    "backup).")]  # fmt: skip
AllowProduction = Annotated[bool, typer.Option(
    "--allow-production", help="Run a development-only option on a production-looking "
    "target.")]  # fmt: skip
Sets = Annotated[list[str] | None, typer.Option("--set", help="ENTITY=VALUE (repeatable).")]
Fix = Annotated[bool, typer.Option("--fix", help="Run the best non-destructive remedy of the "
                                   "first finding.")]  # fmt: skip
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
KbDirs = Annotated[list[Path] | None, typer.Option("--kb", help="A folder of your own playbooks.")]


@dataclass(frozen=True)
class FixRequest:
    """What the user asked for, flags as given."""

    option: str | None = None
    context: str | None = None
    project: str | None = None
    python: str | None = None
    compose_files: tuple[str, ...] = ()
    yes: bool = False
    dry_run: bool = False
    allow_destructive: bool = False
    allow_production: bool = False
    as_json: bool = False
    sets: tuple[str, ...] = ()
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ), repr=False)


def register(app: typer.Typer) -> None:
    app.command("fix")(fix)


def fix(
    playbook: Annotated[str | None, typer.Argument(help="The playbook id.")] = None,
    option: OptionId = None, context: Context = None, project: ProjectDir = None,
    python: Python = None, compose_file: ComposeFiles = None, yes: Yes = False,
    dry_run: DryRun = False, allow_destructive: AllowDestructive = False,
    allow_production: AllowProduction = False, as_json: JsonFlag = False, set_: Sets = None,
    history: Annotated[bool, typer.Option("--history", help="Show the journal.")] = False,
    kb: KbDirs = None,
) -> None:  # fmt: skip
    """Run a remedy step by step: plan, confirm, back up, run, verify, journal."""
    from migdoctor.cli import _handled, _load_kb

    with _handled():
        if history:
            raise typer.Exit(show_history(as_json))
        if not playbook:
            raise MigdoctorError("which playbook? migdoctor fix PLAYBOOK",
                                 "migdoctor kb list shows them; or use diagnose --fix")
        request = FixRequest(option, context, project, python, tuple(compose_file or ()), yes,
                             dry_run, allow_destructive, allow_production, as_json,
                             tuple(set_ or ()))  # fmt: skip
        found = _load_kb(kb).get(playbook)
        if found is None:
            raise MigdoctorError(f"no playbook {playbook!r}", "migdoctor kb list shows them")
        raise typer.Exit(run_fix(found, request, {}))


def fix_findings(findings: list[Finding], request: FixRequest) -> int:
    """`diagnose --fix`: the best non-destructive option of the first finding, as `fix`."""
    if not findings:
        raise MigdoctorError("nothing to fix: no confident finding", "", exit_code=1)
    first = findings[0]
    return run_fix(first.playbook, request, dict(first.entities), fallback_destructive=False)


def run_fix(playbook: Playbook, request: FixRequest, known: dict[str, str],
            fallback_destructive: bool = True) -> int:  # fmt: skip
    """The whole flow; returns the exit code."""
    from migdoctor.wizard.choose import (
        complete_entities,
        parse_sets,
        pick_option,
        refuse_ruled_out,
        why,
    )
    from migdoctor.wizard.facts import gather
    from migdoctor.wizard.judge import judge_options
    from migdoctor.wizard.plan import choose_context

    if request.context not in (None, "local", "compose"):
        raise MigdoctorError(f"--context {request.context}: use local or compose")
    facts = gather(request.project, request.python, request.compose_files, request.environ)
    context, reason = choose_context(facts, request.context)
    prompter = _prompter()
    entities = {**known, **parse_sets(playbook, request.sets)}
    judged = judge_options(playbook, entities, facts, context, request.environ,
                           request.compose_files)  # fmt: skip
    entities = {**judged.filled, **entities}  # what the user or the text said wins
    option = pick_option(playbook, request.option, entities, fallback_destructive, judged)
    completed = complete_entities(playbook, option, entities, facts, context, prompter)
    if request.option is not None:
        if completed.keys() - entities.keys():  # values asked for: judge with them too
            judged = judge_options(playbook, completed, facts, context, request.environ,
                                   request.compose_files)  # fmt: skip
        refuse_ruled_out(option, judged)
    entities = completed
    return _plan_and_run(playbook, option, entities, facts, (context, reason), request, prompter,
                         why(option, judged))  # fmt: skip


def _out(request: FixRequest) -> Any:
    """Where the wizard talks: stderr when stdout carries JSON."""
    return sys.stderr if request.as_json else sys.stdout


def _plan_and_run(playbook: Playbook, option: Option, entities: dict[str, str], facts: Facts,
                  where: tuple[str, str], request: FixRequest, prompter: Prompter,
                  why: list[str]) -> int:  # fmt: skip
    from migdoctor.wizard import plan as planning
    from migdoctor.wizard import show
    from migdoctor.wizard.journal import state_dir
    from migdoctor.wizard.policy import Flags, decide
    from migdoctor.wizard.run import execute

    backups = state_dir(request.environ) / "backups"
    plan = planning.build(playbook, option, entities, facts, where[0], backup_dir=backups,
                          reason=where[1])  # fmt: skip
    flags = Flags(request.yes, request.allow_destructive, request.allow_production,
                  prompter.interactive)  # fmt: skip
    decision = decide(option.risk, option.dev_only, plan.production, flags)
    out = _out(request)
    others = [o.id for o in playbook.options if o.id != option.id]
    out.write(show.plan_text(plan, playbook.title, others, why))
    out.write(show.decision_text(decision, request.dry_run) + "\n")
    outcome = execute(plan, decision, _session(facts, request, prompter, out), request.dry_run)
    return _report(outcome, request, out)


def _session(facts: Facts, request: FixRequest, prompter: Prompter, out: Any) -> Any:
    from migdoctor.wizard.checks import measure
    from migdoctor.wizard.journal import Journal, journal_path
    from migdoctor.wizard.run import Session
    from migdoctor.wizard.runners import ComposeRunner, LocalRunner, RecordingRunner

    # A dry run goes through the Compose runner too: it records the argv that would run.
    runner: Any = RecordingRunner()
    if not request.dry_run:
        runner = LocalRunner(out=2 if request.as_json else 1, terminal=prompter.interactive)
    if facts.compose:
        runner = ComposeRunner(runner, facts.compose, facts.web, terminal=prompter.interactive)
    secrets = tuple(t.password for t in (facts.local, facts.docker) if t and t.password)
    return Session(runner, prompter, Journal(journal_path(request.environ)), out,
                   lambda plan: measure(plan.checks, facts.target(plan.context)), secrets)


def _report(outcome: Outcome, request: FixRequest, out: Any) -> int:
    from migdoctor.wizard import show

    out.write(show.outcome_text(outcome))
    out.flush()
    if request.as_json:
        from migdoctor.cli import _emit

        _emit(show.outcome_json(outcome))
    if outcome.status == "interrupted":
        return 130
    if outcome.status == "dry-run":
        return 0
    return 0 if outcome.verified else 1


def _prompter() -> Prompter:
    from migdoctor.wizard.prompt import TerminalPrompter

    return TerminalPrompter()


def show_history(as_json: bool) -> int:
    from migdoctor.wizard.journal import Journal, journal_path
    from migdoctor.wizard.show import history_line

    journal = Journal(journal_path())
    items = list(journal.read())
    if as_json:
        from migdoctor.cli import _emit

        _emit({"journal": str(journal.path), "entries": items})
    elif not items:
        sys.stdout.write(f"No step has run yet (journal: {journal.path}).\n")
    else:
        sys.stdout.writelines(history_line(item) + "\n" for item in items)
    return 0
