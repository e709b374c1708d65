"""Choosing what to run: the option, and every entity it needs (given with --set, taken from
the text or the probes, or asked for and validated)."""

from __future__ import annotations

from collections.abc import Callable

from migdoctor.errors import MigdoctorError
from migdoctor.match.entities import normalize_value, validate
from migdoctor.model import Option, Playbook
from migdoctor.steps import ranked
from migdoctor.wizard.facts import Facts, probe_entities
from migdoctor.wizard.judge import NOTHING_JUDGED, Judgement
from migdoctor.wizard.plan import needed
from migdoctor.wizard.prompt import Prompter


def parse_sets(playbook: Playbook, sets: tuple[str, ...]) -> dict[str, str]:
    """`--set NAME=VALUE` pairs, each a declared entity with a valid value."""
    values: dict[str, str] = {}
    for item in sets:
        name, sep, raw = item.partition("=")
        spec = playbook.entities.get(name.strip())
        if not sep or spec is None:
            names = ", ".join(sorted(playbook.entities)) or "none"
            raise MigdoctorError(f"--set {item}: not ENTITY=VALUE with an entity of "
                                 f"{playbook.id}", f"its entities: {names}")  # fmt: skip
        value = normalize_value(spec.type, raw)
        problem = validate(spec.type, value)
        if problem:
            raise MigdoctorError(f"--set {name.strip()}: {problem}")
        values[name.strip()] = value
    return values


def pick_option(playbook: Playbook, given: str | None, entities: dict[str, str],
                destructive: bool = True,
                judged: Judgement = NOTHING_JUDGED) -> Option:  # fmt: skip
    """The option named, else the best one the facts allow (not destructive when `destructive`
    is off): in the verdicts' order when there are verdicts, else safer first."""
    if given is not None:
        found = next((o for o in playbook.options if o.id == given), None)
        if found is None:
            ids = ", ".join(o.id for o in playbook.options)
            raise MigdoctorError(f"no option {given!r} in {playbook.id}", f"its options: {ids}")
        return found
    by_id = {o.id: o for o in playbook.options}
    order = ([by_id[v.option] for v in judged.verdicts if v.available] if judged.verdicts
             else ranked(playbook.options, entities))  # fmt: skip
    options = [o for o in order if destructive or o.risk != "destructive"]
    if not options:
        ruled_out = "; ".join(f"{v.option}: {v.reason}" for v in judged.verdicts
                              if not v.available)  # fmt: skip
        raise MigdoctorError(f"{playbook.id} has no option to run here"
                             + (f" ({ruled_out})" if ruled_out else ""),
                             f"choose one with: migdoctor fix {playbook.id} --option ID")
    return options[0]


def refuse_ruled_out(option: Option, judged: Judgement) -> None:
    """An option named with --option that the facts rule out is not run."""
    verdict = judged.of(option.id)
    if verdict is not None and not verdict.available:
        fits = [v.option for v in judged.verdicts if v.available]
        raise MigdoctorError(f"option {option.id} does not fit here: {verdict.reason}",
                             f"options that fit: {', '.join(fits) or 'none'}; nothing was run",
                             exit_code=1)  # fmt: skip


def why(option: Option, judged: Judgement) -> list[str]:
    """What the facts say of the chosen option and of the options they rule out."""
    lines = []
    chosen = judged.of(option.id)
    if chosen is not None and chosen.reason:
        verb = "fits" if chosen.available else "does not fit"
        lines.append(f"Facts: {option.id} {verb}: {chosen.reason}")
    lines += [f"Ruled out: {v.option}: {v.reason}" for v in judged.verdicts
              if not v.available and v.option != option.id]  # fmt: skip
    return lines


def complete_entities(playbook: Playbook, option: Option, entities: dict[str, str],
                      facts: Facts, context: str,
                      prompter: Prompter) -> dict[str, str]:  # fmt: skip
    """Every entity the option needs: given, else from the probes, else asked for."""
    wanted = needed(option)
    found = {**probe_entities(facts, context, entities), **entities}
    missing = [n for n in wanted if n not in found]
    for name in list(missing) if prompter.interactive else []:
        spec = playbook.entities[name]
        answer = prompter.ask(spec.prompt or f"{name} ({spec.type})?", _checker(spec.type))
        if answer is not None:
            found[name] = normalize_value(spec.type, answer)
            missing.remove(name)
    if missing:
        hint = " ".join(f"--set {n}=VALUE" for n in missing)
        raise MigdoctorError(f"option {option.id} needs {', '.join(missing)}", f"give {hint}")
    return {n: found[n] for n in wanted} | {k: v for k, v in entities.items()}


def _checker(kind: str) -> Callable[[str], str | None]:
    return lambda value: validate(kind, normalize_value(kind, value))
