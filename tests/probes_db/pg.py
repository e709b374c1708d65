"""Helpers for the real PostgreSQL of the test lab (127.0.0.1:5432, trust auth)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from migdoctor.probes.targets import Target

ADMIN: dict[str, Any] = {"host": "127.0.0.1", "port": 5432, "user": "postgres",
                         "dbname": "postgres"}  # fmt: skip
LAB_SRC = Path(__file__).resolve().parents[1] / "lab" / "project" / "src"

AdminConnection = psycopg.Connection[tuple[Any, ...]]


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@contextlib.contextmanager
def database(admin: AdminConnection, name: str) -> Iterator[str]:
    """Create a database, and drop it (closing its sessions) on leaving."""
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def migrate(dbname: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "DATABASE_"))}
    env.update(POSTGRES_DB=dbname, POSTGRES_USER="postgres", POSTGRES_PASSWORD="",
               POSTGRES_HOST="127.0.0.1", POSTGRES_PORT="5432", DATABASE_ENGINE="postgresql",
               PYTHONDONTWRITEBYTECODE="1")  # fmt: skip
    argv = [sys.executable, str(LAB_SRC / "manage.py"), "migrate", "--no-input", "-v0"]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180)
    if proc.returncode:
        pytest.fail(f"migrate failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


@dataclass(frozen=True)
class Role:
    name: str
    password: str

    def target(self, dbname: str, **changes: Any) -> Target:
        fields: dict[str, Any] = {"host": "127.0.0.1", "port": 5432, "dbname": dbname,
                                  "user": self.name, "password": self.password}  # fmt: skip
        return Target(**{"name": "cli", "source": "test", **fields, **changes})
