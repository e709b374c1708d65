"""Findings of the static migration graph, each kind with its exact values."""

from __future__ import annotations

from pathlib import Path

import pytest

from migdoctor.probes import ProbeFinding
from migdoctor.probes.migration_files import MigrationFile, Operation
from migdoctor.probes.migration_graph import (
    Edge,
    build_graph,
    cycles,
    forwards_plan,
    leaves_by_app,
    scan_project,
    suggest_name,
    topological_order,
)
from tests.probes.helpers import migration_source, write

INITIAL = migration_source(
    operations="""
    migrations.CreateModel(
        name="Product",
        fields=[
            ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
            ("name", models.CharField(max_length=100)),
        ],
    ),
    """,
    extra="initial = True",
)
ADD_PRICE = """
migrations.AddField(
    model_name="product",
    name="price",
    field=models.DecimalField(decimal_places=2, default=0, max_digits=8),
),
"""
REMOVE_NAME = 'migrations.RemoveField(model_name="product", name="name"),'
RUN_PYTHON = "migrations.RunPython(migrations.RunPython.noop),"
AFTER_INITIAL = [("shop", "0001_initial")]


def _project(root: Path, files: dict[str, str]) -> None:
    write(root, "shop/__init__.py", "")
    write(root, "shop/migrations/__init__.py", "")
    for name, source in files.items():
        write(root, f"shop/migrations/{name}.py", source)


def _kinds(findings: list[ProbeFinding]) -> list[tuple[str, str, str, tuple[tuple[str, str], ...]]]:
    return [(f.kind, f.label, f.message, f.nodes) for f in findings]


FINDING_CASES = {
    "conflict": (
        {
            "0001_initial": INITIAL,
            "0002_product_price": migration_source(AFTER_INITIAL, ADD_PRICE),
            "0003_remove_product_name": migration_source(AFTER_INITIAL, REMOVE_NAME),
        },
        [
            (
                "conflict",
                "migration-conflict",
                "Conflicting migrations detected; multiple leaf nodes in the migration graph: "
                "(0002_product_price, 0003_remove_product_name in shop).",
                (("shop", "0002_product_price"), ("shop", "0003_remove_product_name")),
            )
        ],
    ),
    "dangling": (
        {
            "0001_initial": INITIAL,
            "0002_product_price": migration_source([("shop", "0001_first")], ADD_PRICE),
        },
        [
            (
                "dangling",
                "node-not-found",
                "Migration shop.0002_product_price dependencies reference nonexistent parent "
                "node ('shop', '0001_first')",
                (("shop", "0002_product_price"), ("shop", "0001_first")),
            ),
            (
                "conflict",
                "migration-conflict",
                "Conflicting migrations detected; multiple leaf nodes in the migration graph: "
                "(0001_initial, 0002_product_price in shop).",
                (("shop", "0001_initial"), ("shop", "0002_product_price")),
            ),
        ],
    ),
    "cycle": (
        {
            "0001_initial": migration_source([("shop", "0002_product_price")]),
            "0002_product_price": migration_source(AFTER_INITIAL, ADD_PRICE),
        },
        [
            (
                "cycle",
                "circular-dependency",
                "Circular dependency: shop.0001_initial, shop.0002_product_price",
                (("shop", "0001_initial"), ("shop", "0002_product_price")),
            )
        ],
    ),
    "duplicate-number": (
        {
            "0001_initial": INITIAL,
            "0002_product_price": migration_source(AFTER_INITIAL, ADD_PRICE),
            "0002_remove_product_name": migration_source(
                [("shop", "0002_product_price")], REMOVE_NAME
            ),
        },
        [
            (
                "duplicate-number",
                "migration-conflict",
                "App shop has 2 migrations numbered 0002: 0002_product_price, "
                "0002_remove_product_name.",
                (("shop", "0002_product_price"), ("shop", "0002_remove_product_name")),
            )
        ],
    ),
    "misleading-name": (
        {
            "0001_initial": INITIAL,
            "0002_remove_price": migration_source(AFTER_INITIAL, ADD_PRICE),
        },
        [
            (
                "misleading-name",
                "rename-misleading-migration",
                "Migration shop.0002_remove_price is named 'remove' but its operations only "
                "add: AddField(product.price)",
                (("shop", "0002_remove_price"),),
            )
        ],
    ),
    "bad-file-syntax": (
        {"0001_initial": INITIAL, "0002_broken": "class Migration(migrations.Migration:\n"},
        [
            (
                "bad-file",
                "bad-migration-file",
                "Migration shop.0002_broken cannot be loaded: invalid syntax (line 1)",
                (("shop", "0002_broken"),),
            )
        ],
    ),
    "bad-file-no-class": (
        {"0001_initial": INITIAL, "0002_helpers": "def helper():\n    return 1\n"},
        [
            (
                "bad-file",
                "bad-migration-file",
                "Migration shop.0002_helpers cannot be loaded: it has no Migration class",
                (("shop", "0002_helpers"),),
            )
        ],
    ),
}


