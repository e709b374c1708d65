"""Runners execute one argv at a time: locally, through Compose, or only on record (`--dry-run`).

Every runner takes an `Invocation` (argv list, never a shell string) and returns a `Result`
with the argv really run and its exit code (None: recorded, not run). Output is streamed: the
child writes straight to the given file descriptor, nothing is buffered here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Protocol

STOP_GRACE = 10.0  # seconds a step gets to stop after Ctrl-C before it is terminated
NOT_FOUND = 127
NOT_EXECUTABLE = 126


@dataclass(frozen=True)
class Invocation:
    """What to run: `env` adds to this process's environment (it may hold a password: never
    shown); `stdin`/`stdout` are host files read from and written to (backups)."""

    argv: tuple[str, ...]
    context: str
    cwd: Path
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    stdin: Path | None = None
    stdout: Path | None = None
    one_off: bool = True  # Compose may turn `exec` into `run --rm` (a check before must not)


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    exit_code: int | None  # None: recorded, not run
    interrupted: bool = False


class Runner(Protocol):
    def run(self, call: Invocation) -> Result: ...


@dataclass(frozen=True)
class LocalRunner:
    """Runs argv lists as child processes, no shell; their output goes to `out` (a file
    descriptor: 1, or 2 when stdout carries JSON), their errors to `err`. With a person at
    the terminal (`terminal`), a child that asks its own question (`flush`) can be answered;
    otherwise it reads an empty input."""

    out: int = 1
    err: int = 2
    terminal: bool = False

    def run(self, call: Invocation) -> Result:
        """The child's exit code; on Ctrl-C, however early, the child is stopped and the
        result says so (exit code None: it had not started)."""
        sys.stdout.flush()
        sys.stderr.flush()
        started: list[subprocess.Popen[bytes]] = []
        try:
            return self._run(call, started)
        except KeyboardInterrupt:
            if not started:
                return Result(call.argv, None, interrupted=True)
            _stop(started[0])
            return Result(call.argv, started[0].returncode, interrupted=True)

    def _run(self, call: Invocation, started: list[subprocess.Popen[bytes]]) -> Result:
        with ExitStack() as stack:
            stdin: Any = stack.enter_context(call.stdin.open("rb")) if call.stdin else None
            stdout: Any = stack.enter_context(_private(call.stdout)) if call.stdout else self.out
            try:
                started.append(subprocess.Popen(
                    call.argv, cwd=call.cwd, env={**os.environ, **call.env},
                    stdin=stdin or (None if self.terminal else subprocess.DEVNULL),
                    stdout=stdout, stderr=self.err,
                ))  # fmt: skip
            except FileNotFoundError:
                _say(self.err, f"migdoctor: {call.argv[0]}: command not found\n")
                return Result(call.argv, NOT_FOUND)
            except PermissionError:
                _say(self.err, f"migdoctor: {call.argv[0]}: not executable\n")
                return Result(call.argv, NOT_EXECUTABLE)
            return Result(call.argv, started[0].wait())


def _private(path: Path) -> IO[bytes]:
    """A new or emptied file only the user may read (a dump holds the data)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "wb")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """A terminal's Ctrl-C reached the child too; a signal sent to migdoctor alone did not:
    pass it on after a second, terminate after a grace period, then kill."""
    escalation: tuple[tuple[float, Callable[[], None]], ...] = (
        (1.0, lambda: proc.send_signal(signal.SIGINT)),
        (STOP_GRACE, proc.terminate),
        (STOP_GRACE / 2, proc.kill),
    )
    for grace, then in escalation:
        if _exited(proc, grace):
            return
        then()
    proc.wait()


def _exited(proc: subprocess.Popen[bytes], seconds: float) -> bool:
    try:
        proc.wait(seconds)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        return False
    return True


def _say(fd: int, text: str) -> None:
    os.write(fd, text.encode("utf-8", "replace"))


RunningServices = Callable[[Invocation], frozenset[str]]


@dataclass(frozen=True)
class ComposeRunner:
    """Runs through `inner`; a Compose step that would `exec` in the web service while that
    service is not running becomes `run --rm` of the same command (a one-off container).
    Without a terminal, `exec` and `run` get `-T` (Compose v1 refuses to run without it)."""

    inner: Runner
    compose: tuple[str, ...]  # how to call Compose here, with the project's -f files
    service: str = "web"
    running: RunningServices | None = None
    terminal: bool = False

    def run(self, call: Invocation) -> Result:
        if call.one_off and call.context == "compose" and execs_in(call.argv, self.compose,
                                                                   self.service):
            running = (self.running or self._running)(call)
            if self.service not in running:
                call = replace(call, argv=as_one_off(call.argv, self.compose))
        if not self.terminal:
            call = replace(call, argv=without_tty(call.argv, self.compose))
        return self.inner.run(call)

    def _running(self, call: Invocation) -> frozenset[str]:
        return running_services(self.compose, call.cwd, call.env)


def execs_in(argv: tuple[str, ...], compose: tuple[str, ...], service: str) -> bool:
    """Whether `argv` is `COMPOSE exec [-T] SERVICE ...`."""
    n = len(compose)
    if argv[:n] != compose or argv[n:n + 1] != ("exec",):
        return False
    rest = [a for a in argv[n + 1:] if a != "-T"]
    return bool(rest) and rest[0] == service


def without_tty(argv: tuple[str, ...], compose: tuple[str, ...]) -> tuple[str, ...]:
    """`COMPOSE exec|run ...` with `-T` (no pseudo-terminal), when it has none yet."""
    n = len(compose)
    verb = argv[n:n + 1]
    if argv[:n] != compose or verb not in (("exec",), ("run",)) or "-T" in argv[n + 1:]:
        return argv
    return (*compose, *verb, "-T", *argv[n + 1:])


def as_one_off(argv: tuple[str, ...], compose: tuple[str, ...]) -> tuple[str, ...]:
    """`COMPOSE exec ARGS` as `COMPOSE run --rm ARGS`."""
    n = len(compose)
    return (*compose, "run", "--rm", *argv[n + 1:])


def running_services(compose: tuple[str, ...], cwd: Path, env: Mapping[str, str]) -> frozenset[str]:
    """The services of the project with a running container (v1 and v2 both accept this)."""
    argv = [*compose, "ps", "--services", "--filter", "status=running"]
    try:
        proc = subprocess.run(argv, cwd=cwd, env={**os.environ, **env}, capture_output=True,
                              text=True, timeout=60, stdin=subprocess.DEVNULL,
                              check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(line.strip() for line in proc.stdout.splitlines() if line.strip())


@dataclass
class RecordingRunner:
    """Runs nothing: records each invocation and answers `codes.get(argv, result)`. Backs
    `--dry-run` (result None: not run) and lets tests script exit codes."""

    result: int | None = None
    codes: dict[tuple[str, ...], int] = field(default_factory=dict)
    calls: list[Invocation] = field(default_factory=list)

    def run(self, call: Invocation) -> Result:
        self.calls.append(call)
        return Result(call.argv, self.codes.get(call.argv, self.result))
