from __future__ import annotations

from pathlib import Path

import pytest

from tests.probes_django.lab import copy_lab, manage, sqlite_env


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    """A fresh copy of the lab project; its `src/manage.py`."""
    return copy_lab(tmp_path / "project")


@pytest.fixture
def migrated(lab: Path) -> Path:
    """The copy, migrated on SQLite; its `src/manage.py`."""
    manage(lab, sqlite_env(lab), "migrate", "--no-input", "-v0")
    return lab
