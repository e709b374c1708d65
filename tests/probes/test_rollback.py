"""Rollback previews against Django's own `migrate APP TARGET --plan` on the lab project (on
SQLite: the plan only reads `django_migrations`): the same migrations in the same order, and the
IRREVERSIBLE marks on the same operations. Then what each reversed operation drops, read from
small migration files.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from migdoctor.errors import MigdoctorError
from migdoctor.probes import NodeKey
from migdoctor.probes.drift import graph_for, load_project
from migdoctor.probes.migration_build import build_graph
from migdoctor.probes.migration_parse import MigrationFile, parse_migration
from migdoctor.probes.project import discover_project
from migdoctor.probes.rollback import (
    DROPS,
    IRREVERSIBLE,
    UNKNOWN,
    RollbackPreview,
    preview_rollback,
)
from tests.probes.helpers import migration_source, write

LAB = Path(__file__).resolve().parents[1] / "lab" / "project"
PlanItem = tuple[str, tuple[bool, ...]]  # a migration and, per operation, "IRREVERSIBLE"


class LabCopy:
    """The lab project copied to `root`, on a SQLite file, run with its real manage.py."""

    def __init__(self, root: Path) -> None:
        shutil.copytree(
            LAB, root, ignore=shutil.ignore_patterns("__pycache__", ".env", "*.sqlite3")
        )
        self.root = root
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "DJANGO_"))
        }
        self.env.update(DATABASE_ENGINE="sqlite", SQLITE_PATH=str(root / "db.sqlite3"),
                        MIGDOCTOR_NO_CACHE="1")  # fmt: skip

    def manage(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "src/manage.py", *args], cwd=self.root, env=self.env,
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def django_plan(self, app: str, target: str) -> list[PlanItem]:
        """`migrate APP TARGET --plan`: each migration with its operations' IRREVERSIBLE marks."""
        lines = self.manage("migrate", app, target, "--plan").splitlines()
        assert lines[0] == "Planned operations:"
        plan: list[tuple[str, list[bool]]] = []
        for line in lines[1:]:
            if line.startswith("    "):
                plan[-1][1].append(line.endswith("-> IRREVERSIBLE"))
            elif line.strip() and line.strip() != "No planned migration operations.":
                plan.append((line, []))
        return [(name, tuple(marks)) for name, marks in plan]

    def applied(self) -> set[NodeKey]:
        with closing(sqlite3.connect(self.root / "db.sqlite3")) as conn:
            return {(a, n) for a, n in conn.execute("SELECT app, name FROM django_migrations")}

    def preview(self, app: str, target: str) -> RollbackPreview:
        migs, _ = load_project(discover_project(self.root).migrations_dirs)
        applied = self.applied()
        return preview_rollback(graph_for(migs, applied), applied, app, target)


def as_plan(preview: RollbackPreview) -> list[PlanItem]:
    return [(u.label, tuple(r.effect == IRREVERSIBLE for r in u.reversals))
            for u in preview.unapply]  # fmt: skip


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabCopy]:
    lab = LabCopy(tmp_path_factory.mktemp("rollback") / "lab")
    lab.manage("migrate", "--no-input", "-v0")
    yield lab


TARGETS = [("tickets", "0004"), ("tickets", "zero"), ("tickets", "0002_ticket_status"),
           ("tickets", "0005"), ("tickets", "0006"), ("kb", "zero"), ("kb", "0001")]  # fmt: skip


@pytest.mark.parametrize(("app", "target"), TARGETS, ids=[f"{a}-{t}" for a, t in TARGETS])
def test_the_same_plan_as_django(migrated: LabCopy, app: str, target: str) -> None:
    assert as_plan(migrated.preview(app, target)) == migrated.django_plan(app, target)


def test_rolling_back_across_the_irreversible_migration(migrated: LabCopy) -> None:
    preview = migrated.preview("tickets", "0004")
    assert preview.target == ("tickets", "0004_alter_ticket_title_max_length")
    assert [u.label for u in preview.unapply] == [
        "kb.0002_article_slug", "kb.0001_initial", "tickets.0006_queue_ticket_queue_and_more",
        "tickets.0005_lowercase_status"]  # fmt: skip
    assert preview.stop is not None and preview.stop.label == "tickets.0005_lowercase_status"
    assert [r.detail for r in preview.stop.having(IRREVERSIBLE)] == [
        "RunPython(lowercase_status) has no reverse_code"
    ]
    assert [u.label for u in preview.reached] == [u.label for u in preview.unapply[:3]]
    assert [(u.key[1], r.detail) for u, r in preview.drops] == [
        ("0002_article_slug", "AddField article.slug: drops column kb_article.slug"),
        ("0001_initial", "CreateModel Article: drops table kb_article"),
        ("0006_queue_ticket_queue_and_more", "CreateModel Queue: drops table tickets_queue"),
        ("0006_queue_ticket_queue_and_more",
         "AddField ticket.queue: drops column tickets_ticket.queue_id")]  # fmt: skip


