"""The file names migdoctor looks for in a project, in order of preference: one list of each.

Kept apart from `compose_config` (which imports the YAML reader) so that `project` can use them
without importing more.
"""

from __future__ import annotations

from typing import Final

COMPOSE_FILE_NAMES: Final = (
    "compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml",
)
"""Compose v2's default file names: the first one present is read."""

EXAMPLE_ENV_FILES: Final = (
    ".env.example", ".env.sample", ".env.template", ".env.dist", "env.example",
)
"""Templates of `.env` that a project keeps in version control: the first one present is named."""
