"""The Django probe on the lab project against a real PostgreSQL database (127.0.0.1:5432)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from migdoctor.probes.django_probe import (
    DjangoReport,
    probe_argv,
    report_findings,
    run_django_probe,
)
from tests.probes_db.pg import ADMIN, database, unique
from tests.probes_django.lab import PYTHON, add_priority_field, lab_env, manage

pytestmark = pytest.mark.postgres
SECRET = f"pw-{uuid.uuid4().hex}"  # trust auth lets any password in; it must never be printed


def pg_env(dbname: str) -> dict[str, str]:
    return lab_env(POSTGRES_DB=dbname, POSTGRES_USER="postgres", POSTGRES_PASSWORD=SECRET,
                   POSTGRES_HOST="127.0.0.1", POSTGRES_PORT="5432")  # fmt: skip


@pytest.fixture
def pg_db() -> Iterator[str]:
    try:
        admin = psycopg.connect(**ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.fail(f"these tests need PostgreSQL on 127.0.0.1:5432 (scripts/services.sh): {exc}")
    with admin, database(admin, unique("mddjango")) as name:
        yield name


def raw_output(manage_py: Path, env: dict[str, str]) -> str:
    argv = probe_argv(manage_py, python=PYTHON)
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120,
                          check=True).stdout  # fmt: skip


def test_migrated_postgres_database(lab: Path, pg_db: str) -> None:
    env = pg_env(pg_db)
    manage(lab, env, "migrate", "--no-input", "-v0")

    report = run_django_probe(lab, python=PYTHON, env=env)

    assert isinstance(report, DjangoReport), report
    assert report.default.vendor == "postgresql"
    assert report.default.errors == {}
    assert report.graph is not None and report.applied is not None
    assert set(report.applied) == set(report.graph.nodes)
    assert (report.plan, report.inconsistent, report.missing_migrations) == ((), None, ())
    assert report.tables is not None
    assert report.tables["tickets_ticket"] == (
        "id", "title", "body", "created_at", "status", "queue_id")  # as the migrations added them
    assert report_findings(report) == []
    assert SECRET not in raw_output(lab, env)


def test_model_change_and_half_applied_history(lab: Path, pg_db: str) -> None:
    env = pg_env(pg_db)
    manage(lab, env, "migrate", "tickets", "0004", "--no-input", "-v0")
    add_priority_field(lab)

    report = run_django_probe(lab, python=PYTHON, env=env)

    assert isinstance(report, DjangoReport), report
    assert report.missing_migrations == ("tickets",)
    assert report.plan is not None
    assert [key for key in report.plan if key[0] in ("tickets", "kb")] == [
        ("tickets", "0005_lowercase_status"), ("tickets", "0006_queue_ticket_queue_and_more"),
        ("kb", "0001_initial"), ("kb", "0002_article_slug")]  # fmt: skip
    assert report.tables is not None and "tickets_queue" not in report.tables
    assert "queue_id" not in report.tables["tickets_ticket"]


def test_dependency_row_deleted_on_postgres(lab: Path, pg_db: str) -> None:
    env = pg_env(pg_db)
    manage(lab, env, "migrate", "--no-input", "-v0")
    with psycopg.connect(**{**ADMIN, "dbname": pg_db}, autocommit=True) as conn:
        conn.execute("DELETE FROM django_migrations WHERE app = 'tickets' AND name = "
                     "'0006_queue_ticket_queue_and_more'")  # fmt: skip

    report = run_django_probe(lab, python=PYTHON, env=env)

    assert isinstance(report, DjangoReport), report
    assert report.inconsistent is not None
    assert report.inconsistent.message.startswith("Migration kb.0001_initial is applied before")
    assert [f.label for f in report_findings(report)] == ["inconsistent-history"]


def test_missing_database_without_the_password(lab: Path) -> None:
    env = pg_env(f"mddjango_missing_{SECRET}")

    report = run_django_probe(lab, python=PYTHON, env=env)

    assert isinstance(report, DjangoReport), report
    assert report.graph is not None and report.applied is None
    error = report.default.errors["connection"]
    assert error.type == "OperationalError"
    assert 'database "mddjango_missing_***" does not exist' in error.message
    assert [f.label for f in report_findings(report)] == ["db-missing"]
    assert report.makemigrations.source == "autodetector"
    assert SECRET not in raw_output(lab, env)
