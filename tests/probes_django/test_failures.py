"""Runs that cannot answer become one-line findings: no Django, no driver, no JSON, no answer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from migdoctor.probes import ProbeFinding
from migdoctor.probes.django_probe import DjangoReport, report_findings, run_django_probe
from tests.probes_django.lab import (
    PYTHON,
    add_priority_field,
    add_second_leaf,
    lab_env,
    sqlite_env,
)


def finding(result: DjangoReport | ProbeFinding) -> ProbeFinding:
    assert isinstance(result, ProbeFinding), result
    assert "\n" not in result.message
    assert result.kind == "django"
    return result


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh virtual environment with no package at all (no Django)."""
    folder = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    return str(folder / "bin" / "python")


@pytest.fixture
def no_driver(tmp_path: Path) -> str:
    """A folder for PYTHONPATH in which psycopg and psycopg2 fail to import, as when missing."""
    folder = tmp_path / "no_driver"
    for name in ("psycopg", "psycopg2"):
        (folder / name).mkdir(parents=True)
        message = f"No module named {name!r}"
        (folder / name / "__init__.py").write_text(f"raise ImportError({message!r})\n")
    return str(folder)


def test_django_not_importable(lab: Path, bare_python: str) -> None:
    found = finding(run_django_probe(lab, python=bare_python, env=sqlite_env(lab)))

    assert found.label == "none"
    assert found.message == (
        f"Django probe (local): Django is not importable by {bare_python}: "
        "ModuleNotFoundError: No module named 'django'"
    )
    assert "requirements" in found.hint


def test_driver_missing(lab: Path, no_driver: str) -> None:
    """Django loads the PostgreSQL backend while it sets up the lab's apps."""
    env = lab_env(POSTGRES_HOST="127.0.0.1", POSTGRES_DB="never_reached", PYTHONPATH=no_driver)

    found = finding(run_django_probe(lab, python=PYTHON, env=env))

    assert found.label == "db-driver-missing"
    assert found.message == ("Django probe (local): Django could not start (setup): "
                             "ImproperlyConfigured: Error loading psycopg2 or psycopg module")
    assert found.hint == "install the driver in the project's environment: pip install 'psycopg[binary]'"


def test_non_nullable_field_without_default(migrated: Path) -> None:
    models = migrated.parent / "tickets" / "models.py"
    models.write_text(models.read_text().replace(
        "    body = models.TextField(blank=True)\n",
        "    body = models.TextField(blank=True)\n    severity = models.IntegerField()\n"))  # fmt: skip

    report = run_django_probe(migrated, python=PYTHON, env=sqlite_env(migrated))

    assert isinstance(report, DjangoReport), report
    assert report.makemigrations.exit_status == 3
    assert report.missing_migrations is None
    [found] = report_findings(report)
    assert found.label == "non-nullable-field"
    assert found.message == (
        "Field 'severity' on model 'ticket' not migrated: it is impossible to add a "
        "non-nullable field without specifying a default."
    )


def test_settings_module_not_found(lab: Path) -> None:
    lab.write_text(lab.read_text().replace("DJANGO_SETTINGS_MODULE", "OTHER_VARIABLE"))

    found = finding(run_django_probe(lab, python=PYTHON, env=sqlite_env(lab)))

    assert found.label == "none"
    assert found.message == (
        "Django probe (local): Django could not start (settings): LookupError: no "
        f"DJANGO_SETTINGS_MODULE in the environment nor in {lab}"
    )


def test_settings_module_from_the_environment_wins(lab: Path) -> None:
    env = {**sqlite_env(lab), "DJANGO_SETTINGS_MODULE": "config.nowhere"}

    found = finding(run_django_probe(lab, python=PYTHON, env=env))

    assert found.message == (
        "Django probe (local): Django could not start (setup): ModuleNotFoundError: "
        "No module named 'config.nowhere'"
    )


def test_prints_of_the_project_do_not_spoil_the_answer(migrated: Path) -> None:
    settings = migrated.parent / "config" / "settings.py"
    settings.write_text(settings.read_text() + '\nprint("settings loaded", {"a": 1})\n')
    add_priority_field(migrated)

    report = run_django_probe(migrated, python=PYTHON, env=sqlite_env(migrated))

    assert isinstance(report, DjangoReport), report
    assert report.missing_migrations == ("tickets",)


