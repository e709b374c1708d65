"""The static graph and schema against real Django on the same migrations.

A small project is grown step by step with `makemigrations` (plus one hand-written migration
with renames, and a `squashmigrations`), then Django's `MigrationLoader` (no database) and the
static probe must agree on nodes, edges, leaves, conflicts and tables / columns.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import django
import pytest

from migdoctor.probes.migration_files import discover, load_migrations
from migdoctor.probes.migration_graph import (
    MigrationGraph,
    build_graph,
    check_graph,
    forwards_plan,
    leaf_nodes,
)
from migdoctor.probes.schema_state import Schema, expected_schema
from tests.probes.helpers import edges, keys, migration_source, run_django, write

SETTINGS = {
    "INSTALLED_APPS": [
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "accounts",
        "library",
        "catalog",
    ],
    "AUTH_USER_MODEL": "accounts.Member",
    "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
    "USE_TZ": True,
}
PARSE_SETTINGS = {"AUTH_USER_MODEL": "accounts.Member"}

ACCOUNTS = """
from django.contrib.auth.models import AbstractUser
from django.db import models


class Member(AbstractUser):
    nickname = models.CharField(max_length=40, blank=True)
"""

LIBRARY_V1 = """
from django.conf import settings
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)


class Tag(models.Model):
    label = models.CharField(max_length=20)

    class Meta:
        db_table = "library_tags_table"


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, db_column="owner_ref"
    )
    tags = models.ManyToManyField(Tag)
"""

LIBRARY_V2 = """
from django.conf import settings
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=150, db_column="full_name")


class Book(models.Model):
    title = models.CharField(max_length=200)
    isbn = models.CharField(max_length=13, default="")
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, db_column="owner_ref"
    )
"""

# What the hand-written 0003 leaves: Author -> Writer, Book.title -> headline, a table name.
LIBRARY_V3 = """
from django.conf import settings
from django.db import models


class Writer(models.Model):
    name = models.CharField(max_length=150, db_column="full_name")
    born = models.IntegerField(null=True)
    friends = models.ManyToManyField("self")


class Book(models.Model):
    headline = models.CharField(max_length=200)
    isbn = models.CharField(max_length=13, default="")
    author = models.ForeignKey(Writer, on_delete=models.CASCADE)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, db_column="owner_ref"
    )

    class Meta:
        db_table = "library_volumes"
"""

LIBRARY_0003 = """
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0002_remove_book_tags_book_isbn_alter_author_name_and_more")]

    operations = [
        migrations.RenameModel("Author", "Writer"),
        migrations.RenameField(model_name="book", old_name="title", new_name="headline"),
        migrations.AlterModelTable(name="book", table="library_volumes"),
    ]
"""

CATALOG = """
from django.db import models


class Category(models.Model):
    name = models.CharField(max_length=50)
    parent = models.ForeignKey("self", null=True, on_delete=models.CASCADE)


class Product(models.Model):
    name = models.CharField(max_length=50)
    category = models.ForeignKey(Category, on_delete=models.PROTECT)
    books = models.ManyToManyField("library.Book", db_table="product_books_link")


