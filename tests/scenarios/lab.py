"""The scenario lab: the lab project copied to a temporary folder, on its own scratch database of
the real PostgreSQL (127.0.0.1:5432, trust auth), broken the way users break it, and migdoctor
run on it the way a user runs it (an activated virtualenv, the project's `.env` exported).

Everything a scenario proves is read back from the real system: the output of the real command
that failed, `django_migrations`, and checksums of every table's rows computed by SQL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from tests.lab.seed import (  # noqa: F401  (the lab's names, as the scenarios import them)
    ADMIN,
    LAB,
    REPO,
    SEED_SQL,
    admin,
    checksums,
    create_database,
    drop_database,
    scratch_database,
    unique,
)

VENV = Path(sys.prefix)  # the virtualenv the tests run in: the project's own environment
PYTHON = str(VENV / "bin" / "python")  # what an activated virtualenv runs as `python`
# A private mount namespace whose nsswitch.conf reads /etc/hosts only: a host name like `db`
# fails to resolve without any query leaving the machine.
NO_DNS = 'mount --bind "$0" /etc/nsswitch.conf && exec "$@"'
DROP_FROM_ENV = ("POSTGRES_", "DATABASE_", "PG", "COMPOSE_", "DOCKER_", "DEBUG", "VIRTUAL_ENV",
                 "DJANGO_", "MIGDOCTOR_")  # fmt: skip


def user_env(state: Path) -> dict[str, str]:
    """This environment as a user's shell with the project's virtualenv activated: no database,
    Compose or Django settings of its own; migdoctor's journal and backups under `state`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROP_FROM_ENV)}
    env.update(VIRTUAL_ENV=str(VENV), PATH=f"{VENV / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
               XDG_STATE_HOME=str(state), PYTHONDONTWRITEBYTECODE="1", NO_COLOR="1",
               COLUMNS="200", LC_ALL="C.UTF-8", LANG="C.UTF-8")  # fmt: skip
    return env


@dataclass(frozen=True)
class Result:
    """A finished command: its exit code and what a terminal showed (stdout and stderr)."""

    argv: tuple[str, ...]
    code: int
    output: str

    def __str__(self) -> str:
        return f"$ {' '.join(self.argv)}\nexit {self.code}\n{self.output}"


@dataclass(frozen=True)
class Fixed:
    """`migdoctor diagnose --fix --json`: exit code, the JSON outcome, the progress on stderr."""

    code: int
    outcome: dict[str, Any]
    log: str

    def __str__(self) -> str:
        return f"exit {self.code}\n{json.dumps(self.outcome, indent=1)}\n--- stderr\n{self.log}"

    @property
    def commands(self) -> list[list[str]]:
        return [s["argv"] for s in self.outcome.get("steps", [])]


