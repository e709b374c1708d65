"""Project discovery on real folders: the root, manage.py, the apps and the env files."""

from __future__ import annotations

from pathlib import Path

import pytest

from migdoctor.errors import MigdoctorError
from migdoctor.probes import ProbeFinding
from migdoctor.probes.migration_files import MigrationsDir
from migdoctor.probes.project import Project, discover_project

LAB = Path(__file__).resolve().parents[1] / "lab" / "project"


def tree(root: Path, *files: str) -> Path:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    return root


def guide(root: Path) -> Path:
    """The guide's layout: compose file and .env at the root, Django under src/."""
    return tree(
        root, "compose.yaml", ".env", ".env.example", "src/manage.py",
        "src/tickets/migrations/__init__.py", "src/tickets/migrations/0001_initial.py",
        "src/kb/migrations/__init__.py", "src/config/settings.py",
    )  # fmt: skip


def test_guide_layout_from_an_app_folder(tmp_path: Path) -> None:
    root = guide(tmp_path / "proj")
    project = discover_project(cwd=root / "src" / "tickets" / "migrations")
    src = str(root / "src")
    assert project == Project(
        root=root,
        manage_py=root / "src" / "manage.py",
        migrations_dirs=(
            MigrationsDir("kb", f"{src}/kb/migrations", True),
            MigrationsDir("tickets", f"{src}/tickets/migrations", True),
        ),
        compose_files=(root / "compose.yaml",),
        env_files=(root / ".env", root / ".env.example"),
    )
    assert project.apps == ("kb", "tickets")
    assert project.source_dir == root / "src"
    assert project.dotenv == root / ".env"


@pytest.mark.parametrize(
    ("files", "start", "root", "manage"),
    [
        (("src/manage.py", "compose.yaml"), "src", ".", "src/manage.py"),
        (("src/manage.py",), "src", ".", "src/manage.py"),
        (("manage.py", "shop/migrations/__init__.py"), "shop/migrations", ".", "manage.py"),
        (("docker-compose.yml", "app/manage.py"), "app", ".", "app/manage.py"),
        (("compose.yaml", "a/manage.py", "b/manage.py"), "a", ".", None),
        (("app/manage.py", "app/x/y/z.py"), "app/x/y", "app", "manage.py"),
        (("compose.yml",), ".", ".", None),
        (("manage.py", "src/manage.py"), ".", ".", "src/manage.py"),
    ],
    ids=["src-folder", "src-without-compose", "flat", "compose-above-app", "two-apps-ambiguous",
         "nested-flat",
         "compose-only", "src-before-flat"],
)
def test_root_and_manage_py(
    tmp_path: Path, files: tuple[str, ...], start: str, root: str, manage: str | None
) -> None:
    tree(tmp_path, *files)
    project = discover_project(cwd=tmp_path / start)
    assert project.root == (tmp_path / root).resolve()
    assert project.manage_py == (None if manage is None else project.root / manage)


def test_project_option_wins_over_the_current_folder(tmp_path: Path) -> None:
    root = guide(tmp_path / "proj")
    other = tree(tmp_path / "other", "manage.py")
    project = discover_project(project=root, cwd=other)
    assert project.root == root
    assert project.manage_py == root / "src" / "manage.py"


def test_project_option_needs_no_marker(tmp_path: Path) -> None:
    project = discover_project(project=tmp_path)
    assert (project.root, project.manage_py, project.apps) == (tmp_path, None, ())


def test_manage_option(tmp_path: Path) -> None:
    root = tree(tmp_path, "backend/manage.py", "backend/shop/migrations/0001_initial.py")
    project = discover_project(project=root, manage="backend/manage.py")
    assert project.manage_py == root / "backend" / "manage.py"
    assert project.migrations_dirs == (
        MigrationsDir("shop", str(root / "backend" / "shop" / "migrations"), False),
    )


@pytest.mark.parametrize(
    ("kwargs", "message", "hint"),
    [
        ({"project": "missing"}, "--project {tmp}/missing: not a directory",
         "pass the folder that holds manage.py (or src/manage.py) and the compose file"),
        ({"project": ".", "manage": "nope/manage.py"}, "--manage nope/manage.py: no such file",
         "give the path of manage.py, absolute or relative to {tmp}"),
        ({"cwd": "."}, "no Django project found in {tmp} or its parents (looked for manage.py, "
         "src/manage.py and a compose file)", "run migdoctor inside the project, or pass "
         "--project DIR"),
    ],
    ids=["project-missing", "manage-missing", "no-project"],
)
def test_errors(tmp_path: Path, kwargs: dict[str, str], message: str, hint: str) -> None:
    given = {k: str(tmp_path / v) if k != "manage" else v for k, v in kwargs.items()}
    with pytest.raises(MigdoctorError) as caught:
        discover_project(**given)
    assert caught.value.message == message.format(tmp=tmp_path)
    assert caught.value.hint == hint.format(tmp=tmp_path)
    assert caught.value.exit_code == 2


def test_env_files_listed_dotenv_first(tmp_path: Path) -> None:
    tree(tmp_path, "manage.py", "db.env", ".env.local", ".env", "environment.py", ".envrc")
    project = discover_project(project=tmp_path)
    assert project.env_files == (tmp_path / ".env", tmp_path / ".env.local", tmp_path / "db.env")


def test_env_template_without_env_is_a_finding(tmp_path: Path) -> None:
    tree(tmp_path, "compose.yaml", ".env.example", "src/manage.py")
    project = discover_project(project=tmp_path)
    assert project.dotenv is None
    assert project.findings == (
        ProbeFinding(
            kind="env-file",
            label="env-file-missing",
            message=f"{tmp_path / '.env'} does not exist, but .env.example does",
            hint="cp .env.example .env, then set its values (Compose reads .env from the "
            "project folder, and env_file: .env needs it)",
            path=str(tmp_path / ".env"),
        ),
    )


def test_lab_project() -> None:
    project = discover_project(project=LAB)
    assert project.root == LAB
    assert project.manage_py == LAB / "src" / "manage.py"
    assert project.apps == ("kb", "tickets")
    assert [d.path for d in project.migrations_dirs] == [
        str(LAB / "src" / "kb" / "migrations"),
        str(LAB / "src" / "tickets" / "migrations"),
    ]
    assert project.compose_files == (LAB / "compose.yaml",)
    assert LAB / ".env.example" in project.env_files
