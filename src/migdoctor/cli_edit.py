"""`migdoctor edit`: changes of a project's migration files (and of the `django_migrations`
rows that name them) that migdoctor makes itself, so that the fix wizard can run them as steps
(`edit:` in a playbook) and a person can run them by hand.

Each command prints what it changed, or refuses with one line and changes nothing. The
implementations live in `migdoctor.edits` and are imported only when a command runs.
"""

from __future__ import annotations

import typer

edit_app = typer.Typer(help="Change migration files safely (used by the fix wizard).",
                       no_args_is_help=True)  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(edit_app, name="edit")
