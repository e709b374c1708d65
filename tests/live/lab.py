"""The lab project copied to a temporary folder, migrated for real against scratch databases.

Databases are cloned from templates that the lab's own `manage.py migrate` built, so that each
test breaks its own copy. Every database name starts with `mdlive_` and is dropped at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

REPO = Path(__file__).resolve().parents[2]
LAB_PROJECT = REPO / "tests" / "lab" / "project"
ADMIN: dict[str, Any] = {"host": "127.0.0.1", "port": 5432, "user": "postgres",
                         "dbname": "postgres"}  # fmt: skip
AdminConnection = psycopg.Connection[tuple[Any, ...]]


def unique(prefix: str = "mdlive") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def url(dbname: str, password: str = "") -> str:
    login = f"postgres:{password}" if password else "postgres"
    return f"postgresql://{login}@127.0.0.1:5432/{dbname}"


def copy_project(folder: Path, env: dict[str, str] | None = None) -> Path:
    """The lab project in `folder/project`; `.env` from `env` when given."""
    root = folder / "project"
    shutil.copytree(LAB_PROJECT, root, ignore=shutil.ignore_patterns(
        "__pycache__", ".env", "*.sqlite3"))
    if env is not None:
        (root / ".env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    return root


def lab_env(dbname: str) -> dict[str, str]:
    """The lab settings' variables (see its settings.py) for a scratch database here."""
    return {"POSTGRES_DB": dbname, "POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "",
            "POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": "5432"}  # fmt: skip


def manage(root: Path, dbname: str, *args: str) -> None:
    """Run the copied project's real `manage.py` against `dbname`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "DATABASE_"))}
    env.update(lab_env(dbname), DATABASE_ENGINE="postgresql", PYTHONDONTWRITEBYTECODE="1")
    argv = [sys.executable, str(root / "src" / "manage.py"), *args, "--no-input", "-v0"]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180)
    if proc.returncode:
        pytest.fail(f"manage.py {' '.join(args)} failed ({proc.returncode}):\n"
                    f"{proc.stdout}\n{proc.stderr}")


def connect_admin() -> AdminConnection:
    try:
        return psycopg.connect(**ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.fail(f"these tests need PostgreSQL on 127.0.0.1:5432 (scripts/services.sh): {exc}")


def create(admin: AdminConnection, name: str, template: str | None = None) -> None:
    query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        query = sql.SQL("{} TEMPLATE {}").format(query, sql.Identifier(template))
    admin.execute(query)


def drop(admin: AdminConnection, name: str) -> None:
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def execute(dbname: str, *statements: str) -> None:
    """Break a database by hand, as a user at a SQL console would."""
    with psycopg.connect(**{**ADMIN, "dbname": dbname}, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement.encode())


@contextlib.contextmanager
def databases(admin: AdminConnection) -> Iterator[list[str]]:
    """Names appended to the list are dropped on leaving."""
    made: list[str] = []
    try:
        yield made
    finally:
        for name in made:
            drop(admin, name)


def clone(admin: AdminConnection, made: list[str], template: str, *statements: str) -> str:
    """A copy of `template`, then `statements` run in it by hand."""
    name = unique()
    create(admin, name, template)
    made.append(name)
    if statements:
        execute(name, *statements)
    return name


def names(*keys: Sequence[str]) -> list[tuple[str, ...]]:
    return [tuple(k) for k in keys]
