"""Regenerate tests/corpus/real.yaml by really breaking the lab project.

Each scenario copies tests/lab/project to a temporary directory, gives it a fresh database
(PostgreSQL on 127.0.0.1:5432, SQLite, or MariaDB on 127.0.0.1:3306), breaks something for real
and captures the exact output (stdout and stderr, as a terminal shows them) of the command a
developer would run. Temporary paths, database names, dates and memory addresses are replaced by
stable values so that the file is reproducible.

    .venv/bin/python tests/corpus/produce_real.py            # rewrite tests/corpus/real.yaml
    .venv/bin/python tests/corpus/produce_real.py --only lock --print   # try some scenarios

Nothing leaves loopback: host-name scenarios run in a private mount or network namespace
(unshare), so the resolver never asks a DNS server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path

import django
import psycopg

ROOT = Path(__file__).resolve().parents[2]
LAB_PROJECT = ROOT / "tests" / "lab" / "project"
OUTPUT = ROOT / "tests" / "corpus" / "real.yaml"
SITE_PACKAGES = Path(django.__file__).resolve().parents[1]

STABLE_ROOT = "/home/dev/lab"
STABLE_VENV = f"{STABLE_ROOT}/.venv"
STABLE_DB = "lab"
STABLE_ROLE = "lab_app"
STABLE_DATE = ("12/Jan/2026 10:15:03", "January 12, 2026 - 10:15:03", "2026-01-12 10:15:03.421")

PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
MARIADB_ADMIN = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
SCRAM_PORT = 55433  # the private scram-sha-256 cluster for the wrong-password scenario
RUNSERVER_PORT = 18731

ENTITY_NAMES = (
    "column",
    "relation",
    "app_label",
    "migration",
    "host",
    "port",
    "database",
    "user",
    "service",
    "model",
    "field",
    "index",
)

# Packages a driver profile links into its own venv (the lab's venv holds them all).
DJANGO_PACKAGES = ("django", "asgiref", "sqlparse")
DRIVER_PACKAGES = {
    "psycopg": ("psycopg", "psycopg_binary", "psycopg_binary.libs", "typing_extensions.py"),
    "psycopg2": ("psycopg2", "psycopg2_binary.libs"),
    "pymysql": ("pymysql",),
    "none": (),
}


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Case:
    """One captured text with its label; the harness fills in scenario and backend."""

    label: str
    text: str
    entities: dict[str, str] = field(default_factory=dict)
    note: str = ""
    source: str = ""


@dataclass(frozen=True)
class Scenario:
    title: str
    backend: str  # postgresql | sqlite | mysql
    produce: Callable[[Lab], list[Case]]
    driver: str = ""  # default: psycopg for postgresql, pymysql for mysql


@dataclass(frozen=True)
class Result:
    code: int
    output: str


# --------------------------------------------------------------------------- the lab


@dataclass
class Lab:
    """A throw-away copy of the lab project with its own database."""

    root: Path
    backend: str
    dbname: str
    venv: Path
    home: Path
    db_env: dict[str, str]
    admin: dict[str, object]  # how the producer itself connects to the lab's database
    ctx: Context
    scrub_extra: dict[str, str] = field(default_factory=dict)

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    # -- files

    def path(self, rel: str) -> Path:
        return self.root / "src" / rel

    def write(self, rel: str, text: str) -> None:
        target = self.path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def edit(self, rel: str, old: str, new: str) -> None:
        target = self.path(rel)
        content = target.read_text()
        if old not in content:
            raise AssertionError(f"{rel}: {old!r} not found")
        target.write_text(content.replace(old, new, 1))

    def delete(self, rel: str) -> None:
        self.path(rel).unlink()

    # -- commands

    def env(self, **overrides: str | None) -> dict[str, str]:
        env = {
            "PATH": f"{self.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",  # Django lists a dependency cycle in set order
            **self.db_env,
        }
        for key, value in overrides.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def argv(self, *args: str) -> list[str]:
        return [str(self.python), "src/manage.py", *args]

    def run(
        self, argv: list[str], env: dict[str, str], stdin: str = "", cwd: Path | None = None
    ) -> Result:
        proc = subprocess.run(
            argv,
            cwd=cwd or self.root,
            env=env,
            input=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=180,
            check=False,
        )
        return Result(proc.returncode, self.scrub(proc.stdout))

    def manage(self, *args: str, stdin: str = "", **env: str | None) -> Result:
        return self.run(self.argv(*args), self.env(**env), stdin)

    def fails(self, *args: str, stdin: str = "", **env: str | None) -> str:
        result = self.manage(*args, stdin=stdin, **env)
        if result.code == 0:
            raise AssertionError(f"manage.py {' '.join(args)} succeeded:\n{result.output}")
        return result.output

    def ok(self, *args: str, **env: str | None) -> str:
        result = self.manage(*args, **env)
        if result.code != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.output}")
        return result.output

    # -- database

    def sql(self, *statements: str, user: str | None = None) -> list[tuple[object, ...]]:
        return SQL_RUNNERS[self.backend](self, statements, user)

    def connect(self, user: str | None = None) -> psycopg.Connection[tuple[object, ...]]:
        params = {**self.admin, "dbname": self.dbname}
        if user:
            params["user"] = user
        return psycopg.connect(**params)  # type: ignore[arg-type]

    # -- output

    def scrub(self, text: str) -> str:
        pairs = {
            str(self.root): STABLE_ROOT,
            str(self.venv): STABLE_VENV,
            str(SITE_PACKAGES): f"{STABLE_VENV}/lib/python3.11/site-packages",
            str(ROOT / ".venv"): STABLE_VENV,
            sys.base_prefix: "/usr/local",
            self.dbname: STABLE_DB,
            **self.scrub_extra,
        }
        return scrub(text, dict(sorted(pairs.items(), key=lambda kv: -len(kv[0]))))


def scrub(text: str, pairs: dict[str, str]) -> str:
    for old, new in pairs.items():
        text = text.replace(old, new)
    text = re.sub(r" at 0x[0-9a-f]{6,16}>", " at 0x7f3c2a9e1d80>", text)
    text = re.sub(r"\[\d{2}/\w{3}/\d{4} \d{2}:\d{2}:\d{2}\]", f"[{STABLE_DATE[0]}]", text)
    text = re.sub(r"[A-Z][a-z]+ \d{1,2}, \d{4} - \d{2}:\d{2}:\d{2}", STABLE_DATE[1], text)
    text = re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} UTC", f"{STABLE_DATE[2]} UTC", text)
    return re.sub(r"UTC \[\d+\]", "UTC [87]", text)


def pg_sql(lab: Lab, statements: tuple[str, ...], user: str | None) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    with lab.connect(user) as conn:
        conn.autocommit = True
        for statement in statements:
            cur = conn.execute(statement.encode())
            if cur.description:
                rows = cur.fetchall()
    return rows


def sqlite_sql(lab: Lab, statements: tuple[str, ...], user: str | None) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    with contextlib.closing(sqlite3.connect(lab.path("db.sqlite3"))) as conn:
        for statement in statements:
            rows = conn.execute(statement).fetchall()
        conn.commit()
    return rows


def mysql_connect(dbname: str | None = None) -> object:
    import pymysql

    return pymysql.connect(**MARIADB_ADMIN, database=dbname, autocommit=True)  # type: ignore[arg-type]


def mysql_sql(lab: Lab, statements: tuple[str, ...], user: str | None) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    conn = mysql_connect(lab.dbname)
    with contextlib.closing(conn), conn.cursor() as cur:  # type: ignore[attr-defined]
        for statement in statements:
            cur.execute(statement)
            rows = list(cur.fetchall())
    return rows


SQL_RUNNERS = {
    "postgresql": pg_sql,
    "postgresql-scram": pg_sql,
    "sqlite": sqlite_sql,
    "mysql": mysql_sql,
}


# --------------------------------------------------------------------------- servers


def pg_execute(params: dict[str, object], *statements: str) -> None:
    with psycopg.connect(**params, dbname="postgres", autocommit=True) as conn:  # type: ignore[arg-type]
        for statement in statements:
            conn.execute(statement.encode())


def mysql_execute(*statements: str) -> None:
    conn = mysql_connect()
    with contextlib.closing(conn), conn.cursor() as cur:  # type: ignore[attr-defined]
        for statement in statements:
            cur.execute(statement)


class ScramCluster:
    """A private PostgreSQL 15 cluster with scram-sha-256 auth, started on first use.

    The shared server on 5432 trusts every local connection, so a wrong password can only be
    refused by a cluster of our own. Its server log (default ``log_line_prefix``, as in a
    container) also gives the ``db`` service's side of a failure.
    """

    password = "lab-secret"
    owner = "lab"

    def __init__(self) -> None:
        self.dir: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def admin(self) -> dict[str, object]:
        return {
            "host": "127.0.0.1",
            "port": SCRAM_PORT,
            "user": "postgres",
            "password": self.password,
        }

    @property
    def log(self) -> Path:
        assert self.dir is not None
        return self.dir / "server.log"

    def start(self) -> None:
        if self.proc is not None:
            return
        self.dir = Path(tempfile.mkdtemp(prefix="lab-scram-"))
        self.dir.chmod(0o755)
        shutil.chown(self.dir, "postgres", "postgres")
        pwfile = self.dir / "pw"
        pwfile.write_text(self.password + "\n")
        shutil.chown(pwfile, "postgres", "postgres")
        bindir = Path("/usr/lib/postgresql/15/bin")
        initdb = [str(bindir / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres"]
        initdb += ["--auth=scram-sha-256", f"--pwfile={pwfile}"]
        subprocess.run(initdb, user="postgres", check=True, capture_output=True)
        server = [str(bindir / "postgres"), "-D", str(self.dir / "data"), "-p", str(SCRAM_PORT)]
        server += ["-c", "listen_addresses=127.0.0.1", "-k", str(self.dir)]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(server, user="postgres", stdout=log, stderr=log)
        self.wait_ready()
        pg_execute(self.admin, f"CREATE ROLE {self.owner} LOGIN PASSWORD '{self.password}'")

    def wait_ready(self) -> None:
        for _ in range(100):
            with contextlib.suppress(psycopg.OperationalError):
                pg_execute(self.admin)
                return
            time.sleep(0.1)
        raise RuntimeError(f"the scram cluster did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(2)  # SIGINT: fast shutdown
            self.proc.wait(30)
            self.proc = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class Context:
    workdir: Path
    scram: ScramCluster
    versions: dict[str, str] = field(default_factory=dict)


def database_env(backend: str, dbname: str, ctx: Context) -> dict[str, str]:
    if backend == "postgresql":
        return {
            "POSTGRES_DB": dbname,
            "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": "",
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": "5432",
        }
    if backend == "postgresql-scram":
        return {
            "POSTGRES_DB": dbname,
            "POSTGRES_USER": ctx.scram.owner,
            "POSTGRES_PASSWORD": ctx.scram.password,
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": str(SCRAM_PORT),
        }
    if backend == "mysql":
        return {"DATABASE_ENGINE": "mysql", "MYSQL_DATABASE": dbname}
    if backend == "sqlite":
        return {"DATABASE_ENGINE": "sqlite"}
    return {}  # compose: the stack reads .env itself


def admin_params(backend: str, ctx: Context) -> dict[str, object]:
    if backend == "postgresql-scram":
        return ctx.scram.admin
    return dict(PG_ADMIN)


@contextlib.contextmanager
def database(backend: str, name: str, ctx: Context) -> Iterator[None]:
    if backend == "postgresql":
        pg_execute(PG_ADMIN, f'CREATE DATABASE "{name}"')
    elif backend == "postgresql-scram":
        ctx.scram.start()
        pg_execute(ctx.scram.admin, f'CREATE DATABASE "{name}" OWNER {ctx.scram.owner}')
    elif backend == "mysql":
        mysql_execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield
    finally:
        if backend == "postgresql":
            pg_execute(PG_ADMIN, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        elif backend == "postgresql-scram":
            pg_execute(ctx.scram.admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        elif backend == "mysql":
            mysql_execute(f"DROP DATABASE IF EXISTS `{name}`")


def make_venv(base: Path, profile: str) -> Path:
    """A venv holding Django and only the driver of ``profile`` (links into the lab's venv)."""
    venv = base / profile
    if venv.exists():
        return venv
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site = venv / "lib" / version / "site-packages"
    for name in (*DJANGO_PACKAGES, *DRIVER_PACKAGES[profile]):
        (site / name).symlink_to(SITE_PACKAGES / name)
        stem = name.removesuffix(".py").removesuffix(".libs")
        for dist in SITE_PACKAGES.glob(f"{stem}-*.dist-info"):
            if not (site / dist.name).exists():
                (site / dist.name).symlink_to(dist)
    return venv


def driver_of(scenario: Scenario) -> str:
    if scenario.driver:
        return scenario.driver
    defaults = {"postgresql": "psycopg", "postgresql-scram": "psycopg", "mysql": "pymysql"}
    return defaults.get(scenario.backend, "none")


@contextlib.contextmanager
def lab_for(scenario: Scenario, ctx: Context) -> Iterator[Lab]:
    base = Path(tempfile.mkdtemp(prefix="lab-", dir=ctx.workdir))
    root = base / "lab"
    shutil.copytree(LAB_PROJECT, root, ignore=shutil.ignore_patterns("__pycache__", ".env"))
    home = base / "home"
    home.mkdir()
    dbname = f"mdlab_{secrets.token_hex(4)}"
    lab = Lab(
        root=root,
        backend=scenario.backend,
        dbname=dbname,
        venv=make_venv(ctx.workdir / "venvs", driver_of(scenario)),
        home=home,
        db_env=database_env(scenario.backend, dbname, ctx),
        admin=admin_params(scenario.backend, ctx),
        ctx=ctx,
    )
    try:
        with database(scenario.backend, dbname, ctx):
            yield lab
    finally:
        shutil.rmtree(base, ignore_errors=True)


# --------------------------------------------------------------------------- helpers

TICKETS_LAST = "0006_queue_ticket_queue_and_more"
KB_LAST = "0002_article_slug"


def migration_file(deps: list[tuple[str, str]], operations: str, functions: str = "") -> str:
    """A migration file in the shape ``makemigrations`` writes it."""
    dep_lines = "".join(f"        ({app!r}, {name!r}),\n" for app, name in deps)
    ops = textwrap.indent(textwrap.dedent(operations).strip("\n"), " " * 8)
    code = f"\n\n{textwrap.dedent(functions).strip()}\n" if functions.strip() else ""
    imports = "import django.db.models.deletion\n" if "models.deletion" in operations else ""
    return (
        "# Generated by Django 5.2.19 on 2026-01-13 09:12\n\n"
        f"{imports}from django.db import migrations, models\n{code}\n\n"
        "class Migration(migrations.Migration):\n\n"
        f"    dependencies = [\n{dep_lines}    ]\n\n"
        f"    operations = [\n{ops}\n    ]\n"
    )


def add_tickets(lab: Lab, *titles: str, status: str = "open") -> None:
    now = "datetime('now')" if lab.backend == "sqlite" else "CURRENT_TIMESTAMP"
    rows = ", ".join(f"('{title}', '', '{status}', {now})" for title in titles)
    lab.sql(f"INSERT INTO tickets_ticket (title, body, status, created_at) VALUES {rows}")


def at(app: str, name: str, **entities: str) -> dict[str, str]:
    """Entities of a failure inside ``Applying app.name...``."""
    return {**entities, "app_label": app, "migration": name}


def where_shown(text: str, **entities: str) -> dict[str, str]:
    """The entities whose value the text shows (backends word the same failure differently)."""
    return {name: value for name, value in entities.items() if value in text}


def migrated(lab: Lab, *tickets: str) -> None:
    lab.ok("migrate")
    if tickets:
        add_tickets(lab, *tickets)


def alter_status_length(lab: Lab) -> str:
    """Make Ticket.status longer and nullable, write its migration; return its name."""
    lab.edit("tickets/models.py", "max_length=20,", "max_length=30, null=True,")
    lab.ok("makemigrations", "tickets", "--name", "alter_ticket_status")
    return "0007_alter_ticket_status"


def unshared(lab: Lab, how: str, *args: str) -> str:
    """Run manage.py where host names cannot be resolved and no packet leaves the machine.

    ``files``: a private mount namespace whose nsswitch.conf only reads /etc/hosts, so the
    resolver answers "Name or service not known". ``net``: a network namespace without any
    interface up, so it answers "Temporary failure in name resolution".
    """
    if how == "files":
        nss = lab.home / "nsswitch.conf"
        nss.write_text("hosts: files\n")
        script = 'mount --bind "$0" /etc/nsswitch.conf && exec "$@"'
        argv = ["unshare", "--mount", "--", "sh", "-c", script, str(nss), *lab.argv(*args)]
    else:
        argv = ["unshare", "--net", "--", *lab.argv(*args)]
    env = lab.env(POSTGRES_HOST=None, MYSQL_HOST="db")
    result = lab.run(argv, env)
    assert result.code != 0, result.output
    return result.output


def request_log(lab: Lab, url_path: str) -> str:
    """Start ``runserver``, request one page, stop it; return what the terminal showed."""
    log = lab.home / "runserver.log"
    argv = lab.argv("runserver", f"127.0.0.1:{RUNSERVER_PORT}", "--noreload")
    with log.open("w") as out:
        proc = subprocess.Popen(
            argv, cwd=lab.root, env=lab.env(DEBUG="1"), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_for(lambda: "Quit the server" in log.read_text(), 30)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with contextlib.suppress(urllib.error.HTTPError):
            opener.open(f"http://127.0.0.1:{RUNSERVER_PORT}{url_path}", timeout=30).read()
        wait_for(lambda: '" 500 ' in log.read_text(), 10)
    finally:
        proc.terminate()
        proc.wait(10)
    return lab.scrub(log.read_text()).replace(f":{RUNSERVER_PORT}", ":8000")


def wait_for(predicate: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("gave up waiting")
        time.sleep(0.1)


def pg_waiting(lab: Lab) -> bool:
    """True once another session of the lab's database waits for a lock."""
    query = (
        "SELECT count(*) FROM pg_stat_activity "
        f"WHERE datname = '{lab.dbname}' AND wait_event_type = 'Lock'"
    )
    with psycopg.connect(**lab.admin, dbname="postgres", autocommit=True) as conn:  # type: ignore[arg-type]
        row = conn.execute(query.encode()).fetchone()
    return bool(row and row[0])


# --------------------------------------------------------------------------- schema drift

CMD_MIGRATE = "command: python src/manage.py migrate"


def drop_status(lab: Lab) -> None:
    if lab.backend == "sqlite":  # SQLite refuses to drop an indexed column
        lab.sql("DROP INDEX tickets_status_created_idx")
    lab.sql("ALTER TABLE tickets_ticket DROP COLUMN status")


def undefined_column_alter(lab: Lab) -> list[Case]:
    migrated(lab, "Printer jam")
    drop_status(lab)
    name = alter_status_length(lab)
    text = lab.fails("migrate")
    entities = at("tickets", name, column="status", relation="tickets_ticket")
    return [Case("undefined-column", text, entities, f"{CMD_MIGRATE}; status dropped by hand")]


def undefined_column_remove(lab: Lab) -> list[Case]:
    migrated(lab)
    lab.sql("ALTER TABLE tickets_ticket DROP COLUMN body")
    lab.edit("tickets/models.py", "    body = models.TextField(blank=True)\n", "")
    lab.ok("makemigrations", "tickets")
    text = lab.fails("migrate", "tickets")
    name = "0007_remove_ticket_body"
    entities = at("tickets", name, **where_shown(text, column="body", relation="tickets_ticket"))
    note = "command: python src/manage.py migrate tickets; the column was dropped by hand first"
    return [Case("undefined-column", text, entities, note)]


def undefined_column_query(lab: Lab) -> list[Case]:
    migrated(lab, "Printer jam", "VPN down")
    drop_status(lab)
    text = lab.fails("dumpdata", "tickets.ticket")
    entities = where_shown(text, column="status", relation="tickets_ticket")
    note = "command: python src/manage.py dumpdata tickets.ticket; status dropped by hand"
    return [Case("undefined-column", text, entities, note)]


def undefined_column_request(lab: Lab) -> list[Case]:
    migrated(lab, "Printer jam")
    lab.sql("ALTER TABLE tickets_ticket DROP COLUMN status")
    text = request_log(lab, "/tickets/")
    entities = {"column": "status", "relation": "tickets_ticket"}
    note = "runserver log of GET /tickets/ after status was dropped by hand (DEBUG=1)"
    return [Case("undefined-column", text, entities, note)]


def undefined_table_migration(lab: Lab) -> list[Case]:
    migrated(lab)
    lab.sql("DROP TABLE kb_article")
    lab.edit(
        "kb/models.py",
        "    body = models.TextField(blank=True)\n",
        "    body = models.TextField(blank=True)\n"
        "    views = models.PositiveIntegerField(default=0)\n",
    )
    lab.ok("makemigrations", "kb")
    text = lab.fails("migrate")
    entities = at("kb", "0003_article_views", relation="kb_article")
    if lab.backend == "mysql":
        entities["database"] = STABLE_DB
    return [Case("undefined-table", text, entities, f"{CMD_MIGRATE}; kb_article dropped by hand")]


def undefined_table_request(lab: Lab) -> list[Case]:
    migrated(lab, "Printer jam")
    lab.sql("DROP TABLE tickets_queue CASCADE")
    text = request_log(lab, "/tickets/")
    note = "runserver log of GET /tickets/ after tickets_queue was dropped by hand (DEBUG=1)"
    return [Case("undefined-table", text, {"relation": "tickets_queue"}, note)]


def duplicate_column(lab: Lab) -> list[Case]:
    migrated(lab)
    lab.sql("ALTER TABLE tickets_ticket ADD COLUMN priority integer")
    lab.edit(
        "tickets/models.py",
        '    status = models.CharField(max_length=20, default="open")\n',
        '    status = models.CharField(max_length=20, default="open")\n'
        "    priority = models.PositiveSmallIntegerField(null=True, blank=True)\n",
    )
    lab.ok("makemigrations", "tickets")
    text = lab.fails("migrate")
    entities = at("tickets", "0007_ticket_priority", column="priority")
    if "relation" in text:
        entities["relation"] = "tickets_ticket"
    note = f"{CMD_MIGRATE}; the column had been added by hand"
    return [Case("duplicate-column", text, entities, note)]


TAG_MODEL = """

class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    def __str__(self) -> str:
        return self.name
"""


def tag_table_by_hand(lab: Lab) -> None:
    migrated(lab)
    lab.sql("CREATE TABLE kb_tag (id integer PRIMARY KEY, name varchar(50))")
    lab.path("kb/models.py").write_text(lab.path("kb/models.py").read_text() + TAG_MODEL)
    lab.ok("makemigrations", "kb")


def duplicate_table(lab: Lab) -> list[Case]:
    tag_table_by_hand(lab)
    text = lab.fails("migrate")
    entities = at("kb", "0003_tag", relation="kb_tag")
    return [Case("duplicate-table", text, entities, f"{CMD_MIGRATE}; kb_tag created by hand")]


def duplicate_index(lab: Lab) -> list[Case]:
    lab.ok("migrate", "tickets", "0005")
    lab.sql("CREATE INDEX tickets_status_created_idx ON tickets_ticket (status)")
    text = lab.fails("migrate")
    entities = at("tickets", TICKETS_LAST, index="tickets_status_created_idx")
    if lab.backend == "sqlite":
        entities.pop("app_label")
    note = f"{CMD_MIGRATE}; an index of the same name had been created by hand"
    return [Case("duplicate-object", text, entities, note)]


def duplicate_constraint(lab: Lab) -> list[Case]:
    migrated(lab)
    name = "tickets_status_not_empty"
    lab.sql(f"ALTER TABLE tickets_ticket ADD CONSTRAINT {name} CHECK (status <> '')")
    lab.edit(
        "tickets/models.py",
        "        indexes = [",
        "        constraints = [\n"
        f'            models.CheckConstraint(condition=~models.Q(status=""), name="{name}")\n'
        "        ]\n        indexes = [",
    )
    lab.ok("makemigrations", "tickets", "--name", "ticket_status_not_empty")
    text = lab.fails("migrate")
    entities = at("tickets", "0007_ticket_status_not_empty", relation="tickets_ticket")
    note = f"{CMD_MIGRATE}; the check constraint had been added by hand"
    return [Case("duplicate-object", text, entities, note)]


# --------------------------------------------------------------------------- migration history

DELETION = "django.db.models.deletion"
SOLUTION_FK = (
    f"models.ForeignKey(blank=True, null=True, on_delete={DELETION}.SET_NULL, "
    "related_name='+', to='kb.article')"
)
QUEUE_FK = (
    f"models.ForeignKey(on_delete={DELETION}.CASCADE, related_name='tickets', to='tickets.queue')"
)
ADD_SOLUTION = f"""
    migrations.AddField(
        model_name='ticket',
        name='solution',
        field={SOLUTION_FK},
    ),
"""


def inconsistent_history(lab: Lab) -> list[Case]:
    migrated(lab)
    lab.sql(f"DELETE FROM django_migrations WHERE app = 'tickets' AND name = '{TICKETS_LAST}'")
    text = lab.fails("migrate")
    note = f"{CMD_MIGRATE}; the django_migrations row of tickets.{TICKETS_LAST} was deleted"
    return [Case("inconsistent-history", text, at("kb", "0001_initial"), note)]


def inconsistent_history_makemigrations(lab: Lab) -> list[Case]:
    migrated(lab)
    lab.sql(
        "DELETE FROM django_migrations WHERE app = 'tickets' AND name = '0005_lowercase_status'"
    )
    text = lab.fails("makemigrations")
    note = "command: python src/manage.py makemigrations; a django_migrations row was deleted"
    entities = at("tickets", TICKETS_LAST)
    return [Case("inconsistent-history", text, entities, note)]


def two_leaves(lab: Lab) -> None:
    for name, field_line in (
        ("0007_ticket_due_date", "models.DateField(blank=True, null=True)"),
        ("0007_ticket_priority", "models.PositiveSmallIntegerField(default=3)"),
    ):
        field_name = name.removeprefix("0007_ticket_")
        operations = f"""
            migrations.AddField(
                model_name='ticket',
                name='{field_name}',
                field={field_line},
            ),
        """
        lab.write(
            f"tickets/migrations/{name}.py", migration_file([("tickets", TICKETS_LAST)], operations)
        )


def migration_conflict(lab: Lab) -> list[Case]:
    migrated(lab)
    two_leaves(lab)
    text = lab.fails("migrate")
    note = f"{CMD_MIGRATE}; two branches each added a 0007 migration"
    return [Case("migration-conflict", text, at("tickets", "0007_ticket_due_date"), note)]


def migration_conflict_makemigrations(lab: Lab) -> list[Case]:
    two_leaves(lab)
    text = lab.fails("makemigrations", "--check", "--dry-run")
    note = "command: python src/manage.py makemigrations --check --dry-run (a CI step)"
    return [Case("migration-conflict", text, at("tickets", "0007_ticket_due_date"), note)]


def node_not_found(lab: Lab) -> list[Case]:
    lab.delete("tickets/migrations/0005_lowercase_status.py")
    text = lab.fails("migrate")
    note = f"{CMD_MIGRATE}; tickets/migrations/0005_lowercase_status.py was deleted"
    return [Case("node-not-found", text, at("tickets", TICKETS_LAST), note)]


def node_not_found_renamed(lab: Lab) -> list[Case]:
    migrated(lab)
    old = lab.path(f"tickets/migrations/{TICKETS_LAST}.py")
    old.rename(old.with_name("0006_add_queue.py"))
    text = lab.fails("showmigrations")
    note = f"command: python src/manage.py showmigrations; {TICKETS_LAST}.py was renamed"
    return [Case("node-not-found", text, at("kb", "0001_initial"), note)]


DUE_DATE = (
    "    created_at = models.DateTimeField(auto_now_add=True)\n",
    "    created_at = models.DateTimeField(auto_now_add=True)\n"
    "    due_date = models.DateField(null=True, blank=True)\n",
)


def missing_migrations_migrate(lab: Lab) -> list[Case]:
    migrated(lab)
    lab.edit("tickets/models.py", *DUE_DATE)
    result = lab.manage("migrate")
    assert "Your models in app(s)" in result.output, result.output
    note = f"{CMD_MIGRATE} (exit {result.code}); Ticket.due_date added without makemigrations"
    return [Case("missing-migrations", result.output, {"app_label": "tickets"}, note)]


def missing_migrations_check(lab: Lab) -> list[Case]:
    lab.edit("tickets/models.py", *DUE_DATE)
    text = lab.fails("makemigrations", "--check", "--dry-run")
    note = "command: python src/manage.py makemigrations --check --dry-run (exit 1, a CI step)"
    return [Case("missing-migrations", text, {"app_label": "tickets"}, note)]


ASSIGNEE = (
    '    status = models.CharField(max_length=20, default="open")\n',
    '    status = models.CharField(max_length=20, default="open")\n'
    "    assignee = models.CharField(max_length=100)\n",
)


def non_nullable_noinput(lab: Lab) -> list[Case]:
    lab.edit("tickets/models.py", *ASSIGNEE)
    text = lab.fails("makemigrations", "--noinput")
    note = "command: python src/manage.py makemigrations --noinput"
    return [Case("non-nullable-field", text, {"model": "ticket", "field": "assignee"}, note)]


def non_nullable_interactive(lab: Lab) -> list[Case]:
    lab.edit("tickets/models.py", *ASSIGNEE)
    text = lab.fails("makemigrations", stdin="2\n")
    note = "command: python src/manage.py makemigrations, answered 2 (quit) at the prompt"
    return [Case("non-nullable-field", text, {"model": "ticket", "field": "assignee"}, note)]


def non_nullable_alter_interactive(lab: Lab) -> list[Case]:
    nullable = "Queue, null=True, blank=True, on_delete=models.SET_NULL"
    lab.edit("tickets/models.py", nullable, "Queue, on_delete=models.CASCADE")
    text = lab.fails("makemigrations", stdin="3\n")
    note = (
        "command: python src/manage.py makemigrations; Ticket.queue made non-nullable, answered 3"
    )
    return [Case("non-nullable-field", text, {"model": "ticket", "field": "queue"}, note)]


def not_null_violation(lab: Lab) -> list[Case]:
    migrated(lab, "Printer jam", "VPN down")
    operations = f"""
        migrations.AlterField(
            model_name='ticket',
            name='queue',
            field={QUEUE_FK},
        ),
    """
    content = migration_file([("tickets", TICKETS_LAST)], operations)
    lab.write("tickets/migrations/0007_alter_ticket_queue.py", content)
    text = lab.fails("migrate")
    shown = where_shown(text, column="queue_id", relation="tickets_ticket")
    entities = at("tickets", "0007_alter_ticket_queue", **shown)
    note = f"{CMD_MIGRATE}; Ticket.queue made non-nullable while rows have no queue"
    return [Case("non-nullable-field", text, entities, note)]


def irreversible(lab: Lab) -> list[Case]:
    migrated(lab, "Printer jam")
    text = lab.fails("migrate", "tickets", "0004")
    note = "command: python src/manage.py migrate tickets 0004 (roll back)"
    return [Case("irreversible-migration", text, at("tickets", "0005_lowercase_status"), note)]


def irreversible_zero(lab: Lab) -> list[Case]:
    migrated(lab)
    text = lab.fails("migrate", "tickets", "zero")
    note = "command: python src/manage.py migrate tickets zero"
    return [Case("irreversible-migration", text, at("tickets", "0005_lowercase_status"), note)]


def circular_dependency(lab: Lab) -> list[Case]:
    operations = ADD_SOLUTION
    content = migration_file([("tickets", TICKETS_LAST), ("kb", KB_LAST)], operations)
    lab.write("tickets/migrations/0007_ticket_solution.py", content)
    lab.edit(
        "kb/migrations/0002_article_slug.py",
        '("kb", "0001_initial"),',
        '("kb", "0001_initial"),\n        ("tickets", "0007_ticket_solution"),',
    )
    text = lab.fails("migrate")
    first = re.search(r"CircularDependencyError: (\w+)\.(\w+)", text)
    assert first, text
    note = f"{CMD_MIGRATE}; kb.0002 and tickets.0007 depend on each other"
    return [Case("circular-dependency", text, at(first.group(1), first.group(2)), note)]


def target_not_found(lab: Lab) -> list[Case]:
    migrated(lab)
    cases = []
    for args, entities in (
        (("tickets", "9999"), {"app_label": "tickets", "migration": "9999"}),
        (("tickets", "000"), {"app_label": "tickets"}),
        (("nosuchapp",), {"app_label": "nosuchapp"}),
        (("staticfiles",), {"app_label": "staticfiles"}),
    ):
        text = lab.fails("migrate", *args)
        note = f"command: python src/manage.py migrate {' '.join(args)}"
        cases.append(Case("migration-target-not-found", text, entities, note))
    return cases


SOLUTION_FIELD = (
    "    queue = models.ForeignKey(\n",
    "    solution = models.ForeignKey(\n"
    '        "kb.Article", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"\n'
    "    )\n"
    "    queue = models.ForeignKey(\n",
)


def unresolved_missing_dependency(lab: Lab) -> list[Case]:
    """tickets.0007 points at kb.Article but does not depend on kb: a fresh `migrate tickets`."""
    operations = ADD_SOLUTION
    content = migration_file([("tickets", TICKETS_LAST)], operations)
    lab.write("tickets/migrations/0007_ticket_solution.py", content)
    lab.edit("tickets/models.py", *SOLUTION_FIELD)
    text = lab.fails("migrate", "tickets")
    note = (
        "command: python src/manage.py migrate tickets (new database); 0007 does not depend on kb"
    )
    entities = at("tickets", "0007_ticket_solution", **where_shown(text, model="kb.article"))
    return [Case("unresolved-related-model", text, entities, note)]


def unresolved_app_not_installed(lab: Lab) -> list[Case]:
    lab.edit("tickets/models.py", *SOLUTION_FIELD)
    lab.ok("makemigrations", "tickets", "--name", "ticket_solution")
    lab.edit("config/settings.py", '    "kb",\n', "")
    text = lab.fails("migrate")
    note = f"{CMD_MIGRATE}; kb removed from INSTALLED_APPS while tickets has a ForeignKey to it"
    return [Case("unresolved-related-model", text, {"app_label": "kb"}, note)]


def unresolved_lazy_typo(lab: Lab) -> list[Case]:
    lab.edit(
        "tickets/models.py", "        Queue, null=True,", '        "tickets.Queues", null=True,'
    )
    text = lab.fails("makemigrations")
    note = 'command: python src/manage.py makemigrations; ForeignKey("tickets.Queues") typo'
    return [Case("unresolved-related-model", text, {"app_label": "tickets"}, note)]


def bad_migration_syntax(lab: Lab) -> list[Case]:
    content = migration_file([("tickets", TICKETS_LAST)], "migrations.RunSQL('SELECT 1'\n")
    lab.write("tickets/migrations/0007_auto_cleanup.py", content)
    text = lab.fails("migrate")
    note = f"{CMD_MIGRATE}; 0007_auto_cleanup.py has a missing closing parenthesis"
    return [
        Case(
            "bad-migration-file",
            text,
            {"app_label": "tickets", "migration": "0007_auto_cleanup"},
            note,
        )
    ]


def bad_migration_no_class(lab: Lab) -> list[Case]:
    lab.write(
        "tickets/migrations/0007_notes.py",
        "# Notes for the next migration: add Ticket.priority, backfill from the queue.\n",
    )
    text = lab.fails("migrate")
    note = f"{CMD_MIGRATE}; a notes file was saved as tickets/migrations/0007_notes.py"
    return [
        Case("bad-migration-file", text, {"app_label": "tickets", "migration": "0007_notes"}, note)
    ]


def bad_migration_import(lab: Lab) -> list[Case]:
    functions = "from tickets.utils import normalize_title"
    operations = "migrations.RunPython(normalize_title, migrations.RunPython.noop),"
    content = migration_file([("tickets", TICKETS_LAST)], operations, functions)
    lab.write("tickets/migrations/0007_normalize_titles.py", content)
    text = lab.fails("migrate")
    note = f"{CMD_MIGRATE}; the migration imports a helper module that was deleted"
    return [
        Case(
            "bad-migration-file",
            text,
            {"app_label": "tickets", "migration": "0007_normalize_titles"},
            note,
        )
    ]


# --------------------------------------------------------------------------- data meets schema


def unique_violation_alter(lab: Lab) -> list[Case]:
    migrated(lab, "Printer jam", "Printer jam", "VPN down")
    lab.edit(
        "tickets/models.py",
        "title = models.CharField(max_length=200)",
        "title = models.CharField(max_length=200, unique=True)",
    )
    lab.ok("makemigrations", "tickets")
    text = lab.fails("migrate")
    entities = at("tickets", "0007_alter_ticket_title", **where_shown(text, column="title"))
    note = f"{CMD_MIGRATE}; AlterField unique=True while two tickets share a title"
    return [Case("unique-violation-during-migration", text, entities, note)]


def unique_violation_data(lab: Lab) -> list[Case]:
    migrated(lab)
    lab.sql("INSERT INTO tickets_queue (name) VALUES ('Support')")
    functions = """
        def create_default_queues(apps, schema_editor):
            Queue = apps.get_model("tickets", "Queue")
            for name in ("Support", "Billing"):
                Queue.objects.create(name=name)
    """
    operations = "migrations.RunPython(create_default_queues, migrations.RunPython.noop),"
    content = migration_file([("tickets", TICKETS_LAST)], operations, functions)
    lab.write("tickets/migrations/0007_default_queues.py", content)
    text = lab.fails("migrate")
    entities = at("tickets", "0007_default_queues", relation="tickets_queue")
    entities = {**where_shown(text, **entities), **at("tickets", "0007_default_queues")}
    note = f"{CMD_MIGRATE}; a data migration creates a queue that already exists"
    return [Case("unique-violation-during-migration", text, entities, note)]


def type_cast_using(lab: Lab) -> list[Case]:
    migrated(lab, "Printer jam", "VPN down")
    lab.edit(
        "tickets/models.py",
        'status = models.CharField(max_length=20, default="open")',
        "status = models.IntegerField(default=0)",
    )
    lab.ok("makemigrations", "tickets")
    text = lab.fails("migrate")
    entities = at("tickets", "0007_alter_ticket_status", **where_shown(text, column="status"))
    note = f"{CMD_MIGRATE}; status CharField -> IntegerField over values like 'open'"
    return [Case("type-cast-failure", text, entities, note)]


def type_cast_timestamp(lab: Lab) -> list[Case]:
    migrated(lab, "Printer jam")
    lab.edit(
        "tickets/models.py",
        "created_at = models.DateTimeField(auto_now_add=True)",
        "created_at = models.BigIntegerField(default=0)",
    )
    lab.ok("makemigrations", "tickets")
    text = lab.fails("migrate")
    note = f"{CMD_MIGRATE}; created_at DateTimeField -> BigIntegerField"
    return [Case("type-cast-failure", text, at("tickets", "0007_alter_ticket_created_at"), note)]


def type_cast_runsql(lab: Lab) -> list[Case]:
    migrated(lab, "Printer jam")
    operations = """
        migrations.RunSQL(
            'ALTER TABLE tickets_ticket ALTER COLUMN status TYPE integer',
            reverse_sql='ALTER TABLE tickets_ticket ALTER COLUMN status TYPE varchar(20)',
        ),
    """
    content = migration_file([("tickets", TICKETS_LAST)], operations)
    lab.write("tickets/migrations/0007_status_to_integer.py", content)
    text = lab.fails("migrate")
    entities = at("tickets", "0007_status_to_integer", column="status")
    note = f"{CMD_MIGRATE}; RunSQL ALTER COLUMN ... TYPE integer without USING"
    return [Case("type-cast-failure", text, entities, note)]


def pending_trigger_events(lab: Lab) -> list[Case]:
    migrated(lab, "Printer jam", "VPN down")
    lab.sql("INSERT INTO tickets_queue (name) VALUES ('Support')")
    functions = """
        def assign_default_queue(apps, schema_editor):
            Queue = apps.get_model("tickets", "Queue")
            Ticket = apps.get_model("tickets", "Ticket")
            Ticket.objects.filter(queue=None).update(queue=Queue.objects.get(name="Support"))
    """
    operations = """
        migrations.RunPython(assign_default_queue, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='ticket',
            name='status',
            field=models.CharField(default='open', max_length=30),
        ),
    """
    content = migration_file([("tickets", TICKETS_LAST)], operations, functions)
    lab.write("tickets/migrations/0007_assign_queue_alter_ticket_status.py", content)
    lab.edit("tickets/models.py", "max_length=20,", "max_length=30,")
    text = lab.fails("migrate")
    entities = at("tickets", "0007_assign_queue_alter_ticket_status", relation="tickets_ticket")
    note = (
        f"{CMD_MIGRATE}; RunPython sets a deferred ForeignKey, then AlterField in one transaction"
    )
    return [Case("pending-trigger-events", text, entities, note)]


def restricted_role(lab: Lab, *grants: str) -> str:
    role = f"{lab.dbname}_app"
    lab.scrub_extra[role] = STABLE_ROLE
    pg_execute(lab.admin, f"CREATE ROLE {role} LOGIN")
    lab.sql(*(grant.format(role=role) for grant in grants))
    return role


@contextlib.contextmanager
def dropping_role(lab: Lab) -> Iterator[None]:
    try:
        yield
    finally:
        pg_execute(lab.admin, f'DROP DATABASE IF EXISTS "{lab.dbname}" WITH (FORCE)')
        pg_execute(lab.admin, f"DROP ROLE IF EXISTS {lab.dbname}_app")


def schema_permission_create(lab: Lab) -> list[Case]:
    with dropping_role(lab):
        role = restricted_role(lab)
        text = lab.fails("migrate", POSTGRES_USER=role)
    entities = {"relation": "django_migrations"}
    note = f"{CMD_MIGRATE} as a login role without CREATE on schema public (PostgreSQL 15)"
    return [Case("schema-permission-denied", text, entities, note)]


def schema_permission_owner(lab: Lab) -> list[Case]:
    with dropping_role(lab):
        migrated(lab)
        role = restricted_role(
            lab,
            "GRANT CREATE, USAGE ON SCHEMA public TO {role}",
            "GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}",
            "GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}",
        )
        name = alter_status_length(lab)
        text = lab.fails("migrate", POSTGRES_USER=role)
    entities = at("tickets", name, relation="tickets_ticket")
    note = f"{CMD_MIGRATE} as a role that may write the tables but does not own them"
    return [Case("schema-permission-denied", text, entities, note)]


def schema_permission_table(lab: Lab) -> list[Case]:
    with dropping_role(lab):
        migrated(lab)
        role = restricted_role(lab, "GRANT USAGE ON SCHEMA public TO {role}")
        text = lab.fails("showmigrations", POSTGRES_USER=role)
    note = "command: python src/manage.py showmigrations as a role without any table privilege"
    return [Case("schema-permission-denied", text, {"relation": "django_migrations"}, note)]


@contextlib.contextmanager
def holding(lab: Lab, *statements: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """Another session that keeps its locks (an open transaction) while the block runs."""
    conn = lab.connect()
    try:
        for statement in statements:
            conn.execute(statement.encode())
        yield conn
    finally:
        conn.rollback()
        conn.close()


def lock_timeout(lab: Lab) -> list[Case]:
    migrated(lab, "Printer jam")
    name = alter_status_length(lab)
    with holding(lab, "SELECT count(*) FROM tickets_ticket"):
        text = lab.fails("migrate", PGOPTIONS="-c lock_timeout=2s")
    note = f"{CMD_MIGRATE} with lock_timeout=2s while another session reads tickets_ticket"
    return [Case("lock-timeout", text, at("tickets", name), note)]


def statement_timeout(lab: Lab) -> list[Case]:
    migrated(lab, "Printer jam")
    name = alter_status_length(lab)
    with holding(lab, "SELECT count(*) FROM tickets_ticket"):
        text = lab.fails("migrate", PGOPTIONS="-c statement_timeout=2s")
    note = f"{CMD_MIGRATE} with statement_timeout=2s while another session reads tickets_ticket"
    return [Case("lock-timeout", text, at("tickets", name), note)]


def stable_lock_details(text: str) -> str:
    """Server process ids, transaction ids and OIDs differ on every run: number them stably."""
    for pattern, start, step in (
        (r"([Pp]rocess) (\d+)", 2255116, 4038),
        (r"(transaction) (\d+)", 329005783, 17),
        (r"(relation|database) (\d+)", 16384, 68),
    ):
        seen: dict[str, str] = {}

        def number(
            match: re.Match[str], seen: dict[str, str] = seen, s: int = start, d: int = step
        ) -> str:
            stable = seen.setdefault(match.group(2), str(s + d * len(seen)))
            return f"{match.group(1)} {stable}"

        text = re.sub(pattern, number, text)
    return text


@contextlib.contextmanager
def background(lab: Lab, *args: str) -> Iterator[subprocess.Popen[str]]:
    with subprocess.Popen(
        lab.argv(*args),
        cwd=lab.root,
        env=lab.env(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as proc:
        yield proc


def deadlock(lab: Lab) -> list[Case]:
    migrated(lab, "Printer jam", "VPN down")
    functions = """
        def close_stale_tickets(apps, schema_editor):
            Ticket = apps.get_model("tickets", "Ticket")
            for ticket in Ticket.objects.order_by("id"):
                ticket.status = "closed"
                ticket.save(update_fields=["status"])
    """
    operations = "migrations.RunPython(close_stale_tickets, migrations.RunPython.noop),"
    content = migration_file([("tickets", TICKETS_LAST)], operations, functions)
    lab.write("tickets/migrations/0007_close_stale_tickets.py", content)
    ids = [row[0] for row in lab.sql("SELECT id FROM tickets_ticket ORDER BY id")]
    first = f"UPDATE tickets_ticket SET body = 'x' WHERE id = {ids[1]}"
    then = f"UPDATE tickets_ticket SET body = 'y' WHERE id = {ids[0]}"
    with holding(lab, first) as conn, background(lab, "migrate") as proc:
        wait_for(lambda: pg_waiting(lab), 30)
        with contextlib.suppress(psycopg.errors.DeadlockDetected):
            conn.execute(then.encode())
        conn.rollback()
        output, _ = proc.communicate(timeout=60)
    text = stable_lock_details(lab.scrub(output))
    assert "deadlock detected" in text, text
    note = f"{CMD_MIGRATE} while another session updates the same tickets in the other order"
    return [Case("lock-timeout", text, at("tickets", "0007_close_stale_tickets"), note)]


def mysql_lock_wait(lab: Lab) -> list[Case]:
    migrated(lab, "Printer jam")
    lab.edit(
        "config/settings.py",
        '"OPTIONS": {"charset": "utf8mb4"},',
        '"OPTIONS": {"charset": "utf8mb4", "init_command": "SET SESSION lock_wait_timeout = 2"},',
    )
    name = alter_status_length(lab)
    conn = mysql_connect(lab.dbname)
    cur = conn.cursor()  # type: ignore[attr-defined]
    try:
        cur.execute("BEGIN")
        cur.execute("SELECT count(*) FROM tickets_ticket")
        text = lab.fails("migrate")
    finally:
        conn.rollback()  # type: ignore[attr-defined]
        conn.close()  # type: ignore[attr-defined]
    note = f"{CMD_MIGRATE} with lock_wait_timeout=2 while another session has tickets_ticket open"
    return [Case("lock-timeout", text, at("tickets", name), note)]


# --------------------------------------------------------------------------- connectivity

CLOSED_PORT = "5439"  # nothing listens there


def connection_refused(lab: Lab) -> list[Case]:
    text = lab.fails("migrate", POSTGRES_PORT=CLOSED_PORT)
    entities = {"host": "127.0.0.1", "port": CLOSED_PORT}
    note = f"{CMD_MIGRATE}; POSTGRES_PORT={CLOSED_PORT} where no server listens"
    return [Case("db-connection-refused", text, entities, note)]


def connection_refused_localhost(lab: Lab) -> list[Case]:
    text = lab.fails("migrate", POSTGRES_HOST="localhost", POSTGRES_PORT=CLOSED_PORT)
    entities = {"host": "localhost", "port": CLOSED_PORT}
    note = f"{CMD_MIGRATE}; POSTGRES_HOST=localhost POSTGRES_PORT={CLOSED_PORT}, server not running"
    return [Case("db-connection-refused", text, entities, note)]


def connection_refused_mysql(lab: Lab) -> list[Case]:
    text = lab.fails("migrate", MYSQL_PORT="3399")
    note = f"{CMD_MIGRATE}; MYSQL_PORT=3399 where no server listens"
    return [Case("db-connection-refused", text, {"host": "127.0.0.1"}, note)]


def host_unresolved(lab: Lab) -> list[Case]:
    text = unshared(lab, "files", "migrate")
    note = f"{CMD_MIGRATE} outside Compose; POSTGRES_HOST unset, so the default host db is used"
    return [Case("db-host-unresolved", text, {"host": "db"}, note)]


def host_unresolved_no_network(lab: Lab) -> list[Case]:
    text = unshared(lab, "net", "migrate")
    note = f"{CMD_MIGRATE} with host db and no network to reach a name server"
    return [Case("db-host-unresolved", text, {"host": "db"}, note)]


def auth_unknown_role(lab: Lab) -> list[Case]:
    text = lab.fails("migrate", POSTGRES_USER="nobody")
    entities = {"host": "127.0.0.1", "port": "5432", "user": "nobody"}
    note = f"{CMD_MIGRATE}; POSTGRES_USER=nobody, a role the server does not have"
    return [Case("db-auth-failed", text, entities, note)]


def auth_wrong_password(lab: Lab) -> list[Case]:
    log_start = lab.ctx.scram.log.stat().st_size
    text = lab.fails("migrate", POSTGRES_PASSWORD="postgres")
    entities = {"host": "127.0.0.1", "port": str(SCRAM_PORT), "user": ScramCluster.owner}
    note = f"{CMD_MIGRATE}; POSTGRES_PASSWORD differs from the password of the role"
    cases = [Case("db-auth-failed", text, entities, note)]
    server = server_log_since(lab, log_start)
    note = "the db service's log (PostgreSQL server, scram-sha-256) for the same attempt"
    cases.append(Case("db-auth-failed", server, {"user": ScramCluster.owner}, note))
    return cases


def auth_no_password(lab: Lab) -> list[Case]:
    text = lab.fails("migrate", POSTGRES_PASSWORD="")
    entities = {"host": "127.0.0.1", "port": str(SCRAM_PORT)}
    note = f"{CMD_MIGRATE}; POSTGRES_PASSWORD empty for a server that asks for one"
    return [Case("db-auth-failed", text, entities, note)]


def auth_mysql(lab: Lab) -> list[Case]:
    text = lab.fails("migrate", MYSQL_USER="nobody", MYSQL_PASSWORD="secret")
    note = f"{CMD_MIGRATE}; MYSQL_USER=nobody, a user the server does not have"
    return [Case("db-auth-failed", text, {"user": "nobody"}, note)]


def database_missing(lab: Lab) -> list[Case]:
    text = lab.fails("migrate", POSTGRES_DB="tickets_prod", POSTGRES_USER="postgres")
    entities = where_shown(text, host="127.0.0.1", port="5432", database="tickets_prod")
    note = f"{CMD_MIGRATE}; POSTGRES_DB=tickets_prod was never created"
    return [Case("db-missing", text, entities, note)]


def database_missing_mysql(lab: Lab) -> list[Case]:
    text = lab.fails("migrate", MYSQL_DATABASE="tickets_prod")
    note = f"{CMD_MIGRATE}; MYSQL_DATABASE=tickets_prod was never created"
    return [Case("db-missing", text, {"database": "tickets_prod"}, note)]


def driver_missing(lab: Lab) -> list[Case]:
    text = lab.fails("migrate")
    note = f"{CMD_MIGRATE} in a venv with Django but neither psycopg nor psycopg2"
    return [Case("db-driver-missing", text, {}, note)]


def server_log_since(lab: Lab, offset: int) -> str:
    wait_for(lambda: lab.ctx.scram.log.stat().st_size > offset, 10)
    time.sleep(0.3)
    with lab.ctx.scram.log.open("rb") as log:
        log.seek(offset)
        return stable_lock_details(lab.scrub(log.read().decode()))


def server_log_error(lab: Lab) -> list[Case]:
    """What `docker compose logs db` shows when a migration fails: ERROR and STATEMENT."""
    migrated(lab, "Printer jam")
    drop_status(lab)
    name = alter_status_length(lab)
    log_start = lab.ctx.scram.log.stat().st_size
    lab.fails("migrate")
    server = server_log_since(lab, log_start)
    entities = {"column": "status", "relation": "tickets_ticket"}
    note = f"the db service's log while `{CMD_MIGRATE.removeprefix('command: ')}` ran {name}"
    return [Case("undefined-column", server, entities, note)]


# --------------------------------------------------------------------------- negatives


def template_missing(lab: Lab) -> list[Case]:
    migrated(lab, "Printer jam")
    lab.edit("tickets/views.py", '"tickets/ticket_list.html"', '"tickets/list.html"')
    text = request_log(lab, "/tickets/")
    note = "runserver log of GET /tickets/; the view names a template that does not exist"
    return [Case("none", text, {}, note)]


def reverse_missing(lab: Lab) -> list[Case]:
    migrated(lab, "Printer jam")
    lab.edit(
        "tickets/templates/tickets/ticket_list.html",
        "<li>{{ ticket.title }}",
        "<li><a href=\"{% url 'tickets:detail' ticket.pk %}\">{{ ticket.title }}</a>",
    )
    text = request_log(lab, "/tickets/")
    note = "runserver log of GET /tickets/; the template links to a URL name that does not exist"
    return [Case("none", text, {}, note)]


def app_config_wrong(lab: Lab) -> list[Case]:
    lab.edit("tickets/apps.py", 'name = "tickets"', 'name = "helpdesk.tickets"')
    text = lab.fails("migrate")
    note = f"{CMD_MIGRATE}; TicketsConfig.name points at a module that does not exist"
    return [Case("none", text, {}, note)]


def settings_not_configured(lab: Lab) -> list[Case]:
    result = lab.run([str(lab.python), "-m", "django", "migrate"], lab.env())
    assert result.code != 0, result.output
    note = "command: python -m django migrate (no DJANGO_SETTINGS_MODULE, instead of manage.py)"
    return [Case("none", result.output, {}, note)]


STALE_COMMAND = """\
from django.core.management.base import BaseCommand
from django.utils import timezone

from tickets.models import Ticket


class Command(BaseCommand):
    help = "Close tickets nobody touched for a while."

    def add_arguments(self, parser):
        parser.add_argument("--days", default="30")

    def handle(self, *args, **options):
        cutoff = timezone.now() - options["days"]
        stale = Ticket.objects.filter(created_at__lt=cutoff, status="open")
        self.stdout.write(f"closing {stale.update(status='closed')} tickets")
"""


def python_bug(lab: Lab) -> list[Case]:
    migrated(lab, "Printer jam")
    lab.write("tickets/management/__init__.py", "")
    lab.write("tickets/management/commands/__init__.py", "")
    lab.write("tickets/management/commands/close_stale.py", STALE_COMMAND)
    text = lab.fails("close_stale")
    note = "command: python src/manage.py close_stale; a bug in a management command"
    return [Case("none", text, {}, note)]


def models_name_error(lab: Lab) -> list[Case]:
    lab.edit(
        "tickets/models.py",
        '    status = models.CharField(max_length=20, default="open")\n',
        '    status = models.CharField(max_length=20, default="open", choices=STATUS_CHOICES)\n',
    )
    text = lab.fails("migrate")
    note = f"{CMD_MIGRATE}; models.py uses a name it never defined (not a migration problem)"
    return [Case("none", text, {}, note)]


def migrate_success(lab: Lab) -> list[Case]:
    text = lab.ok("migrate")
    note = f"{CMD_MIGRATE} on a new database: it worked, nothing to diagnose"
    return [Case("none", text, {}, note)]


def duplicate_table_colour(lab: Lab) -> list[Case]:
    tag_table_by_hand(lab)
    text = lab.fails("migrate", "--force-color")
    entities = at("kb", "0003_tag", relation="kb_tag")
    note = "command: python src/manage.py migrate --force-color; kb_tag created by hand"
    return [Case("duplicate-table", text, entities, note)]


# --------------------------------------------------------------------------- the Compose stack

COMPOSE_PROJECT = "lab"
COMPOSE_PORT = "55478"
V2 = ("docker", "compose")
V1 = ("docker-compose",)
MIGRATE_COMMAND = "services:\n  web:\n    command: python src/manage.py migrate\n"


def compose(lab: Lab, *args: str, flavour: tuple[str, ...] = V2, **env: str | None) -> Result:
    argv = [*flavour, "-p", COMPOSE_PROJECT, *args]
    return lab.run(argv, lab.env(**env))


@contextlib.contextmanager
def compose_stack(lab: Lab) -> Iterator[None]:
    """The lab's own compose.yaml, run as project `lab` with PostgreSQL on COMPOSE_PORT."""
    taken = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={COMPOSE_PROJECT}"],
        capture_output=True,
        text=True,
        check=True,
    )
    if taken.stdout.strip():
        raise RuntimeError(f"a Compose project named {COMPOSE_PROJECT!r} already exists")
    env_text = (lab.root / ".env.example").read_text()
    (lab.root / ".env").write_text(
        env_text.replace("POSTGRES_PORT=55432", f"POSTGRES_PORT={COMPOSE_PORT}")
    )
    try:
        assert compose(lab, "up", "-d", "db").code == 0
        params = {"host": "127.0.0.1", "port": int(COMPOSE_PORT), "user": "postgres"}
        wait_for(lambda: pg_reachable(params, "lab"), 60)
        yield
    finally:
        compose(lab, "down", "-v", "--timeout", "5")


def pg_reachable(params: dict[str, object], dbname: str) -> bool:
    try:
        with psycopg.connect(**params, dbname=dbname, connect_timeout=2):  # type: ignore[arg-type]
            return True
    except psycopg.OperationalError:
        return False


def compose_failed_migrate(lab: Lab) -> list[Case]:
    """An index created by hand in the db service, then `migrate` as the web service's command."""
    cases = []
    with compose_stack(lab):
        run = compose(
            lab, "run", "--rm", "web", "python", "src/manage.py", "migrate", "tickets", "0005"
        )
        assert run.code == 0, run.output
        params = {
            "host": "127.0.0.1",
            "port": int(COMPOSE_PORT),
            "user": "postgres",
            "dbname": "lab",
        }
        with psycopg.connect(**params, autocommit=True) as conn:  # type: ignore[arg-type]
            conn.execute(b"CREATE INDEX tickets_status_created_idx ON tickets_ticket (status)")
        (lab.root / "compose.override.yaml").write_text(MIGRATE_COMMAND)
        entities = at("tickets", TICKETS_LAST, index="tickets_status_created_idx")
        up = compose(lab, "up", "web")
        cases.append(
            Case(
                "duplicate-object",
                up.output,
                {**entities, "service": "web"},
                "command: docker compose up web (its command: python src/manage.py migrate)",
            )
        )
        logs = compose(lab, "logs", "web")
        cases.append(
            Case(
                "duplicate-object",
                logs.output,
                {**entities, "service": "web"},
                "command: docker compose logs web, after the failed migrate",
            )
        )
        logs_v1 = compose(lab, "logs", "web", flavour=V1)
        cases.append(
            Case(
                "duplicate-object",
                logs_v1.output,
                {**entities, "service": "web"},
                "command: docker-compose logs web (Compose v1 1.29) on the same containers",
            )
        )
        db_log = compose(lab, "logs", "db").output
        tail = db_log[db_log.rindex("\n", 0, db_log.index("ERROR:")) + 1 :]
        cases.append(
            Case(
                "duplicate-object",
                tail,
                {"index": "tickets_status_created_idx", "service": "db"},
                "tail of `docker compose logs db` from the failing statement on",
            )
        )
        exec_ = compose(lab, "exec", "web", "python", "src/manage.py", "showmigrations")
        cases.append(
            Case(
                "compose-service-not-running",
                exec_.output,
                {"service": "web"},
                "command: docker compose exec web python src/manage.py showmigrations, web exited",
            )
        )
    return [replace(case, entities=shown_in_log(case)) for case in cases]


def shown_in_log(case: Case) -> dict[str, str]:
    """`compose logs` drops the unterminated `Applying ...` line: keep what the text shows."""
    entities = where_shown(case.text, **case.entities)
    if "migration" not in entities:
        entities.pop("app_label", None)
    return entities


def compose_env_missing(lab: Lab) -> list[Case]:
    result = compose(lab, "up", "-d")
    assert result.code != 0, result.output
    note = "command: docker compose up -d in a fresh checkout, before copying .env.example to .env"
    return [Case("env-file-missing", result.output, {}, note)]


def compose_file_missing(lab: Lab) -> list[Case]:
    argv = [*V2, "exec", "web", "python", "src/manage.py", "migrate"]
    result = lab.run(argv, lab.env(), cwd=lab.home)
    assert result.code != 0, result.output
    note = "command: docker compose exec web python src/manage.py migrate, outside the project"
    return [Case("compose-file-missing", result.output, {}, note)]


def compose_daemon_unreachable(lab: Lab) -> list[Case]:
    socket_path = lab.home / "docker.sock"
    result = compose(lab, "ps", DOCKER_HOST=f"unix://{socket_path}")
    assert result.code != 0, result.output
    text = result.output.replace(str(socket_path), "/var/run/docker.sock")
    note = "command: docker compose ps while the Docker daemon is not running"
    return [Case("docker-daemon-unreachable", text, {}, note)]


def image_versions() -> tuple[str, str, str]:
    """Compose, PostgreSQL and Django/psycopg versions of the lab image (no network)."""
    code = "import django, psycopg; print(django.__version__, psycopg.__version__)"
    argv = ["docker", "run", "--rm", "--network", "none", "migdoctor-lab:base"]
    python = subprocess.run(
        [*argv, "/opt/venv/bin/python", "-c", code], capture_output=True, text=True, check=True
    )
    postgres = subprocess.run(
        [*argv, "/usr/lib/postgresql/15/bin/postgres", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    version = subprocess.run(
        [*V2, "version", "--short"], capture_output=True, text=True, check=True
    ).stdout.strip()
    django_version, psycopg_version = python.stdout.split()
    found = re.search(r"\) (\d+\.\d+)", postgres.stdout)
    pg_version = found.group(1) if found else "?"
    return f"Docker Compose {version}, PostgreSQL {pg_version}", django_version, psycopg_version


# --------------------------------------------------------------------------- registry

PG, SQLITE, MYSQL, SCRAM = "postgresql", "sqlite", "mysql", "postgresql-scram"
COMPOSE = "compose"  # the lab's compose.yaml on the Docker engine, image migdoctor-lab:base

SCENARIOS: dict[str, Scenario] = {
    "undefined-column/alter": Scenario(
        "column dropped by hand, then AlterField", PG, undefined_column_alter
    ),
    "undefined-column/remove-psycopg2": Scenario(
        "column dropped by hand, then RemoveField", PG, undefined_column_remove, "psycopg2"
    ),
    "undefined-column/query": Scenario(
        "column dropped by hand, then dumpdata", PG, undefined_column_query
    ),
    "undefined-column/request": Scenario(
        "column dropped by hand, then a page request", PG, undefined_column_request
    ),
    "undefined-column/remove-sqlite": Scenario(
        "column dropped by hand, then RemoveField", SQLITE, undefined_column_remove
    ),
    "undefined-column/query-sqlite": Scenario(
        "column dropped by hand, then dumpdata", SQLITE, undefined_column_query
    ),
    "undefined-column/alter-mysql": Scenario(
        "column dropped by hand, then AlterField", MYSQL, undefined_column_alter
    ),
    "undefined-table/migration": Scenario(
        "table dropped by hand, then AddField", PG, undefined_table_migration
    ),
    "undefined-table/request-psycopg2": Scenario(
        "table dropped by hand, then a page request", PG, undefined_table_request, "psycopg2"
    ),
    "undefined-table/migration-sqlite": Scenario(
        "table dropped by hand, then AddField", SQLITE, undefined_table_migration
    ),
    "undefined-table/migration-mysql": Scenario(
        "table dropped by hand, then AddField", MYSQL, undefined_table_migration
    ),
    "duplicate-column": Scenario("column added by hand, then AddField", PG, duplicate_column),
    "duplicate-column/sqlite": Scenario(
        "column added by hand, then AddField", SQLITE, duplicate_column
    ),
    "duplicate-column/mysql": Scenario(
        "column added by hand, then AddField", MYSQL, duplicate_column
    ),
    "duplicate-table": Scenario("table created by hand, then CreateModel", PG, duplicate_table),
    "duplicate-table/sqlite": Scenario(
        "table created by hand, then CreateModel", SQLITE, duplicate_table
    ),
    "duplicate-table/mysql": Scenario(
        "table created by hand, then CreateModel", MYSQL, duplicate_table
    ),
    "duplicate-object/index": Scenario("index created by hand, then AddIndex", PG, duplicate_index),
    "duplicate-object/constraint": Scenario(
        "check constraint created by hand, then AddConstraint", PG, duplicate_constraint
    ),
    "duplicate-object/index-sqlite": Scenario(
        "index created by hand, then AddIndex", SQLITE, duplicate_index
    ),
    "duplicate-object/index-mysql": Scenario(
        "index created by hand, then AddIndex", MYSQL, duplicate_index
    ),
    "inconsistent-history": Scenario(
        "django_migrations row of a dependency deleted", PG, inconsistent_history
    ),
    "inconsistent-history/makemigrations-sqlite": Scenario(
        "django_migrations row of a dependency deleted, then makemigrations",
        SQLITE,
        inconsistent_history_makemigrations,
    ),
    "migration-conflict": Scenario("two 0007 leaves in one app", PG, migration_conflict),
    "migration-conflict/makemigrations-sqlite": Scenario(
        "two 0007 leaves in one app, makemigrations --check",
        SQLITE,
        migration_conflict_makemigrations,
    ),
    "node-not-found": Scenario("parent migration file deleted", PG, node_not_found),
    "node-not-found/renamed-sqlite": Scenario(
        "dependency migration file renamed", SQLITE, node_not_found_renamed
    ),
    "missing-migrations/migrate": Scenario(
        "model changed without a migration, then migrate", PG, missing_migrations_migrate
    ),
    "missing-migrations/check-sqlite": Scenario(
        "model changed without a migration, makemigrations --check",
        SQLITE,
        missing_migrations_check,
    ),
    "non-nullable-field/noinput": Scenario(
        "non-nullable field added, makemigrations --noinput", SQLITE, non_nullable_noinput
    ),
    "non-nullable-field/interactive": Scenario(
        "non-nullable field added, makemigrations at the prompt", SQLITE, non_nullable_interactive
    ),
    "non-nullable-field/alter-interactive": Scenario(
        "nullable ForeignKey made non-nullable, makemigrations at the prompt",
        SQLITE,
        non_nullable_alter_interactive,
    ),
    "non-nullable-field/not-null-violation": Scenario(
        "AlterField null=False over rows with NULL", PG, not_null_violation
    ),
    "non-nullable-field/not-null-violation-sqlite": Scenario(
        "AlterField null=False over rows with NULL", SQLITE, not_null_violation
    ),
    "non-nullable-field/not-null-violation-mysql": Scenario(
        "AlterField null=False over rows with NULL", MYSQL, not_null_violation
    ),
    "irreversible-migration": Scenario(
        "rollback across a RunPython without reverse_code", PG, irreversible
    ),
    "irreversible-migration/zero-sqlite": Scenario(
        "rollback to zero across a RunPython without reverse_code", SQLITE, irreversible_zero
    ),
    "circular-dependency": Scenario(
        "migrations of two apps depending on each other", SQLITE, circular_dependency
    ),
    "migration-target-not-found": Scenario(
        "migrate to a migration or app that does not exist", PG, target_not_found
    ),
    "unresolved-related-model/missing-dependency": Scenario(
        "ForeignKey migration without a dependency on the target app",
        PG,
        unresolved_missing_dependency,
    ),
    "unresolved-related-model/app-not-installed": Scenario(
        "ForeignKey to a model of an app removed from INSTALLED_APPS",
        PG,
        unresolved_app_not_installed,
    ),
    "unresolved-related-model/lazy-typo": Scenario(
        "ForeignKey with a misspelt lazy reference", SQLITE, unresolved_lazy_typo
    ),
    "bad-migration-file/syntax": Scenario(
        "migration file with a syntax error", PG, bad_migration_syntax
    ),
    "bad-migration-file/no-class": Scenario(
        "file without a Migration class under migrations/", PG, bad_migration_no_class
    ),
    "bad-migration-file/import": Scenario(
        "migration importing a deleted module", SQLITE, bad_migration_import
    ),
    "unique-violation/alter": Scenario(
        "AlterField unique=True over duplicate rows", PG, unique_violation_alter
    ),
    "unique-violation/alter-sqlite": Scenario(
        "AlterField unique=True over duplicate rows", SQLITE, unique_violation_alter
    ),
    "unique-violation/alter-mysql": Scenario(
        "AlterField unique=True over duplicate rows", MYSQL, unique_violation_alter
    ),
    "unique-violation/data-psycopg2": Scenario(
        "data migration inserting an existing unique value", PG, unique_violation_data, "psycopg2"
    ),
    "type-cast/using": Scenario(
        "AlterField CharField -> IntegerField over non-numeric data", PG, type_cast_using
    ),
    "type-cast/timestamp": Scenario(
        "AlterField DateTimeField -> BigIntegerField", PG, type_cast_timestamp
    ),
    "type-cast/runsql": Scenario(
        "RunSQL changing a column type without USING", PG, type_cast_runsql
    ),
    "type-cast/using-mysql": Scenario(
        "AlterField CharField -> IntegerField over non-numeric data", MYSQL, type_cast_using
    ),
    "pending-trigger-events": Scenario(
        "RunPython update then AlterField in one migration (deferred FK)",
        PG,
        pending_trigger_events,
    ),
    "schema-permission/create": Scenario(
        "migrate as a role without CREATE on schema public", PG, schema_permission_create
    ),
    "schema-permission/owner-psycopg2": Scenario(
        "AlterField as a role that does not own the table",
        PG,
        schema_permission_owner,
        "psycopg2",
    ),
    "schema-permission/table": Scenario(
        "showmigrations as a role without privileges on django_migrations",
        PG,
        schema_permission_table,
    ),
    "lock-timeout/lock": Scenario(
        "AlterField under lock_timeout while another session holds a lock", PG, lock_timeout
    ),
    "lock-timeout/statement": Scenario(
        "AlterField under statement_timeout while another session holds a lock",
        PG,
        statement_timeout,
    ),
    "lock-timeout/deadlock": Scenario(
        "data migration and another session updating rows in opposite order", PG, deadlock
    ),
    "lock-timeout/mysql": Scenario(
        "AlterField under lock_wait_timeout while another session holds a metadata lock",
        MYSQL,
        mysql_lock_wait,
    ),
    "db-connection-refused": Scenario("wrong port, no server listening", PG, connection_refused),
    "db-connection-refused/localhost-psycopg2": Scenario(
        "wrong port on localhost, no server listening",
        PG,
        connection_refused_localhost,
        "psycopg2",
    ),
    "db-connection-refused/mysql": Scenario(
        "wrong port, no server listening", MYSQL, connection_refused_mysql
    ),
    "db-host-unresolved": Scenario("host db used outside the Compose network", PG, host_unresolved),
    "db-host-unresolved/psycopg2": Scenario(
        "host db used outside the Compose network", PG, host_unresolved, "psycopg2"
    ),
    "db-host-unresolved/no-network": Scenario(
        "host db without a reachable name server", PG, host_unresolved_no_network
    ),
    "db-host-unresolved/mysql": Scenario(
        "host db used outside the Compose network", MYSQL, host_unresolved
    ),
    "db-auth-failed/unknown-role": Scenario("role that does not exist", PG, auth_unknown_role),
    "db-auth-failed/password": Scenario(
        "wrong password, scram-sha-256 authentication", SCRAM, auth_wrong_password
    ),
    "db-auth-failed/no-password-psycopg2": Scenario(
        "no password, scram-sha-256 authentication", SCRAM, auth_no_password, "psycopg2"
    ),
    "db-auth-failed/mysql": Scenario("user that does not exist", MYSQL, auth_mysql),
    "db-missing": Scenario("database that does not exist", PG, database_missing),
    "db-missing/psycopg2": Scenario(
        "database that does not exist", PG, database_missing, "psycopg2"
    ),
    "db-missing/mysql": Scenario("database that does not exist", MYSQL, database_missing_mysql),
    "db-driver-missing": Scenario("venv without psycopg and psycopg2", PG, driver_missing, "none"),
    "db-driver-missing/mysql": Scenario(
        "venv without mysqlclient (or PyMySQL)", MYSQL, driver_missing, "none"
    ),
    "undefined-column/server-log": Scenario(
        "column dropped by hand, then AlterField (server log)", SCRAM, server_log_error
    ),
    "duplicate-table/colour": Scenario(
        "table created by hand, then CreateModel, coloured output", PG, duplicate_table_colour
    ),
    "none/template-missing": Scenario("view rendering a missing template", PG, template_missing),
    "none/reverse-missing": Scenario("template reversing an unknown URL name", PG, reverse_missing),
    "none/app-config": Scenario("AppConfig.name pointing nowhere", PG, app_config_wrong),
    "none/settings-not-configured": Scenario(
        "python -m django without settings", SQLITE, settings_not_configured
    ),
    "none/python-bug": Scenario("TypeError in a management command", PG, python_bug),
    "none/models-name-error": Scenario(
        "NameError in models.py during migrate", PG, models_name_error
    ),
    "none/migrate-success": Scenario("a migrate that works", PG, migrate_success),
    "compose/failed-migrate": Scenario(
        "index created by hand, then migrate as the web service's command",
        COMPOSE,
        compose_failed_migrate,
    ),
    "compose/env-file-missing": Scenario("compose up without .env", COMPOSE, compose_env_missing),
    "compose/file-missing": Scenario(
        "compose exec outside the project folder", COMPOSE, compose_file_missing
    ),
    "compose/daemon-unreachable": Scenario(
        "compose with no Docker daemon behind the socket", COMPOSE, compose_daemon_unreachable
    ),
}

# Raw cases re-printed the way `docker compose logs` shows them: (scenario, case index, wrapper).
WRAPPED: list[tuple[str, int, str]] = [
    ("undefined-column/alter", 0, "compose-v2"),
    ("inconsistent-history", 0, "compose-v1"),
    ("migration-conflict", 0, "compose-v1-plain"),
    ("node-not-found", 0, "compose-v2"),
    ("non-nullable-field/not-null-violation", 0, "compose-up"),
    ("schema-permission/create", 0, "compose-v2"),
    ("lock-timeout/lock", 0, "compose-v1-plain"),
    ("db-connection-refused", 0, "compose-up"),
    ("db-host-unresolved/psycopg2", 0, "compose-v1"),
    ("db-auth-failed/password", 1, "compose-db"),
    ("undefined-column/server-log", 0, "compose-db"),
    ("none/models-name-error", 0, "compose-v2"),
]


# --------------------------------------------------------------------------- harness


def backend_name(backend: str, ctx: Context) -> str:
    if backend not in ctx.versions:
        ctx.versions[backend] = query_version(backend, ctx)
    return ctx.versions[backend]


def query_version(backend: str, ctx: Context) -> str:
    if backend == SQLITE:
        return f"SQLite {sqlite3.sqlite_version}"
    if backend == MYSQL:
        conn = mysql_connect()
        with contextlib.closing(conn), conn.cursor() as cur:  # type: ignore[attr-defined]
            cur.execute("SELECT VERSION()")
            return "MariaDB " + str(cur.fetchone()[0]).split("-")[0]
    with psycopg.connect(**admin_params(backend, ctx), dbname="postgres") as conn:  # type: ignore[arg-type]
        row = conn.execute(b"SHOW server_version").fetchone()
    return "PostgreSQL " + str(row[0] if row else "?").split(" ")[0]


def driver_name(profile: str, backend: str) -> str:
    packages = {"psycopg": "psycopg", "psycopg2": "psycopg2-binary", "pymysql": "PyMySQL"}
    if profile in packages:
        label = "psycopg2" if profile == "psycopg2" else packages[profile]
        return f"{label} {metadata.version(packages[profile])}"
    return "sqlite3" if backend == SQLITE else "no database driver installed"


def produce(key: str, ctx: Context) -> list[Case]:
    scenario = SCENARIOS[key]
    with lab_for(scenario, ctx) as lab:
        cases = scenario.produce(lab)
    django_version = ".".join(django.__version__.split(".")[:2])
    driver = driver_name(driver_of(scenario), scenario.backend)
    if scenario.backend == COMPOSE:
        stack, django_full, psycopg_version = image_versions()
        django_version = ".".join(django_full.split(".")[:2])
        backend, driver = stack, f"psycopg {psycopg_version}"
    else:
        backend = backend_name(scenario.backend, ctx)
    source = f"produced: {scenario.title} ({backend}, Django {django_version}, {driver})"
    return [replace(case, source=case.source or source) for case in cases]


def check_case(key: str, case: Case) -> None:
    for name, value in case.entities.items():
        if name not in ENTITY_NAMES:
            raise AssertionError(f"{key}: unknown entity {name}")
        if value not in case.text:
            raise AssertionError(f"{key}: {name}={value!r} is not in the text:\n{case.text}")
    for leak in ("/tmp/", "mdlab_", str(ROOT)):
        if leak in case.text:
            raise AssertionError(f"{key}: {leak!r} left in the text")


# --------------------------------------------------------------------------- compose wrappers

ESC = "\x1b"


def compose_lines(text: str, prefix: str, stamp: bool, colour: str) -> str:
    """Prefix every line like Compose does (and docker's ``-t`` RFC 3339 timestamps)."""
    head = f"{ESC}[{colour}m{prefix}{ESC}[0m " if colour else f"{prefix} "
    lines = []
    for i, line in enumerate(text.rstrip("\n").split("\n")):
        nanos = 3_412_345_678 + i * 1_302_117
        ts = f"2026-01-12T10:15:{nanos // 10**9:02d}.{nanos % 10**9:09d}Z " if stamp else ""
        lines.append(f"{head}{ts}{line}")
    return "\n".join(lines) + "\n"


WRAPPERS: dict[str, tuple[str, str, Callable[[str], str]]] = {
    "compose-v2": (
        "`docker compose logs -t web` (Compose v2: `web-1  | ` prefix in colour, timestamps)",
        "web",
        lambda text: compose_lines(text, "web-1  |", True, "36"),
    ),
    "compose-v1": (
        "`docker-compose logs web` (Compose v1: `web_1  | ` prefix in colour)",
        "web",
        lambda text: compose_lines(text, "web_1  |", False, "36"),
    ),
    "compose-v1-plain": (
        "`docker-compose logs --no-color -t web` (Compose v1, timestamps, no colour)",
        "web",
        lambda text: compose_lines(text, "web_1  |", True, ""),
    ),
    "compose-up": (
        "`docker compose up` output of Compose v2 before 2.21 (`lab-web-1  | ` prefix)",
        "web",
        lambda text: compose_lines(text, "lab-web-1  |", False, "33"),
    ),
    "compose-db": (
        "`docker compose logs -t db` (Compose v2: `db-1  | ` prefix in colour, timestamps)",
        "db",
        lambda text: compose_lines(text, "db-1  |", True, "33"),
    ),
}


def wrap(raw_id: str, case: Case, wrapper: str) -> Case:
    how, service, fn = WRAPPERS[wrapper]
    note = f"the text of {raw_id} as {how}; only the wrapping is added"
    entities = {**case.entities, "service": service}
    return replace(case, text=fn(case.text), entities=entities, note=note)


# --------------------------------------------------------------------------- YAML


def quoted(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def needs_quoting(text: str) -> bool:
    if any(ch < " " and ch not in "\t\n" for ch in text):
        return True
    lines = text.split("\n")
    return any(line.strip() == "" and line != "" for line in lines) or text.startswith((" ", "\t"))


def text_lines(text: str) -> list[str]:
    text = text.rstrip("\n")
    if needs_quoting(text):
        return [f"    text: {quoted(text + chr(10))}"]
    body = [f"      {line}" if line else "" for line in text.split("\n")]
    return ["    text: |2", *body]


def case_lines(case_id: str, case: Case) -> list[str]:
    lines = [f"  - id: {case_id}", f"    label: {case.label}", f"    source: {quoted(case.source)}"]
    entities = [(n, case.entities[n]) for n in ENTITY_NAMES if n in case.entities]
    if entities:
        lines.append("    entities:")
        lines += [f"      {name}: {quoted(value)}" for name, value in entities]
    else:
        lines.append("    entities: {}")
    lines += text_lines(case.text)
    if case.note:
        lines.append(f"    note: {quoted(case.note)}")
    return lines


HEADER = """\
# Real error texts produced by really breaking the lab project (tests/lab/project) against real
# PostgreSQL, SQLite and MariaDB servers; labels are migdoctor playbook ids.
# Generated by tests/corpus/produce_real.py; do not edit by hand, regenerate with:
#   .venv/bin/python tests/corpus/produce_real.py
cases:
"""


def to_yaml(cases: list[tuple[str, Case]]) -> str:
    lines: list[str] = []
    for case_id, case in cases:
        lines += case_lines(case_id, case)
    return HEADER + "\n".join(lines) + "\n"


def verify_yaml(content: str, cases: list[tuple[str, Case]]) -> None:
    import yaml

    loaded = yaml.safe_load(content)["cases"]
    for (case_id, case), row in zip(cases, loaded, strict=True):
        if row["id"] != case_id or row["text"].rstrip("\n") != case.text.rstrip("\n"):
            raise AssertionError(f"{case_id} does not survive a YAML round trip")


# --------------------------------------------------------------------------- main


def selected(only: list[str], skip_compose: bool) -> list[str]:
    keys = [key for key in SCENARIOS if not (skip_compose and SCENARIOS[key].backend == COMPOSE)]
    if not only:
        return keys
    return [key for key in keys if any(part in key for part in only)]


def run_all(keys: list[str], ctx: Context) -> list[tuple[str, Case]]:
    numbered: list[tuple[str, Case]] = []
    ids: dict[tuple[str, int], str] = {}
    for key in keys:
        print(f"- {key}", file=sys.stderr, flush=True)
        for index, case in enumerate(produce(key, ctx)):
            check_case(key, case)
            ids[key, index] = f"r{len(numbered) + 1:03d}"
            numbered.append((ids[key, index], case))
    by_id = dict(numbered)
    for key, index, wrapper in WRAPPED:
        if (key, index) in ids:
            raw_id = ids[key, index]
            wrapped = wrap(raw_id, by_id[raw_id], wrapper)
            numbered.append((f"r{len(numbered) + 1:03d}", wrapped))
    return numbered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", default=[], help="scenario keys containing")
    parser.add_argument("--print", action="store_true", help="print instead of writing the file")
    parser.add_argument(
        "--skip-compose", action="store_true", help="leave out the scenarios that need Docker"
    )
    args = parser.parse_args(argv)
    keys = selected(args.only, args.skip_compose)
    with tempfile.TemporaryDirectory(prefix="migdoctor-real-") as tmp:
        ctx = Context(Path(tmp), ScramCluster())
        try:
            cases = run_all(keys, ctx)
        finally:
            ctx.scram.stop()
    content = to_yaml(cases)
    verify_yaml(content, cases)
    if args.print:
        print(content)
    else:
        OUTPUT.write_text(content)
        print(f"wrote {len(cases)} cases to {OUTPUT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