def test_a_target_that_is_not_applied_goes_forwards(tmp_path: Path) -> None:
    lab = LabCopy(tmp_path / "lab")
    lab.manage("migrate", "--no-input", "-v0")
    lab.manage("migrate", "kb", "zero", "-v0")
    preview = lab.preview("kb", "0001")
    assert (preview.backwards, preview.unapply, preview.stop) == (False, (), None)
    for app, target in [("tickets", "0003"), ("tickets", "zero"), ("kb", "zero")]:
        assert as_plan(lab.preview(app, target)) == lab.django_plan(app, target)


def test_a_dependent_app_on_two_branches_is_ordered_as_django_orders_it(tmp_path: Path) -> None:
    """An app depending on tickets.0003 and kb.0001: its migrations come first, in the order of
    Django's depth-first walk, and each once."""
    lab = LabCopy(tmp_path / "lab")
    write(lab.root, "src/extra/__init__.py", "")
    write(lab.root, "src/extra/migrations/__init__.py", "")
    write(lab.root, "src/extra/migrations/0001_initial.py", migration_source(
        [("tickets", "0003_rename_description_ticket_body")],
        'migrations.RunSQL("SELECT 1", reverse_sql=migrations.RunSQL.noop),'))  # fmt: skip
    write(
        lab.root,
        "src/extra/migrations/0002_more.py",
        migration_source(
            [("extra", "0001_initial"), ("kb", "0001_initial")], 'migrations.RunSQL("SELECT 2"),'
        ),
    )
    settings = lab.root / "src/config/settings.py"
    settings.write_text(settings.read_text().replace('    "kb",\n', '    "kb",\n    "extra",\n'))
    lab.manage("migrate", "--no-input", "-v0")
    for app, target in [
        ("tickets", "0002"),
        ("tickets", "zero"),
        ("kb", "zero"),
        ("extra", "zero"),
    ]:
        assert as_plan(lab.preview(app, target)) == lab.django_plan(app, target), (app, target)
    assert lab.preview("kb", "zero").stop is not None
    assert lab.preview("kb", "zero").stop.label == "extra.0002_more"  # type: ignore[union-attr]


def test_a_squashed_migration_and_a_target_it_replaces(tmp_path: Path) -> None:
    """With the squash in use, a target it replaces makes Django plan without replacements."""
    lab = LabCopy(tmp_path / "lab")
    lab.manage("migrate", "--no-input", "-v0")
    lab.manage("squashmigrations", "tickets", "0001", "0003", "--no-input", "-v0")
    lab.manage("migrate", "--no-input", "-v0")  # records the squash as applied
    for app, target in [("tickets", "0002"), ("tickets", "0003"), ("tickets", "0001_initial_squashed"),
                        ("tickets", "zero"), ("kb", "zero")]:  # fmt: skip
        assert as_plan(lab.preview(app, target)) == lab.django_plan(app, target), (app, target)


def test_unknown_and_ambiguous_targets(migrated: LabCopy) -> None:
    with pytest.raises(MigdoctorError, match="no migration of tickets matches '0009'"):
        migrated.preview("tickets", "0009")
    with pytest.raises(MigdoctorError, match="more than one migration of tickets matches '000'"):
        migrated.preview("tickets", "000")
    with pytest.raises(MigdoctorError, match="app 'shop' has no migrations"):
        migrated.preview("shop", "zero")


# --------------------------------------------------------------------------- what reversing drops


def preview_of(tmp_path: Path, *operations: str) -> RollbackPreview:
    """A one-app project: 0001 creates the model Book; 0002 holds `operations`; roll back to 0001."""
    base = migration_source([], """
        migrations.CreateModel(name="Book", fields=[
            ("id", models.BigAutoField(primary_key=True)),
            ("title", models.CharField(max_length=10)),
        ]),
        migrations.CreateModel(name="Tag", fields=[("id", models.BigAutoField(primary_key=True))]),
        """)  # fmt: skip
    files = [
        _parse(tmp_path, "0001_initial", base),
        _parse(
            tmp_path,
            "0002_change",
            migration_source([("shop", "0001_initial")], "\n".join(operations)),
        ),
    ]
    applied = {f.key for f in files}
    return preview_rollback(build_graph(files, applied), applied, "shop", "0001")


