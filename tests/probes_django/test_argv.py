"""The argv that runs the probe, the interpreter it picks, and the script's own limits."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from migdoctor.probes.django_probe import find_python, probe_argv, script_text
from tests.probes_django.lab import REPO


def test_local_argv(tmp_path: Path) -> None:
    manage = tmp_path / "src" / "manage.py"

    assert probe_argv(manage, python="/srv/venv/bin/python") == [
        "/srv/venv/bin/python", "-B", "-c", script_text(), str(manage)]  # fmt: skip
    assert probe_argv(manage, python=("/usr/bin/python3", "-I"), aliases=("default", "other")) == [
        "/usr/bin/python3", "-I", "-B", "-c", script_text(), str(manage), "default", "other"]  # fmt: skip


def test_compose_exec_argv() -> None:
    assert probe_argv("src/manage.py", context="compose") == [
        "docker", "compose", "exec", "-T", "web", "python", "-B", "-c", script_text(),
        "src/manage.py"]  # fmt: skip


def test_compose_run_argv_of_the_v1_cli() -> None:
    argv = probe_argv("/app/src/manage.py", context="compose", service="backend",
                      compose_argv=("docker-compose", "-p", "shop"),
                      compose_verb=("run", "--rm", "-T"), python="/opt/venv/bin/python")  # fmt: skip

    assert argv == ["docker-compose", "-p", "shop", "run", "--rm", "-T", "backend",
                    "/opt/venv/bin/python", "-B", "-c", script_text(), "/app/src/manage.py"]  # fmt: skip


@pytest.mark.parametrize(
    ("venv", "found"),
    [
        pytest.param(".venv/bin/python", ".venv/bin/python", id="root-dot-venv"),
        pytest.param("venv/bin/python", "venv/bin/python", id="root-venv"),
        pytest.param("src/.venv/bin/python", "src/.venv/bin/python", id="beside-manage"),
        pytest.param(None, None, id="none"),
    ],
)
def test_find_python(tmp_path: Path, venv: str | None, found: str | None) -> None:
    manage = tmp_path / "project" / "src" / "manage.py"
    manage.parent.mkdir(parents=True)
    manage.touch()
    if venv:
        (tmp_path / "project" / venv).parent.mkdir(parents=True)
        (tmp_path / "project" / venv).touch()

    expected = str(tmp_path / "project" / found) if found else "python3"
    assert find_python(manage) == expected
    assert probe_argv(manage)[0] == expected


def test_script_is_python_38_and_imports_only_django_and_the_stdlib() -> None:
    tree = ast.parse(script_text(), feature_version=(3, 8))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}  # fmt: skip
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}  # fmt: skip

    assert "migdoctor" not in imported
    assert imported - {"django"} <= set(sys.stdlib_module_names)


@pytest.mark.slow
def test_wheel_ships_the_script(tmp_path: Path) -> None:
    """An installed, non-editable migdoctor reads the script from inside its package."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path / "dist"), str(REPO)], check=True)  # fmt: skip
    wheel = next((tmp_path / "dist").glob("migdoctor-*.whl"))
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True)  # fmt: skip
    code = "from migdoctor.probes import django_probe as p; print(p.__file__, len(p.script_text()))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(target)}, cwd=tmp_path)  # fmt: skip
    path, length = out.stdout.split()
    assert path.startswith(str(target))
    assert int(length) == len(script_text())
