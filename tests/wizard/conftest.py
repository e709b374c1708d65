"""Fixtures of the wizard tests: the lab project on a scratch copy of a migrated database.

The database tests need the lab's PostgreSQL on 127.0.0.1:5432: they fail, never skip, when it
is not there.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.wizard.lab import LAB, ROWS_SQL, Lab, admin, base_env, scratch_database, unique


@pytest.fixture(scope="session")
def lab_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database the lab's real `migrate` made, with rows: each test copies it."""
    try:
        admin().close()
    except psycopg.OperationalError as exc:
        pytest.fail(f"these tests need PostgreSQL on 127.0.0.1:5432 (scripts/services.sh): {exc}")
    state = tmp_path_factory.mktemp("template")
    with scratch_database(unique("mdwiz_tmpl")) as name:
        env = {**base_env(state), "POSTGRES_DB": name, "POSTGRES_USER": "postgres",
               "POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": "5432"}  # fmt: skip
        proc = subprocess.run([sys.executable, str(LAB / "src" / "manage.py"), "migrate",
                               "--no-input", "-v0"], env=env, capture_output=True, text=True,
                              timeout=300, check=False)  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
        with psycopg.connect(host="127.0.0.1", user="postgres", dbname=name,
                             autocommit=True) as conn:  # fmt: skip
            conn.execute(ROWS_SQL)
        yield name


@pytest.fixture
def lab(tmp_path: Path, lab_template: str) -> Iterator[Lab]:
    """The lab project in tmp_path on its own copy of the migrated database (DEBUG on)."""
    with scratch_database(unique("mdwiz"), lab_template) as name:
        yield Lab.create(tmp_path, name)