class Variant(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    sku = models.CharField(max_length=20)

    class Meta:
        order_with_respect_to = "product"


class FeaturedProduct(Product):
    class Meta:
        proxy = True


class Snapshot(models.Model):
    products = models.ManyToManyField(Product)

    class Meta:
        managed = False
        db_table = "catalog_snapshot_view"
"""

CATALOG_APPS = """
from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    label = "products"
"""


def _app(root: Path, name: str, models: str) -> None:
    write(root, f"{name}/__init__.py", "")
    write(root, f"{name}/migrations/__init__.py", "")
    write(root, f"{name}/models.py", models)


def _makemigrations(root: Path, *args: str) -> None:
    run_django(
        root, {"path": str(root), "settings": SETTINGS, "commands": [["makemigrations", *args]]}
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    _app(root, "accounts", ACCOUNTS)
    _app(root, "library", LIBRARY_V1)
    _app(root, "catalog", CATALOG)
    write(root, "catalog/apps.py", CATALOG_APPS)
    _makemigrations(root)
    write(root, "library/models.py", LIBRARY_V2)
    _makemigrations(root, "library")
    write(root, "library/migrations/0003_renames.py", LIBRARY_0003)
    write(root, "library/models.py", LIBRARY_V3)
    _makemigrations(root, "library", "--name", "writer_born_friends")
    return root


@pytest.fixture(scope="module")
def squashed(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("squashed")
    shutil.copytree(project, root, dirs_exist_ok=True)
    run_django(
        root,
        {
            "path": str(root),
            "settings": SETTINGS,
            "commands": [["squashmigrations", "library", "0002"]],
        },
    )
    return root


CONTRIB = Path(django.__file__).parent / "contrib"


def _static(root: Path, applied: list[tuple[str, str]] | None = None) -> MigrationGraph:
    dirs = discover(root) + discover(CONTRIB, ["auth", "contenttypes"])
    files, findings = load_migrations(dirs, PARSE_SETTINGS)
    assert findings == []
    graph = build_graph(files, applied, apps=[d.app_label for d in dirs])
    assert graph.dangling == ()
    return graph


def _django(root: Path, INSTALLED_APPS: list[str] | None = None, **config: Any) -> dict[str, Any]:
    settings = SETTINGS if INSTALLED_APPS is None else {"INSTALLED_APPS": INSTALLED_APPS}
    return run_django(root, {"path": str(root), "settings": settings, **config})


def _assert_same_graph(graph: MigrationGraph, django: dict[str, Any]) -> None:
    assert django["error"] is None
    assert sorted(graph.nodes) == keys(django["nodes"])
    assert set(graph.edges) == edges(django["edges"])
    assert leaf_nodes(graph) == keys(django["leaves"])
    assert graph.external == ()


def test_discovery_finds_the_apps_with_their_labels(project: Path) -> None:
    assert [
        (d.app_label, Path(d.path).relative_to(project).as_posix()) for d in discover(project)
    ] == [
        ("accounts", "accounts/migrations"),
        ("products", "catalog/migrations"),
        ("library", "library/migrations"),
    ]


def test_graph_matches_django(project: Path) -> None:
    graph = _static(project)
    assert len([k for k in graph.nodes if k[0] not in ("auth", "contenttypes")]) == 6
    assert ("accounts", "__first__") not in graph.nodes
    _assert_same_graph(graph, _django(project))
    assert check_graph(graph) == []


def test_dependencies_on_apps_not_scanned_are_external(project: Path) -> None:
    dirs = discover(project)
    files, _ = load_migrations(dirs, PARSE_SETTINGS)
    graph = build_graph(files, apps=[d.app_label for d in dirs])
    assert graph.external == (
        (("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")),
    )
    assert graph.dangling == ()


def test_schema_matches_django_at_every_migration(project: Path) -> None:
    graph = _static(project)
    targets = [k for k in graph.nodes if k[0] in {"library", "products"}]
    django = _django(project, schema=True, states=targets)
    ours = expected_schema(graph, settings=PARSE_SETTINGS)
    assert _tables(ours) == _sorted(django["schemas"]["__all__"])
    for target in targets:
        state = expected_schema(graph, forwards_plan(graph, target), PARSE_SETTINGS)
        assert _tables(state) == _sorted(django["schemas"][f"{target[0]}.{target[1]}"]), target


def _tables(schema: Schema) -> dict[str, list[str]]:
    """Columns sorted: a renamed field keeps its place in the table but not in Django's state."""
    return {t.name: sorted(t.columns) for t in schema.tables.values()}


def _sorted(tables: dict[str, list[str]]) -> dict[str, list[str]]:
    return {name: sorted(columns) for name, columns in sorted(tables.items())}


@pytest.mark.parametrize(
    "applied",
    [
        pytest.param([], id="none-applied-squash-used"),
        pytest.param([("library", "0001_initial")], id="partly-applied-replaced-used"),
        pytest.param(
            [
                ("library", "0001_initial"),
                ("library", "0002_remove_book_tags_book_isbn_alter_author_name_and_more"),
            ],
            id="all-applied-squash-used",
        ),
    ],
)
def test_squashed_graph_matches_django(squashed: Path, applied: list[tuple[str, str]]) -> None:
    graph = _static(squashed, applied)
    squash = next(s for s in graph.squashes)
    assert squash.used is (len(applied) in (0, 2))
    _assert_same_graph(graph, _django(squashed, applied=[list(k) for k in applied]))


def test_conflict_matches_django(project: Path, tmp_path: Path) -> None:
    shutil.copytree(project, tmp_path, dirs_exist_ok=True)
    leaf = leaf_nodes(_static(tmp_path), "library")[0]
    write(
        tmp_path,
        "library/migrations/0004_book_pages.py",
        """
        from django.db import migrations, models


        class Migration(migrations.Migration):
            dependencies = [("library", "0003_renames")]
            operations = [migrations.AddField("book", "pages", models.IntegerField(default=0))]
        """,
    )
    graph = _static(tmp_path)
    django = _django(tmp_path)
    assert {app: [n for _, n in leaf_nodes(graph, app)] for app in django["conflicts"]} == django[
        "conflicts"
    ]
    [finding] = [f for f in check_graph(graph) if f.kind == "conflict"]
    assert finding.nodes == (("library", "0004_book_pages"), leaf)


CONTRIB_APPS = ["auth", "admin", "contenttypes", "sessions", "sites", "flatpages", "redirects"]


def test_contrib_apps_match_django(tmp_path: Path) -> None:
    dirs = discover(CONTRIB, CONTRIB_APPS)
    assert sorted(d.app_label for d in dirs) == sorted(CONTRIB_APPS)
    files, findings = load_migrations(dirs)
    graph = build_graph(files)
    settings = {"INSTALLED_APPS": [f"django.contrib.{app}" for app in CONTRIB_APPS]}
    django = run_django(tmp_path, {"path": str(tmp_path), "settings": settings, "schema": True})
    assert findings == []
    _assert_same_graph(graph, django)
    assert _tables(expected_schema(graph)) == _sorted(django["schemas"]["__all__"])
    assert check_graph(graph) == []


def _hand_written(root: Path, files: dict[str, str]) -> list[str]:
    """Apps made of migration files only; returns their names for INSTALLED_APPS."""
    apps = sorted({path.split("/")[0] for path in files})
    for app in apps:
        write(root, f"{app}/__init__.py", "")
        write(root, f"{app}/migrations/__init__.py", "")
    for path, source in files.items():
        write(root, path, source)
    return apps


SPECIAL = {
    "shelf/migrations/0001_initial.py": migration_source(),
    "shelf/migrations/0002_second.py": migration_source([("shelf", "0001_initial")]),
    "reader/migrations/0001_initial.py": migration_source([("shelf", "__latest__")]),
    "reader/migrations/0002_second.py": migration_source(
        [("reader", "0001_initial"), ("reader", "__first__"), ("loan", "__first__")]
    ),
    "loan/migrations/0001_initial.py": migration_source(
        extra="run_before = [('shelf', '0002_second')]"
    ),
    "loan/migrations/0002_latest.py": migration_source([("loan", "__latest__")]),
}


def test_first_latest_and_run_before_match_django(tmp_path: Path) -> None:
    apps = _hand_written(tmp_path, {k: v for k, v in SPECIAL.items() if "0002_latest" not in k})
    graph = build_graph(load_migrations(discover(tmp_path))[0])
    assert (("shelf", "0002_second"), ("loan", "0001_initial")) in graph.edges
    _assert_same_graph(graph, _django(tmp_path, INSTALLED_APPS=apps))


def _django_apps(root: Path, apps: list[str]) -> dict[str, Any]:
    return run_django(root, {"path": str(root), "settings": {"INSTALLED_APPS": apps}})


def test_dangling_message_is_djangos(tmp_path: Path) -> None:
    apps = _hand_written(
        tmp_path,
        {
            "shelf/migrations/0001_initial.py": migration_source(),
            "shelf/migrations/0002_price.py": migration_source(
                [("shelf", "0001_initial"), ("shelf", "0001_missing")]
            ),
        },
    )
    graph = build_graph(load_migrations(discover(tmp_path))[0])
    [finding] = check_graph(graph)
    assert _django_apps(tmp_path, apps)["error"] == ["NodeNotFoundError", finding.message]


def test_cycle_is_the_one_django_refuses(tmp_path: Path) -> None:
    apps = _hand_written(
        tmp_path,
        {
            "shelf/migrations/0001_initial.py": migration_source([("reader", "0001_initial")]),
            "reader/migrations/0001_initial.py": migration_source([("shelf", "0001_initial")]),
        },
    )
    graph = build_graph(load_migrations(discover(tmp_path))[0])
    [finding] = check_graph(graph)
    error, message = _django_apps(tmp_path, apps)["error"]
    assert error == "CircularDependencyError"
    assert sorted(message.split(", ")) == sorted(finding.message.split(": ")[1].split(", "))
