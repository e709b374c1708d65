"""The plan, the policy's decision and the outcome as plain text and as JSON."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from migdoctor.probes.rollback import DROPS, IRREVERSIBLE, UNKNOWN, RollbackPreview
from migdoctor.wizard.checks import MISSING, Precondition
from migdoctor.wizard.plan import Plan, PlannedStep, Rollback
from migdoctor.wizard.policy import Decision
from migdoctor.wizard.run import Outcome


def plan_text(plan: Plan, title: str, others: Iterable[str] = (),
              why: Iterable[str] = ()) -> str:  # fmt: skip
    """The plan as shown before anything runs; `why`: what the facts say of the options."""
    option = plan.option
    dev = ", development only" if option.dev_only else ""
    lines = [f"Plan: {plan.playbook} / {option.id}: {option.title} [{option.risk}{dev}]",
             *why, f"Context: {plan.context} ({plan.context_reason})"]  # fmt: skip
    if any(s.context == "compose" and s.runs for s in (*plan.steps, *plan.verify)):
        lines.append(
            "Compose: `exec` in the web service becomes `run --rm` when it is not "
            "running; without a terminal, exec and run get -T"
        )
    if plan.database:
        lines.append(
            f"Database: {plan.database}"
            + (f" (looks like production: {plan.production})" if plan.production else "")
        )
    if plan.checks:
        lines.append("Checks before:")
        lines += [f"  {_check_line(c)}" for c in plan.checks]
    lines.append("Steps:")
    lines += [_step_line(n, s, len(plan.steps)) for n, s in enumerate(plan.steps, 1)]
    if plan.rollback is not None:
        lines += rollback_lines(plan.rollback)
    lines.append("Verify after:" if plan.verify else "Verify after: nothing (no verification)")
    lines += [f"  ({s.context}) $ {s.line()}" for s in plan.verify if s.runs]
    if others:
        lines.append("Other options: " + ", ".join(others) + "  (--option ID)")
    return "\n".join(lines) + "\n"


def _check_line(check: Precondition) -> str:
    if check.kind == "check":
        mark = "ok" if check.value == check.expect else "??"
        return f"[{mark}] {check.text}: found {check.value}"
    mark = "!!" if check.value == MISSING or check.value.startswith("unreachable") else "ok"
    return f"[{mark}] {check.text}: {check.value}"


def _step_line(number: int, step: PlannedStep, total: int) -> str:
    head = f"  {number}. "
    if step.verb in ("note", "manual"):
        return f"{head}{'by hand' if step.verb == 'manual' else 'note'}: {step.text}"
    line = f"{head}({step.context}) $ {step.line()}"
    if step.missing:
        line += f"  (needs {', '.join(step.missing)})"
    if step.confirm:
        line += f"\n     asks: {step.confirm}"
    return line


def rollback_lines(rollback: Rollback) -> list[str]:
    """What the backwards `migrate` step unapplies, what that drops, and where it would stop."""
    preview, command = rollback.preview, f"`{rollback.command}`"
    if preview is None:
        return [f"Rollback: {command}: not previewed: {rollback.unread or rollback.error}"]
    if not preview.unapply:
        return [f"Rollback: {command}: nothing is applied after {preview.target_name}; "
                "nothing to unapply"]  # fmt: skip
    if rollback.fake:
        return [f"Rollback: {command} records these as unapplied, in this order; with --fake no "
                "operation runs backwards and nothing is dropped:",
                *(f"  {u.label}" for u in preview.unapply)]  # fmt: skip
    lines = [f"Rollback: {command} unapplies, in this order:"]
    lines += [f"  {u.label}{_reach(preview, u.label)}" for u in preview.unapply]
    for title, effect in (("Drops data", DROPS), ("Irreversible", IRREVERSIBLE),
                          ("Cannot be told from the files", UNKNOWN)):  # fmt: skip
        found = [f"    {u.label}: {r.detail}{_reach(preview, u.label)}"
                 for u in preview.unapply for r in u.having(effect)]  # fmt: skip
        lines += [f"  {title}:", *found] if found else []
    lines += _stop_lines(preview)
    lines += [f"  Note: {note}" for note in preview.notes]
    if rollback.after_edits:
        lines.append("  (Read from the files as they are now: a step before it changes them.)")
    return lines


def _reach(preview: RollbackPreview, label: str) -> str:
    """How far Django gets: the migration it stops at, and those after it, are not unapplied."""
    stop = preview.stop
    labels = [u.label for u in preview.unapply]
    if stop is None or labels.index(label) < labels.index(stop.label):
        return ""
    return " (Django stops here)" if label == stop.label else " (not reached)"


def _stop_lines(preview: RollbackPreview) -> list[str]:
    stop = preview.stop
    if stop is None:
        return []
    done = ", ".join(u.label for u in preview.reached) or "nothing"
    return [f"  Django will stop at {stop.label}, which it cannot reverse: by then it has "
            f"unapplied {done}, and {stop.label} stays applied."]  # fmt: skip


def rollback_json(rollback: Rollback) -> dict[str, Any]:
    """The rollback step as data: what it unapplies, in order, and where it stops."""
    preview = rollback.preview
    found: dict[str, Any] = {"command": rollback.command, "fake": rollback.fake,
                             "previewed": preview is not None,
                             "reason": rollback.unread or rollback.error or None}  # fmt: skip
    if preview is None:
        return found
    stop = preview.stop
    return {**found, "app_label": preview.app_label, "target": preview.target_name,
            "unapply": [{"migration": u.label, "path": u.path, "operations": [
                {"operation": r.operation, "line": r.line, "effect": r.effect or None,
                 "detail": r.detail} for r in u.reversals]} for u in preview.unapply],
            "stops_at": stop.label if stop else None,
            "unapplied_before_stop": [u.label for u in preview.reached] if stop else None,
            "notes": list(preview.notes)}  # fmt: skip


def decision_text(decision: Decision, dry: bool) -> str:
    if not decision.allowed:
        return f"Policy: refused: {decision.reason}"
    asks = [what for flag, what in ((decision.backup, "a checked backup first"),
                                    (decision.ask_plan, "a yes/no for the plan"),
                                    (decision.typed, "the database name typed"),
                                    (decision.ask_steps, "each step's own question"))
            if flag]  # fmt: skip
    said = "; ".join(asks) if asks else "runs without asking (--yes)"
    return f"Policy: {said}" + ("\nDry run: nothing will be run." if dry else "")


def outcome_text(outcome: Outcome) -> str:
    lines = [outcome.message]
    if outcome.backup is not None and outcome.status in ("verified", "unverified"):
        lines.append(f"Backup: {outcome.backup}\nRestore it with: {outcome.restore}")
    return "\n".join(lines) + "\n"


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    """Exactly {"playbook", "option", "steps": [{"argv", "context", "exit_code"}], "backup",
    "verified"}, and "rollback" (`rollback_json`) when a step migrates backwards."""
    found = {
        "playbook": outcome.plan.playbook,
        "option": outcome.plan.option.id,
        "steps": [
            {"argv": list(r.argv), "context": r.step.context, "exit_code": r.exit_code}
            for r in outcome.ran
        ],
        "backup": str(outcome.backup) if outcome.backup else None,
        "verified": outcome.verified,
    }
    rollback = outcome.plan.rollback
    return found if rollback is None else {**found, "rollback": rollback_json(rollback)}


def history_line(item: dict[str, Any]) -> str:
    import shlex

    argv = item.get("argv") or []
    code = item.get("exit_code")
    return (f"{item.get('time', '?')}  exit {'-' if code is None else code:<3}  "
            f"{item.get('context', '?'):7}  {item.get('playbook', '?')}/{item.get('option', '?')}"
            f"  $ {shlex.join(str(a) for a in argv)}")  # fmt: skip