@pytest.mark.parametrize(
    ("files", "expected"), list(FINDING_CASES.values()), ids=list(FINDING_CASES)
)
def test_finding(
    tmp_path: Path,
    files: dict[str, str],
    expected: list[tuple[str, str, str, tuple[tuple[str, str], ...]]],
) -> None:
    _project(tmp_path, files)
    _, findings = scan_project(tmp_path)
    assert _kinds(findings) == expected
    for finding in findings:
        assert finding.path is not None and Path(finding.path).parent.name == "migrations"
        assert finding.hint


NO_FINDING_CASES = {
    "linear": {
        "0001_initial": INITIAL,
        "0002_product_price": migration_source(AFTER_INITIAL, ADD_PRICE),
        "0003_remove_product_name": migration_source([("shop", "0002_product_price")], REMOVE_NAME),
    },
    "merged-branches": {
        "0001_initial": INITIAL,
        "0002_product_price": migration_source(AFTER_INITIAL, ADD_PRICE),
        "0003_remove_product_name": migration_source(AFTER_INITIAL, REMOVE_NAME),
        "0004_merge": migration_source(
            [("shop", "0002_product_price"), ("shop", "0003_remove_product_name")]
        ),
    },
    "squash-beside-what-it-replaces": {
        "0001_initial": INITIAL,
        "0002_product_price": migration_source(AFTER_INITIAL, ADD_PRICE),
        "0001_squashed_0002_product_price": migration_source(
            operations=ADD_PRICE,
            extra="replaces = [('shop', '0001_initial'), ('shop', '0002_product_price')]",
        ),
    },
    "remove-name-with-removal": {
        "0001_initial": INITIAL,
        "0002_remove_name": migration_source(AFTER_INITIAL, REMOVE_NAME + ADD_PRICE),
    },
    "remove-name-with-run-python": {
        "0001_initial": INITIAL,
        "0002_remove_stale_rows": migration_source(AFTER_INITIAL, RUN_PYTHON),
    },
    "dependency-on-an-app-not-scanned": {
        "0001_initial": migration_source([("auth", "0012_alter_user_first_name_max_length")]),
    },
}


@pytest.mark.parametrize("files", list(NO_FINDING_CASES.values()), ids=list(NO_FINDING_CASES))
def test_no_finding(tmp_path: Path, files: dict[str, str]) -> None:
    _project(tmp_path, files)
    _, findings = scan_project(tmp_path)
    assert findings == []


def test_misleading_name_hint_suggests_makemigrations_name(tmp_path: Path) -> None:
    _project(
        tmp_path,
        {"0001_initial": INITIAL, "0002_remove_price": migration_source(AFTER_INITIAL, ADD_PRICE)},
    )
    [finding] = scan_project(tmp_path)[1]
    assert finding.hint.startswith(
        "Rename the file to say what it does such as 0002_product_price,"
    )
    assert finding.line == 6


def test_bad_file_reports_the_syntax_error_line(tmp_path: Path) -> None:
    broken = INITIAL.replace(
        '("name", models.CharField(max_length=100)),', '("name" models.CharField),'
    )
    _project(tmp_path, {"0001_initial": broken})
    [finding] = scan_project(tmp_path)[1]
    assert (finding.kind, finding.line) == ("bad-file", 16)
    assert finding.message.startswith(
        "Migration shop.0001_initial cannot be loaded: invalid syntax"
    )


