"""`migdoctor edit`: changes of a project's migration files (and of the `django_migrations`
rows that name them) that migdoctor makes itself, so that the fix wizard can run them as steps
(`edit:` in a playbook) and a person can run them by hand.

Each command prints what it changed, or refuses with one line and changes nothing. The
implementations live in `migdoctor.edits` and are imported only when a command runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

edit_app = typer.Typer(help="Change migration files safely (used by the fix wizard).",
                       no_args_is_help=True)  # fmt: skip


@edit_app.command("rename-migration")
def rename_migration(
    app_label: Annotated[str, typer.Argument(metavar="APP", help="The app's label.")],
    old: Annotated[str, typer.Argument(
        metavar="OLD", help="The migration's name, or its number when that is unique.")],
    new: Annotated[str, typer.Argument(metavar="NEW", help="The new name, e.g. 0006_add_queue.")],
    project: Annotated[str | None, typer.Option("--project", help="The project folder.")] = None,
    compose_file: Annotated[list[str] | None, typer.Option(
        "--compose-file", help="A compose file that defines the db service (repeatable).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; change nothing.")
                       ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:  # fmt: skip
    """Rename a migration: its file, every dependency on it, and its django_migrations row in
    each database that applied it. Exit 1 when a database could not be updated."""
    import os
    import sys

    from migdoctor.cli import _emit, _handled
    from migdoctor.edits.rename import rename_migration as rename

    with _handled():
        report = rename(project, app_label, old, new, environ=os.environ,
                        compose_files=tuple(compose_file or ()), dry_run=dry_run)  # fmt: skip
        if as_json:
            _emit(report.as_dict())
        else:
            sys.stdout.write(report.text())
        raise typer.Exit(0 if report.complete else 1)


@edit_app.command("rebase-branch")
def rebase_branch(
    app_label: Annotated[str, typer.Argument(metavar="APP", help="The app with two leaves.")],
    branch: Annotated[str | None, typer.Option(
        "--branch", metavar="NAME", help="The leaf whose branch moves (when neither is applied "
        "anywhere).")] = None,
    assume_unapplied: Annotated[bool, typer.Option(
        "--assume-unapplied", help="Take a database that cannot be read as having applied "
        "neither branch.")] = False,
    project: Annotated[str | None, typer.Option("--project", help="The project folder.")] = None,
    compose_file: Annotated[list[str] | None, typer.Option(
        "--compose-file", help="A compose file (repeatable), to find the db service.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; change "
                                          "nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:  # fmt: skip
    """Renumber the branch of APP that no database has applied after the other leaf, so that
    the app's migrations are one line again (no merge migration)."""
    import os
    import sys

    from migdoctor.cli import _emit, _handled

    with _handled():
        from migdoctor.edits.rebase import as_dict, as_text
        from migdoctor.edits.rebase import rebase_branch as rebase

        result = rebase(project, app_label, branch=branch, assume_unapplied=assume_unapplied,
                        compose_files=tuple(compose_file or ()), environ=dict(os.environ),
                        dry_run=dry_run)  # fmt: skip
        if as_json:
            _emit(as_dict(result))
        else:
            sys.stdout.write(as_text(result))


def register(app: typer.Typer) -> None:
    app.add_typer(edit_app, name="edit")