def _parse(root: Path, name: str, source: str) -> MigrationFile:
    path = write(root, f"shop/migrations/{name}.py", source)
    parsed = parse_migration(source, "shop", name, str(path))
    assert isinstance(parsed, MigrationFile)
    return parsed


def effects(preview: RollbackPreview) -> list[tuple[str, str]]:
    return [(r.effect, r.detail) for u in preview.unapply for r in u.reversals]


def test_what_reversing_each_operation_drops(tmp_path: Path) -> None:
    preview = preview_of(
        tmp_path,
        'migrations.AddField("book", "isbn", models.CharField(max_length=13, default="")),',
        'migrations.AddField("book", "tags", models.ManyToManyField(to="shop.tag")),',
        'migrations.AddField("book", "owner", models.ForeignKey("shop.tag", models.CASCADE, '
        "null=True)),",
        'migrations.CreateModel(name="Shelf", fields=[("id", models.BigAutoField(primary_key=True))]),',
        'migrations.CreateModel(name="Legacy", fields=[("id", models.BigAutoField(primary_key=True))],'
        ' options={"managed": False}),',
        'migrations.CreateModel(name="Cheap", fields=[], options={"proxy": True}, bases=("shop.book",)),',
        'migrations.RemoveField("book", "title"),',
        'migrations.RenameField("book", "isbn", "code"),',
        'migrations.AlterField("book", "code", models.CharField(max_length=20, default="")),',
        'migrations.AddIndex("book", models.Index(fields=["code"], name="book_code_idx")),',
        'migrations.RunSQL("UPDATE shop_book SET code = upper(code)", reverse_sql=migrations.RunSQL.noop),',
        "migrations.RunPython(fill, migrations.RunPython.noop),",
    )
    assert effects(preview) == [
        (DROPS, "AddField book.isbn: drops column shop_book.isbn"),
        (DROPS, "AddField book.tags: drops table shop_book_tags"),
        (DROPS, "AddField book.owner: drops column shop_book.owner_id"),
        (DROPS, "CreateModel Shelf: drops table shop_shelf"),
        ("", "CreateModel Legacy: nothing dropped"),
        ("", "CreateModel Cheap: nothing dropped"),
        ("", "RemoveField book.title: nothing dropped"),
        ("", "RenameField book.isbn -> code: nothing dropped"),
        ("", "AlterField book.code: nothing dropped"),
        ("", "AddIndex book: nothing dropped"),
        ("", "RunSQL: runs its reverse_sql migrations.RunSQL.noop"),
        ("", "RunPython(fill): runs its reverse_code migrations.RunPython.noop"),
    ]
    assert preview.stop is None


def test_what_cannot_be_reversed_or_cannot_be_told(tmp_path: Path) -> None:
    preview = preview_of(
        tmp_path,
        'migrations.RunSQL("UPDATE shop_book SET title = upper(title)"),',
        "migrations.RunPython(fill, reverse_code=None),",
        "migrations.SeparateDatabaseAndState(database_operations=["
        '    migrations.RunSQL("ALTER TABLE shop_book ADD COLUMN x int")],'
        '    state_operations=[migrations.AddField("book", "x", models.IntegerField(null=True))]),',
        "migrations.SeparateDatabaseAndState(state_operations=["
        '    migrations.CreateModel(name="Ghost", fields=[])], database_operations=['
        '    migrations.AddField("book", "y", models.IntegerField(null=True))]),',
        'pgtrigger.AddTrigger(model_name="book", trigger=None),',
    )
    assert effects(preview) == [
        (IRREVERSIBLE, "RunSQL has no reverse_sql"),
        (IRREVERSIBLE, "RunPython(fill) has no reverse_code"),
        (IRREVERSIBLE, "SeparateDatabaseAndState: RunSQL has no reverse_sql"),
        (DROPS, "SeparateDatabaseAndState: AddField book.y: drops column y of model book"),
        (
            UNKNOWN,
            "AddTrigger book: a custom operation; whether it can be reversed, and what "
            "that drops, is not known",
        ),
    ]
    assert preview.stop is not None and preview.stop.label == "shop.0002_change"
    assert preview.reached == ()


def test_operations_that_could_not_be_read_are_unknown(tmp_path: Path) -> None:
    source = migration_source([("shop", "0001_initial")]).replace(
        "operations = [\n\n    ]", "operations = build_operations()"
    )
    files = [_parse(tmp_path, "0001_initial", migration_source()),
             _parse(tmp_path, "0002_change", source)]  # fmt: skip
    applied = {f.key for f in files}
    preview = preview_rollback(build_graph(files, applied), applied, "shop", "zero")
    assert effects(preview)[0] == (UNKNOWN, "not read: build_operations()")
