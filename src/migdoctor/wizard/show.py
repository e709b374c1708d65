"""The plan, the policy's decision and the outcome as plain text and as JSON."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from migdoctor.wizard.checks import MISSING, Precondition
from migdoctor.wizard.plan import Plan, PlannedStep
from migdoctor.wizard.policy import Decision
from migdoctor.wizard.run import Outcome


def plan_text(plan: Plan, title: str, others: Iterable[str] = ()) -> str:
    option = plan.option
    dev = ", development only" if option.dev_only else ""
    lines = [f"Plan: {plan.playbook} / {option.id}: {option.title} [{option.risk}{dev}]",
             f"Context: {plan.context} ({plan.context_reason})"]  # fmt: skip
    if any(s.context == "compose" and s.runs for s in (*plan.steps, *plan.verify)):
        lines.append("Compose: `exec` in the web service becomes `run --rm` when it is not "
                     "running; without a terminal, exec and run get -T")
    if plan.database:
        lines.append(f"Database: {plan.database}"
                     + (f" (looks like production: {plan.production})" if plan.production else ""))
    if plan.checks:
        lines.append("Checks before:")
        lines += [f"  {_check_line(c)}" for c in plan.checks]
    lines.append("Steps:")
    lines += [_step_line(n, s, len(plan.steps)) for n, s in enumerate(plan.steps, 1)]
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
    "verified"}."""
    return {
        "playbook": outcome.plan.playbook,
        "option": outcome.plan.option.id,
        "steps": [{"argv": list(r.argv), "context": r.step.context, "exit_code": r.exit_code}
                  for r in outcome.ran],
        "backup": str(outcome.backup) if outcome.backup else None,
        "verified": outcome.verified,
    }


def history_line(item: dict[str, Any]) -> str:
    import shlex

    argv = item.get("argv") or []
    code = item.get("exit_code")
    return (f"{item.get('time', '?')}  exit {'-' if code is None else code:<3}  "
            f"{item.get('context', '?'):7}  {item.get('playbook', '?')}/{item.get('option', '?')}"
            f"  $ {shlex.join(str(a) for a in argv)}")  # fmt: skip
