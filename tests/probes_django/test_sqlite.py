"""The Django probe on the real lab project with SQLite: migrated, drifted, broken histories."""

from __future__ import annotations

from pathlib import Path

from migdoctor.probes.django_probe import (
    DjangoReport,
    Makemigrations,
    report_findings,
    run_django_probe,
)
from migdoctor.probes.migration_graph import Edge, leaves_by_app, scan_project
from tests.probes_django.lab import (
    PYTHON,
    add_priority_field,
    add_second_leaf,
    delete_applied_row,
    manage,
    sqlite_env,
    sqlite_path,
)

LAB_NODES = [
    ("kb", "0001_initial"),
    ("kb", "0002_article_slug"),
    ("tickets", "0001_initial"),
    ("tickets", "0002_ticket_status"),
    ("tickets", "0003_rename_description_ticket_body"),
    ("tickets", "0004_alter_ticket_title_max_length"),
    ("tickets", "0005_lowercase_status"),
    ("tickets", "0006_queue_ticket_queue_and_more"),
]
TICKET_0006 = ("tickets", "0006_queue_ticket_queue_and_more")


def probe(manage_py: Path) -> DjangoReport:
    report = run_django_probe(manage_py, python=PYTHON, env=sqlite_env(manage_py))
    assert isinstance(report, DjangoReport), report
    return report


def project_part(report: DjangoReport, apps: set[str]) -> tuple[object, ...]:
    """Nodes, edges and leaves of `apps` only (Django's graph also holds contrib apps)."""
    assert report.graph is not None
    nodes = sorted(k for k in report.graph.nodes if k[0] in apps)
    edges = {e for e in report.graph.edges if e.child[0] in apps and e.parent[0] in apps}
    leaves = {app: list(names) for app, names in report.graph.leaves.items() if app in apps}
    return nodes, edges, leaves


def static_part(src: Path) -> tuple[object, ...]:
    graph, _ = scan_project(src)
    leaves = {app: [name for _, name in keys] for app, keys in leaves_by_app(graph).items()}
    return sorted(graph.nodes), set(graph.edges), leaves


def test_migrated_project_nothing_missing_everything_applied(migrated: Path) -> None:
    report = probe(migrated)

    assert report.context == "local"
    assert report.django_version.startswith("5.")
    assert report.settings_module == "config.settings"
    assert report.default.vendor == "sqlite"
    assert report.default.errors == {}
    assert report.graph is not None and report.applied is not None
    assert set(LAB_NODES) <= set(report.graph.nodes)
    assert set(report.applied) == set(report.graph.nodes)
    assert report.plan == ()
    assert report.inconsistent is None
    assert report.graph.conflicts == {}
    assert report.graph.leaves["tickets"] == ("0006_queue_ticket_queue_and_more",)
    assert report.missing_migrations == ()
    assert report.makemigrations == Makemigrations(
        apps=(), changes={}, exit_status=0, output="No changes detected\n",
        source="makemigrations")  # fmt: skip
    assert report_findings(report) == []


def test_tables_and_columns_by_introspection(migrated: Path) -> None:
    tables = probe(migrated).tables

    assert tables is not None
    assert {"django_migrations", "tickets_ticket", "tickets_queue", "kb_article"} <= set(tables)
    assert sorted(tables["tickets_ticket"]) == sorted(
        ["id", "title", "body", "status", "created_at", "queue_id"])  # fmt: skip
    assert sorted(tables["kb_article"]) == ["body", "id", "slug", "ticket_id", "title"]


def test_half_migrated_database_plans_the_rest(lab: Path) -> None:
    manage(lab, sqlite_env(lab), "migrate", "tickets", "0002", "--no-input", "-v0")
    report = probe(lab)

    assert report.plan is not None and report.applied is not None and report.graph is not None
    assert report.plan.index(("kb", "0001_initial")) > report.plan.index(TICKET_0006)
    assert set(report.plan) | set(report.applied) == set(report.graph.nodes)
    assert ("tickets", "0002_ticket_status") in report.applied
    assert ("tickets", "0003_rename_description_ticket_body") in report.plan


def test_model_change_without_migration(migrated: Path) -> None:
    add_priority_field(migrated)

    report = probe(migrated)

    assert report.missing_migrations == ("tickets",)
    assert report.makemigrations.exit_status == 1
    assert report.makemigrations.changes == {"tickets": ("+ Add field priority to ticket",)}
    assert "Migrations for 'tickets':" in report.makemigrations.output
    [finding] = report_findings(report)
    assert (finding.kind, finding.label) == ("django", "missing-migrations")
    assert finding.hint == "python manage.py makemigrations tickets"


def test_dependency_row_deleted_is_an_inconsistent_history(migrated: Path) -> None:
    delete_applied_row(sqlite_path(migrated), *TICKET_0006)

    report = probe(migrated)

    assert report.inconsistent is not None
    assert report.inconsistent.message == (
        "Migration kb.0001_initial is applied before its dependency "
        "tickets.0006_queue_ticket_queue_and_more on database 'default'."
    )
    assert report.inconsistent.pairs == (Edge(("kb", "0001_initial"), TICKET_0006),)
    assert report.plan == (TICKET_0006,)
    # makemigrations refuses; its autodetector still says nothing is missing
    assert report.makemigrations.error is not None
    assert report.makemigrations.error.type == "InconsistentMigrationHistory"
    assert (report.makemigrations.source, report.missing_migrations) == ("autodetector", ())
    assert [f.label for f in report_findings(report)] == ["inconsistent-history"]


def test_two_leaves_are_a_conflict(migrated: Path) -> None:
    other = add_second_leaf(migrated)

    report = probe(migrated)

    assert report.graph is not None
    assert report.graph.conflicts == {"tickets": (TICKET_0006[1], other)}
    assert report.graph.leaves["tickets"] == (TICKET_0006[1], other)
    assert report.plan == (("tickets", other),)
    assert report.makemigrations.error is not None
    assert report.makemigrations.error.message.startswith("Conflicting migrations detected")
    assert report.missing_migrations == ()
    [finding] = report_findings(report)
    assert finding.label == "migration-conflict"
    assert finding.nodes == (TICKET_0006, ("tickets", other))


def test_graph_matches_the_static_parse(migrated: Path) -> None:
    apps = {"tickets", "kb"}
    assert project_part(probe(migrated), apps) == static_part(migrated.parent)


def test_graph_with_a_conflict_matches_the_static_parse(migrated: Path) -> None:
    add_second_leaf(migrated)
    apps = {"tickets", "kb"}
    assert project_part(probe(migrated), apps) == static_part(migrated.parent)


def test_missing_database_file_is_not_created(lab: Path) -> None:
    report = probe(lab)

    assert not sqlite_path(lab).exists()
    assert report.graph is not None and set(LAB_NODES) <= set(report.graph.nodes)
    assert report.applied is None and report.plan is None and report.tables is None
    error = report.default.errors["connection"]
    assert (error.type, error.message) == (
        "FileNotFoundError", f"SQLite database file does not exist: {sqlite_path(lab)}")
    assert [f.label for f in report_findings(report)] == ["db-missing"]
