"""Options judged by what the databases and the Compose services really hold, then ranked.

Faking is offered, and shown as `safe`, only when every change of the migration is already in a
database where it is not applied (a drift `fake-candidate`); otherwise it is unavailable and says
why. Options the facts support come first, unavailable ones last, risk and order otherwise.
A fix acts on one database (`Subject.here`): an option whose work is only needed elsewhere is
unavailable there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from migdoctor.live.gather import Facts
from migdoctor.model import RISK_ORDER, TEXT_VERBS, Option, Playbook, Risk
from migdoctor.probes import NodeKey
from migdoctor.probes.database import DatabaseSnapshot
from migdoctor.probes.drift import DriftItem
from migdoctor.probes.migration_graph import MigrationGraph
from migdoctor.steps import command


@dataclass(frozen=True)
class Subject:
    """What a finding is about: a table or column, the migration, the drift that concerns them."""

    relation: str | None
    column: str | None
    key: NodeKey | None
    items: tuple[DriftItem, ...]
    graph: MigrationGraph
    here: str | None = None  # the target a fix would act on; None: every target alike
    entities: Mapping[str, str] = field(default_factory=dict)
    adders: tuple[NodeKey, ...] = ()  # the migrations that create the table or column

    @property
    def what(self) -> str:
        if self.relation and self.column:
            return f"column {self.relation}.{self.column}"
        return f"table {self.relation}" if self.relation else "the migration's changes"

    @property
    def name(self) -> str:
        return f"{self.key[0]}.{self.key[1]}" if self.key else "the migration"

    def kinds(self, *kinds: str) -> list[DriftItem]:
        """Items of these kinds, about the chosen migration when there is one."""
        return [i for i in self.items if i.kind in kinds
                and (self.key is None or (i.app_label, i.migration) == self.key)]  # fmt: skip

    def parent(self, key: NodeKey) -> NodeKey | None:
        """The migration of the same app that `key` depends on."""
        same = sorted(e.parent for e in self.graph.edges
                      if e.child == key and e.parent[0] == key[0])  # fmt: skip
        return same[-1] if same else None


@dataclass(frozen=True)
class Verdict:
    option: str
    available: bool
    risk: Risk
    reason: str = ""
    confirmed: bool = False  # the facts point at this option


def _targets(items: list[DriftItem]) -> str:
    return ", ".join(dict.fromkeys(i.target for i in items))


def _fake(subject: Subject, facts: Facts, option: Option) -> Verdict | None:
    if subject.key is None and subject.relation is None:
        return None  # nothing named: nothing to judge
    found = subject.kinds("fake-candidate")
    if found:
        return Verdict(option.id, True, "safe", f"every change of {subject.name} is already in "
                       f"{_targets(found)}, where it is not applied", confirmed=True)
    return Verdict(option.id, False, option.risk, _why_not_fake(subject, facts))


def _why_not_fake(subject: Subject, facts: Facts) -> str:
    if subject.key is None:
        return f"no migration file touches {subject.what}"
    missing, partial = subject.kinds("missing"), subject.kinds("present")
    if missing:
        return (f"the {subject.what} is missing in {_targets(missing)}: faking would record "
                "work that was never done")
    if partial:
        return f"only part of {subject.name}'s changes is in {_targets(partial)}"
    snaps = facts.snapshots.values()
    if snaps and all(subject.key[1] in s.applied(subject.key[0]) for s in snaps):
        return f"{subject.name} is already applied in {', '.join(facts.snapshots)}"
    return f"the changes of {subject.name} are not in the database: run it instead"


def _fake_initial(subject: Subject, facts: Facts, option: Option) -> Verdict | None:
    migration = subject.graph.files.get(subject.key) if subject.key else None
    if migration is not None and not (migration.initial or migration.name.startswith("0001")):
        return Verdict(option.id, False, option.risk, f"{subject.name} is not an initial migration")
    return _fake(subject, facts, option)


def _apply(subject: Subject, facts: Facts, option: Option) -> Verdict | None:
    ahead = subject.kinds("fake-candidate", "present")
    if ahead:
        return Verdict(option.id, False, option.risk, f"migrate would run {subject.name} and "
                       f"fail: its {subject.what} is already there in {_targets(ahead)}")
    if _no_adder(subject, facts):
        return Verdict(option.id, False, option.risk, f"no migration file creates the "
                       f"{subject.what}: migrate has nothing to run")
    missing = subject.kinds("missing")
    if missing:
        return Verdict(option.id, False, option.risk, f"{subject.name}, which creates the "
                       f"{subject.what}, is already applied in {_targets(missing)}: migrate "
                       "has nothing to run")
    pending = subject.kinds("pending")
    if pending and _elsewhere(subject, pending):
        return Verdict(option.id, False, option.risk, f"{subject.name} is already applied in "
                       f"{subject.here}; only {_targets(pending)} lacks it")
    if pending:
        return Verdict(option.id, True, option.risk, f"{subject.name} is not applied in "
                       f"{_targets(pending)}", confirmed=True)
    return None


def _elsewhere(subject: Subject, items: list[DriftItem]) -> bool:
    """The drift is in other databases only, not in the one the fix acts on."""
    return subject.here is not None and all(i.target != subject.here for i in items)


def _no_adder(subject: Subject, facts: Facts) -> bool:
    """A table or column no migration file creates, missing in the database: the models have
    it and nobody ran `makemigrations`."""
    snaps = [s for n, s in facts.snapshots.items() if subject.here in (None, n)]
    return (subject.relation is not None and not subject.adders and bool(snaps)
            and not any(_has(s, subject) for s in snaps))  # fmt: skip


def _make(subject: Subject, facts: Facts, option: Option) -> Verdict | None:
    if _no_adder(subject, facts):
        return Verdict(option.id, True, option.risk, f"no migration file creates the "
                       f"{subject.what}, and the database lacks it", confirmed=True)
    if subject.adders:
        first = subject.adders[-1]
        return Verdict(option.id, False, option.risk, f"{first[0]}.{first[1]} creates the "
                       f"{subject.what} already")
    return None


def _in_container(subject: Subject, facts: Facts, option: Option) -> Verdict | None:
    split = [i for i in subject.kinds("pending") if i.playbook == "local-vs-docker-database"]
    if split:
        return Verdict(option.id, True, option.risk, f"{subject.name} is applied in one "
                       f"database but not in {_targets(split)}", confirmed=True)
    if subject.key and len(facts.snapshots) > 1 and all(
            subject.key[1] in s.applied(subject.key[0]) for s in facts.snapshots.values()):
        return Verdict(option.id, False, option.risk, f"{subject.name} is applied in "
                       f"{', '.join(facts.snapshots)} alike")
    return None


def _dependency(subject: Subject) -> tuple[set[NodeKey | None], list[DriftItem]]:
    """The dependencies an inconsistent history lacks, and those whose changes are all there."""
    wanted = {i.dependency for i in subject.kinds("inconsistent")}
    ready = [i for i in subject.items if i.kind == "fake-candidate"
             and (i.app_label, i.migration) in wanted]  # fmt: skip
    return wanted, ready


def _record_dependency(subject: Subject, facts: Facts, option: Option) -> Verdict | None:
    wanted, ready = _dependency(subject)
    if ready:
        return Verdict(option.id, True, option.risk, f"every change of {ready[0].app_label}."
                       f"{ready[0].migration} is already in {_targets(ready)}", confirmed=True)
    if wanted:
        return Verdict(option.id, False, option.risk, "the changes of the dependency are not "
                       "all in the database: apply it for real (reapply in order)")
    return None


def _reapply(subject: Subject, facts: Facts, option: Option) -> Verdict | None:
    wanted, ready = _dependency(subject)
    if ready:
        return Verdict(option.id, False, option.risk, "the dependency's changes are already "
                       "there: record it instead of running it again")
    if wanted:
        return Verdict(option.id, True, option.risk, "the dependency's changes are not in the "
                       "database: it must run for real", confirmed=True)
    return None


def _rerun(subject: Subject, facts: Facts, option: Option) -> Verdict | None:
    missing = subject.kinds("missing")
    if missing and _elsewhere(subject, missing):
        return Verdict(option.id, False, option.risk, f"the {subject.what} is there in "
                       f"{subject.here}; only {_targets(missing)} lacks it")
    if missing:
        return Verdict(option.id, True, option.risk, f"{subject.name} is applied but the "
                       f"{subject.what} is missing in {_targets(missing)}", confirmed=True)
    if subject.relation and facts.snapshots and all(
            _has(s, subject) for s in facts.snapshots.values()):
        return Verdict(option.id, False, option.risk, f"the {subject.what} exists in "
                       f"{', '.join(facts.snapshots)}")
    return None


def _has(snap: DatabaseSnapshot, subject: Subject) -> bool:
    if subject.relation is None:
        return False
    if subject.column:
        return snap.has_column(subject.relation, subject.column)
    return snap.has_table(subject.relation)


def _start(service_of: Callable[[Subject, Facts], str | None]) -> Rule:
    """Starting a service fits when it is not running, and is pointless when it is."""

    def rule(subject: Subject, facts: Facts, option: Option) -> Verdict | None:
        service = service_of(subject, facts)
        if facts.running is None or not service:
            return None
        if service in facts.running:
            return Verdict(option.id, False, option.risk, f"the {service} service is running "
                           "already")  # fmt: skip
        return Verdict(option.id, True, option.risk, f"the {service} service is not running",
                       confirmed=True)  # fmt: skip

    return rule


def _squash(subject: Subject, facts: Facts, option: Option) -> Verdict | None:
    """Squash only what every database has applied: a database that has not would run the
    squashed migration and its originals' replacement logic would not match its history."""
    app, last = subject.entities.get("app_label"), subject.entities.get("migration")
    if not app or not last:
        return None
    first = subject.entities.get("start_migration", "0001")
    names = sorted(n for a, n in subject.graph.files if a == app)
    start = next((i for i, n in enumerate(names) if same_migration(n, first)), None)
    end = next((i for i, n in enumerate(names) if same_migration(n, last)), None)
    if start is None or end is None or start > end:
        return Verdict(option.id, False, option.risk, f"no range {first}..{last} in {app}'s "
                       "migration files")
    span = names[start:end + 1]
    if facts.failures:
        return Verdict(option.id, False, option.risk, f"{', '.join(facts.failures)} could not "
                       "be read: squash only what every database has applied")
    for target, snap in facts.snapshots.items():
        lacking = [n for n in span if n not in snap.applied(app)]
        if lacking:
            more = f" and {len(lacking) - 1} more" if len(lacking) > 1 else ""
            return Verdict(option.id, False, option.risk, f"{target} has not applied "
                           f"{app}.{lacking[0]}{more}: squash only what every database has "
                           "applied")
    return Verdict(option.id, True, option.risk, f"{', '.join(facts.snapshots)} applied "
                   f"{app}.{span[0]} to {span[-1]}", confirmed=True)


