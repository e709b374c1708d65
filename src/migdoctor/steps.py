"""Turn a playbook step into the exact argv for where it runs: locally or under Compose."""

from __future__ import annotations

import re
from dataclasses import dataclass

from migdoctor.model import RISK_ORDER, TEXT_VERBS, Option, Step

PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")
BACKUP_FILE = "migdoctor-backup.dump"
CONTEXTS = ("local", "compose")


@dataclass(frozen=True)
class Where:
    """How this project runs things; defaults follow the guide's layout."""

    manage: str = "src/manage.py"
    python: str = "python"
    service: str = "web"
    db_service: str = "db"
    db_superuser: str = "postgres"
    compose: tuple[str, ...] = ("docker", "compose")
    migdoctor: tuple[str, ...] = ("migdoctor",)  # how `edit` steps call migdoctor itself


@dataclass(frozen=True)
class Command:
    """A step filled with entities; `missing` names placeholders with no valid value."""

    verb: str
    local: tuple[str, ...]
    compose: tuple[str, ...]
    text: str = ""
    confirm: str = ""
    missing: tuple[str, ...] = ()
    stdout: str = ""  # a file on the host that receives the command's output (backups)

    def argv(self, context: str) -> tuple[str, ...]:
        return self.compose if context == "compose" else self.local


def fill(value: str, entities: dict[str, str]) -> tuple[str, set[str]]:
    missing = {name for name in PLACEHOLDER.findall(value) if name not in entities}
    filled = PLACEHOLDER.sub(lambda m: entities.get(m.group(1), m.group(0)), value)
    return filled, missing


def command(step: Step, entities: dict[str, str], where: Where = Where()) -> Command:
    missing: set[str] = set()
    args = []
    for arg in step.args:
        filled, gaps = fill(arg, entities)
        args.append(filled)
        missing |= gaps
    confirm, gaps = fill(step.confirm, entities)
    local, compose = _forms(step.verb, tuple(args), where, step.database)
    if step.context == "compose":
        local = ()  # this step only makes sense against the container's database
    elif step.context == "local":
        compose = ()
    text = args[0] if step.verb in TEXT_VERBS and args else ""
    stdout = BACKUP_FILE if step.verb == "backup" else ""
    return Command(step.verb, local, compose, text, confirm, tuple(sorted(missing | gaps)), stdout)


def _forms(verb: str, args: tuple[str, ...], w: Where,
           database: str = "") -> tuple[tuple[str, ...], tuple[str, ...]]:  # fmt: skip
    exec_in = (*w.compose, "exec")
    if verb == "manage":
        local = (w.python, w.manage, *args)
        return local, (*exec_in, w.service, "python", w.manage, *args)
    if verb == "compose":
        return (*w.compose, *args), (*w.compose, *args)
    # In the db container, the user and database are the ones its environment names; the SQL
    # travels as a positional argument, never inside the script.
    if verb == "psql" and database:  # server-wide SQL (CREATE DATABASE) from another database
        script = 'psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$2" -c "$1"'
        return (("psql", "-d", database, "-c", *args),
                (*exec_in, w.db_service, "sh", "-c", script, "psql", *args, database))
    if verb == "psql":
        script = 'psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "$1"'
        return ("psql", "-c", *args), (*exec_in, w.db_service, "sh", "-c", script, "psql", *args)
    if verb == "backup":
        # Written on the host: a dump inside the container would vanish with `down -v`.
        dump = 'pg_dump -U "$POSTGRES_USER" -Fc "$POSTGRES_DB"'
        return ("pg_dump", "-Fc"), (*exec_in, "-T", w.db_service, "sh", "-c", dump)
    if verb == "host":
        return args, args
    if verb == "edit":  # the project's files live on the host, whichever context runs Django
        edit = (*w.migdoctor, "edit", *args)
        return edit, edit
    return (), ()  # note, manual: shown, never run


def ranked(options: tuple[Option, ...], entities: dict[str, str]) -> list[Option]:
    """Safer before riskier; within a risk, complete options before those missing an entity;
    otherwise the order the playbook gives."""
    def key(option: Option) -> tuple[int, bool]:
        gaps = any(command(s, entities).missing for s in option.steps if s.verb not in TEXT_VERBS)
        return RISK_ORDER[option.risk], gaps

    return sorted(options, key=key)
