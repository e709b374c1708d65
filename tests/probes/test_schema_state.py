"""Expected tables and columns, and which migration changed them."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db.backends.utils import truncate_name as django_truncate_name

from migdoctor.probes.migration_files import discover, load_migrations
from migdoctor.probes.migration_graph import MigrationGraph, build_graph
from migdoctor.probes.schema_state import (
    FieldState,
    ModelState,
    app_of_table,
    expected_schema,
    history,
    m2m_table,
    schema_changes,
    truncate_name,
)
from tests.probes.helpers import migration_source, write

CREATE = """
migrations.CreateModel(
    name="Ticket",
    fields=[
        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
        ("title", models.CharField(max_length=100)),
        ("queue", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="desk.queue")),
        ("watchers", models.ManyToManyField(to=settings.AUTH_USER_MODEL)),
        ("labels", models.ManyToManyField(through="desk.Labelling", to="desk.label")),
    ],
),
migrations.CreateModel(
    name="Queue",
    fields=[("id", models.AutoField(primary_key=True)), ("name", models.CharField(max_length=9))],
    options={"db_table": "legacy_queues"},
),
migrations.CreateModel(
    name="OpenTicket", fields=[], options={"proxy": True}, bases=("desk.ticket",)
),
migrations.CreateModel(
    name="Report",
    fields=[("id", models.AutoField(primary_key=True))],
    options={"managed": False, "db_table": "report_view"},
),
"""
EVOLVE = """
migrations.RenameField("ticket", "title", "subject"),
migrations.AlterField(
    "ticket", "queue", models.ForeignKey(on_delete=models.CASCADE, to="desk.queue", db_column="q")
),
migrations.RemoveField("ticket", "watchers"),
migrations.AlterModelOptions("report", {"managed": True}),
migrations.SeparateDatabaseAndState(
    state_operations=[migrations.AddField("queue", "color", models.CharField(max_length=7))],
    database_operations=[migrations.RunSQL("ALTER TABLE legacy_queues ADD color varchar(7)")],
),
migrations.RunSQL("SELECT 1", state_operations=[migrations.DeleteModel("OpenTicket")]),
migrations.AlterModelTable("ticket", "desk_tickets"),
"""


@pytest.fixture
def graph(tmp_path: Path) -> MigrationGraph:
    write(tmp_path, "desk/migrations/__init__.py", "")
    write(tmp_path, "desk/migrations/0001_initial.py", migration_source(operations=CREATE))
    write(
        tmp_path,
        "desk/migrations/0002_evolve.py",
        migration_source([("desk", "0001_initial")], EVOLVE),
    )
    files, findings = load_migrations(discover(tmp_path))
    assert findings == []
    return build_graph(files)


def _tables(
    graph: MigrationGraph, applied: list[tuple[str, str]] | None
) -> dict[str, tuple[str, ...]]:
    return {t.name: t.columns for t in expected_schema(graph, applied).tables.values()}


def test_schema_after_the_first_migration(graph: MigrationGraph) -> None:
    assert _tables(graph, [("desk", "0001_initial")]) == {
        "desk_ticket": ("id", "title", "queue_id"),
        "desk_ticket_watchers": ("id", "ticket_id", "user_id"),
        "legacy_queues": ("id", "name"),
    }


def test_schema_after_all_migrations(graph: MigrationGraph) -> None:
    assert _tables(graph, None) == {
        "desk_tickets": ("id", "subject", "q"),
        "legacy_queues": ("id", "name", "color"),
        "report_view": ("id",),
    }


def test_nothing_applied_means_no_tables(graph: MigrationGraph) -> None:
    assert _tables(graph, []) == {}


@pytest.mark.parametrize(
    ("table", "column", "expected"),
    [
        pytest.param(
            "desk_tickets",
            "subject",
            [
                ("0001_initial", "CreateModel", "created", "desk_ticket", "title", None),
                ("0002_evolve", "RenameField", "renamed", "desk_ticket", "subject", "title"),
                ("0002_evolve", "AlterModelTable", "renamed", "desk_tickets", None, "desk_ticket"),
            ],
            id="renamed-column-of-renamed-table",
        ),
        pytest.param(
            "desk_ticket",
            "queue_id",
            [
                ("0001_initial", "CreateModel", "created", "desk_ticket", "queue_id", None),
                ("0002_evolve", "AlterField", "renamed", "desk_ticket", "q", "queue_id"),
            ],
            id="db-column-added-later",
        ),
        pytest.param(
            "desk_ticket_watchers",
            None,
            [
                ("0001_initial", "CreateModel", "created", "desk_ticket_watchers", None, None),
                ("0001_initial", "CreateModel", "created", "desk_ticket_watchers", "id", None),
                (
                    "0001_initial",
                    "CreateModel",
                    "created",
                    "desk_ticket_watchers",
                    "ticket_id",
                    None,
                ),
                ("0001_initial", "CreateModel", "created", "desk_ticket_watchers", "user_id", None),
                ("0002_evolve", "RemoveField", "removed", "desk_ticket_watchers", None, None),
                ("0002_evolve", "RemoveField", "removed", "desk_ticket_watchers", "id", None),
                (
                    "0002_evolve",
                    "RemoveField",
                    "removed",
                    "desk_ticket_watchers",
                    "ticket_id",
                    None,
                ),
                ("0002_evolve", "RemoveField", "removed", "desk_ticket_watchers", "user_id", None),
            ],
            id="many-to-many-table",
        ),
        pytest.param(
            "legacy_queues",
            "color",
            [("0002_evolve", "AddField", "created", "legacy_queues", "color", None)],
            id="state-operation",
        ),
        pytest.param(
            "report_view",
            None,
            [
                ("0002_evolve", "AlterModelOptions", "created", "report_view", None, None),
                ("0002_evolve", "AlterModelOptions", "created", "report_view", "id", None),
            ],
            id="unmanaged-becomes-managed",
        ),
    ],
)
def test_history(
    graph: MigrationGraph,
    table: str,
    column: str | None,
    expected: list[tuple[str, str, str, str, str | None, str | None]],
) -> None:
    found = history(schema_changes(graph), table, column)
    assert [
        (c.node[1], c.operation, c.action, c.table, c.column, c.old_name) for c in found
    ] == expected


def test_altered_column_and_line(graph: MigrationGraph, tmp_path: Path) -> None:
    write(
        tmp_path,
        "desk/migrations/0003_longer.py",
        migration_source(
            [("desk", "0002_evolve")],
            'migrations.AlterField("queue", "name", models.CharField(max_length=90)),',
        ),
    )
    graph = build_graph(load_migrations(discover(tmp_path))[0])
    [change] = history(schema_changes(graph), "legacy_queues", "name")[1:]
    assert (change.node, change.action, change.line) == (("desk", "0003_longer"), "altered", 13)


def test_app_of_table(graph: MigrationGraph) -> None:
    changes = schema_changes(graph)
    assert app_of_table(changes, "desk_tickets") == "desk"
    assert app_of_table(changes, "desk_ticket_watchers") == "desk"  # removed, but desk's
    assert app_of_table(changes, "nope") is None


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("shop_product", id="short"),
        pytest.param("a" * 63, id="at-limit"),
        pytest.param("verylongapplabel_" + "averyveryverylongmodelname" * 3, id="long"),
    ],
)
def test_truncate_name_is_djangos(name: str) -> None:
    assert truncate_name(name) == django_truncate_name(name, 63)


def test_long_default_table_names_are_truncated(tmp_path: Path) -> None:
    model = "Averyveryverylongmodelnamethatgoesonandonforeverandever"
    write(tmp_path, "shop/migrations/__init__.py", "")
    write(
        tmp_path,
        "shop/migrations/0001_initial.py",
        migration_source(
            operations=f"""
            migrations.CreateModel(
                name="{model}",
                fields=[("id", models.AutoField(primary_key=True)),
                        ("tags", models.ManyToManyField(to="shop.tag"))],
            ),
            migrations.CreateModel(name="Tag", fields=[("id", models.AutoField(primary_key=True))]),
            """
        ),
    )
    graph = build_graph(load_migrations(discover(tmp_path))[0])
    table = django_truncate_name(f"shop_{model.lower()}", 63)
    assert sorted(_tables(graph, None)) == sorted(
        [table, django_truncate_name(f"{table}_tags", 63), "shop_tag"]
    )


@pytest.mark.parametrize(
    ("managed", "target_managed", "table"),
    [
        pytest.param(True, False, "shop_report_items", id="managed-model"),
        pytest.param(False, True, "shop_report_items", id="managed-target"),
        pytest.param(False, False, None, id="neither-managed"),
    ],
)
def test_many_to_many_table_is_managed_when_either_side_is(
    managed: bool, target_managed: bool, table: str | None
) -> None:
    field = FieldState("items", "ManyToManyField", None, ("shop", "item"))
    model = ModelState("shop", "Report", (field,), managed=managed)
    found = m2m_table(model, field, target_managed)
    assert (found.name if found else None) == table
    assert found is None or found.columns == ("id", "report_id", "item_id")