def test_output_that_is_not_the_report(lab: Path) -> None:
    found = finding(run_django_probe(lab, python="/bin/echo"))

    assert found.label == "none"
    assert found.message == ("Django probe (local): unreadable answer from the Django probe "
                             f"(Expecting value: line 1 column 2 (char 1)): {lab}")


def test_non_zero_exit_says_its_last_line(lab: Path) -> None:
    python = (PYTHON, "-c", "import sys; print('first', file=sys.stderr); sys.exit('last')")

    found = finding(run_django_probe(lab, python=python))

    assert found.label == "none"
    assert found.message == (
        f"Django probe (local): {PYTHON} -c import sys; print('first', file=sys.stderr); "
        f"sys.exit('last') -B -c SCRIPT {lab} exited with status 1: last"
    )


def test_no_answer_within_the_timeout(lab: Path) -> None:
    python = (PYTHON, "-c", "import time; time.sleep(30)")

    found = finding(run_django_probe(lab, python=python, timeout=0.5))

    assert found.message.endswith(f"-B -c SCRIPT {lab}: no answer within 0.5s")


def test_interpreter_not_found(lab: Path, tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere" / "python")

    found = finding(run_django_probe(lab, python=missing))

    assert found.message == f"Django probe (local): cannot run {missing}: No such file or directory"


@pytest.mark.parametrize(
    ("stderr", "label"),
    [
        pytest.param('service "web" is not running', "compose-service-not-running", id="v2-stopped"),
        pytest.param("ERROR: No container found for web_1", "compose-service-not-running",
                     id="v1-stopped"),
        pytest.param("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is "
                     "the docker daemon running?", "docker-daemon-unreachable", id="daemon"),
        pytest.param("no configuration file provided: not found", "compose-file-missing",
                     id="no-compose-file"),
        pytest.param("OCI runtime exec failed: exec: \"python\": executable file not found",
                     "none", id="no-python"),
    ],
)  # fmt: skip
def test_compose_failures_are_labelled(lab: Path, stderr: str, label: str) -> None:
    """A stand-in for the docker CLI that fails the way Compose does."""
    compose = (PYTHON, "-c", f"import sys; sys.stderr.write({stderr!r} + '\\n'); sys.exit(1)")

    found = finding(run_django_probe("src/manage.py", context="compose", compose_argv=compose))

    assert found.label == label
    assert found.message.endswith(f"exited with status 1: {stderr}")
    assert found.message.startswith("Django probe (compose): ")


def test_autodetector_gives_up_too(migrated: Path) -> None:
    """A conflict stops makemigrations, a non-nullable field its autodetector: unknown."""
    add_second_leaf(migrated)
    models = migrated.parent / "tickets" / "models.py"
    models.write_text(models.read_text().replace(
        "    body = models.TextField(blank=True)\n",
        "    body = models.TextField(blank=True)\n    severity = models.IntegerField()\n"))  # fmt: skip

    report = run_django_probe(migrated, python=PYTHON, env=sqlite_env(migrated))

    assert isinstance(report, DjangoReport), report
    assert report.missing_migrations is None
    assert report.makemigrations.source == "autodetector"
    assert report.makemigrations.warnings == ("autodetector: SystemExit: exit status 3",)
    assert [f.label for f in report_findings(report)] == ["migration-conflict"]


def test_unknown_alias(migrated: Path) -> None:
    report = run_django_probe(migrated, python=PYTHON, env=sqlite_env(migrated),
                              aliases=("default", "replica"))  # fmt: skip

    assert isinstance(report, DjangoReport), report
    assert list(report.databases) == ["default", "replica"]
    replica = report.databases["replica"]
    assert replica.graph == report.graph
    assert (replica.applied, replica.vendor) == (None, None)
    assert replica.errors["connection"].type == "ConnectionDoesNotExist"
    [found] = report_findings(report)
    assert found.message == ("Django probe (local): database 'replica', connection: "
                             "ConnectionDoesNotExist: The connection 'replica' doesn't exist.")
