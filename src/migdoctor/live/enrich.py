"""`diagnose --live`: a pasted error's findings confirmed and completed by the probes.

For each finding: is its table or column there in each database; which migration touches it
(filling `{app_label}`, `{migration}` and the like when the text lacked them); what the drift of
each database says about it; and its options judged and re-ranked (`verdicts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from migdoctor.live.gather import Facts
from migdoctor.live.verdicts import Subject, Verdict, judge, same_migration
from migdoctor.model import Finding, Option
from migdoctor.probes import NodeKey
from migdoctor.probes.drift import DriftItem, graph_for
from migdoctor.probes.migration_graph import MigrationGraph
from migdoctor.probes.schema_state import SchemaChange, history, schema_changes
from migdoctor.report import finding_json, option_json

_PREFERRED = {  # drift kinds whose migration is the one the error is about, best first
    "duplicate": ("fake-candidate", "present", "pending"),
    "undefined": ("fake-candidate", "present", "missing", "pending"),
    "inconsistent-history": ("inconsistent",),
}


@dataclass(frozen=True)
class LiveFinding:
    finding: Finding  # with the entities the probes filled in
    subject: Subject
    filled: Mapping[str, str]
    touched_by: tuple[NodeKey, ...]
    targets: Mapping[str, Mapping[str, object]]
    verdicts: tuple[Verdict, ...]  # ranked: the options in this order

    def options(self) -> list[Option]:
        by_id = {o.id: o for o in self.finding.playbook.options}
        return [replace(by_id[v.option], risk=v.risk) for v in self.verdicts]

    def as_json(self) -> dict[str, Any]:
        data = finding_json(self.finding)
        data["options"] = [option_json(o, self.finding.entities) for o in self.options()]
        data["live"] = {
            "relation": self.subject.relation, "column": self.subject.column,
            "migration": _dotted(self.subject.key), "filled": dict(self.filled),
            "touched_by": [_dotted(k) for k in self.touched_by],
            "targets": {n: dict(t) for n, t in self.targets.items()},
            "drift": [i.as_dict() | {"cause": i.cause} for i in self.subject.items],
            "options": [{"id": v.option, "available": v.available, "risk": v.risk,
                         "reason": v.reason} for v in self.verdicts],
        }  # fmt: skip
        return data


def _dotted(key: NodeKey | None) -> str | None:
    return f"{key[0]}.{key[1]}" if key else None


def enrich(findings: list[Finding], facts: Facts) -> list[LiveFinding]:
    graph = graph_for(facts.migrations, ())
    changes = schema_changes(graph, facts.migrations.settings)
    return [enrich_one(f, facts, graph, changes) for f in findings]


def enrich_one(
    finding: Finding, facts: Facts, graph: MigrationGraph, changes: list[SchemaChange],
    here: str | None = None,
) -> LiveFinding:
    """`finding` completed and its options judged; `here`: the target a fix would act on."""
    entities = finding.entities
    relation, column = _names(entities, changes)
    touched = history(changes, relation, column) if relation else []
    items = _related(facts, relation, column, entities)
    key = _chosen(finding.playbook.id, entities, facts, items, touched)
    adders = tuple(c.node for c in touched if c.action in ("created", "renamed"))
    subject = Subject(relation, column, key, tuple(items), graph, here, dict(entities), adders)
    filled = _fill(finding, subject, touched)
    verdicts = judge(finding.playbook, subject, facts, {**entities, **filled})
    completed = replace(finding, entities={**entities, **filled})
    keys = tuple(dict.fromkeys(c.node for c in touched))
    return LiveFinding(completed, subject, filled, keys, _targets(facts, subject), verdicts)


def _names(entities: Mapping[str, str], changes: list[SchemaChange]) -> tuple[str | None, ...]:
    """The table (without its schema) and column; a lone column's table when only one has it."""
    relation = entities.get("relation", "").rpartition(".")[2] or None
    column = entities.get("column")
    if relation is None and column:
        tables = {c.table for c in changes if c.column == column}
        relation = tables.pop() if len(tables) == 1 else None
    return relation, column


def _related(
    facts: Facts, relation: str | None, column: str | None, entities: Mapping[str, str]
) -> list[DriftItem]:
    """Drift items about this table or column, or about a migration the text names."""
    named = [(entities.get(a), entities.get(m)) for a, m in (
        ("app_label", "migration"), ("dependency_app", "dependency"))]  # fmt: skip
    found = []
    for item in (i for items in facts.drift.values() for i in items):
        same_place = relation is not None and item.relation == relation and (
            column is None or item.column in (column, None))
        named_here = any(name and item.app_label == app and same_migration(item.migration, name)
                             for app, name in named)  # fmt: skip
        if same_place or named_here:
            found.append(item)
    return found


def _chosen(
    playbook: str, entities: Mapping[str, str], facts: Facts, items: list[DriftItem],
    touched: list[SchemaChange],
) -> NodeKey | None:
    """The migration the error is about: the text's, else the drift's, else the last creator."""
    app, name = entities.get("app_label"), entities.get("migration")
    if app and name:
        full = [n for n in facts.migrations.names(app) if n == name or n.startswith(f"{name}_")]
        return (app, full[0] if len(full) == 1 else name)
    family = playbook if playbook == "inconsistent-history" else playbook.partition("-")[0]
    for kind in _PREFERRED.get(family, ()):
        match = [i for i in items if i.kind == kind and i.migration]
        if match:
            return (match[0].app_label, match[0].migration or "")
    made = [c for c in touched if c.action in ("created", "renamed")]
    return made[-1].node if made else None


def _fill(finding: Finding, subject: Subject, touched: list[SchemaChange]) -> dict[str, str]:
    """Entity values the text lacked and the probes know, for the playbook's placeholders."""
    known: dict[str, str] = {}
    if subject.key:
        known |= {"app_label": subject.key[0], "migration": subject.key[1]}
    if subject.relation and "relation" not in finding.entities:
        known["relation"] = subject.relation
    made = [c.node for c in touched if c.action in ("created", "renamed")]
    if made:
        known["adding_migration"] = made[-1][1]
        before = subject.parent(made[-1])
        known |= {"before_adding": before[1]} if before else {}
    inconsistent = [i for i in subject.items if i.dependency]
    if inconsistent and inconsistent[0].dependency:
        known |= dict(zip(("dependency_app", "dependency"), inconsistent[0].dependency,
                          strict=True))  # fmt: skip
    declared = finding.playbook.entities
    return {k: v for k, v in known.items() if k in declared and k not in finding.entities}


def _targets(facts: Facts, subject: Subject) -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = {}
    for name, failure in facts.failures.items():
        found[name] = {"reachable": False, "playbook": failure.label, "message": failure.message}
    for name, snap in facts.snapshots.items():
        table = snap.has_table(subject.relation) if subject.relation else None
        column = (snap.has_column(subject.relation, subject.column)
                  if subject.relation and subject.column else None)  # fmt: skip
        applied = (subject.key[1] in snap.applied(subject.key[0])) if subject.key else None
        found[name] = {"reachable": True, "table": table, "column": column,
                       "migration_applied": applied}  # fmt: skip
    return {t.name: found[t.name] for t in facts.targets if t.name in found}
