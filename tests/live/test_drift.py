"""Drift on real databases broken for real: every kind, as the lab's real migrate left it."""

from __future__ import annotations

from pathlib import Path

import pytest

from migdoctor.probes.database import DatabaseSnapshot, probe
from migdoctor.probes.drift import (
    DriftItem,
    ProjectMigrations,
    applied_keys,
    find_drift,
    load_project,
)
from migdoctor.probes.project import discover_project
from migdoctor.probes.targets import parse_url
from tests.live.conftest import Templates
from tests.live.lab import AdminConnection, clone, copy_project, url

pytestmark = pytest.mark.postgres

TICKETS_6 = "0006_queue_ticket_queue_and_more"


def migrations(root: Path) -> ProjectMigrations:
    project = discover_project(root)
    found, problems = load_project(project.migrations_dirs)
    assert problems == []
    return found


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> ProjectMigrations:
    return migrations(copy_project(tmp_path_factory.mktemp("drift")))


def snapshot(dbname: str, name: str = "local") -> DatabaseSnapshot:
    snap = probe(parse_url(url(dbname), name))
    assert isinstance(snap, DatabaseSnapshot), snap
    return snap


def rows(items: tuple[DriftItem, ...]) -> list[tuple[str | None, ...]]:
    return [(i.kind, i.app_label, i.migration, i.relation, i.column, i.playbook, i.level)
            for i in items]


def test_a_database_migrated_by_django_has_no_drift(lab: ProjectMigrations, templates: Templates) -> None:
    assert find_drift(lab, snapshot(templates.full)) == ()


