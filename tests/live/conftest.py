"""Scratch databases for the live tests: templates migrated by the lab's real `manage.py`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.live.lab import (
    AdminConnection,
    connect_admin,
    copy_project,
    create,
    databases,
    manage,
    unique,
)


@dataclass(frozen=True)
class Templates:
    """`full`: every migration applied. `partial`: contrib apps and tickets up to 0005 only."""

    full: str
    partial: str


@pytest.fixture(scope="session")
def admin() -> Iterator[AdminConnection]:
    conn = connect_admin()
    with conn:
        yield conn


@pytest.fixture(scope="session")
def templates(admin: AdminConnection, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    root = copy_project(tmp_path_factory.mktemp("template"))
    with databases(admin) as made:
        full, partial = unique("mdlive_full"), unique("mdlive_partial")
        for name in (full, partial):
            create(admin, name)
            made.append(name)
        manage(root, full, "migrate")
        manage(root, partial, "migrate")
        manage(root, partial, "migrate", "kb", "zero")
        manage(root, partial, "migrate", "tickets", "0005")
        yield Templates(full, partial)


@pytest.fixture
def made(admin: AdminConnection) -> Iterator[list[str]]:
    """Databases a test creates (append their names): dropped after it."""
    with databases(admin) as names:
        yield names
