"""`migdoctor edit rebase-branch`, run as a user runs it, on the lab project with the two
branches of `tickets` a merge left behind, against the real PostgreSQL that says which branch
is applied. What it writes is then run by the real `manage.py migrate`.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.scenarios.lab import PYTHON, Project
from tests.scenarios.test_conflict import (
    BASE,
    DUE,
    PRIORITY,
    Field,
    add_article_view,
    add_due_index,
    add_field,
    both_applied,
    both_merged_unapplied,
    priority_applied_then_due_merged,
)

pytestmark = pytest.mark.postgres

CLOSED_PORT = "postgresql://postgres@127.0.0.1:1/nothing"  # nothing listens on port 1


def rebase(project: Project, *args: str,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return project.migdoctor("edit", "rebase-branch", "tickets", *args, env=env)


def migration_files(project: Project) -> dict[str, bytes]:
    """Every migration file of the project, by path, with its bytes."""
    src = project.root / "src"
    return {str(p.relative_to(src)): p.read_bytes() for p in src.glob("*/migrations/0*.py")}


def compiled(project: Project) -> set[str]:
    """The modules of the migrations folders that have bytecode in `__pycache__`."""
    return {p.name.split(".")[0] for p in project.root.glob("src/*/migrations/__pycache__/*")}


def make_older(project: Project, field: Field) -> None:
    path = project.path(f"tickets/migrations/{field.migration}.py")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns - 10**9 * 3600))


def test_the_applied_branch_stays_and_only_the_name_strings_change(project: Project) -> None:
    priority_applied_then_due_merged(project)
    before = project.path(f"tickets/migrations/{DUE.migration}.py").read_text()

    done = rebase(project)

    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "tickets has two leaves, 0007_ticket_due and 0007_ticket_priority, after "
        f"{BASE}.\n"
        "Moving 0007_ticket_due after 0007_ticket_priority: 0007_ticket_priority is applied in "
        "local, docker; 0007_ticket_due is applied in no database.\n"
        f"note: local and docker are the same database: 127.0.0.1:5432/{project.dbname}\n"
        "rename src/tickets/migrations/0007_ticket_due.py -> "
        "src/tickets/migrations/0008_ticket_due.py\n"
        "rewrite src/tickets/migrations/0008_ticket_due.py:6 dependencies: "
        f"tickets.{BASE} -> tickets.0007_ticket_priority\n"
        "Done: tickets has one leaf, 0008_ticket_due. Next: python manage.py migrate tickets\n"
    )
    assert not project.path(f"tickets/migrations/{DUE.migration}.py").exists()
    after = project.path("tickets/migrations/0008_ticket_due.py").read_text()
    assert after == before.replace(f'"{BASE}"', '"0007_ticket_priority"')
    assert "Applying tickets.0008_ticket_due... OK" in project.ok("migrate")
    assert project.manage("makemigrations", "--check", "--dry-run").code == 0


def test_a_chain_moves_whole_and_every_reference_follows(project: Project) -> None:
    add_field(project, PRIORITY)
    project.ok("migrate", "-v0")
    add_field(project, DUE)
    add_due_index(project)
    add_article_view(project)
    subprocess.run([PYTHON, "-m", "compileall", "-q", "src"], cwd=project.root, check=True)
    moved = {"0007_ticket_due", "0008_ticket_due_index", "0003_article_due_view"}
    assert moved <= compiled(project)
    view = project.path("kb/migrations/0003_article_due_view.py").read_text()

    done = rebase(project)

    assert done.returncode == 0, done.stderr
    assert project.migration_files("tickets")[-3:] == [
        "0007_ticket_priority.py",
        "0008_ticket_due.py",
        "0009_ticket_due_index.py",
    ]
    assert (
        "rewrite src/kb/migrations/0003_article_due_view.py:7 dependencies: "
        "tickets.0007_ticket_due -> tickets.0008_ticket_due\n"
    ) in done.stdout
    assert (
        "rewrite src/tickets/migrations/0009_ticket_due_index.py:6 dependencies: "
        "tickets.0007_ticket_due -> tickets.0008_ticket_due\n"
    ) in done.stdout
    assert project.path("kb/migrations/0003_article_due_view.py").read_text() == view.replace(
        '"0007_ticket_due"', '"0008_ticket_due"'
    )
    index = project.path("tickets/migrations/0009_ticket_due_index.py").read_text()
    assert "CREATE INDEX ticket_due_idx ON tickets_ticket (due)" in index
    assert not moved & compiled(project)
    assert project.ok("migrate", "-v0") == ""
    assert project.applied("tickets")[-2:] == ["0008_ticket_due", "0009_ticket_due_index"]
    assert project.applied("kb")[-1] == "0003_article_due_view"


def test_a_dry_run_says_the_same_and_changes_nothing(project: Project) -> None:
    priority_applied_then_due_merged(project)
    files = migration_files(project)

    done = rebase(project, "--dry-run", "--json")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "app_label": "tickets",
        "leaves": ["0007_ticket_due", "0007_ticket_priority"],
        "common_ancestor": BASE,
        "moved": "0007_ticket_due",
        "onto": "0007_ticket_priority",
        "new_leaf": "0008_ticket_due",
        "reason": "0007_ticket_priority is applied in local, docker; 0007_ticket_due is "
                  "applied in no database",
        "notes": [f"local and docker are the same database: 127.0.0.1:5432/{project.dbname}"],
        "databases": [
            {"name": "local", "url": f"postgresql://postgres@127.0.0.1:5432/{project.dbname}",
             "read": True, "problem": None},
            {"name": "docker", "url": f"postgresql://postgres@127.0.0.1:5432/{project.dbname}",
             "read": True, "problem": None}],
        "applied_in": {"0007_ticket_due": [], "0007_ticket_priority": ["local", "docker"]},
        "renames": [{"from": "0007_ticket_due", "to": "0008_ticket_due",
                     "path": "src/tickets/migrations/0007_ticket_due.py",
                     "new_path": "src/tickets/migrations/0008_ticket_due.py"}],
        "rewrites": [{"path": "src/tickets/migrations/0008_ticket_due.py", "line": 6,
                      "attribute": "dependencies", "from": ["tickets", BASE],
                      "to": ["tickets", "0007_ticket_priority"]}],
        "dry_run": True,
        "changed": False,
    }  # fmt: skip
    assert migration_files(project) == files
    assert rebase(project, "--dry-run").stdout.endswith("Dry run: nothing was changed.\n")
    assert migration_files(project) == files


def test_when_neither_is_applied_the_newer_branch_moves_unless_one_is_named(
    project: Project,
) -> None:
    both_merged_unapplied(project)
    make_older(project, PRIORITY)
    files = migration_files(project)

    shown = rebase(project, "--dry-run")
    named = rebase(project, "--dry-run", "--branch", PRIORITY.migration)

    assert (
        "Moving 0007_ticket_due after 0007_ticket_priority: neither branch is applied in "
        "any database; 0007_ticket_due has the files modified last (--branch picks the "
        "other).\n"
    ) in shown.stdout
    assert (
        "Moving 0007_ticket_priority after 0007_ticket_due: chosen with --branch.\n" in named.stdout
    ), named.stderr
    assert migration_files(project) == files
    assert rebase(project, "--branch", PRIORITY.migration).returncode == 0
    assert project.migration_files("tickets")[-2:] == ["0007_ticket_due.py",
                                                       "0008_ticket_priority.py"]  # fmt: skip
    project.ok("migrate", "-v0")
    assert project.applied("tickets")[-2:] == ["0007_ticket_due", "0008_ticket_priority"]


def test_a_branch_some_database_applied_is_never_moved(project: Project) -> None:
    priority_applied_then_due_merged(project)
    files = migration_files(project)

    named = rebase(project, "--branch", PRIORITY.migration)

    assert named.returncode == 1
    assert named.stderr == (
        "migdoctor: error: the branch of 0007_ticket_priority is applied in local, docker: "
        "renaming it would leave that history naming files that no longer exist (move the "
        "other branch, or merge: python manage.py makemigrations --merge tickets)\n"
    )
    assert migration_files(project) == files


def test_both_applied_is_refused_with_the_merge_command(project: Project) -> None:
    both_applied(project)
    files = migration_files(project)

    refused = rebase(project)

    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr.endswith("(merge them: python manage.py makemigrations --merge "
                                   "tickets)\n")  # fmt: skip
    assert migration_files(project) == files


def test_a_database_that_cannot_be_read_is_refused_unless_assumed_unapplied(
    project: Project,
) -> None:
    priority_applied_then_due_merged(project)
    files = migration_files(project)
    env = {"DATABASE_URL": CLOSED_PORT}

    refused = rebase(project, env=env)
    assumed = rebase(project, "--assume-unapplied", env=env)

    assert refused.returncode == 1
    assert refused.stderr.startswith(
        "migdoctor: error: database env (postgresql://postgres@127.0.0.1:1/nothing) could not "
        "be read: "
    )
    assert refused.stderr.endswith("(when no database there has applied either branch, run "
                                   "again with --assume-unapplied)\n")  # fmt: skip
    assert assumed.returncode == 0, assumed.stderr
    assert (
        "note: database env (postgresql://postgres@127.0.0.1:1/nothing) could not be read "
        in assumed.stdout
    )
    assert migration_files(project) != files
    assert project.migration_files("tickets")[-1] == "0008_ticket_due.py"


def test_single_quotes_and_comments_are_kept(project: Project) -> None:
    add_field(project, PRIORITY)
    project.ok("migrate", "-v0")
    add_field(project, DUE)
    path = project.path(f"tickets/migrations/{DUE.migration}.py")
    path.write_text(path.read_text().replace(f'("tickets", "{BASE}"),',
                                             f"('tickets',  '{BASE}'),  # from main"))  # fmt: skip
    before = path.read_text()

    assert rebase(project).returncode == 0

    after = project.path("tickets/migrations/0008_ticket_due.py").read_text()
    assert after == before.replace(f"'{BASE}'", "'0007_ticket_priority'")
    assert "('tickets',  '0007_ticket_priority'),  # from main" in after


def test_several_names_in_a_latin_1_file_with_crlf_are_rewritten_byte_for_byte(
    project: Project,
) -> None:
    add_field(project, PRIORITY)
    project.ok("migrate", "-v0")
    add_field(project, DUE)
    add_due_index(project)
    both = (
        "# -*- coding: latin-1 -*-\r\n"
        "from django.db import migrations\r\n"
        "\r\n"
        "\r\n"
        "class Migration(migrations.Migration):\r\n"
        "    # après les deux migrations de l'échéance\r\n"
        "    dependencies = [\r\n"
        "        ('kb', '0002_article_slug'),\r\n"
        "        (\"tickets\", u\"0007_ticket_due\"), ('tickets', '0008_ticket_due_index'),\r\n"
        "    ]\r\n"
        "    operations = []\r\n"
    )
    project.path("kb/migrations/0003_after_due.py").write_bytes(both.encode("latin-1"))

    done = rebase(project)

    assert done.returncode == 0, done.stderr
    assert (
        "rewrite src/kb/migrations/0003_after_due.py:9 dependencies: tickets.0007_ticket_due -> "
        "tickets.0008_ticket_due\n"
        "rewrite src/kb/migrations/0003_after_due.py:9 dependencies: "
        "tickets.0008_ticket_due_index -> tickets.0009_ticket_due_index\n"
    ) in done.stdout
    expected = both.replace("'0008_ticket_due_index'", "'0009_ticket_due_index'").replace(
        'u"0007_ticket_due"', 'u"0008_ticket_due"')  # fmt: skip
    assert project.path("kb/migrations/0003_after_due.py").read_bytes() == expected.encode(
        "latin-1")  # fmt: skip
    assert "Applying kb.0003_after_due... OK" in project.ok("migrate")


COMPUTED = """from django.db import migrations

