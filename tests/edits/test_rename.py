"""`migdoctor edit rename-migration` on the lab project and its real PostgreSQL database: the
file, every dependency on it and the `django_migrations` rows renamed, then Django's own
`migrate` finding nothing to do; refusals that change nothing; unreachable databases reported."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.scenarios.lab import PYTHON, Project

pytestmark = pytest.mark.postgres

OLD, NEW = "0006_queue_ticket_queue_and_more", "0006_add_queue"
OLD_FILE, NEW_FILE = f"tickets/migrations/{OLD}.py", f"tickets/migrations/{NEW}.py"
DEPENDENT = "kb/migrations/0001_initial.py"
UNREACHABLE_URL = "postgresql://postgres:pw-never-shown@127.0.0.1:1/elsewhere"
RENAMED_ROW = {"django_migrations": ("name",)}  # the one column a rename changes


def rename(project: Project, *args: str, env: dict[str, str] | None = None,
           ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return project.migdoctor("edit", "rename-migration", *args, "--project", str(project.root),
                             env=env)  # fmt: skip


def rename_json(project: Project, *args: str, env: dict[str, str] | None = None,
                ) -> tuple[int, dict[str, Any]]:  # fmt: skip
    proc = rename(project, *args, "--json", env=env)
    assert proc.stdout.strip(), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def source_files(project: Project) -> dict[str, bytes]:
    """Every file of the project's source tree, bytecode aside."""
    root = project.root / "src"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}  # fmt: skip


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {db["name"]: db["status"] for db in report["databases"]}


def renamed(history: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(app, NEW if (app, name) == ("tickets", OLD) else name) for app, name in history]


def test_an_applied_migration_is_renamed_in_files_and_database(project: Project) -> None:
    dependent = project.path(DEPENDENT).read_bytes()
    rows, history = project.checksums(ignore=RENAMED_ROW), project.history()
    compiled = [project.path(OLD_FILE), project.path(DEPENDENT)]  # renamed, rewritten
    project.run([PYTHON, "-c", "import py_compile, sys; [py_compile.compile(p) for p in "
                 "sys.argv[1:]]", *map(str, compiled)])  # fmt: skip
    stale = sorted(p for c in compiled for p in c.parent.glob(f"__pycache__/{c.stem}.*.pyc"))
    assert len(stale) == 2

    code, report = rename_json(project, "tickets", OLD, NEW)

    assert code == 0, report
    assert report["file"] == {"old": f"src/{OLD_FILE}", "new": f"src/{NEW_FILE}"}
    assert report["references"] == [{"path": f"src/{DEPENDENT}", "line": 13,
                                      "list": "dependencies"}]  # fmt: skip
    assert report["removed"] == [str(p.relative_to(project.root)) for p in stale]
    assert statuses(report) == {"local": "renamed", "docker": "same-database"}
    assert report["complete"] is True
    assert not project.path(OLD_FILE).exists() and project.path(NEW_FILE).is_file()
    assert not any(p.exists() for p in stale)
    assert project.path(DEPENDENT).read_bytes() == dependent.replace(
        f'("tickets", "{OLD}")'.encode(), f'("tickets", "{NEW}")'.encode()
    )
    assert project.history() == renamed(history)
    assert project.ok("migrate").endswith("No migrations to apply.\n")
    assert project.manage("migrate", "--check").code == 0
    assert project.checksums(ignore=RENAMED_ROW) == rows


def test_a_migration_not_applied_changes_only_files_and_migrate_applies_it(
    project: Project,
) -> None:
    project.ok("migrate", "kb", "zero", "-v0")
    project.ok("migrate", "tickets", "0005", "-v0")
    history = project.history()

    code, report = rename_json(project, "tickets", "0006", NEW)  # the number, as migrate reads it

    assert code == 0, report
    assert (report["old"], report["new"]) == (OLD, NEW)
    assert statuses(report) == {"local": "not-applied", "docker": "same-database"}
    assert project.history() == history
    assert project.migration_files("tickets")[-1] == f"{NEW}.py"
    applied = project.ok("migrate")
    assert f"Applying tickets.{NEW}... OK" in applied
    assert "Applying kb.0001_initial... OK" in applied
    assert project.manage("migrate", "--check").code == 0


