"""The scenario lab's fixtures: the lab project on its own copy of a migrated, seeded database."""

from __future__ import annotations

from tests.scenarios.conftest import project, template  # noqa: F401
