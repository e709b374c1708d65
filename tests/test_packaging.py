"""An installed, non-editable migdoctor finds its playbooks inside the wheel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_wheel_ships_the_knowledge_base(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path / "dist"), str(REPO)], check=True)
    wheel = next((tmp_path / "dist").glob("migdoctor-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "migdoctor/knowledge/playbooks/undefined-column.yaml" in names
    assert "migdoctor/knowledge/schema/playbook.schema.json" in names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-m", "migdoctor", "kb", "list", "--json"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, check=True)
    sources = [p["source"] for p in json.loads(out.stdout)["playbooks"]]
    assert sources and all(s.startswith(str(target)) for s in sources)
