"""Asking the user: a yes/no, a typed confirmation, a value. Questions go to stderr, so that
`--json` output on stdout stays clean; answers come from stdin when it is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TextIO

TRIES = 3
YES = frozenset({"y", "yes"})


class Prompter(Protocol):
    @property
    def interactive(self) -> bool: ...

    def say(self, text: str) -> None: ...

    def confirm(self, question: str) -> bool: ...

    def typed(self, question: str, expected: str) -> bool: ...

    def ask(self, question: str, check: Callable[[str], str | None]) -> str | None: ...


@dataclass(frozen=True)
class TerminalPrompter:
    """Reads answers from `stdin`; an answer at end of input is "no"."""

    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)

    @property
    def interactive(self) -> bool:
        try:
            return self.stdin.isatty()
        except (ValueError, OSError):
            return False

    def say(self, text: str) -> None:
        self.stderr.write(text + "\n")
        self.stderr.flush()

    def _line(self, prompt: str) -> str | None:
        self.stderr.write(prompt)
        self.stderr.flush()
        line = self.stdin.readline()
        return line.rstrip("\r\n") if line else None

    def confirm(self, question: str) -> bool:
        answer = self._line(f"{question} [y/N] ")
        return answer is not None and answer.strip().lower() in YES

    def typed(self, question: str, expected: str) -> bool:
        answer = self._line(f"{question}: ")
        return answer is not None and answer.strip() == expected

    def ask(self, question: str, check: Callable[[str], str | None]) -> str | None:
        """A value that passes `check` (which says what is wrong), within three tries."""
        for _ in range(TRIES):
            answer = self._line(f"{question} ")
            if answer is None:
                return None
            problem = check(answer.strip())
            if problem is None:
                return answer.strip()
            self.say(f"  {problem}")
        return None


@dataclass(frozen=True)
class NoTerminal:
    """Nobody to ask: every question is answered "no"."""

    stderr: TextIO = field(default_factory=lambda: sys.stderr)

    @property
    def interactive(self) -> bool:
        return False

    def say(self, text: str) -> None:
        self.stderr.write(text + "\n")

    def confirm(self, question: str) -> bool:
        return False

    def typed(self, question: str, expected: str) -> bool:
        return False

    def ask(self, question: str, check: Callable[[str], str | None]) -> str | None:
        return None
