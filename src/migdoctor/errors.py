"""The one error type the CLI turns into a clear message and an exit code."""

from __future__ import annotations


class MigdoctorError(Exception):
    """A failure the user can act on: a one-line message and an optional hint."""

    def __init__(self, message: str, hint: str = "", exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code
