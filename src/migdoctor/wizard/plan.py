"""The plan: an option's steps as exact argv lists with where each runs, the checks before and
the verification after. Nothing here runs anything; `run.execute` does, after the policy."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from migdoctor.errors import MigdoctorError
from migdoctor.model import TEXT_VERBS, Option, Playbook, Step
from migdoctor.probes import NodeKey, ProbeFinding
from migdoctor.probes.rollback import IRREVERSIBLE, ZERO, RollbackPreview, Unapply
from migdoctor.probes.targets import Target
from migdoctor.steps import PLACEHOLDER, Where, command, fill
from migdoctor.wizard.backup import DumpSource, backup_file, dump_argv, wait_argv
from migdoctor.wizard.checks import Precondition, preconditions
from migdoctor.wizard.facts import Facts, production

DB_TOOLS = frozenset({"psql", "host", "backup"})  # verbs that talk to the database with libpq
NEEDS_DB = frozenset({"manage", "psql", "backup"})


@dataclass(frozen=True)
class PlannedStep:
    """One step filled in: `argv` runs in `context` (local or compose); `stdout` is the host
    file its output goes to; `env` what it needs beyond its argv (never shown)."""

    verb: str
    argv: tuple[str, ...]
    context: str
    confirm: str = ""
    text: str = ""
    stdout: Path | None = None
    missing: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    source: DumpSource | None = field(default=None, repr=False, compare=False)  # backups

    @property
    def runs(self) -> bool:
        return self.verb not in TEXT_VERBS and bool(self.argv)

    def line(self) -> str:
        """The step as a user would type it."""
        if self.verb in TEXT_VERBS:
            return self.text
        redirect = f" > {shlex.quote(str(self.stdout))}" if self.stdout else ""
        return shlex.join(self.argv) + redirect


@dataclass(frozen=True)
class Rollback:
    """The plan's first `migrate APP TARGET` step that goes backwards, and what it unapplies.
    `preview` is None when the database could not be read (`unread` says why) or the target
    names no migration (`error`); `after_edits` when a step before it changes files by hand or
    with `edit`: the preview shows the files as they are now, not as the step will find them."""

    command: str
    fake: bool
    preview: RollbackPreview | None = None
    unread: str = ""
    error: str = ""
    after_edits: bool = False

    @property
    def stop(self) -> Unapply | None:
        """Where it would fail half-way: an irreversible migration, when reverse code runs
        (`--fake` runs none)."""
        return None if self.preview is None or self.fake else self.preview.stop


@dataclass(frozen=True)
class Plan:
    playbook: str
    option: Option
    context: str
    context_reason: str
    cwd: Path
    entities: Mapping[str, str]
    steps: tuple[PlannedStep, ...]
    verify: tuple[PlannedStep, ...]
    checks: tuple[Precondition, ...] = ()
    database: str = ""  # the database a destructive option changes: typed to consent
    dump: DumpSource | None = None
    production: str = ""  # why the target looks like production ("" it does not)
    problems: tuple[str, ...] = ()  # why it cannot run at all
    repairs: bool = False  # it repairs a diagnosed error: its verification must fail first
    rollback: Rollback | None = None  # a step that migrates backwards

    @property
    def backups(self) -> tuple[PlannedStep, ...]:
        return tuple(s for s in self.steps if s.verb == "backup")


def needed(option: Option) -> list[str]:
    """The entities an option's steps and verification use, in order of appearance."""
    names: dict[str, None] = {}
    for step in (*option.steps, *option.verify):
        for text in (*step.args, step.confirm):
            names.update(dict.fromkeys(PLACEHOLDER.findall(text)))
    return list(names)


def choose_context(facts: Facts, given: str | None) -> tuple[str, str]:
    """The context and why: given, else Compose when the compose files define the web service
    and a Compose CLI is installed, else local."""
    if given:
        return given, "given with --context"
    if facts.web in facts.services and facts.compose:
        return "compose", (f"detected: the compose files define the {facts.web} service and "
                           f"{' '.join(facts.compose[:2])} is installed")  # fmt: skip
    if facts.services:
        return "local", "detected: no Compose CLI is installed"
    return "local", "detected: no compose file defines a web service"


def where(facts: Facts) -> Where:
    return Where(manage=facts.manage, python=facts.python, service=facts.web,
                 db_service=facts.db, compose=facts.compose or ("docker", "compose"),
                 migdoctor=(sys.executable, "-m", "migdoctor"))  # fmt: skip


def step_context(step: Step, context: str) -> str:
    if step.context:
        return step.context
    return {"compose": "compose", "host": "local", "edit": "local"}.get(step.verb, context)


