"""Runners: real child processes locally, Compose `exec` turned into `run --rm`, and the
recording runner that backs --dry-run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from migdoctor.wizard.runners import (
    ComposeRunner,
    Invocation,
    LocalRunner,
    RecordingRunner,
    Result,
    as_one_off,
    execs_in,
)

V2 = ("docker", "compose")
V1 = ("docker-compose",)


def test_local_runner_runs_an_argv_without_a_shell(tmp_path: Path,
                                                   capfd: pytest.CaptureFixture[str]) -> None:
    argv = (sys.executable, "-c", "import sys, os; print(sys.argv[1:], os.environ['MD_X']); "
            "sys.exit(3)", "$HOME; echo no", "*")  # fmt: skip
    result = LocalRunner().run(Invocation(argv, "local", tmp_path, {"MD_X": "given"}))
    assert result == Result(argv, 3)
    assert capfd.readouterr().out == "['$HOME; echo no', '*'] given\n"


def test_output_to_a_private_file_and_input_from_one(tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("dump data\n")
    target = tmp_path / "sub" / "out.dump"
    argv = (sys.executable, "-c", "import sys; sys.stdout.write(sys.stdin.read().upper())")
    result = LocalRunner().run(Invocation(argv, "local", tmp_path, stdin=source, stdout=target))
    assert result.exit_code == 0
    assert target.read_text() == "DUMP DATA\n"
    assert target.stat().st_mode & 0o777 == 0o600


def test_json_mode_sends_child_output_to_stderr(tmp_path: Path,
                                                capfd: pytest.CaptureFixture[str]) -> None:
    LocalRunner(out=2).run(Invocation((sys.executable, "-c", "print('hi')"), "local", tmp_path))
    assert capfd.readouterr() == ("", "hi\n")


def test_a_missing_command_is_127(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    result = LocalRunner().run(Invocation(("no-such-tool-md",), "local", tmp_path))
    assert result.exit_code == 127
    assert "no-such-tool-md: command not found" in capfd.readouterr().err


def test_child_gets_no_terminal_input(tmp_path: Path) -> None:
    argv = (sys.executable, "-c", "import sys; sys.exit(0 if sys.stdin.read() == '' else 1)")
    assert LocalRunner().run(Invocation(argv, "local", tmp_path)).exit_code == 0


@pytest.mark.parametrize("compose", [V2, V1, (*V2, "-f", "a.yaml")], ids=["v2", "v1", "files"])
def test_exec_in_web_becomes_run_rm_when_web_is_not_running(tmp_path: Path,
                                                            compose: tuple[str, ...]) -> None:
    inner = RecordingRunner(result=0)
    asked: list[Path] = []

    def running(call: Invocation) -> frozenset[str]:
        asked.append(call.cwd)
        return frozenset({"db"})

    runner = ComposeRunner(inner, compose, "web", running, terminal=True)
    manage = ("python", "src/manage.py", "migrate")
    result = runner.run(Invocation((*compose, "exec", "web", *manage), "compose", tmp_path))
    assert result == Result((*compose, "run", "--rm", "web", *manage), 0)
    db = (*compose, "exec", "-T", "db", "pg_dump")
    assert runner.run(Invocation(db, "compose", tmp_path)).argv == db, "never a one-off db"
    down = (*compose, "down", "-v")
    assert runner.run(Invocation(down, "compose", tmp_path)).argv == down
    assert asked == [tmp_path], "the state is asked only for exec in web"


def test_exec_stays_exec_when_web_runs(tmp_path: Path) -> None:
    runner = ComposeRunner(RecordingRunner(result=0), V2, "web", lambda call: frozenset({"web"}),
                           terminal=True)  # fmt: skip
    argv = (*V2, "exec", "web", "python", "src/manage.py", "showmigrations")
    assert runner.run(Invocation(argv, "compose", tmp_path)).argv == argv


@pytest.mark.parametrize("compose", [V2, V1], ids=["v2", "v1"])
def test_without_a_terminal_exec_and_run_get_no_tty(tmp_path: Path,
                                                    compose: tuple[str, ...]) -> None:
    """Compose v1 refuses `exec` from a non-terminal: "the input device is not a TTY"."""
    inner = RecordingRunner(result=0)
    runner = ComposeRunner(inner, compose, "web", lambda call: frozenset())
    manage = ("python", "src/manage.py", "migrate")
    runner.run(Invocation((*compose, "exec", "web", *manage), "compose", tmp_path))
    runner.run(Invocation((*compose, "exec", "-T", "db", "pg_dump"), "compose", tmp_path))
    runner.run(Invocation((*compose, "up", "-d"), "compose", tmp_path))
    assert [c.argv for c in inner.calls] == [(*compose, "run", "-T", "--rm", "web", *manage),
                                             (*compose, "exec", "-T", "db", "pg_dump"),
                                             (*compose, "up", "-d")]


def test_exec_detection() -> None:
    assert execs_in((*V1, "exec", "-T", "web", "ls"), V1, "web")
    assert not execs_in((*V1, "exec", "db", "ls"), V1, "web")
    assert not execs_in(("docker", "exec", "web", "ls"), V2, "web")
    assert as_one_off((*V2, "exec", "-T", "web", "ls"), V2) == (*V2, "run", "--rm", "-T", "web",
                                                                 "ls")


def test_recording_runner_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    runner = RecordingRunner()
    call = Invocation(("touch", str(marker)), "local", tmp_path, stdout=tmp_path / "out")
    assert runner.run(call) == Result(("touch", str(marker)), None)
    assert runner.calls == [call]
    assert not marker.exists() and not (tmp_path / "out").exists()
    assert os.listdir(tmp_path) == []