def test_other_quotes_layouts_and_encodings_are_kept_byte_for_byte(project: Project) -> None:
    """Only the name's token changes: single quotes, a list split over lines with a comment,
    a conditional item after non-ASCII text on its line, CRLF line ends, a latin-1 file."""
    extra = (
        "# -*- coding: latin-1 -*-\r\n"
        "from django.db import migrations\r\n"
        "\r\n"
        f"PREVIOUS = '{OLD}'  # a constant a person must look at\r\n"
        "\r\n"
        "\r\n"
        "class Migration(migrations.Migration):\r\n"
        "    dependencies = [\r\n"
        "        ('kb', '0002_article_slug'),  # the slug\r\n"
        f"        ('tickets',\r\n          '{OLD}'),\r\n"
        "    ]\r\n"
        f'    run_before = [("tickets", "{OLD}")] if "déjà" == "vu" else []\r\n'
        "    operations = []\r\n"
    )
    project.path("kb/migrations/0003_extra.py").write_bytes(extra.encode("latin-1"))

    code, report = rename_json(project, "tickets", OLD, NEW)

    assert code == 0, report
    assert [(r["path"], r["line"], r["list"]) for r in report["references"]] == [
        (f"src/{DEPENDENT}", 13, "dependencies"),
        ("src/kb/migrations/0003_extra.py", 11, "dependencies"),
        ("src/kb/migrations/0003_extra.py", 13, "run_before"),
    ]
    assert report["notes"] == [f"src/kb/migrations/0003_extra.py:4 also says '{OLD}', not as a "
                               f"reference to tickets.{OLD}: left as is"]  # fmt: skip
    expected = (extra.replace(f"          '{OLD}')", f"          '{NEW}')")
                .replace(f'("tickets", "{OLD}")', f'("tickets", "{NEW}")'))  # fmt: skip
    assert project.path("kb/migrations/0003_extra.py").read_bytes() == expected.encode("latin-1")
    assert "Applying kb.0003_extra... OK" in project.ok("migrate")
    assert project.manage("migrate", "--check").code == 0


REFUSALS = {
    "new name taken": ("tickets", OLD, "0005_lowercase_status", "already exists"),
    "unknown migration": ("tickets", "0099_nothing", "0099_x", "no migration '0099_nothing'"),
    "ambiguous number": ("tickets", "000", NEW, "names more than one migration"),
    "unknown app": ("nosuchapp", OLD, NEW, "no app 'nosuchapp'"),
    "invalid name": ("tickets", OLD, "0006-add-queue", "not a valid migration name"),
    "hidden module": ("tickets", OLD, "_0006_add_queue", "not a valid migration name"),
    "same name": ("tickets", OLD, OLD, "already has that name"),
}


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refused_rename_changes_nothing(project: Project, case: tuple[str, ...]) -> None:
    app, old, new, message = case
    files, history = source_files(project), project.history()

    proc = rename(project, app, old, new)

    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.startswith("migdoctor: error: ") and proc.stderr.count("\n") == 1
    assert message in proc.stderr
    assert (source_files(project), project.history()) == (files, history)


SQUASH = """from django.db import migrations


class Migration(migrations.Migration):
    replaces = [("tickets", "0001_initial"), ("tickets", "0002_ticket_status")]
    operations = []
"""
BROKEN = f"""from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tickets", "{OLD}")
"""
COMPUTED = f"""from django.db import migrations

AFTER = ("tickets", "{OLD}")


class Migration(migrations.Migration):
    dependencies = [("kb", "0002_article_slug"), AFTER]
    operations = []
"""
SPLIT_NAME = """from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tickets", "0006_queue_ticket_" "queue_and_more")]
    operations = []
"""


@pytest.mark.parametrize(("rel", "text", "old", "message"), [
    ("tickets/migrations/0002_squashed.py", SQUASH, "0002_ticket_status",
     "is replaced by the squashed migration tickets.0002_squashed"),
    ("kb/migrations/0003_broken.py", BROKEN, OLD,
     "src/kb/migrations/0003_broken.py names 0006_queue_ticket_queue_and_more and cannot be "
     "read: does not parse"),
    ("kb/migrations/0003_computed.py", COMPUTED, OLD,
     "src/kb/migrations/0003_computed.py:7: dependencies is computed in code (AFTER): which "
     "migration it names cannot be known; nothing was changed"),
    ("kb/migrations/0003_split.py", SPLIT_NAME, OLD,
     f"src/kb/migrations/0003_split.py:5: the name '{OLD}' in dependencies is not written as "
     "a plain string; nothing was changed"),
], ids=["replaced by a squash", "a file naming it does not parse",
        "a dependency computed in code", "a name split in two strings"])  # fmt: skip
def test_a_rename_that_cannot_be_complete_is_refused(project: Project, rel: str, text: str,
                                                     old: str, message: str) -> None:  # fmt: skip
    project.write(rel, text)
    files, history = source_files(project), project.history()

    proc = rename(project, "tickets", old, "0002_renamed")

    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert (source_files(project), project.history()) == (files, history)