def _file(
    app: str, name: str, *deps: tuple[str, str], replaces: tuple[tuple[str, str], ...] = ()
) -> MigrationFile:
    return MigrationFile(app, name, f"{app}/migrations/{name}.py", 5, deps, replaces)


SQUASH = [
    _file("shop", "0001_initial"),
    _file("shop", "0002_price", ("shop", "0001_initial")),
    _file("shop", "0003_stock", ("shop", "0002_price")),
    _file(
        "shop",
        "0001_squashed_0002_price",
        replaces=(("shop", "0001_initial"), ("shop", "0002_price")),
    ),
    _file("orders", "0001_initial", ("shop", "0002_price")),
]


@pytest.mark.parametrize(
    ("applied", "nodes", "parent_of_orders"),
    [
        pytest.param(
            (),
            ["0001_squashed_0002_price", "0003_stock"],
            "0001_squashed_0002_price",
            id="none-applied",
        ),
        pytest.param(
            (("shop", "0001_initial"),),
            ["0001_initial", "0002_price", "0003_stock"],
            "0002_price",
            id="partly-applied",
        ),
        pytest.param(
            (("shop", "0001_initial"), ("shop", "0002_price")),
            ["0001_squashed_0002_price", "0003_stock"],
            "0001_squashed_0002_price",
            id="all-applied",
        ),
    ],
)
def test_squash_replacement(
    applied: tuple[tuple[str, str], ...], nodes: list[str], parent_of_orders: str
) -> None:
    graph = build_graph(SQUASH, applied)
    assert sorted(name for app, name in graph.nodes if app == "shop") == nodes
    assert Edge(("orders", "0001_initial"), ("shop", parent_of_orders)) in graph.edges
    assert (
        Edge(
            ("shop", "0003_stock"),
            ("shop", "0002_price" if len(applied) == 1 else parent_of_orders),
        )
        in graph.edges
    )
    [squash] = graph.squashes
    assert (squash.applied, squash.used) == (applied, len(applied) != 1)


def test_queries_on_a_graph() -> None:
    graph = build_graph(SQUASH)
    assert leaves_by_app(graph) == {
        "orders": [("orders", "0001_initial")],
        "shop": [("shop", "0003_stock")],
    }
    assert topological_order(graph) == [
        ("shop", "0001_squashed_0002_price"),
        ("orders", "0001_initial"),
        ("shop", "0003_stock"),
    ]
    assert forwards_plan(graph, ("orders", "0001_initial")) == [
        ("shop", "0001_squashed_0002_price"),
        ("orders", "0001_initial"),
    ]
    assert cycles(graph) == []
    assert sorted(graph.files) == sorted(f.key for f in SQUASH)


def test_self_dependency_is_a_cycle() -> None:
    graph = build_graph([_file("shop", "0001_initial", ("shop", "0001_initial"))])
    assert cycles(graph) == [[("shop", "0001_initial")]]


@pytest.mark.parametrize(
    ("operations", "name"),
    [
        pytest.param([("CreateModel", {"name": "Product"})], "product", id="create"),
        pytest.param(
            [("AddField", {"model_name": "product", "name": "price"})], "product_price", id="add"
        ),
        pytest.param(
            [("RenameField", {"model_name": "Book", "old_name": "title", "new_name": "headline"})],
            "rename_title_book_headline",
            id="rename-field",
        ),
        pytest.param(
            [("RemoveField", {"model_name": "book", "name": "isbn"})] * 5,
            "remove_book_isbn_remove_book_isbn_remove_book_isbn_and_more",
            id="long",
        ),
        pytest.param([("RunPython", {"code": "x"})], None, id="run-python"),
    ],
)
def test_suggest_name(operations: list[tuple[str, dict[str, object]]], name: str | None) -> None:
    assert suggest_name([Operation(kind, args, 1) for kind, args in operations]) == name
