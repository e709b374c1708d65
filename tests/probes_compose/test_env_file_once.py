"""A missing `.env` is reported once: by Compose when a service loads it with `env_file:`, by the
project otherwise (a template such as `.env.example` beside it)."""

from __future__ import annotations

from pathlib import Path

from migdoctor.probes import compose_config, compose_env, names, project
from migdoctor.probes.compose_config import load_config
from migdoctor.probes.project import discover_project
from tests.live.cli import run

LOADS_DOTENV = ("services:\n  web:\n    image: app\n    env_file: .env\n"
                "  db:\n    image: postgres\n    env_file: .env\n")  # fmt: skip


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _missing(root: Path) -> list[tuple[str, str | None]]:
    """The `env-file-missing` findings of the project and its Compose configuration, together
    (as `migdoctor doctor` takes them)."""
    found = discover_project(project=root)
    config = load_config(found.root, environ={}, search_parents=False)
    return [(f.kind, f.path) for f in (*config.findings, *found.findings)
            if f.label == "env-file-missing"]  # fmt: skip


def test_one_list_of_each_name() -> None:
    assert compose_config.COMPOSE_FILE_NAMES is names.COMPOSE_FILE_NAMES
    assert compose_env.EXAMPLE_ENV_FILES is names.EXAMPLE_ENV_FILES
    assert names.COMPOSE_FILE_NAMES[0] == "compose.yaml"
    assert names.EXAMPLE_ENV_FILES[:4] == (".env.example", ".env.sample", ".env.template",
                                           ".env.dist")  # fmt: skip
    assert not hasattr(project, "COMPOSE_NAMES") and not hasattr(project, "ENV_TEMPLATES")


def test_env_file_dotenv_missing_is_one_finding_owned_by_compose(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"compose.yaml": LOADS_DOTENV, ".env.example": "POSTGRES_DB=lab\n",
                            "src/manage.py": ""})  # fmt: skip
    assert _missing(root) == [("env-file-missing", str(root / ".env"))]
    assert discover_project(project=root).findings == ()


def test_without_env_file_the_project_still_reports_the_template(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"compose.yaml": "services:\n  web:\n    image: app\n",
                            ".env.dist": "POSTGRES_DB=lab\n", "src/manage.py": ""})  # fmt: skip
    assert _missing(root) == [("env-file", str(root / ".env"))]
    assert "but .env.dist does" in discover_project(project=root).findings[0].message


def test_without_a_template_compose_alone_reports_it(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"compose.yaml": LOADS_DOTENV, "src/manage.py": ""})
    assert _missing(root) == [("env-file-missing", str(root / ".env"))]


def test_doctor_reports_a_missing_env_file_once(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"compose.yaml": LOADS_DOTENV, ".env.example": "POSTGRES_DB=lab\n",
                            "src/manage.py": ""})  # fmt: skip
    result = run("doctor", "--json", cwd=root)
    playbooks = [f["playbook"] for f in result.json["findings"]]
    assert playbooks.count("env-file-missing") == 1, result.output
    env = next(c for c in result.json["checks"] if c["id"] == "env-file")
    assert env["message"] == f"env file .env of service web, db does not exist ({root}/.env)"
