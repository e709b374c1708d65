"""The one error type the CLI turns into a clear message and an exit code."""

from __future__ import annotations

import sys


class MigdoctorError(Exception):
    """A failure the user can act on: a one-line message and an optional hint."""

    def __init__(self, message: str, hint: str = "", exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code


def print_error(message: str, hint: str = "") -> None:
    """The one-line error on stderr; kept free of rich so failing fast stays fast."""
    print(f"migdoctor: error: {message}" + (f" ({hint})" if hint else ""), file=sys.stderr)


def print_warning(message: str) -> None:
    print(f"migdoctor: warning: {message}", file=sys.stderr)
