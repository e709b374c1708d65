"""The terminal prompter: what it asks on stderr and how it reads the answers."""

from __future__ import annotations

import io

import pytest

from migdoctor.match.entities import validate
from migdoctor.wizard.prompt import NoTerminal, TerminalPrompter


def prompter(answers: str) -> tuple[TerminalPrompter, io.StringIO]:
    err = io.StringIO()
    return TerminalPrompter(io.StringIO(answers), err), err


@pytest.mark.parametrize(("answer", "expected"), [
    ("y\n", True), ("YES\n", True), (" yes \n", True), ("n\n", False), ("\n", False),
    ("yep\n", False), ("", False)], ids=["y", "YES", "spaces", "n", "empty", "other", "eof"])  # fmt: skip
def test_confirm(answer: str, expected: bool) -> None:
    ask, err = prompter(answer)
    assert ask.confirm("Run these steps (local)?") is expected
    assert err.getvalue() == "Run these steps (local)? [y/N] "


@pytest.mark.parametrize(("answer", "expected"), [
    ("shop\n", True), (" shop \n", True), ("Shop\n", False), ("sho\n", False), ("", False)])  # fmt: skip
def test_typed_needs_the_exact_name(answer: str, expected: bool) -> None:
    ask, err = prompter(answer)
    assert ask.typed("Type the database name (shop) to continue", "shop") is expected
    assert err.getvalue() == "Type the database name (shop) to continue: "


def test_ask_repeats_until_the_value_is_valid() -> None:
    ask, err = prompter("0002; rm -rf /\n0002_x\n")
    assert ask.ask("Which migration?", lambda v: validate("migration", v)) == "0002_x"
    assert err.getvalue() == ("Which migration? "
                              "  '0002; rm -rf /' is not a valid migration\n"
                              "Which migration? ")


def test_ask_gives_up_after_three_tries_or_at_the_end() -> None:
    ask, _ = prompter("x\ny\nz\n0001\n")
    assert ask.ask("Which migration?", lambda v: validate("migration", v)) is None
    ask, _ = prompter("x\n")
    assert ask.ask("Which migration?", lambda v: validate("migration", v)) is None


def test_not_a_terminal() -> None:
    assert TerminalPrompter(io.StringIO("y\n"), io.StringIO()).interactive is False
    nobody = NoTerminal(io.StringIO())
    assert (nobody.interactive, nobody.confirm("?"), nobody.typed("?", "x")) == (False,) * 3
