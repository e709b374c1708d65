"""The policy table: every risk x flag combination gives exactly one decision."""

from __future__ import annotations

import itertools

import pytest

from migdoctor.wizard.policy import Decision, Flags, decide

NO_TERMINAL_SAFE = ("a safe option needs a confirmation, and there is no terminal to ask; "
                    "pass --yes to confirm in advance")
NO_TERMINAL_CAUTION = NO_TERMINAL_SAFE.replace("a safe", "a caution")
NO_TERMINAL_DESTRUCTIVE = (
    "a destructive option needs the database name typed at a terminal, and there is none "
    "(--yes never covers it); pass --allow-destructive to run it anyway, after a backup")
PRODUCTION = ("this option is for development databases only, and the target looks like "
              "production (DEBUG is off); pass --allow-production if it is not")

ASK_PLAN = Decision(True, ask_plan=True)
ASK_ALL = Decision(True, ask_plan=True, ask_steps=True)
TYPED = Decision(True, ask_plan=True, ask_steps=True, typed=True, backup=True)
BACKUP_ONLY = Decision(True, backup=True)
RUN = Decision(True)

# risk, yes, allow_destructive, interactive -> decision (not dev_only, not production)
TABLE = [
    ("safe", False, False, True, ASK_PLAN),
    ("safe", False, False, False, Decision(False, reason=NO_TERMINAL_SAFE)),
    ("safe", False, True, True, ASK_PLAN),
    ("safe", False, True, False, Decision(False, reason=NO_TERMINAL_SAFE)),
    ("safe", True, False, True, RUN),
    ("safe", True, False, False, RUN),
    ("safe", True, True, True, RUN),
    ("safe", True, True, False, RUN),
    ("caution", False, False, True, ASK_ALL),
    ("caution", False, False, False, Decision(False, reason=NO_TERMINAL_CAUTION)),
    ("caution", False, True, True, ASK_ALL),
    ("caution", False, True, False, Decision(False, reason=NO_TERMINAL_CAUTION)),
    ("caution", True, False, True, RUN),
    ("caution", True, False, False, RUN),
    ("caution", True, True, True, RUN),
    ("caution", True, True, False, RUN),
    ("destructive", False, False, True, TYPED),
    ("destructive", False, False, False, Decision(False, reason=NO_TERMINAL_DESTRUCTIVE)),
    ("destructive", False, True, True, TYPED),
    ("destructive", False, True, False, BACKUP_ONLY),
    ("destructive", True, False, True, TYPED),
    ("destructive", True, False, False, Decision(False, reason=NO_TERMINAL_DESTRUCTIVE)),
    ("destructive", True, True, True, TYPED),
    ("destructive", True, True, False, BACKUP_ONLY),
]


def _id(row: tuple[object, ...]) -> str:
    risk, yes, allow, tty = row[:4]
    flags = [name for name, on in (("yes", yes), ("allow-destructive", allow)) if on]
    return "-".join([str(risk), *flags, "tty" if tty else "no-tty"])


@pytest.mark.parametrize(("risk", "yes", "allow_destructive", "interactive", "expected"),
                         TABLE, ids=[_id(r) for r in TABLE])  # fmt: skip
@pytest.mark.parametrize("dev_only", [False, True], ids=["any-target", "dev-only-dev-target"])
@pytest.mark.parametrize("allow_production", [False, True], ids=["", "allow-production"])
def test_risk_and_flags(risk: str, yes: bool, allow_destructive: bool, interactive: bool,
                        expected: Decision, dev_only: bool, allow_production: bool) -> None:
    """On a target that does not look like production, dev_only and --allow-production change
    nothing."""
    flags = Flags(yes, allow_destructive, allow_production, interactive)
    assert decide(risk, dev_only, "", flags) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("row", TABLE, ids=[_id(r) for r in TABLE])
def test_dev_only_on_a_production_target_is_refused(row: tuple[object, ...]) -> None:
    risk, yes, allow, tty, _ = row
    flags = Flags(bool(yes), bool(allow), False, bool(tty))
    assert decide(risk, True, "DEBUG is off", flags) == Decision(False, reason=PRODUCTION)  # type: ignore[arg-type]


@pytest.mark.parametrize("row", TABLE, ids=[_id(r) for r in TABLE])
def test_allow_production_lets_the_table_decide(row: tuple[object, ...]) -> None:
    risk, yes, allow, tty, expected = row
    flags = Flags(bool(yes), bool(allow), True, bool(tty))
    assert decide(risk, True, "DEBUG is off", flags) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("row", TABLE, ids=[_id(r) for r in TABLE])
def test_an_option_for_any_target_ignores_production(row: tuple[object, ...]) -> None:
    risk, yes, allow, tty, expected = row
    flags = Flags(bool(yes), bool(allow), False, bool(tty))
    assert decide(risk, False, "the database host db.example.com is not this machine",
                  flags) == expected  # type: ignore[arg-type]


def test_invariants_over_every_combination() -> None:
    for risk, dev, prod, yes, allow, allow_prod, tty in itertools.product(
        ("safe", "caution", "destructive"), *[(False, True)] * 6
    ):
        decision = decide(risk, dev, "DEBUG is off" if prod else "",  # type: ignore[arg-type]
                          Flags(yes, allow, allow_prod, tty))
        if risk == "destructive" and decision.allowed:
            assert decision.backup, "a destructive option always gets a backup first"
            assert decision.typed or (not tty and allow), "--yes never covers destructive"
        if not tty:
            assert not (decision.ask_plan or decision.ask_steps or decision.typed)
        if dev and prod and not allow_prod:
            assert not decision.allowed
        assert decision.allowed != bool(decision.reason)
