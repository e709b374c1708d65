"""The options of a playbook judged by what the project's databases and Compose services hold
now: the verdicts of `diagnose --live`, for the database this fix acts on. They choose the
option when none is given and fill the entities the probes know (the migration that adds a
column, the one before it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from migdoctor.live.verdicts import SERVICE_RULES, Verdict
from migdoctor.model import Finding, Playbook
from migdoctor.wizard.facts import Facts


@dataclass(frozen=True)
class Judgement:
    """`verdicts` best first; `filled` entity values the probes found."""

    verdicts: tuple[Verdict, ...] = ()
    filled: Mapping[str, str] = field(default_factory=dict)

    def of(self, option: str) -> Verdict | None:
        return next((v for v in self.verdicts if v.option == option), None)


NOTHING_JUDGED = Judgement()


def judge_options(playbook: Playbook, entities: Mapping[str, str], facts: Facts, context: str,
                  environ: Mapping[str, str],
                  compose_files: Sequence[str] = ()) -> Judgement:  # fmt: skip
    """Probe every database target (read-only) and, when an option depends on it, which
    Compose services run; judge the options for the target of `context`."""
    from migdoctor.live.enrich import enrich_one
    from migdoctor.live.gather import LiveOptions, gather, real_handles
    from migdoctor.probes.drift import graph_for
    from migdoctor.probes.schema_state import schema_changes

    options = LiveOptions(project=str(facts.root), compose_files=tuple(compose_files))
    live = gather(options, real_handles(environ, facts.root))
    live = replace(live, running=_running(playbook, facts, environ), db_service=facts.db)
    graph = graph_for(live.migrations, ())
    changes = schema_changes(graph, live.migrations.settings)
    target = facts.target(context)
    finding = Finding(playbook, 1.0, dict(entities), ())
    judged = enrich_one(finding, live, graph, changes, here=target.name if target else None)
    return Judgement(judged.verdicts, dict(judged.filled))


def _running(playbook: Playbook, facts: Facts, environ: Mapping[str, str]) -> frozenset[str] | None:
    """The services with a running container, asked of Compose only when an option's verdict
    depends on it (it costs a `compose ps`)."""
    from migdoctor.wizard.runners import running_services

    if not facts.compose or not any(o.id in SERVICE_RULES for o in playbook.options):
        return None
    return running_services(facts.compose, facts.root, environ)
