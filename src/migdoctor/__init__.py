"""migdoctor: diagnose and fix Django migration, PostgreSQL and Docker Compose problems."""

from __future__ import annotations

__version__ = "0.1.0"