AFTER = ("tickets", "0007_ticket_due")


class Migration(migrations.Migration):
    dependencies = [("kb", "0002_article_slug"), AFTER]
    operations = []
"""


@pytest.mark.parametrize(("name", "text", "message"), [
    ("0003_computed.py", COMPUTED,
     "src/kb/migrations/0003_computed.py:7: dependencies is computed in code (AFTER): which "
     "migration it names cannot be known; nothing was changed"),
    ("0003_broken.py", "class Migration(migrations.Migration:\n",
     "Migration kb.0003_broken cannot be loaded: "),
])  # fmt: skip
def test_a_file_it_cannot_read_stops_it_before_any_change(
    project: Project, name: str, text: str, message: str
) -> None:
    priority_applied_then_due_merged(project)
    Path(project.path(f"kb/migrations/{name}")).write_text(text)
    files = migration_files(project)

    refused = rebase(project)

    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr.startswith(f"migdoctor: error: {message}"), refused.stderr
    assert migration_files(project) == files


def test_anything_but_two_leaves_is_refused(project: Project) -> None:
    one = rebase(project)
    both_merged_unapplied(project)
    add_field(project, Field("0007_ticket_color", "color", "models.CharField(max_length=20, "
                             "default='')"))  # fmt: skip
    three = rebase(project)

    assert (one.returncode, one.stderr) == (
        1,
        (f"migdoctor: error: tickets has one leaf ({BASE}): there is no conflict to resolve\n"),
    )
    assert (three.returncode, three.stderr) == (
        1,
        (
            "migdoctor: error: tickets has 3 leaves (0007_ticket_color, 0007_ticket_due, "
            "0007_ticket_priority): a rebase joins two (merge them: python manage.py "
            "makemigrations --merge tickets)\n"
        ),
    )
