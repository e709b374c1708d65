"""The wizard against the lab's Compose stack on the real engine, with Compose v2 and v1:
`exec` in web, `run --rm` when web is stopped, a backup from inside the db container and its
restore. The session's `docker-up.sh` sets the engine up; a missing part fails, never skips."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from migdoctor.kb.loader import load
from migdoctor.wizard.facts import Facts, gather
from migdoctor.wizard.plan import build
from migdoctor.wizard.policy import Decision
from migdoctor.wizard.run import Outcome, Session, execute
from migdoctor.wizard.runners import ComposeRunner, LocalRunner
from tests.wizard.lab import LAB, REPO
from tests.wizard.test_run import Answers

pytestmark = [pytest.mark.docker, pytest.mark.slow]
FLAVOURS = {"v2": ("docker", "compose"), "v1": ("docker-compose",)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def engine() -> None:
    proc = subprocess.run(["bash", str(REPO / "scripts" / "lab" / "docker-up.sh")],
                          capture_output=True, text=True, timeout=1800, check=False)  # fmt: skip
    if proc.returncode != 0:
        pytest.fail(f"the Docker lab could not start:\n{proc.stdout}\n{proc.stderr}")


@pytest.fixture(params=list(FLAVOURS))
def stack(request: pytest.FixtureRequest, engine: None, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, tuple[str, ...], int]]:  # fmt: skip
    """The lab project up under Compose (its own project name and port)."""
    base, port = FLAVOURS[request.param], _free_port()
    root = tmp_path / "project"
    import shutil

    shutil.copytree(LAB, root, ignore=shutil.ignore_patterns("__pycache__", ".env"))
    env_file = (LAB / ".env.example").read_text().replace("55432", str(port))
    (root / ".env").write_text(env_file)
    monkeypatch.setenv("COMPOSE_PROJECT_NAME", f"mdwiz-{request.param}-{uuid.uuid4().hex[:6]}")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for name in ("POSTGRES_DB", "POSTGRES_HOST", "POSTGRES_PORT", "DATABASE_URL", "COMPOSE_FILE"):
        monkeypatch.delenv(name, raising=False)
    up = subprocess.run([*base, "up", "-d"], cwd=root, capture_output=True, text=True,
                        timeout=300, check=False)  # fmt: skip
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        _wait(port)
        yield root, base, port
    finally:
        subprocess.run([*base, "down", "-v", "-t", "1"], cwd=root, capture_output=True,
                       timeout=300, check=False)  # fmt: skip


def _wait(port: int) -> None:
    for _ in range(120):
        try:
            psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="lab",
                            password="postgres", connect_timeout=2).close()  # fmt: skip
            return
        except psycopg.OperationalError:
            time.sleep(0.5)
    pytest.fail(f"the lab's db service did not accept connections on {port}")


def _facts(root: Path, base: tuple[str, ...]) -> Facts:
    import os

    found = gather(str(root), sys.executable, (), dict(os.environ))
    dumps = {**found.dumps, "compose": replace(found.dumps["compose"], compose=base)}
    return replace(found, compose=base, dumps=dumps)


def _run(facts: Facts, playbook: str, option: str, decision: Decision) -> Outcome:
    pb = load().resolve(playbook)
    chosen = next(o for o in pb.options if o.id == option)
    plan = build(pb, chosen, {}, facts, "compose", backup_dir=facts.root / "backups")
    assert plan.problems == ()
    runner = ComposeRunner(LocalRunner(out=2), facts.compose, facts.web)
    return execute(plan, decision, Session(runner, Answers(), None, sys.stderr))


def _rows(port: int, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="lab",
                         password="postgres", autocommit=True) as conn:  # fmt: skip
        cur = conn.execute(query)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


def test_migrate_in_a_one_off_web_then_recreate_the_volume_and_restore(
    stack: tuple[Path, tuple[str, ...], int],
) -> None:
    root, base, port = stack
    facts = _facts(root, base)
    subprocess.run([*base, "stop", "-t", "1", "web"], cwd=root, capture_output=True, check=True)
    out = _run(facts, "undefined-column", "apply-pending-migrations", Decision(True))
    assert out.status == "verified", out.message
    assert {r.argv[len(base):len(base) + 4] for r in out.ran} == {("run", "-T", "--rm", "web")}

    subprocess.run([*base, "start", "web"], cwd=root, capture_output=True, check=True)
    _rows(port, "INSERT INTO tickets_queue (name) VALUES ('support'), ('billing')")
    out = _run(facts, "fresh-database", "recreate-compose-volume", Decision(True, backup=True))
    assert out.status == "verified", out.message
    assert out.ran[0].argv[:len(base) + 3] == (*base, "exec", "-T", "db")
    migrate = next(r.argv for r in out.ran if r.argv[-1] == "migrate")
    assert migrate == (*base, "exec", "-T", "web", "python", "src/manage.py", "migrate")
    assert _rows(port, "SELECT count(*) FROM tickets_queue") == [(0,)]

    assert out.backup is not None and out.backup.stat().st_size > 0
    restore = out.restore.rsplit(" < ", 1)[0]
    assert out.restore == f"{restore} < {out.backup}"
    with out.backup.open("rb") as dump:
        done = subprocess.run(["sh", "-c", restore], cwd=root, stdin=dump, capture_output=True,
                              text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _rows(port, "SELECT name FROM tickets_queue ORDER BY name") == [("billing",),
                                                                          ("support",)]
