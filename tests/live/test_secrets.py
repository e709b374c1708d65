"""No password in any output: text, JSON, verbose details, errors, --debug."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live.cli import closed_port, environ, run
from tests.live.conftest import Templates
from tests.live.lab import AdminConnection, clone, copy_project, lab_env

pytestmark = pytest.mark.postgres

SECRET = "Xq7-secret-pw"  # trust auth lets the connections in whatever the password
ERROR = "psycopg.errors.UndefinedColumn: column tickets_ticket.status does not exist"
COMMANDS = [
    ("doctor",), ("doctor", "--verbose"), ("doctor", "--json"), ("status",), ("status", "--json"),
    ("diagnose", "--live", ERROR), ("diagnose", "--live", "--json", ERROR),
    ("--debug", "doctor", "--verbose"), ("--debug", "status", "--json"),
]


@pytest.fixture
def project(
    tmp_path: Path, templates: Templates, admin: AdminConnection, made: list[str]
) -> Path:
    root = copy_project(tmp_path)
    db = clone(admin, made, templates.full, "ALTER TABLE tickets_ticket DROP COLUMN status")
    (root / ".env").write_text("".join(
        f"{k}={v}\n" for k, v in {**lab_env(db), "POSTGRES_PASSWORD": SECRET}.items()))
    return root


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: "-".join(a)[:30])
def test_discovered_passwords_never_shown(project: Path, args: tuple[str, ...]) -> None:
    result = run(*args, cwd=project)
    assert result.code in (0, 1), result.output
    assert SECRET not in result.output
    if "doctor" in args and "--json" not in args:
        assert "postgres:***@127.0.0.1" in result.output  # the URL is shown, starred


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: "-".join(a)[:30])
def test_given_and_unreachable_passwords_never_shown(
    project: Path, args: tuple[str, ...]
) -> None:
    dead = f"postgresql://postgres:{SECRET}@127.0.0.1:{closed_port()}/lab?sslmode=disable"
    alive = f"postgresql://postgres:{SECRET}@127.0.0.1:5432/postgres"
    split = args.index("diagnose") + 2 if "diagnose" in args else len(args)
    extra = ("--database", f"docker={dead}", "--database", f"local={alive}")
    result = run(*args[:split], *extra, *args[split:], cwd=project)
    assert result.code in (0, 1), result.output
    assert SECRET not in result.output


@pytest.mark.parametrize("url", [
    f"postgresql://postgres:{SECRET}@127.0.0.1:99999/lab",
    f"postgresql://postgres:{SECRET}@127.0.0.1:port/lab",
    f"mysql://postgres:{SECRET}@127.0.0.1/lab",
    f"postgresql://postgres:{SECRET}@bad host name/lab",
])  # fmt: skip
@pytest.mark.parametrize("command", ["doctor", "status"])
def test_urls_that_cannot_be_used_are_not_echoed(project: Path, command: str, url: str) -> None:
    result = run("--debug", command, "--database-url", url, cwd=project,
                 env=environ(PGCONNECT_TIMEOUT="2"))
    assert result.code in (1, 2), result.output
    assert SECRET not in result.output
