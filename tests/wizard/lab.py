"""The lab project copied to a temporary folder, on its own scratch database of the lab's real
PostgreSQL (127.0.0.1:5432, trust auth), and migdoctor run on it as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from tests.lab.seed import (  # noqa: F401  (the lab's names, as the wizard tests import them)
    ADMIN,
    LAB,
    REPO,
    admin,
    checksums,
    seed_sql,
    unique,
)
from tests.lab.seed import database as scratch_database  # noqa: F401  (by its given name)

# The lab's rows; its articles' body is the one word 'body'.
ROWS_SQL = seed_sql("'body'")


def base_env(state: Path) -> dict[str, str]:
    """This environment without database or Compose settings of its own."""
    drop = ("POSTGRES_", "DATABASE_", "PG", "COMPOSE_", "DEBUG", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(XDG_STATE_HOME=str(state), PYTHONDONTWRITEBYTECODE="1", NO_COLOR="1",
               COLUMNS="200")  # fmt: skip
    return env


@dataclass(frozen=True)
class Lab:
    root: Path
    dbname: str
    env: dict[str, str]
    state: Path

    @classmethod
    def create(cls, folder: Path, dbname: str, debug: str = "1", password: str = "") -> Lab:
        root = folder / "project"
        shutil.copytree(LAB, root, ignore=shutil.ignore_patterns("__pycache__", ".env"))
        settings = {"POSTGRES_DB": dbname, "POSTGRES_USER": "postgres",
                    "POSTGRES_PASSWORD": password, "POSTGRES_HOST": "127.0.0.1",
                    "POSTGRES_PORT": "5432", "DEBUG": debug}  # fmt: skip
        (root / ".env").write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        state = folder / "state"
        return cls(root, dbname, {**base_env(state), **settings}, state)

    def fix_args(self, *args: str) -> list[str]:
        return ["fix", *args, "--context", "local", "--project", str(self.root),
                "--python", sys.executable]  # fmt: skip

    def cli(self, *args: str, stdin: str | None = None,
            timeout: float = 180) -> subprocess.CompletedProcess[str]:  # fmt: skip
        return subprocess.run(
            [sys.executable, "-m", "migdoctor", *args], cwd=self.root, env=self.env,
            input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "src/manage.py", *args], cwd=self.root, env=self.env,
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    def connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        return psycopg.connect(**{**ADMIN, "dbname": self.dbname}, autocommit=True)

    def rows(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with self.connect() as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def applied(self, app: str) -> list[str]:
        return [r[0] for r in self.rows(
            "SELECT name FROM django_migrations WHERE app = %s ORDER BY name", app)]  # fmt: skip

    def checksums(self) -> dict[str, tuple[int, str]]:
        """Row count and an md5 of the rows of every table, in a stable order."""
        return checksums(self.connect)

    def journal(self) -> list[dict[str, Any]]:
        path = self.state / "migdoctor" / "journal.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def backups(self) -> list[Path]:
        return sorted((self.state / "migdoctor" / "backups").glob("*.dump"))


def explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