def test_a_column_dropped_by_hand_is_missing_and_names_the_migration_that_added_it(
    lab: ProjectMigrations, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    db = clone(admin, made, templates.full, "ALTER TABLE tickets_ticket DROP COLUMN status")
    items = find_drift(lab, snapshot(db))
    assert rows(items) == [("missing", "tickets", "0002_ticket_status", "tickets_ticket", "status",
                            "undefined-column", "fail")]
    assert items[0].cause == (
        "tickets.0002_ticket_status is applied on local, but the column tickets_ticket.status it "
        "creates is missing (dropped by hand, faked, or an older dump restored): queries and "
        "later migrations fail with UndefinedColumn")


def test_a_table_dropped_by_hand_is_one_missing_table(
    lab: ProjectMigrations, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    db = clone(admin, made, templates.full, "DROP TABLE kb_article")
    assert rows(find_drift(lab, snapshot(db))) == [
        ("missing", "kb", "0001_initial", "kb_article", None, "undefined-table", "fail")]


def test_a_deleted_history_row_with_its_column_present_is_safe_to_fake(
    lab: ProjectMigrations, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    db = clone(admin, made, templates.full,
               "DELETE FROM django_migrations WHERE app = 'kb' AND name = '0002_article_slug'")
    items = find_drift(lab, snapshot(db))
    assert rows(items) == [("fake-candidate", "kb", "0002_article_slug", "kb_article", "slug",
                            "duplicate-column", "fail")]
    assert items[0].cause == (
        "kb.0002_article_slug is not applied on local, but every change it makes is already "
        "there: safe to fake (migrate kb 0002_article_slug --fake)")


def test_a_table_created_by_hand_before_its_migration_runs(
    lab: ProjectMigrations, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    db = clone(admin, made, templates.partial,
               "CREATE TABLE tickets_queue (id bigserial PRIMARY KEY, name varchar(100) UNIQUE)")
    items = find_drift(lab, snapshot(db))
    assert rows(items) == [
        ("pending", "kb", "0001_initial", "kb_article", None, "undefined-table", "warn"),
        ("pending", "kb", "0002_article_slug", "kb_article", "slug", "undefined-column", "warn"),
        ("present", "tickets", TICKETS_6, "tickets_queue", None, "duplicate-table", "fail"),
    ]
    assert items[2].cause == (
        f"tickets.{TICKETS_6} is not applied on local, but the table tickets_queue it creates "
        "already exists: migrate will fail with DuplicateTable")


def test_out_of_order_history_and_the_unrecorded_dependency_that_is_safe_to_fake(
    lab: ProjectMigrations, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    db = clone(admin, made, templates.full,
               f"DELETE FROM django_migrations WHERE app = 'tickets' AND name = '{TICKETS_6}'")
    items = find_drift(lab, snapshot(db))
    assert rows(items) == [
        ("inconsistent", "kb", "0001_initial", None, None, "inconsistent-history", "fail"),
        ("fake-candidate", "tickets", TICKETS_6, "tickets_queue", None, "duplicate-table", "fail"),
    ]
    assert items[0].dependency == ("tickets", TICKETS_6)
    assert items[0].cause == (
        f"kb.0001_initial is applied on local before its dependency tickets.{TICKETS_6}: migrate "
        "refuses to run (InconsistentMigrationHistory)")


def test_migrations_applied_locally_but_not_in_the_docker_database(
    lab: ProjectMigrations, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    local = snapshot(clone(admin, made, templates.full), "local")
    docker = snapshot(clone(admin, made, templates.partial), "docker")
    elsewhere = {"local": applied_keys(local, lab.apps)}
    items = find_drift(lab, docker, elsewhere)
    assert rows(items) == [
        ("pending", "kb", "0001_initial", "kb_article", None, "local-vs-docker-database", "warn"),
        ("pending", "kb", "0002_article_slug", "kb_article", "slug", "local-vs-docker-database",
         "warn"),
        ("pending", "tickets", TICKETS_6, "tickets_queue", None, "local-vs-docker-database", "warn"),
    ]
    assert {i.target for i in items} == {"docker"}
    assert items[0].cause == ("kb.0001_initial is not applied on docker, but is on local: migrate "
                              "this database the way the other one was migrated")
    assert find_drift(lab, local, {"docker": applied_keys(docker, lab.apps)}) == ()


def test_a_ghost_row_for_a_deleted_migration_file(
    templates: Templates, admin: AdminConnection, made: list[str], tmp_path: Path
) -> None:
    root = copy_project(tmp_path)
    (root / "src" / "kb" / "migrations" / "0002_article_slug.py").unlink()
    items = find_drift(migrations(root), snapshot(clone(admin, made, templates.full)))
    assert rows(items) == [("ghost", "kb", "0002_article_slug", None, None, "node-not-found", "warn")]


def test_a_schema_without_history_is_judged_migration_by_migration(
    lab: ProjectMigrations, templates: Templates, admin: AdminConnection, made: list[str]
) -> None:
    """Every table is there but nothing is recorded: the first migration of each chain is
    compared change by change (tickets.0001's `description` is `body` now: not all there), the
    others by what they create, remove or rename (0003 would fail: `description` is gone)."""
    db = clone(admin, made, templates.full, "DROP TABLE django_migrations")
    assert rows(find_drift(lab, snapshot(db))) == [
        ("present", "kb", "0001_initial", "kb_article", None, "duplicate-table", "fail"),
        ("present", "kb", "0002_article_slug", "kb_article", "slug", "duplicate-column", "fail"),
        ("present", "tickets", "0001_initial", "tickets_ticket", None, "duplicate-table", "fail"),
        ("present", "tickets", "0002_ticket_status", "tickets_ticket", "status",
         "duplicate-column", "fail"),
        ("present", "tickets", "0003_rename_description_ticket_body", "tickets_ticket",
         "description", "undefined-column", "fail"),
        ("pending", "tickets", "0004_alter_ticket_title_max_length", None, None,
         "undefined-column", "warn"),
        ("pending", "tickets", "0005_lowercase_status", None, None, "undefined-column", "warn"),
        ("present", "tickets", TICKETS_6, "tickets_queue", None, "duplicate-table", "fail"),
        ("present", "tickets", TICKETS_6, "tickets_ticket", "queue_id", "duplicate-column", "fail"),
    ]


def test_a_removal_already_done_is_safe_to_fake(
    admin: AdminConnection, made: list[str], templates: Templates, tmp_path: Path
) -> None:
    """A new migration removes a column that someone already dropped by hand: running it would
    fail with UndefinedColumn, faking it is safe."""
    root = copy_project(tmp_path)
    (root / "src" / "kb" / "migrations" / "0003_remove_article_slug.py").write_text(
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [('kb', '0002_article_slug')]\n"
        "    operations = [migrations.RemoveField(model_name='article', name='slug')]\n")
    db = clone(admin, made, templates.full, "ALTER TABLE kb_article DROP COLUMN slug")
    assert rows(find_drift(migrations(root), snapshot(db))) == [
        ("fake-candidate", "kb", "0003_remove_article_slug", "kb_article", "slug",
         "undefined-column", "fail")]