def same_migration(name: str | None, given: str) -> bool:
    """`0002` names `0002_article_slug`, as it does for `migrate`."""
    return name is not None and (name == given or name.startswith(f"{given}_"))


Rule = Callable[[Subject, Facts, Option], "Verdict | None"]
def _create_db(subject: Subject, facts: Facts, option: Option) -> Verdict | None:
    missing = [n for n, f in facts.failures.items()
               if f.label == "db-missing" and subject.here in (None, n)]  # fmt: skip
    if missing:
        return Verdict(option.id, True, option.risk, f"the server of {', '.join(missing)} "
                       "answers and says the database does not exist", confirmed=True)
    if subject.here in facts.snapshots:
        return Verdict(option.id, False, option.risk, f"the {subject.here} database exists")
    return None


# Judged from what answers (the Compose services, the database servers), not from what a
# database holds: they apply even when no database can be read.
SERVICE_RULES: Final[Mapping[str, Rule]] = {
    "start-db-service": _start(lambda subject, facts: facts.db_service),
    "start-service": _start(lambda subject, facts: subject.entities.get("service")),
    "create-database": _create_db,
}
DATABASE_RULES: Final[Mapping[str, Rule]] = {
    "fake-migration": _fake, "fake-one-migration": _fake, "find-and-fake-migration": _fake,
    "fake-initial": _fake_initial, "record-dependency-as-applied": _record_dependency,
    "reapply-in-order": _reapply,
    "apply-pending-migrations": _apply, "migrate-in-container": _in_container,
    "rerun-adding-migration": _rerun, "rerun-app-migrations": _rerun,
    "squash-range": _squash, "make-and-apply-migration": _make,
}  # fmt: skip


def judge(
    playbook: Playbook, subject: Subject, facts: Facts, entities: dict[str, str]
) -> tuple[Verdict, ...]:
    """A verdict per option, best first; an option no rule speaks for is available."""
    verdicts = []
    for option in playbook.options:
        # Without a readable database the database rules have nothing to go on.
        rule = DATABASE_RULES.get(option.id) if facts.snapshots else None
        rule = rule or SERVICE_RULES.get(option.id)
        verdict = rule(subject, facts, option) if rule else None
        verdicts.append(verdict or Verdict(option.id, True, option.risk))
    index = {o.id: i for i, o in enumerate(playbook.options)}
    gaps = {o.id: any(command(s, entities).missing for s in o.steps if s.verb not in TEXT_VERBS)
            for o in playbook.options}  # fmt: skip
    return tuple(sorted(verdicts, key=lambda v: (not v.available, not v.confirmed,
                                                 RISK_ORDER[v.risk], gaps[v.option],
                                                 index[v.option])))