@dataclass
class Project:
    """The lab project in `root`, its `.env` exported in `env`, on the database `dbname`."""

    root: Path
    dbname: str
    env: dict[str, str]
    state: Path
    settings: dict[str, str] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=lambda: dict(ADMIN))  # where dbname lives
    prefix: tuple[str, ...] = ()  # every command runs through it (a namespace of the machine)

    @classmethod
    def create(cls, folder: Path, dbname: str, *, exported: bool = True,
               **overrides: str) -> Project:  # fmt: skip
        """The lab project in `folder` with an `.env` for `dbname` (and `overrides`), exported
        in the environment of every command when `exported` (a local workflow), or only read by
        Compose (`env_file: .env`)."""
        root = folder / f"mdscn{uuid.uuid4().hex[:8]}"  # also the Compose project name
        shutil.copytree(LAB, root, ignore=shutil.ignore_patterns("__pycache__", ".env",
                                                                 "*.sqlite3"))  # fmt: skip
        settings = {"POSTGRES_DB": dbname, "POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "",
                    "POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": "5432", "DEBUG": "1",
                    **overrides}  # fmt: skip
        write_env(root / ".env", settings)
        state = folder / "state"
        env = {**user_env(state), **(settings if exported else {})}
        server = {**ADMIN, "port": int(settings["POSTGRES_PORT"]),
                  "password": settings["POSTGRES_PASSWORD"] or None}  # fmt: skip
        return cls(root, dbname, env, state, settings, server)

    # -- files

    def path(self, rel: str) -> Path:
        return self.root / "src" / rel

    def write(self, rel: str, text: str) -> None:
        self.path(rel).write_text(text)

    def edit(self, rel: str, old: str, new: str) -> None:
        text = self.path(rel).read_text()
        assert old in text, f"{rel}: {old!r} not found"
        self.path(rel).write_text(text.replace(old, new, 1))

    def migration_files(self, app: str) -> list[str]:
        return sorted(p.name for p in self.path(f"{app}/migrations").glob("0*.py"))

    def git(self, *args: str) -> Result:
        env = {**self.env, "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.invalid",
               "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.invalid",
               "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}  # fmt: skip
        result = run(["git", *args], self.root, env)
        assert result.code == 0, str(result)
        return result

    # -- commands

    def run(self, argv: list[str], env: Mapping[str, str] | None = None,
            stdin: str | None = None) -> Result:  # fmt: skip
        return run([*self.prefix, *argv], self.root, {**self.env, **(env or {})}, stdin)

    def manage(self, *args: str, env: Mapping[str, str] | None = None) -> Result:
        return self.run([PYTHON, "src/manage.py", *args], env)

    def ok(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        result = self.manage(*args, env=env)
        assert result.code == 0, str(result)
        return result.output

    def fails(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        """The real error of a real `manage.py` run that must fail."""
        result = self.manage(*args, env=env)
        assert result.code != 0, str(result)
        return result.output

    def without_dns(self, argv: list[str]) -> list[str]:
        """`argv` where host names resolve from /etc/hosts only (`unshare --mount`)."""
        self.state.mkdir(parents=True, exist_ok=True)
        nss = self.state / "nsswitch.conf"
        nss.write_text("hosts: files\n")
        return ["unshare", "--mount", "--", "sh", "-c", NO_DNS, str(nss), *argv]

    def migdoctor(self, *args: str, stdin: str | None = None, env: Mapping[str, str] | None = None,
                  dns: bool = True) -> subprocess.CompletedProcess[str]:  # fmt: skip
        argv = [PYTHON, "-m", "migdoctor", *args]
        return subprocess.run(
            [*self.prefix, *(argv if dns else self.without_dns(argv))], cwd=self.root,
            env={**self.env, **(env or {})}, input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    def diagnose(self, text: str) -> list[dict[str, Any]]:
        """The findings of `migdoctor diagnose --json` on `text`, best first."""
        proc = self.migdoctor("diagnose", "--json", stdin=text)
        assert proc.returncode in (0, 1), proc.stdout + proc.stderr
        findings: list[dict[str, Any]] = json.loads(proc.stdout)["findings"]
        return findings

    def fix(self, text: str, *args: str, context: str = "local", dns: bool = True) -> Fixed:
        """`migdoctor diagnose --fix --yes --context CONTEXT --project ROOT --json`, `text` on
        stdin: the best non-destructive option of the first finding."""
        proc = self.migdoctor("diagnose", "--fix", "--yes", "--context", context, "--project",
                              str(self.root), "--json", *args, stdin=text, dns=dns)  # fmt: skip
        try:
            outcome = json.loads(proc.stdout) if proc.stdout.strip() else {}
        except json.JSONDecodeError:
            outcome = {"unparsed stdout": proc.stdout}
        return Fixed(proc.returncode, outcome, proc.stderr)

    # -- the database

    def connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        return psycopg.connect(**{**self.server, "dbname": self.dbname}, autocommit=True,
                               connect_timeout=5)  # fmt: skip

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with self.connect() as conn:
            cur = conn.execute(query.encode(), params or None)
            return cur.fetchall() if cur.description else []

    def history(self) -> list[tuple[str, str]]:
        """`django_migrations` as (app, name), in id order."""
        return [(str(a), str(n)) for a, n in self.sql(
            "SELECT app, name FROM django_migrations ORDER BY id")]  # fmt: skip

    def applied(self, app: str) -> list[str]:
        return [n for a, n in self.history() if a == app]

    def checksums(self, ignore: Mapping[str, tuple[str, ...]] | None = None,
                  ) -> dict[str, tuple[int, str]]:  # fmt: skip
        return checksums(self.connect, ignore)


def write_env(path: Path, settings: Mapping[str, str]) -> None:
    path.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))


def run(argv: list[str], cwd: Path, env: Mapping[str, str], stdin: str | None = None,
        timeout: float = 300) -> Result:  # fmt: skip
    """`argv` as a terminal shows it: stdout and stderr in one stream."""
    proc = subprocess.run(argv, cwd=cwd, env=dict(env), input=stdin,
                          stdin=None if stdin is not None else subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout, check=False)  # fmt: skip
    return Result(tuple(argv), proc.returncode, proc.stdout)
