"""Parsing migration files with `ast`, and finding the apps' migrations folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from migdoctor.probes.migration_files import (
    Call,
    MigrationFile,
    MigrationsDir,
    ParseCache,
    Ref,
    app_label,
    discover,
    load_migrations,
    parse_migration,
    read_cache,
    write_cache,
)
from tests.probes.helpers import migration_source, write

SHOP_INITIAL = """from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("catalog", "__first__"),
        ("catalog", "0003_category"),
    ]

    operations = [
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                ("number", models.CharField(max_length=10, db_column="order_no")),
                ("total", models.DecimalField(decimal_places=2, max_digits=8, default=-1)),
                (
                    "customer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("items", models.ManyToManyField(to="catalog.product")),
            ],
            options={"db_table": "shop_orders", "ordering": ["-id"]},
        ),
        migrations.AddField("order", "note", models.TextField(blank=True)),
    ]
"""


def _parse(source: str, **settings: object) -> MigrationFile:
    parsed = parse_migration(
        source, "shop", "0001_initial", "shop/migrations/0001_initial.py", settings
    )
    assert isinstance(parsed, MigrationFile)
    return parsed


def test_dependencies_and_flags() -> None:
    parsed = _parse(SHOP_INITIAL)
    assert parsed.key == ("shop", "0001_initial")
    assert parsed.initial is True
    assert parsed.line == 6
    assert parsed.dependencies == (
        ("auth", "__first__"),
        ("catalog", "__first__"),
        ("catalog", "0003_category"),
    )
    assert (parsed.replaces, parsed.run_before, parsed.notes) == ((), (), ())


def test_swappable_dependency_follows_the_setting() -> None:
    parsed = _parse(SHOP_INITIAL, AUTH_USER_MODEL="accounts.Member")
    assert parsed.dependencies[0] == ("accounts", "__first__")


def test_operations_keep_their_literal_arguments() -> None:
    create, add = _parse(SHOP_INITIAL).operations
    assert (create.kind, create.line, add.kind, add.line) == ("CreateModel", 17, "AddField", 34)
    assert create.get("name") == "Order"
    assert create.get("options") == {"db_table": "shop_orders", "ordering": ("-id",)}
    fields = dict(create.args["fields"])  # type: ignore[call-overload]
    assert fields["number"] == Call(
        "CharField", "models.CharField", (), {"max_length": 10, "db_column": "order_no"}
    )
    assert fields["total"].kwargs["default"] == -1
    assert fields["customer"].kwargs == {
        "on_delete": Ref("django.db.models.deletion.CASCADE"),
        "to": Ref("settings.AUTH_USER_MODEL"),
    }
    assert fields["items"].kwargs == {"to": "catalog.product"}
    assert add.args == {
        "model_name": "order",
        "name": "note",
        "field": Call("TextField", "models.TextField", (), {"blank": True}),
    }


def test_nested_state_operations() -> None:
    parsed = _parse(
        migration_source(
            operations="""
            migrations.SeparateDatabaseAndState(
                state_operations=[migrations.DeleteModel("Order")],
                database_operations=[],
            ),
            migrations.RunSQL(
                "DROP TABLE x", migrations.RunSQL.noop, [migrations.RemoveField("a", "b")]
            ),
            """
        )
    )
    separate, sql = parsed.operations
    [delete] = separate.args["state_operations"]  # type: ignore[misc]
    assert (delete.kind, delete.args) == ("DeleteModel", {"name": "Order"})
    assert separate.args["database_operations"] == ()
    assert sql.args["sql"] == "DROP TABLE x"
    assert [op.kind for op in sql.args["state_operations"]] == ["RemoveField"]  # type: ignore[attr-defined]


def test_replaces_and_run_before() -> None:
    parsed = _parse(
        migration_source(
            extra="""
            replaces = [("shop", "0001_initial"), ("shop", "0002_order_note")]
            run_before = [("billing", "0001_initial")]
            """
        )
    )
    assert parsed.replaces == (("shop", "0001_initial"), ("shop", "0002_order_note"))
    assert parsed.run_before == (("billing", "0001_initial"),)


@pytest.mark.parametrize(
    ("dependencies", "settings", "expected", "notes"),
    [
        pytest.param(
            "[('sites', '0001_initial')] if app_settings.SITES_ENABLED else []",
            {},
            (("sites", "0001_initial"),),
            ("assumed true: app_settings.SITES_ENABLED",),
            id="unknown-condition-assumed-true",
        ),
        pytest.param(
            "([('sites', '0001_initial')] if settings.USE_SITES else [])"
            " + [('shop', '0001_initial')]",
            {"USE_SITES": False},
            (("shop", "0001_initial"),),
            (),
            id="setting-false",
        ),
        pytest.param(
            "[('sites', '0001_initial')] if getattr(settings, 'USE_SITES', True) else []",
            {},
            (("sites", "0001_initial"),),
            (),
            id="getattr-default",
        ),
        pytest.param(
            "[migrations.swappable_dependency(oauth2_settings.APPLICATION_MODEL)]",
            {},
            (),
            ("not read: migrations.swappable_dependency(oauth2_settings.APPLICATION_MODEL)",),
            id="swappable-unknown-setting",
        ),
        pytest.param(
            "compute_dependencies()", {}, (), ("not read: compute_dependencies()",), id="call"
        ),
    ],
)
def test_dependencies_that_are_expressions(
    dependencies: str,
    settings: dict[str, object],
    expected: tuple[tuple[str, str], ...],
    notes: tuple[str, ...],
) -> None:
    source = migration_source().replace("dependencies = [\n    ]", f"dependencies = {dependencies}")
    parsed = _parse(source, **settings)
    assert (parsed.dependencies, parsed.notes) == (expected, notes)


@pytest.mark.parametrize(
    ("source", "line", "reason"),
    [
        pytest.param(
            "class Migration(migrations.Migration:\n", 1, "invalid syntax (line 1)", id="syntax"
        ),
        pytest.param("x = 1\n", None, "it has no Migration class", id="no-class"),
        pytest.param(
            "x = '\0'\n", None, "source code string cannot contain null bytes", id="null-byte"
        ),
        pytest.param(
            b"# -*- coding: latin-1 -*-\nx = '\xe9'\n",
            None,
            "it has no Migration class",
            id="latin-1",
        ),
        pytest.param(b"x = '\xff\xfe'\n", 1, "(unicode error)", id="not-utf8"),
    ],
)
def test_bad_files_are_findings(source: str | bytes, line: int | None, reason: str) -> None:
    found = parse_migration(source, "shop", "0002_x", "shop/migrations/0002_x.py")
    assert not isinstance(found, MigrationFile)
    assert (found.kind, found.label, found.line, found.path) == (
        "bad-file",
        "bad-migration-file",
        line,
        "shop/migrations/0002_x.py",
    )
    assert found.message.startswith(f"Migration shop.0002_x cannot be loaded: {reason}")


def test_load_migrations_reads_each_module_of_the_folder(tmp_path: Path) -> None:
    write(tmp_path, "shop/migrations/__init__.py", "")
    write(tmp_path, "shop/migrations/0001_initial.py", migration_source())
    write(tmp_path, "shop/migrations/0002_broken.py", "class Migration(:\n")
    write(tmp_path, "shop/migrations/_helpers.py", "x = 1\n")
    write(tmp_path, "shop/migrations/~0003_backup.py", "x = 1\n")
    write(tmp_path, "shop/migrations/notes.txt", "x")
    files, findings = load_migrations(discover(tmp_path))
    assert [f.key for f in files] == [("shop", "0001_initial")]
    assert [f.nodes for f in findings] == [(("shop", "0002_broken"),)]


def _layout(root: Path) -> None:
    for path in [
        "src/shop/migrations/__init__.py",
        "src/shop/migrations/0001_initial.py",
        "src/catalog/migrations/__init__.py",
        "src/legacy/migrations/0001_initial.py",  # no __init__.py: a namespace, Django skips it
        "src/alembic/migrations/env.py",  # not Django's
        ".venv/lib/python3.11/site-packages/taggit/migrations/__init__.py",
        "node_modules/pkg/migrations/__init__.py",
        "vendor/site-packages/x/migrations/__init__.py",
        ".git/migrations/__init__.py",
    ]:
        write(root, path, "")
    write(
        root,
        "src/catalog/apps.py",
        'from django.apps import AppConfig\n\nclass C(AppConfig):\n    label = "products"\n',
    )


def test_discover_walks_the_project_and_skips_environments(tmp_path: Path) -> None:
    _layout(tmp_path)
    assert discover(tmp_path) == [
        MigrationsDir("products", str(tmp_path / "src/catalog/migrations"), True),
        MigrationsDir("legacy", str(tmp_path / "src/legacy/migrations"), False),
        MigrationsDir("shop", str(tmp_path / "src/shop/migrations"), True),
    ]


def test_discover_explicit_paths_are_taken_whole(tmp_path: Path) -> None:
    _layout(tmp_path)
    site = ".venv/lib/python3.11/site-packages"
    found = discover(tmp_path, [f"{site}/taggit", "node_modules", "src/shop/migrations"])
    assert [(d.app_label, Path(d.path).relative_to(tmp_path).as_posix()) for d in found] == [
        ("taggit", f"{site}/taggit/migrations"),
        ("pkg", "node_modules/pkg/migrations"),
        ("shop", "src/shop/migrations"),
    ]


@pytest.mark.parametrize(
    ("apps_py", "label"),
    [
        pytest.param(None, "catalog", id="no-apps-py"),
        pytest.param("class C(AppConfig):\n    name = 'catalog'\n", "catalog", id="no-label"),
        pytest.param("class C(AppConfig):\n    label = 'products'\n", "products", id="one-config"),
        pytest.param(
            "class A(AppConfig):\n    label = 'a'\n\n"
            "class B(AppConfig):\n    default = True\n    label = 'b'\n",
            "b",
            id="default-config",
        ),
        pytest.param(
            "class A(AppConfig):\n    label = 'a'\n\nclass B(AppConfig):\n    label = 'b'\n",
            "catalog",
            id="ambiguous",
        ),
        pytest.param("class C(AppConfig:\n", "catalog", id="broken-apps-py"),
    ],
)
def test_app_label(tmp_path: Path, apps_py: str | None, label: str) -> None:
    (tmp_path / "catalog").mkdir()
    if apps_py is not None:
        write(tmp_path, "catalog/apps.py", apps_py)
    assert app_label(tmp_path / "catalog") == label


def test_parse_cache_reuses_unchanged_files(tmp_path: Path) -> None:
    path = write(tmp_path, "shop/migrations/0001_initial.py", migration_source([("a", "0001_x")]))
    write(tmp_path, "shop/migrations/__init__.py", "")
    dirs = discover(tmp_path)
    cache: ParseCache = {}
    first, _ = load_migrations(dirs, cache=cache)
    stat = path.stat()
    # Same size and time: the cache answers, so the edit is not seen.
    path.write_text(path.read_text().replace("0001_x", "0001_y"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert load_migrations(dirs, cache=cache)[0] == first
    assert load_migrations(dirs)[0][0].dependencies == (("a", "0001_y"),)
    # Another time, or other settings: parsed again.
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert load_migrations(dirs, cache=cache)[0][0].dependencies == (("a", "0001_y"),)
    path.write_text(migration_source([("a", "0001_z")]))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert load_migrations(dirs, {"AUTH_USER_MODEL": "x.Y"}, cache)[0][0].dependencies == (
        ("a", "0001_z"),
    )


def test_parse_cache_round_trip(tmp_path: Path) -> None:
    write(tmp_path, "shop/migrations/0001_initial.py", migration_source())
    write(tmp_path, "shop/migrations/0002_bad.py", "class Migration(:\n")
    cache: ParseCache = {}
    parsed = load_migrations(discover(tmp_path), cache=cache)
    write_cache(tmp_path / "cache" / "parse.pickle", cache)
    again = read_cache(tmp_path / "cache" / "parse.pickle")
    assert again == cache
    assert load_migrations(discover(tmp_path), cache=again) == parsed


@pytest.mark.parametrize(
    "content",
    [None, b"", b"not a pickle", b"\x80\x05K\x01."],
    ids=["missing", "empty", "garbage", "not-a-dict"],
)
def test_unreadable_cache_is_empty(tmp_path: Path, content: bytes | None) -> None:
    if content is not None:
        (tmp_path / "parse.pickle").write_bytes(content)
    assert read_cache(tmp_path / "parse.pickle") == {}