def test_a_dry_run_shows_the_plan_and_changes_nothing(project: Project) -> None:
    files, history = source_files(project), project.history()

    proc = rename(project, "tickets", OLD, NEW, "--dry-run")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[:3] == [
        f"Would rename tickets.{OLD} to {NEW} (dry run: nothing changed).",
        f"  would move   src/{OLD_FILE} -> src/{NEW_FILE}",
        f"  would change src/{DEPENDENT}:13 (dependencies)",
    ]
    assert f"would rename the row (tickets.{OLD} is applied)" in proc.stdout
    assert (source_files(project), project.history()) == (files, history)


def test_an_unreachable_database_is_reported_with_its_update_and_exit_1(project: Project) -> None:
    env = {"DATABASE_URL": UNREACHABLE_URL}
    history = project.history()

    proc = rename(project, "tickets", OLD, NEW, env=env)

    assert proc.returncode == 1, proc.stdout + proc.stderr
    update = (f"UPDATE django_migrations SET name = '{NEW}' WHERE app = 'tickets' "
              f"AND name = '{OLD}';")  # fmt: skip
    unreachable = next(line for line in proc.stdout.splitlines() if line.startswith("  env "))
    assert unreachable.startswith("  env    postgresql://postgres:***@127.0.0.1:1/elsewhere: "
                                  "not updated: unreachable (")  # fmt: skip
    assert unreachable.endswith(f"— run this UPDATE there: {update}")
    assert "pw-never-shown" not in proc.stdout + proc.stderr
    assert project.history() == renamed(history)  # the reachable one is done all the same
    assert project.path(NEW_FILE).is_file()


UNPUBLISHED_DB = """services:
  db:
    image: postgres:16
    env_file: .env
  web:
    image: lab-web
    env_file: .env
"""


def test_a_compose_database_without_a_published_port_is_reported_not_skipped(
    project: Project,
) -> None:
    (project.root / "compose.yaml").write_text(UNPUBLISHED_DB)

    code, report = rename_json(project, "tickets", OLD, NEW)

    assert code == 1, report
    assert statuses(report) == {"local": "renamed", "docker": "unreachable"}
    docker = report["databases"][1]
    assert docker["detail"].startswith("the Compose service db publishes no port")
    assert docker["sql"].startswith(f"UPDATE django_migrations SET name = '{NEW}'")


def test_a_database_with_both_names_is_not_updated(project: Project) -> None:
    project.sql("INSERT INTO django_migrations (app, name, applied) VALUES ('tickets', %s, now())",
                NEW)  # fmt: skip
    history = project.history()

    code, report = rename_json(project, "tickets", OLD, NEW)

    assert code == 1, report
    local = report["databases"][0]
    assert (local["name"], local["status"]) == ("local", "conflict")
    assert (
        local["sql"] == f"DELETE FROM django_migrations WHERE app = 'tickets' AND name = '{OLD}';"
    )
    assert project.history() == history


def test_the_fix_wizard_renames_an_applied_migration(project: Project) -> None:
    rows, history = project.checksums(ignore=RENAMED_ROW), project.history()

    proc = project.migdoctor(
        "fix", "rename-misleading-migration", "--option", "rename-applied",
        "--set", "app_label=tickets", "--set", f"migration={OLD}", "--set", f"new_migration={NEW}",
        "--yes", "--context", "local", "--project", str(project.root), "--json",
    )  # fmt: skip

    assert proc.returncode == 0, proc.stdout + proc.stderr
    outcome = json.loads(proc.stdout)
    assert outcome["verified"] is True, outcome
    manage = [PYTHON, "src/manage.py"]
    assert [s["argv"] for s in outcome["steps"]] == [
        [*manage, "showmigrations", "tickets"],
        [PYTHON, "-m", "migdoctor", "edit", "rename-migration", "tickets", OLD, NEW],
        [*manage, "makemigrations", "--check", "--dry-run"],
        [*manage, "showmigrations", "tickets"],
        [*manage, "migrate", "--check"],
    ]
    assert [s["exit_code"] for s in outcome["steps"]] == [0] * 5
    assert (
        f"local  postgresql://postgres@127.0.0.1:5432/{project.dbname}: row renamed" in proc.stderr
    )
    assert project.path(NEW_FILE).is_file()
    assert project.history() == renamed(history)
    assert project.ok("migrate").endswith("No migrations to apply.\n")
    assert project.checksums(ignore=RENAMED_ROW) == rows


def test_a_missing_project_folder_is_refused_in_one_line(tmp_path: Path) -> None:
    proc = subprocess.run([PYTHON, "-m", "migdoctor", "edit", "rename-migration", "tickets", OLD,
                           NEW, "--project", str(tmp_path / "missing")],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith("migdoctor: error: --project ")
