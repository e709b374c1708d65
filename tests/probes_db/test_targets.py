"""Database targets: URLs, names, and the local and Docker databases of real project folders."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from migdoctor.errors import MigdoctorError
from migdoctor.probes.targets import Resolution, Target, parse_named, parse_url, resolve_targets

SECRET = "s3cr3t-7c1d"
LAB = Path(__file__).resolve().parents[1] / "lab" / "project"

URLS = [
    ("full", "postgresql://app:s3cr3t-7c1d@db.example:6543/shop?sslmode=require",
     Target("cli", "db.example", 6543, "shop", "app", SECRET, "--database-url",
            (("sslmode", "require"),))),
    ("postgres-scheme-default-port", "postgres://app@localhost/shop",
     Target("cli", "localhost", 5432, "shop", "app", "", "--database-url")),
    ("percent-encoded-password", "postgres://app:p%40ss%3Aw%2Fd%25@127.0.0.1/shop",
     Target("cli", "127.0.0.1", 5432, "shop", "app", "p@ss:w/d%", "--database-url")),
    ("socket-in-query", "postgresql:///shop?host=/var/run/postgresql",
     Target("cli", "/var/run/postgresql", 5432, "shop", "", "", "--database-url")),
    ("socket-encoded-host", "postgresql://%2Fvar%2Frun%2Fpostgresql/shop",
     Target("cli", "/var/run/postgresql", 5432, "shop", "", "", "--database-url")),
    ("ipv6", "postgresql://app@[::1]:5433/shop",
     Target("cli", "::1", 5433, "shop", "app", "", "--database-url")),
    ("login-in-query", "postgresql://h/shop?user=app&password=s3cr3t-7c1d&application_name=x",
     Target("cli", "h", 5432, "shop", "app", SECRET, "--database-url",
            (("application_name", "x"),))),
    ("pgsql-scheme", "pgsql://app@h:1/d", Target("cli", "h", 1, "d", "app", "", "--database-url")),
]  # fmt: skip


@pytest.mark.parametrize(("url", "expected"), [u[1:] for u in URLS], ids=[u[0] for u in URLS])
def test_parse_url(url: str, expected: Target) -> None:
    assert parse_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://app:s3cr3t-7c1d@h/shop", "--database-url: not a PostgreSQL URL (scheme mysql)"),
        ("db:5432/shop", "--database-url: not a PostgreSQL URL (scheme db)"),
        ("postgresql://app:s3cr3t-7c1d@h:port/shop", "--database-url: the port is not a number"),
    ],
    ids=["other-scheme", "no-scheme", "bad-port"],
)
def test_parse_url_errors_never_echo_the_url(url: str, message: str) -> None:
    with pytest.raises(MigdoctorError) as caught:
        parse_url(url)
    assert caught.value.message == message
    assert SECRET not in caught.value.message + caught.value.hint


def test_named() -> None:
    assert parse_named("docker=postgresql://postgres:s3cr3t-7c1d@127.0.0.1:5433/lab") == Target(
        "docker", "127.0.0.1", 5433, "lab", "postgres", SECRET, "--database docker"
    )


@pytest.mark.parametrize("spec", ["postgresql://h/d", "my db=postgresql://h/d", "=postgresql://h/d"])
def test_named_needs_a_name(spec: str) -> None:
    with pytest.raises(MigdoctorError, match=r"^--database expects NAME=URL"):
        parse_named(spec)


def test_dsn_quotes_every_value() -> None:
    target = Target("cli", "h", 5432, "d b", "u", "it's \\ x", params=(("sslmode", "require"),))
    assert target.dsn() == (
        "host='h' port='5432' dbname='d b' user='u' password='it\\'s \\\\ x' sslmode='require'"
    )


def test_password_never_shown() -> None:
    target = parse_url(f"postgresql://app:{SECRET}@h:6543/shop?sslmode=require")
    assert target.redacted() == "postgresql://app:***@h:6543/shop?sslmode=require"
    assert str(target) == "cli: postgresql://app:***@h:6543/shop?sslmode=require (--database-url)"
    assert repr(target) == (
        "Target(name='cli', host='h', port=6543, dbname='shop', user='app', "
        "source='--database-url', params=(('sslmode', 'require'),), container=False)"
    )
    assert SECRET in target.dsn()
    assert target.as_dict() == {
        "name": "cli", "url": "postgresql://app:***@h:6543/shop?sslmode=require", "host": "h",
        "port": 6543, "dbname": "shop", "user": "app", "password_set": True,
        "source": "--database-url", "params": {"sslmode": "require"}, "container": False,
    }  # fmt: skip


def project(root: Path, dotenv: str | None, compose: str | None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if dotenv is not None:
        (root / ".env").write_text(textwrap.dedent(dotenv))
    if compose is not None:
        (root / "compose.yaml").write_text(textwrap.dedent(compose))
    return root


ENV = """\
    POSTGRES_DB=app
    POSTGRES_USER=app
    POSTGRES_PASSWORD=s3cr3t-7c1d
    POSTGRES_HOST={host}
    POSTGRES_PORT=5432
