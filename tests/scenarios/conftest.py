"""Fixtures of the scenario lab: a database the lab's real `migrate` made and seeded once per
session, and for each test the lab project in its own folder on its own copy of it
(`CREATE DATABASE ... TEMPLATE`). PostgreSQL on 127.0.0.1:5432 must be there: the tests fail,
never skip, when it is not.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.scenarios.lab import SEED_SQL, Project, admin, scratch_database


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Every migration of the lab applied by its real `manage.py migrate`, then seeded rows."""
    try:
        admin().close()
    except psycopg.OperationalError as exc:
        pytest.fail(f"the scenario lab needs PostgreSQL on 127.0.0.1:5432 (scripts/services.sh): "
                    f"{exc}")  # fmt: skip
    with scratch_database("mdscn_tmpl") as name:
        project = Project.create(tmp_path_factory.mktemp("template"), name)
        project.ok("migrate", "--no-input", "-v0")
        project.sql(SEED_SQL)
        yield name


@pytest.fixture
def project(tmp_path: Path, template: str) -> Iterator[Project]:
    """The lab project in tmp_path, its `.env` exported, on its own copy of the template."""
    with scratch_database("mdscn", template) as name:
        yield Project.create(tmp_path, name)