def build(playbook: Playbook, option: Option, entities: Mapping[str, str], facts: Facts,
          context: str, *, backup_dir: Path, reason: str = "",
          now: datetime | None = None) -> Plan:  # fmt: skip
    """The plan of `option` in `context`; a destructive option without a backup step gets one
    first. Dump files go to `backup_dir`, named after the database and `now`."""
    steps = option.steps
    if option.risk == "destructive" and not any(s.verb == "backup" for s in steps):
        steps = (Step("backup", ()), *steps)
    steps = _backups_placed(steps, context)
    folder, stamp = backup_dir, now or datetime.now(UTC)
    planned = _numbered_backups(tuple(_planned(s, entities, facts, context, folder, stamp)
                                      for s in steps))  # fmt: skip
    planned = _with_waits(planned, facts.dumps.get("compose"))
    verify = tuple(_planned(s, entities, facts, context, folder, stamp) for s in option.verify)
    dump = next((s.source for s in planned if s.source), _dump(facts, context, entities))
    plan = Plan(playbook.id, option, context, reason, facts.root, dict(entities), planned, verify,
                database=dump.dbname if dump else "", dump=dump,
                production=production(facts, context),
                repairs=playbook.kind == "error",
                rollback=rollback_of(steps, entities, facts, context))  # fmt: skip
    return _checked(plan, playbook, facts)


def _migrate_back(step: Step, entities: Mapping[str, str]) -> tuple[str, str, bool] | None:
    """`(app, target, fake)` of a `manage migrate APP TARGET` step that changes the database
    (not `--plan`); None for any other step."""
    filled = [fill(arg, dict(entities)) for arg in step.args]
    args = [arg for arg, _ in filled]
    gaps = any(missing for _, missing in filled)  # a problem of its own already
    if step.verb != "manage" or args[:1] != ["migrate"] or "--plan" in args or gaps:
        return None
    named = [a for a in args[1:] if not a.startswith("-")]
    return (named[0], named[1], "--fake" in args) if len(named) == 2 else None


def rollback_of(steps: tuple[Step, ...], entities: Mapping[str, str], facts: Facts,
                context: str) -> Rollback | None:  # fmt: skip
    """The first step that would migrate backwards on the database it runs against, with what
    it would unapply; read-only (the migration files, the database's `django_migrations`)."""
    for i, step in enumerate(steps):
        found = _migrate_back(step, entities)
        if found is None:
            continue
        app, target, fake = found
        edits = any(s.verb in ("manual", "edit") for s in steps[:i])
        line = shlex.join(["migrate", app, target, *(["--fake"] if fake else [])])
        rollback = Rollback(line, fake, after_edits=edits)
        applied = _applied(facts.target(step_context(step, context)))
        if isinstance(applied, str):  # unread: only a `zero` target is surely backwards
            return replace(rollback, unread=applied) if target == ZERO else None
        preview = _preview(facts, applied, app, target)
        if isinstance(preview, str):
            return replace(rollback, error=preview)
        if preview.backwards:
            return replace(rollback, preview=preview)
    return None


def _applied(target: Target | None) -> set[NodeKey] | str:
    """The migrations the database has applied, or why they could not be read."""
    from migdoctor.probes.database import probe
    from migdoctor.probes.drift import applied_keys

    if target is None:
        return "no database found for this context"
    snapshot = probe(target)
    if isinstance(snapshot, ProbeFinding):
        return f"the {target.name} database could not be read ({snapshot.label})"
    if snapshot.migrations_unreadable:
        return f"django_migrations of the {target.name} database may not be read"
    return applied_keys(snapshot)


def _preview(facts: Facts, applied: set[NodeKey], app: str,
             target: str) -> RollbackPreview | str:  # fmt: skip
    """The preview over the project's migration files as they are now, or why there is none."""
    from migdoctor.probes.drift import graph_for, load_project
    from migdoctor.probes.migration_files import discover
    from migdoctor.probes.rollback import preview_rollback

    manage = facts.root / facts.manage
    migrations, _ = load_project(discover(manage.parent if manage.is_file() else facts.root))
    try:
        return preview_rollback(graph_for(migrations, applied), applied, app, target,
                                migrations.settings)  # fmt: skip
    except MigdoctorError as exc:
        return exc.message


def _backups_placed(steps: tuple[Step, ...], context: str) -> tuple[Step, ...]:
    """A backup without a context backs up the database the next step works on: before
    `compose down -v` the container's, before `dropdb` the local one."""
    placed = list(steps)
    for i, step in enumerate(placed):
        if step.verb == "backup" and not step.context:
            after = next(
                (s for s in placed[i + 1 :] if s.verb not in (*TEXT_VERBS, "backup")), None
            )
            placed[i] = replace(step, context=step_context(after, context) if after else context)
    return tuple(placed)


def _dump(facts: Facts, context: str, entities: Mapping[str, str]) -> DumpSource | None:
    dump = facts.dumps.get(context)
    if dump is not None and context == "local" and entities.get("database"):
        dump = replace(dump, dbname=entities["database"])
    return dump