"""
COMPOSE = """\
    services:
      db:
        image: postgres:16
        env_file: .env
    {ports}
      web:
        build: .
        env_file: .env
"""
PUBLISHED = "    ports: ['5433:5432']"
DOCKER_5433 = Target("docker", "127.0.0.1", 5433, "app", "app", SECRET,
                     "Compose service db: db:5432 inside Compose, published as 127.0.0.1:5433 here",
                     container=True)  # fmt: skip

SCENARIOS = [
    ("service-host-published", ENV.format(host="db"), COMPOSE.format(ports=PUBLISHED), {},
     (Target("local", "127.0.0.1", 5433, "app", "app", SECRET,
             "POSTGRES_* in .env; db is the Compose service, 127.0.0.1:5433 here"), DOCKER_5433),
     ("local and docker are the same database: 127.0.0.1:5433/app",)),
    ("local-server-is-another", ENV.format(host="localhost"),
     COMPOSE.format(ports="    ports: ['127.0.0.1:5433:5432']"), {},
     (Target("local", "localhost", 5432, "app", "app", SECRET, "POSTGRES_* in .env"),
      DOCKER_5433), ()),
    ("no-published-port", ENV.format(host="db"), COMPOSE.format(ports=""), {},
     (Target("local", "db", 5432, "app", "app", SECRET, "POSTGRES_* in .env"),),
     ("local: db is a Compose service name, which does not resolve outside Compose, and the "
      "service db publishes no port",
      "docker: the Compose service db publishes no port: its database is reachable only "
      "inside Compose (db:5432)")),
    ("shell-wins", ENV.format(host="db"), COMPOSE.format(ports=PUBLISHED),
     {"POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": "5432"},
     (Target("local", "127.0.0.1", 5432, "app", "app", SECRET,
             "POSTGRES_* in .env and the environment"), DOCKER_5433), ()),
    ("env-database-url-first", ENV.format(host="localhost"), None,
     {"DATABASE_URL": "postgresql://ci@127.0.0.1:5432/ci_db"},
     (Target("env", "127.0.0.1", 5432, "ci_db", "ci", "", "DATABASE_URL in the environment"),
      Target("local", "localhost", 5432, "app", "app", SECRET, "POSTGRES_* in .env")), ()),
    ("interpolated-port", ENV.format(host="db") + "DB_PORT=6000\n",
     COMPOSE.format(ports="    ports: ['${DB_PORT:-5433}:5432']"), {},
     (Target("local", "127.0.0.1", 6000, "app", "app", SECRET,
             "POSTGRES_* in .env; db is the Compose service, 127.0.0.1:6000 here"),
      Target("docker", "127.0.0.1", 6000, "app", "app", SECRET,
             "Compose service db: db:5432 inside Compose, published as 127.0.0.1:6000 here",
             container=True)),
     ("local and docker are the same database: 127.0.0.1:6000/app",)),
    ("environment-literals-and-long-ports", "POSTGRES_HOST=postgres\n", """\
        services:
          postgres:
            image: postgres:15
            environment: [POSTGRES_USER=django, POSTGRES_PASSWORD=s3cr3t-7c1d, POSTGRES_DB=shop]
            ports:
              - {target: 5432, published: "5434", host_ip: 127.0.0.1}
          web: {build: ., environment: {POSTGRES_HOST: postgres}}
        """, {},
     (Target("local", "127.0.0.1", 5434, "postgres", "postgres", "",
             "POSTGRES_* in .env; postgres is the Compose service, 127.0.0.1:5434 here"),
      Target("docker", "127.0.0.1", 5434, "shop", "django", SECRET,
             "Compose service postgres: postgres:5432 inside Compose, published as "
             "127.0.0.1:5434 here", container=True)), ()),
    ("pgport", ENV.format(host="localhost"), """\
        services:
          db: {image: postgres:16, env_file: .env, environment: {PGPORT: "6432"},
               ports: ["7000:6432", "7001:5432"]}
        """, {},
     (Target("local", "localhost", 5432, "app", "app", SECRET, "POSTGRES_* in .env"),
      Target("docker", "127.0.0.1", 7000, "app", "app", SECRET,
             "Compose service db: db:6432 inside Compose, published as 127.0.0.1:7000 here",
             container=True)), ()),
    ("dotenv-database-url", "DATABASE_URL=postgres://u:s3cr3t-7c1d@db:5432/app\n",
     COMPOSE.format(ports=PUBLISHED), {},
     (Target("local", "127.0.0.1", 5433, "app", "u", SECRET,
             "DATABASE_URL in .env; db is the Compose service, 127.0.0.1:5433 here"),
      Target("docker", "127.0.0.1", 5433, "postgres", "postgres", "",
             "Compose service db: db:5432 inside Compose, published as 127.0.0.1:5433 here",
             container=True)), ()),
    ("environment-only", None, None,
     {"POSTGRES_DB": "x", "POSTGRES_HOST": "127.0.0.1"},
     (Target("local", "127.0.0.1", 5432, "x", "postgres", "",
             "POSTGRES_* in the environment"),), ()),
    ("nothing", "DEBUG=1\n", None, {}, (), ()),
    ("unreadable-settings", "POSTGRES_PORT=five\nDATABASE_URL=x\n", None,
     {"DATABASE_URL": "sqlite:///db.sqlite3"}, (),
     ("DATABASE_URL in the environment: not a PostgreSQL URL (scheme sqlite)",
      "POSTGRES_* in .env: POSTGRES_PORT is not a number")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("dotenv", "compose", "environ", "targets", "notes"),
    [s[1:] for s in SCENARIOS],
    ids=[s[0] for s in SCENARIOS],
)
def test_resolve(
    tmp_path: Path,
    dotenv: str | None,
    compose: str | None,
    environ: dict[str, str],
    targets: tuple[Target, ...],
    notes: tuple[str, ...],
) -> None:
    root = project(tmp_path / "proj", dotenv, compose)
    assert resolve_targets(root, environ) == Resolution(targets, notes)


def test_lab_stack_host_network(tmp_path: Path) -> None:
    """The lab runs with network_mode: host: db listens on 127.0.0.1:55432 for both sides."""
    root = tmp_path / "lab"
    root.mkdir()
    (root / "compose.yaml").write_text((LAB / "compose.yaml").read_text())
    (root / ".env").write_text((LAB / ".env.example").read_text())
    where = "Compose service db: network_mode: host, 127.0.0.1:55432 inside Compose and here"
    local = Target("local", "127.0.0.1", 55432, "lab", "postgres", "postgres", "POSTGRES_* in .env")
    docker = Target("docker", "127.0.0.1", 55432, "lab", "postgres", "postgres", where, (), True)
    assert resolve_targets(root, {}) == Resolution(
        (local, docker), ("local and docker are the same database: 127.0.0.1:55432/lab",)
    )


def test_given_targets_replace_discovery(tmp_path: Path) -> None:
    root = project(tmp_path / "proj", ENV.format(host="db"), COMPOSE.format(ports=PUBLISHED))
    resolution = resolve_targets(
        root,
        {"DATABASE_URL": "postgresql://x@h/y"},
        database_url="postgresql://a@127.0.0.1/one",
        named=["docker=postgresql://b@127.0.0.1:5433/two", "staging=postgres://c@10.0.0.5/three"],
    )
    assert [(t.name, t.source) for t in resolution.targets] == [
        ("cli", "--database-url"),
        ("docker", "--database docker"),
        ("staging", "--database staging"),
    ]
    assert resolution.get("docker") == Target("docker", "127.0.0.1", 5433, "two", "b", "",
                                              "--database docker")  # fmt: skip


def test_two_targets_with_one_name() -> None:
    with pytest.raises(MigdoctorError) as caught:
        resolve_targets(None, {}, named=["local=postgresql://h/a", "local=postgresql://h/b"])
    assert (caught.value.message, caught.value.hint) == (
        "two databases named local",
        "give each a new name",
    )


def test_no_project_only_the_environment() -> None:
    assert resolve_targets(None, {"DATABASE_URL": "postgres://u@h/d"}) == Resolution(
        (Target("env", "h", 5432, "d", "u", "", "DATABASE_URL in the environment"),)
    )


def test_secrets_stay_out_of_reprs(tmp_path: Path) -> None:
    root = project(tmp_path / "proj", ENV.format(host="db"), COMPOSE.format(ports=PUBLISHED))
    resolution = resolve_targets(root, {})
    text = repr(resolution) + str(resolution) + "".join(map(str, resolution.targets))
    assert SECRET not in text
    assert [t.password for t in resolution.targets] == [SECRET, SECRET]
