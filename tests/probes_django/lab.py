"""The lab project (tests/lab/project) copied to a temporary folder, run with real Django."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAB_PROJECT = REPO / "tests" / "lab" / "project"
PYTHON = sys.executable  # the test interpreter has Django (the `test` extra)
_FOREIGN = ("POSTGRES_", "DATABASE_", "SQLITE_", "MYSQL_", "DJANGO_")


def copy_lab(target: Path) -> Path:
    """The lab project in `target`; returns its `src/manage.py`."""
    shutil.copytree(LAB_PROJECT, target, ignore=shutil.ignore_patterns(
        "__pycache__", ".env", "*.sqlite3"))  # fmt: skip
    return target / "src" / "manage.py"


def lab_env(**settings: str) -> dict[str, str]:
    """This process's environment without database settings from outside, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN)}
    return {**env, "PYTHONDONTWRITEBYTECODE": "1", **settings}


def sqlite_env(manage_py: Path) -> dict[str, str]:
    return lab_env(DATABASE_ENGINE="sqlite", SQLITE_PATH=str(sqlite_path(manage_py)))


def sqlite_path(manage_py: Path) -> Path:
    return manage_py.parent / "db.sqlite3"


def manage(manage_py: Path, env: Mapping[str, str], *args: str) -> str:
    """Run the project's real manage.py; its output (fails the test when it fails)."""
    proc = subprocess.run([PYTHON, str(manage_py), *args], env=dict(env), capture_output=True,
                          text=True, timeout=180, check=False)  # fmt: skip
    if proc.returncode:
        pytest.fail(f"manage.py {' '.join(args)} failed ({proc.returncode}):\n"
                    f"{proc.stdout}\n{proc.stderr}")  # fmt: skip
    return proc.stdout


def add_priority_field(manage_py: Path) -> None:
    """A model change without its migration: Ticket.priority."""
    models = manage_py.parent / "tickets" / "models.py"
    text = models.read_text()
    anchor = '    status = models.CharField(max_length=20, default="open")\n'
    assert anchor in text
    models.write_text(text.replace(anchor, anchor + "    priority = models.IntegerField(default=0)\n"))


def add_second_leaf(manage_py: Path) -> str:
    """A second branch in tickets: a migration after 0005, beside 0006. Returns its name."""
    name = "0006_ticket_archived"
    (manage_py.parent / "tickets" / "migrations" / f"{name}.py").write_text(
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        '    dependencies = [("tickets", "0005_lowercase_status")]\n'
        "    operations = []\n"
    )
    return name


def delete_applied_row(database: Path, app: str, name: str) -> None:
    with sqlite3.connect(database) as conn:
        done = conn.execute("DELETE FROM django_migrations WHERE app = ? AND name = ?", (app, name))
        assert done.rowcount == 1
    conn.close()
