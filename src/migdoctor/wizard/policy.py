"""What may run, and what must be asked first: a pure table from an option's risk and the flags.

- safe: with a terminal, one yes/no for the plan; `--yes` answers it; without a terminal and
  without `--yes`, refused.
- caution: as safe, and each step's own question is asked too; `--yes` answers them all.
- destructive: a checked backup first; with a terminal, the plan, the database name typed and
  each step's own question; `--yes` never covers it; without a terminal, refused unless
  `--allow-destructive` is given.

A `dev_only` option is refused when the target looks like production (DEBUG off, or a database
host that is not local) unless `--allow-production` is given, whatever else is said.
"""

from __future__ import annotations

from dataclasses import dataclass

from migdoctor.model import Risk


@dataclass(frozen=True)
class Flags:
    """The user's answers given in advance, and whether a person can be asked at all."""

    yes: bool = False
    allow_destructive: bool = False
    allow_production: bool = False
    interactive: bool = False


@dataclass(frozen=True)
class Decision:
    """May the option run, and what to ask before: `ask_plan` one yes/no for the whole plan,
    `ask_steps` each step's own `confirm` question, `typed` the database name; `backup` a
    checked backup before the first step. `reason` says why it is refused."""

    allowed: bool
    ask_plan: bool = False
    ask_steps: bool = False
    typed: bool = False
    backup: bool = False
    reason: str = ""


def refuse(reason: str) -> Decision:
    return Decision(False, reason=reason)


def decide(risk: Risk, dev_only: bool, production: str, flags: Flags) -> Decision:
    """The decision for an option of `risk`; `production` names why the target looks like
    production ("" when it does not)."""
    if dev_only and production and not flags.allow_production:
        return refuse(f"this option is for development databases only, and the target looks "
                      f"like production ({production}); pass --allow-production if it is not")
    if risk == "destructive":
        return _destructive(flags)
    if flags.yes:
        return Decision(True)
    if not flags.interactive:
        return refuse(f"a {risk} option needs a confirmation, and there is no terminal to ask; "
                      "pass --yes to confirm in advance")
    return Decision(True, ask_plan=True, ask_steps=risk == "caution")


def _destructive(flags: Flags) -> Decision:
    if flags.interactive:
        return Decision(True, ask_plan=True, ask_steps=True, typed=True, backup=True)
    if flags.allow_destructive:
        return Decision(True, backup=True)
    return refuse("a destructive option needs the database name typed at a terminal, and there "
                  "is none (--yes never covers it); pass --allow-destructive to run it anyway, "
                  "after a backup")
