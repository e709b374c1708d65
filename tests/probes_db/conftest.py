"""Fixtures on the real PostgreSQL of the test lab (127.0.0.1:5432, trust auth): scratch
databases and roles, dropped at the end. Tests that use them fail, never skip, when the server is
not there.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from tests.probes_db.pg import ADMIN, AdminConnection, Role, database, migrate, unique


@pytest.fixture(scope="module")
def admin() -> Iterator[AdminConnection]:
    try:
        conn = psycopg.connect(**ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.fail(f"these tests need PostgreSQL on 127.0.0.1:5432 (scripts/services.sh): {exc}")
    with conn:
        yield conn


@pytest.fixture(scope="module")
def scratch_db(admin: AdminConnection) -> Iterator[str]:
    """An empty database, dropped at the end of the module."""
    with database(admin, unique("mdprobe_empty")) as name:
        yield name


@pytest.fixture(scope="module")
def lab_db(admin: AdminConnection) -> Iterator[str]:
    """A database the lab project's real `manage.py migrate` has migrated."""
    with database(admin, unique("mdprobe_lab")) as name:
        migrate(name)
        yield name


@pytest.fixture(scope="module")
def role(admin: AdminConnection) -> Iterator[Role]:
    """A login role with a scram password and no other privilege (trust auth lets it in)."""
    made = Role(unique("mdprobe_role"), f"s3cr3t-{uuid.uuid4().hex}")
    admin.execute("SET password_encryption = 'scram-sha-256'")
    admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
        sql.Identifier(made.name), sql.Literal(made.password)))  # fmt: skip
    try:
        yield made
    finally:
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(made.name)))