def _planned(step: Step, entities: Mapping[str, str], facts: Facts, context: str,
             folder: Path, now: datetime) -> PlannedStep:  # fmt: skip
    ctx = step_context(step, context)
    cmd = command(step, dict(entities), where(facts))
    env = _libpq_env(facts.dumps.get("local")) if ctx == "local" and step.verb in DB_TOOLS else {}
    if step.verb != "backup":
        return PlannedStep(step.verb, cmd.argv(ctx), ctx, cmd.confirm, cmd.text,
                           missing=cmd.missing, env=env)  # fmt: skip
    source = _dump(facts, ctx, entities)
    if source is None:
        return PlannedStep("backup", (), ctx, cmd.confirm, missing=("a database to back up",))
    return PlannedStep("backup", dump_argv(source), ctx, cmd.confirm,
                       stdout=backup_file(folder, source, now), env=source.env,
                       source=source)  # fmt: skip


def _with_waits(steps: tuple[PlannedStep, ...], db: DumpSource | None) -> tuple[PlannedStep, ...]:
    """After `compose up` (or start, restart), a step that waits for the db service's
    PostgreSQL, when a later step needs the database: `up -d` returns before it is ready."""
    if db is None:
        return steps
    out: list[PlannedStep] = []
    for i, step in enumerate(steps):
        out.append(step)
        starts = step.verb == "compose" and bool(set(step.argv) & {"up", "start", "restart"})
        if starts and any(s.verb in NEEDS_DB and s.runs for s in steps[i + 1 :]):
            out.append(
                PlannedStep(
                    "wait",
                    wait_argv(db),
                    "compose",
                    text="wait until the database accepts connections",
                )
            )
    return tuple(out)


def _numbered_backups(steps: tuple[PlannedStep, ...]) -> tuple[PlannedStep, ...]:
    """Two backups in one plan get two files."""
    files = [s.stdout for s in steps if s.verb == "backup" and s.stdout]
    if len(files) < 2:
        return steps
    out, n = [], 0
    for s in steps:
        if s.verb == "backup" and s.stdout:
            n += 1
            s = replace(s, stdout=s.stdout.with_name(f"{s.stdout.stem}-{n}{s.stdout.suffix}"))
        out.append(s)
    return tuple(out)


def _libpq_env(dump: DumpSource | None) -> dict[str, str]:
    """Local database tools (psql, dropdb, createdb) reach the local target through libpq's
    environment; the password stays out of their argv."""
    if dump is None:
        return {}
    pairs = {"PGHOST": dump.host, "PGPORT": str(dump.port), "PGUSER": dump.user,
             "PGDATABASE": dump.dbname, "PGPASSWORD": dump.password}  # fmt: skip
    return {k: v for k, v in pairs.items() if v}


def _checked(plan: Plan, playbook: Playbook, facts: Facts) -> Plan:
    from migdoctor.wizard.checks import measure

    runs = [s for s in (*plan.steps, *plan.verify) if s.runs]
    local_manage = any(s.verb == "manage" and s.context == "local" for s in runs)
    manage = facts.manage if local_manage else None
    target = facts.target(plan.context)
    items = preconditions((s.argv for s in runs), facts.root, manage, target, playbook.checks,
                          plan.entities)  # fmt: skip
    checks = measure(items, target)
    return replace(plan, checks=checks, problems=tuple(_problems(plan, checks, facts)))


def _problems(plan: Plan, checks: tuple[Precondition, ...], facts: Facts) -> list[str]:
    found = []
    for step in (*plan.steps, *plan.verify):
        if step.missing:
            found.append(f"`{step.line()}` needs {', '.join(step.missing)}")
        elif step.verb not in TEXT_VERBS and not step.argv:
            found.append(f"a {step.verb} step has no form in the {step.context} context")
    if not facts.compose and any(s.context == "compose" and s.runs for s in plan.steps):
        found.append(
            "a step runs through Compose, and neither `docker compose` nor "
            "`docker-compose` is installed"
        )
    found += [f"{c.text}: not found" for c in checks if c.blocking]
    return found + _rollback_problems(plan.rollback)


def _rollback_problems(rollback: Rollback | None) -> list[str]:
    """A rollback that would fail half-way is refused before anything runs. Unless a step
    before it changes the files first (they are read as they are now), or it is `--fake`."""
    if rollback is None or rollback.after_edits:
        return []
    if rollback.error:
        return [f"`{rollback.command}`: {rollback.error}"]
    stop = rollback.stop
    if stop is None or rollback.preview is None:
        return []
    why = "; ".join(r.detail for r in stop.having(IRREVERSIBLE))
    before = ", ".join(u.label for u in rollback.preview.reached)
    return [
        f"`{rollback.command}` would stop at {stop.label}: irreversible ({why})"
        + (f", after unapplying {before}" if before else "")
    ]
