"""What the wizard learns from a real project folder: the lab project copied to tmp_path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migdoctor.wizard.backup import DumpSource
from migdoctor.wizard.facts import find_python, gather, production, settings_debug
from tests.wizard.lab import LAB

ENV = {"HOME": "/nonexistent", "PATH": "/usr/local/bin:/usr/bin:/bin"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(LAB, root, ignore=shutil.ignore_patterns("__pycache__", ".env"))
    shutil.copy(root / ".env.example", root / ".env")
    return root


def test_the_lab_project(project: Path) -> None:
    facts = gather(str(project), "/opt/py", (), ENV)
    assert (facts.root, facts.manage, facts.python, facts.apps) == (
        project, "src/manage.py", "/opt/py", ("kb", "tickets"))
    assert (facts.services, facts.web, facts.db) == (("db", "web"), "web", "db")
    assert facts.compose in (("docker", "compose"), ("docker-compose",))
    assert facts.dumps == {
        "local": DumpSource("local", "lab", "127.0.0.1", 55432, "postgres", "postgres"),
        "compose": DumpSource("compose", "lab", port=55432, user="postgres",
                              compose=facts.compose, service="db")}  # fmt: skip
    assert facts.debug == {"local": (True, "DEBUG in .env is '1'"),
                           "compose": (True, "DEBUG of the web service is '1'")}
    assert facts.db_host == {"local": "127.0.0.1", "compose": "127.0.0.1"}
    assert production(facts, "local") == production(facts, "compose") == ""
    assert facts.local is not None and facts.docker is not None
    assert (facts.docker.port, facts.docker.dbname) == (55432, "lab")


def test_compose_files_given_are_passed_on(project: Path) -> None:
    facts = gather(str(project), None, ("compose.yaml",), ENV)
    assert facts.compose[-2:] == ("-f", "compose.yaml")
    assert facts.dumps["compose"].compose == facts.compose


def test_the_environment_wins_over_dotenv(project: Path) -> None:
    facts = gather(str(project), None, (), {**ENV, "DEBUG": "0", "POSTGRES_HOST": "db.example.com"})
    assert facts.debug["local"] == (False, "DEBUG in the environment is '0'")
    assert production(facts, "local") == ("DEBUG is off: DEBUG in the environment is '0'; the "
                                          "database host db.example.com is not this machine")


def test_no_compose_file(project: Path) -> None:
    (project / "compose.yaml").unlink()
    facts = gather(str(project), None, (), ENV)
    assert (facts.compose, facts.services) == ((), ())
    assert set(facts.dumps) == {"local"}


def test_debug_written_in_the_settings(tmp_path: Path) -> None:
    settings = tmp_path / "config" / "settings.py"
    settings.parent.mkdir()
    settings.write_text("import os\nDEBUG = False  # production\n")
    assert settings_debug(tmp_path) == (False, "DEBUG = False in config/settings.py")
    (tmp_path / "config" / "settings").mkdir()
    (tmp_path / "config" / "settings" / "dev.py").write_text("DEBUG = True\n")
    assert settings_debug(tmp_path) == (None, ""), "settings that disagree say nothing"


def test_the_projects_own_python(tmp_path: Path) -> None:
    venv = tmp_path / ".venv" / "bin" / "python"
    assert find_python(tmp_path, "/given/python", {}) == "/given/python"
    assert find_python(tmp_path, None, {"VIRTUAL_ENV": "/nowhere"}) in ("python", "python3")
    venv.parent.mkdir(parents=True)
    venv.touch()
    assert find_python(tmp_path, None, {}) == str(venv)
