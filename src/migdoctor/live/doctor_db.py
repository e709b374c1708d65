"""The doctor's database checks: settings, each target reachable, privileges, drift."""

from __future__ import annotations

import shlex
from collections import Counter

from migdoctor.kb.loader import KnowledgeBase
from migdoctor.live.checks import Check, as_findings, from_probe, ok, skip, worst
from migdoctor.live.gather import Facts
from migdoctor.model import Finding, Step
from migdoctor.probes import ProbeFinding
from migdoctor.probes.database import DatabaseSnapshot, snapshot_findings
from migdoctor.probes.drift import KINDS, DriftItem
from migdoctor.probes.targets import Target
from migdoctor.steps import Where, command


def checks(facts: Facts, knowledge: KnowledgeBase) -> list[Check]:
    found = [settings_check(facts)]
    found += [reach_check(t, facts.results[t.name], knowledge) for t in facts.targets]
    found += [privileges_check(t, facts, knowledge) for t in facts.targets]
    found += [drift_check(t, facts, knowledge) for t in facts.targets]
    return found


def settings_check(facts: Facts) -> Check:
    title = "Database settings"
    if not facts.targets:
        return Check("database-settings", title, "fail", "no database settings found",
                     "set POSTGRES_* (or DATABASE_URL) in .env, or pass --database-url URL",
                     details=facts.notes)  # fmt: skip
    names = ", ".join(t.name for t in facts.targets)
    problems = [n for n in facts.notes if "are the same database" not in n]
    details = (*map(str, facts.targets), *facts.notes)
    if problems:
        return Check("database-settings", title, "warn", problems[0],
                     "name each database yourself: --database NAME=URL", details=details)
    same = " (the same database)" if facts.notes else ""
    return ok("database-settings", title, f"databases: {names}{same}", details)


def reach_check(
    target: Target, result: DatabaseSnapshot | ProbeFinding, knowledge: KnowledgeBase
) -> Check:
    id, title = f"database:{target.name}", f"Database {target.name}"
    if isinstance(result, ProbeFinding):
        entities = {"host": target.host, "port": str(target.port), "database": target.dbname,
                    "user": target.user}  # fmt: skip
        return from_probe(id, title, [result], knowledge, entities=entities)
    rows = result.migrations
    recorded = f"{len(rows)} migrations recorded" if rows is not None else "no django_migrations"
    return ok(id, title, f"PostgreSQL {result.server_version} at {target.redacted()}, {recorded}",
              [str(target)])


def privileges_check(target: Target, facts: Facts, knowledge: KnowledgeBase) -> Check:
    id, title = f"privileges:{target.name}", f"Privileges {target.name}"
    snap = facts.snapshots.get(target.name)
    if snap is None:
        return skip(id, title, f"{target.name} cannot be reached")
    found = list(snapshot_findings(snap))
    if found:
        entities = {"user": snap.user, "database": snap.database, "schema": "public"}
        return from_probe(id, title, found, knowledge, entities=entities)
    why = "is a superuser" if snap.superuser else "may create tables in schema public"
    return ok(id, title, f"user {snap.user} {why}")


def drift_check(target: Target, facts: Facts, knowledge: KnowledgeBase) -> Check:
    id, title = f"drift:{target.name}", f"Drift {target.name}"
    if target.name not in facts.drift:
        return skip(id, title, f"the migration history of {target.name} cannot be read")
    items = facts.drift[target.name]
    if not items:
        count = len(facts.migrations.files)
        return ok(id, title, f"all {count} migration files applied, the schema matches them")
    counts = Counter(i.kind for i in items)
    message = ", ".join(f"{counts[k]} {k}" for k in KINDS if counts[k])
    first = next(i for i in items if i.level == worst(i.level for i in items))
    return Check(id, title, worst(i.level for i in items), message,
                 drift_hint(first, target, facts), first.playbook,
                 tuple(i.cause for i in items), tuple(drift_findings(items, facts, knowledge)))


def drift_hint(item: DriftItem, target: Target, facts: Facts) -> str:
    manage = facts.project.manage_py
    where = Where(manage=str(manage.relative_to(facts.project.root)) if manage else "manage.py")
    context = "compose" if target.container else "local"
    args = {"fake-candidate": ("migrate", item.app_label, item.migration or "", "--fake"),
            "pending": ("migrate",)}.get(item.kind)  # fmt: skip
    if args is None:
        return _advice(item)
    run = shlex.join(command(Step("manage", args), {}, where).argv(context))
    return f"{'fake it' if item.kind == 'fake-candidate' else 'apply them'}: {run}"


def _advice(item: DriftItem) -> str:
    name = f"{item.app_label}.{item.migration}"
    what = f"column {item.relation}.{item.column}" if item.column else f"table {item.relation}"
    dependency = ".".join(item.dependency or ("its dependency",))
    return {
        "missing": f"re-create the {what}: re-run {name}, or restore it from a backup",
        "present": f"the {what} is already there: fake {name} once the rest of it is done, "
                   "or drop the leftover",
        "inconsistent": f"record {dependency} as applied if its changes exist, else unrecord "
                        f"{name} and migrate in order",
        "ghost": f"restore {item.app_label}/migrations/{item.migration}.py, or delete its row "
                 "from django_migrations",
    }.get(item.kind, item.cause)  # fmt: skip


def drift_findings(
    items: tuple[DriftItem, ...], facts: Facts, knowledge: KnowledgeBase
) -> list[Finding]:
    found = []
    for item in items:
        probe = ProbeFinding("drift", item.playbook, item.cause, "")
        found += as_findings([probe], knowledge, item_entities(item, facts))
    return found


def item_entities(item: DriftItem, facts: Facts) -> dict[str, str]:
    """What a drift item tells the playbook's placeholders."""
    values = {"app_label": item.app_label, "migration": item.migration,
              "relation": item.relation, "column": item.column}  # fmt: skip
    if item.kind == "missing":
        values["adding_migration"] = item.migration
    if item.dependency:
        values |= {"dependency_app": item.dependency[0], "dependency": item.dependency[1]}
    if item.kind == "ghost":
        values |= {"parent_app": item.app_label, "parent": item.migration}
    return {k: v for k, v in values.items() if v}
