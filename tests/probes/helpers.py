"""Helpers for the migration probes' tests: real files in tmp_path, real Django in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ORACLE = Path(__file__).with_name("django_oracle.py")


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def migration_source(
    dependencies: list[tuple[str, str]] | None = None,
    operations: str = "",
    extra: str = "",
) -> str:
    """A migration as makemigrations writes one; `operations` is the body of the list."""
    deps = "".join(f"        {dep!r},\n" for dep in dependencies or [])
    body = textwrap.indent(textwrap.dedent(operations).strip("\n"), " " * 8)
    return (
        "from django.conf import settings\n"
        "from django.db import migrations, models\n"
        "import django.db.models.deletion\n\n\n"
        "class Migration(migrations.Migration):\n"
        f"{textwrap.indent(textwrap.dedent(extra).strip(), ' ' * 4)}\n"
        f"    dependencies = [\n{deps}    ]\n\n"
        f"    operations = [\n{body}\n    ]\n"
    )


def run_django(workdir: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Run the Django oracle on `config`; its JSON answer (empty after commands)."""
    config_path = workdir / "oracle.json"
    config_path.write_text(json.dumps(config))
    done = subprocess.run(
        [sys.executable, str(ORACLE), str(config_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout else {}


def keys(items: list[list[str]]) -> list[tuple[str, str]]:
    return [(a, b) for a, b in items]


def edges(items: list[list[list[str]]]) -> set[tuple[tuple[str, str], tuple[str, str]]]:
    return {((c[0], c[1]), (p[0], p[1])) for c, p in items}
