"""Where the project is: its root, `manage.py`, apps with their migrations, and env files.

The root is the folder given with `--project DIR`, else the nearest folder, from the current one
upwards, that holds `manage.py`, `src/manage.py` or a compose file. `manage.py` is the one given
with `--manage`, else `src/manage.py` (the guide's layout), else `./manage.py`, else the only
`*/manage.py` one folder down (`backend/manage.py`). The apps are found by walking the folder
of `manage.py` (the root when there is none) for `migrations/` folders, without importing
Django.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from migdoctor.errors import MigdoctorError
from migdoctor.probes import ProbeFinding
from migdoctor.probes.migration_files import MigrationsDir, discover
from migdoctor.probes.names import COMPOSE_FILE_NAMES, EXAMPLE_ENV_FILES

MANAGE_CANDIDATES: Final = ("src/manage.py", "manage.py")


@dataclass(frozen=True)
class Project:
    """A Django project on disk, as far as files tell."""

    root: Path
    manage_py: Path | None
    migrations_dirs: tuple[MigrationsDir, ...]
    compose_files: tuple[Path, ...]  # default-named compose files in the root
    env_files: tuple[Path, ...]  # `.env`, `.env.*` and `*.env` files in the root
    findings: tuple[ProbeFinding, ...] = ()

    @property
    def apps(self) -> tuple[str, ...]:
        """The labels of the apps that have a migrations folder, sorted."""
        return tuple(sorted({d.app_label for d in self.migrations_dirs}))

    @property
    def source_dir(self) -> Path:
        """The folder `manage.py` runs from: Django's apps live under it."""
        return self.manage_py.parent if self.manage_py else self.root

    @property
    def dotenv(self) -> Path | None:
        """The `.env` Compose reads from the root, when there is one."""
        path = self.root / ".env"
        return path if path in self.env_files else None

    def migrations_of(self, app_label: str) -> tuple[MigrationsDir, ...]:
        return tuple(d for d in self.migrations_dirs if d.app_label == app_label)


def discover_project(
    project: str | Path | None = None,
    manage: str | Path | None = None,
    cwd: str | Path | None = None,
) -> Project:
    """The project at `project` (`--project`), else around `cwd` (default: the current folder).

    Raises `MigdoctorError` (exit code 2) when a given path does not exist or no project is found.
    """
    root = given_root(Path(project)) if project is not None else find_root(Path(cwd or os.curdir))
    manage_py = find_manage_py(root, manage)
    source = manage_py.parent if manage_py else root
    env_files = find_env_files(root)
    return Project(
        root=root,
        manage_py=manage_py,
        migrations_dirs=tuple(discover(source)),
        compose_files=tuple(root / n for n in COMPOSE_FILE_NAMES if (root / n).is_file()),
        env_files=env_files,
        findings=env_findings(root, env_files),
    )


def given_root(path: Path) -> Path:
    if not path.is_dir():
        raise MigdoctorError(
            f"--project {path}: not a directory",
            "pass the folder that holds manage.py (or src/manage.py) and the compose file",
        )
    return path.resolve()


def is_root(folder: Path) -> bool:
    markers = (*MANAGE_CANDIDATES, *COMPOSE_FILE_NAMES)
    return any((folder / marker).is_file() for marker in markers)


def find_root(start: Path) -> Path:
    """The nearest folder, from `start` upwards, with `manage.py`, `src/manage.py` or compose."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if is_root(folder):
            return _outer_root(folder)
    raise MigdoctorError(
        f"no Django project found in {start} or its parents "
        "(looked for manage.py, src/manage.py and a compose file)",
        "run migdoctor inside the project, or pass --project DIR",
    )


def _outer_root(folder: Path) -> Path:
    """`src/` of the guide's layout is not the root: its parent, with the compose file, is."""
    if any((folder / name).is_file() for name in COMPOSE_FILE_NAMES):
        return folder
    parent = folder.parent
    if folder.name == "src" or any((parent / name).is_file() for name in COMPOSE_FILE_NAMES):
        return parent
    return folder


def find_manage_py(root: Path, manage: str | Path | None = None) -> Path | None:
    """`--manage` (relative to the root), else `src/manage.py`, else `manage.py`, else the only
    `*/manage.py` one folder down, else None."""
    if manage is not None:
        path = Path(manage) if Path(manage).is_absolute() else root / manage
        if not path.is_file():
            raise MigdoctorError(
                f"--manage {manage}: no such file",
                f"give the path of manage.py, absolute or relative to {root}",
            )
        return path
    found = next((root / c for c in MANAGE_CANDIDATES if (root / c).is_file()), None)
    return found or _only_manage_py_below(root)


def _only_manage_py_below(root: Path) -> Path | None:
    """`backend/manage.py` and the like: the one `*/manage.py`, when there is exactly one."""
    try:
        folders = [e.path for e in os.scandir(root) if e.is_dir() and e.name[0] not in "._"]
    except OSError:
        return None
    found = [Path(f, "manage.py") for f in folders if Path(f, "manage.py").is_file()]
    return found[0] if len(found) == 1 else None


def find_env_files(root: Path) -> tuple[Path, ...]:
    """`.env`, `.env.*` and `*.env` files in the root, `.env` first, then by name."""
    try:
        names = [e.name for e in os.scandir(root) if e.is_file() and _is_env_name(e.name)]
    except OSError:
        return ()
    return tuple(root / n for n in sorted(names, key=lambda n: (n != ".env", n)))


def _is_env_name(name: str) -> bool:
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


def env_findings(root: Path, env_files: tuple[Path, ...]) -> tuple[ProbeFinding, ...]:
    """`env-file-missing` when there is a template such as `.env.example` but no `.env`, unless
    a compose service loads that `.env` with `env_file:`: then Compose's own finding, which
    names the services, owns it (`compose_env.env_file_findings`), and this one would repeat it.
    """
    names: Mapping[str, Path] = {p.name: p for p in env_files}
    template = next((names[t] for t in EXAMPLE_ENV_FILES if t in names), None)
    if ".env" in names or template is None or _compose_reports_missing(root, root / ".env"):
        return ()
    return (
        ProbeFinding(
            kind="env-file",
            label="env-file-missing",
            message=f"{root / '.env'} does not exist, but {template.name} does",
            hint=f"cp {template.name} .env, then set its values (Compose reads .env from the "
            "project folder, and env_file: .env needs it)",
            path=str(root / ".env"),
        ),
    )


def _compose_reports_missing(root: Path, path: Path) -> bool:
    """Whether the Compose configuration of `root` reports `path` as a missing env file.

    Read only when `.env` is missing beside a template, so that the YAML reader is imported on
    that path alone.
    """
    from migdoctor.probes.compose_config import load_config

    config = load_config(root, search_parents=False)
    return any(f.kind == "env-file-missing" and f.path == str(path) for f in config.findings)
