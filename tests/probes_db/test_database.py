"""The database probe against the real PostgreSQL, on a database the lab's `migrate` built."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import django
import psycopg
import pytest

from migdoctor.probes import ProbeFinding
from migdoctor.probes.database import (
    AppliedMigration,
    Column,
    DatabaseSnapshot,
    SchemaObject,
    classify,
    connect,
    probe,
    snapshot_findings,
)
from migdoctor.probes.migration_files import discover, load_migrations
from migdoctor.probes.migration_graph import build_graph
from migdoctor.probes.schema_state import expected_schema
from migdoctor.probes.targets import Target, resolve_targets
from tests.probes_db.pg import LAB_SRC, AdminConnection, Role, unique

pytestmark = pytest.mark.postgres

TICKETS = ("0001_initial", "0002_ticket_status", "0003_rename_description_ticket_body",
           "0004_alter_ticket_title_max_length", "0005_lowercase_status",
           "0006_queue_ticket_queue_and_more")  # fmt: skip
TABLES = ("auth_group", "auth_group_permissions", "auth_permission", "auth_user",
          "auth_user_groups", "auth_user_user_permissions", "django_admin_log",
          "django_content_type", "django_migrations", "django_session", "kb_article",
          "tickets_queue", "tickets_ticket")  # fmt: skip
LAB_OBJECTS = {
    ("kb_article", "kb_article_pkey", "index"),
    ("kb_article", "kb_article_pkey", "primary key"),
    ("kb_article", "kb_article_slug_aea76b41", "index"),
    ("kb_article", "kb_article_slug_aea76b41_like", "index"),
    ("kb_article", "kb_article_ticket_id_84838930", "index"),
    ("kb_article", "kb_article_ticket_id_84838930_fk_tickets_ticket_id", "foreign key"),
    ("tickets_queue", "tickets_queue_name_774f9a7f_like", "index"),
    ("tickets_queue", "tickets_queue_name_key", "index"),
    ("tickets_queue", "tickets_queue_name_key", "unique"),
    ("tickets_queue", "tickets_queue_pkey", "index"),
    ("tickets_queue", "tickets_queue_pkey", "primary key"),
    ("tickets_ticket", "tickets_status_created_idx", "index"),
    ("tickets_ticket", "tickets_ticket_pkey", "index"),
    ("tickets_ticket", "tickets_ticket_pkey", "primary key"),
    ("tickets_ticket", "tickets_ticket_queue_id_0d3cb9ef", "index"),
    ("tickets_ticket", "tickets_ticket_queue_id_0d3cb9ef_fk_tickets_queue_id", "foreign key"),
}


def superuser(dbname: str, **changes: Any) -> Target:
    return Target(**{"name": "cli", "host": "127.0.0.1", "port": 5432, "dbname": dbname,
                     "user": "postgres", "source": "test", **changes})  # fmt: skip


def snap(target: Target, **kwargs: Any) -> DatabaseSnapshot:
    result = probe(target, **kwargs)
    assert isinstance(result, DatabaseSnapshot), result
    return result


def fail(target: Target, **kwargs: Any) -> ProbeFinding:
    result = probe(target, **kwargs)
    assert isinstance(result, ProbeFinding), result
    return result


@pytest.fixture(scope="module")
def lab(lab_db: str) -> DatabaseSnapshot:
    return snap(superuser(lab_db))


def test_session_facts(lab: DatabaseSnapshot, lab_db: str, admin: AdminConnection) -> None:
    version = admin.execute("SELECT current_setting('server_version'), "
                            "current_setting('server_version_num')::int").fetchone()  # fmt: skip
    assert (lab.server_version, lab.server_version_num) == version
    assert (lab.user, lab.database, lab.owner, lab.superuser, lab.search_path) == (
        "postgres", lab_db, "postgres", True, ("public",)
    )
    assert (lab.public_usage, lab.public_create, lab.migrations_unreadable) == (True, True, False)
    assert lab.queries == 4
    assert snapshot_findings(lab) == ()


def test_django_migrations_rows(lab: DatabaseSnapshot, admin: AdminConnection) -> None:
    assert lab.applied("tickets") == TICKETS
    assert lab.applied("kb") == ("0001_initial", "0002_article_slug")
    assert lab.migrations is not None
    assert [m.app for m in lab.migrations[:3]] == ["contenttypes", "auth", "admin"]
    assert all(isinstance(m, AppliedMigration) and m.applied.tzinfo for m in lab.migrations)
    contrib = Path(django.__file__).parent / "contrib"
    dirs = discover(LAB_SRC) + discover(contrib, ["admin", "auth", "contenttypes", "sessions"])
    files, problems = load_migrations(dirs)
    assert problems == []
    assert sorted((m.app, m.name) for m in lab.migrations) == sorted(f.key for f in files)


def test_tables_and_columns(lab: DatabaseSnapshot) -> None:
    assert tuple(lab.tables) == TABLES
    assert {(t.schema, t.kind) for t in lab.tables.values()} == {("public", "table")}
    assert lab.tables["tickets_ticket"].columns == (
        Column("id", "bigint", False),
        Column("title", "character varying(200)", False),
        Column("body", "text", False),
        Column("created_at", "timestamp with time zone", False),
        Column("status", "character varying(20)", False),
        Column("queue_id", "bigint", True),
    )
    assert lab.tables["kb_article"].columns == (
        Column("id", "bigint", False),
        Column("title", "character varying(200)", False),
        Column("body", "text", False),
        Column("ticket_id", "bigint", True),
        Column("slug", "character varying(200)", False),
    )
    assert lab.has_column("tickets_ticket", "body")
    assert not lab.has_column("tickets_ticket", "description")  # renamed by 0003
    assert not lab.has_column("nope", "id") and not lab.has_table("nope")


def test_tables_match_the_static_replay_of_the_migrations(lab: DatabaseSnapshot) -> None:
    """What the files say the schema is (probes.schema_state) is what migrate built."""
    contrib = Path(django.__file__).parent / "contrib"
    dirs = discover(LAB_SRC) + discover(contrib, ["admin", "auth", "contenttypes", "sessions"])
    schema = expected_schema(build_graph(load_migrations(dirs)[0]))
    real = {n: t.column_names for n, t in lab.tables.items() if n != "django_migrations"}
    assert real == {name: table.columns for name, table in schema.tables.items()}


def test_index_and_constraint_names(lab: DatabaseSnapshot) -> None:
    lab_objects = {(o.table, o.name, o.kind) for o in lab.objects
                   if o.table.startswith(("tickets_", "kb_"))}  # fmt: skip
    assert lab_objects == LAB_OBJECTS
    assert SchemaObject("django_migrations", "django_migrations_pkey", "primary key") in lab.objects
    assert "kb_article_slug_aea76b41_like" in lab.object_names("index")
    assert "kb_article_slug_aea76b41_like" not in lab.object_names("unique")


def test_database_without_django_migrations(scratch_db: str) -> None:
    empty = snap(superuser(scratch_db))
    assert (empty.migrations, empty.applied(), dict(empty.tables), empty.objects) == (
        None, (), {}, ()
    )
    assert empty.queries == 3


def test_session_is_read_only(lab_db: str) -> None:
    with connect(superuser(lab_db)) as conn:
        assert conn.autocommit
        settings = conn.execute("SELECT current_setting('default_transaction_read_only'), "
                                "current_setting('statement_timeout')").fetchone()  # fmt: skip
        assert settings == ("on", "5s")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE migdoctor_write_test (id int)")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM django_migrations")
    assert len(snap(superuser(lab_db)).applied()) == 26


def test_statement_timeout_is_a_finding(lab_db: str) -> None:
    target = superuser(lab_db)
    with connect(target, statement_timeout=0.2) as conn:
        started = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled) as caught:
            conn.execute("SELECT pg_sleep(3)")
        assert time.monotonic() - started < 1.5
    finding = classify(caught.value, target, "read")
    assert finding.label == "lock-timeout"
    assert finding.message == (
        f"cli (postgresql://postgres@127.0.0.1:5432/{lab_db}): "
        "canceling statement due to statement timeout"
    )


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


def assert_secret_free(result: object, password: str) -> None:
    text = repr(result) + str(result)
    if isinstance(result, ProbeFinding):
        text += result.message + result.hint
    assert password not in text


def test_connection_refused_within_the_timeout(role: Role, lab_db: str) -> None:
    target = role.target(lab_db, port=1)
    started = time.monotonic()
    finding = fail(target, timeout=2)
    assert time.monotonic() - started < 2
    assert finding == ProbeFinding(
        kind="database",
        label="db-connection-refused",
        message=f"cli (postgresql://{role.name}:***@127.0.0.1:1/{lab_db}): connection failed: "
        'connection to server at "127.0.0.1", port 1 failed: Connection refused Is the server '
        "running on that host and accepting TCP/IP connections?",
        hint="is PostgreSQL running and listening on 127.0.0.1:1? For the Compose db service: "
        "docker compose ps db; docker compose logs db",
    )
    assert_secret_free(finding, role.password)


def test_silent_server_times_out(role: Role, lab_db: str, silent_port: int) -> None:
    started = time.monotonic()
    finding = fail(role.target(lab_db, port=silent_port), timeout=2)
    assert 1.5 < time.monotonic() - started < 3.5
    assert finding.label == "db-connection-refused"
    assert finding.message.endswith(": connection timeout expired")
    assert_secret_free(finding, role.password)


def test_host_unresolved(role: Role, lab_db: str) -> None:
    # `db!` fails like the Compose service name `db` does outside Compose, but the C library
    # refuses it without asking a DNS server: no packet leaves this machine.
    finding = fail(role.target(lab_db, host="db!"))
    assert finding == ProbeFinding(
        kind="database",
        label="db-host-unresolved",
        message=f"cli (postgresql://{role.name}:***@db%21:5432/{lab_db}): failed to resolve "
        "host 'db!': [Errno -2] Name or service not known",
        hint="a Compose service name (db!) resolves only inside Compose: from this machine use "
        "127.0.0.1 and the port the db service publishes",
    )
    assert_secret_free(finding, role.password)


def test_host_name_that_cannot_be_encoded(role: Role, lab_db: str) -> None:
    finding = fail(role.target(lab_db, host="db..compose"))
    assert (finding.label, finding.message) == (
        "db-host-unresolved",
        f"cli (postgresql://{role.name}:***@db..compose:5432/{lab_db}): encoding with 'idna' "
        "codec failed (UnicodeError: label empty or too long)",
    )


def test_database_missing(role: Role) -> None:
    name = unique("mdprobe_missing")
    finding = fail(role.target(name))
    assert finding == ProbeFinding(
        kind="database",
        label="db-missing",
        message=f"cli (postgresql://{role.name}:***@127.0.0.1:5432/{name}): connection failed: "
        f'connection to server at "127.0.0.1", port 5432 failed: FATAL: database "{name}" '
        "does not exist",
        hint=f"create it (createdb -h 127.0.0.1 -p 5432 -U {role.name} {name}), or fix "
        "POSTGRES_DB / the URL to name a database that exists",
    )
    assert_secret_free(finding, role.password)


def test_role_missing(role: Role, lab_db: str) -> None:
    ghost = Role(unique("mdprobe_ghost"), role.password)
    finding = fail(ghost.target(lab_db))
    assert finding.label == "db-auth-failed"
    assert finding.message == (
        f"cli (postgresql://{ghost.name}:***@127.0.0.1:5432/{lab_db}): connection failed: "
        f'connection to server at "127.0.0.1", port 5432 failed: FATAL: role "{ghost.name}" '
        "does not exist"
    )
    assert_secret_free(finding, role.password)


def test_unprivileged_role_on_postgresql_15(role: Role, lab_db: str) -> None:
    """Since PostgreSQL 15 a plain user may not create in `public`: migrate would fail."""
    seen = snap(role.target(lab_db))
    assert (seen.user, seen.owner, seen.superuser) == (role.name, "postgres", False)
    assert (seen.public_usage, seen.public_create) == (True, False)
    assert (seen.migrations, seen.migrations_unreadable) == (None, True)
    assert tuple(seen.tables) == TABLES  # the catalog tells, even without SELECT on them
    assert snapshot_findings(seen) == (
        ProbeFinding(
            "database", "schema-permission-denied",
            f"cli: user {role.name} may not create tables in schema public of {lab_db} (owned "
            "by postgres): migrate will fail",
            f"as the owner or a superuser: GRANT CREATE ON SCHEMA public TO {role.name}; or "
            f"ALTER DATABASE {lab_db} OWNER TO {role.name}; (PostgreSQL 15 no longer lets every "
            "user create in public)",
        ),
        ProbeFinding(
            "database", "schema-permission-denied",
            f"cli: user {role.name} may not read django_migrations: Django cannot tell what is "
            "applied",
            "connect as the user that ran migrate, or GRANT SELECT, INSERT, UPDATE, DELETE ON "
            f"django_migrations TO {role.name};",
        ),
    )
    assert_secret_free(seen, role.password)
    assert_secret_free(snapshot_findings(seen), role.password)


def test_driver_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    finding = fail(superuser("x", password="s3cr3t-driver"))
    assert finding.label == "db-driver-missing"
    assert finding.message.startswith("cli (postgresql://postgres:***@127.0.0.1:5432/x): "
                                      "psycopg cannot be imported: ")  # fmt: skip
    assert finding.hint == "pip install 'psycopg[binary]'"
    assert_secret_free(finding, "s3cr3t-driver")


def test_local_and_docker_side_by_side(
    tmp_path: Path, lab_db: str, scratch_db: str, role: Role
) -> None:
    """The guide's trap: migrated locally, not in the container's database."""
    (tmp_path / ".env").write_text(
        f"POSTGRES_DB={lab_db}\nPOSTGRES_USER=postgres\nPOSTGRES_PASSWORD={role.password}\n"
        "POSTGRES_HOST=localhost\nPOSTGRES_PORT=5432\n"
    )
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  db:\n    image: postgres:15\n    env_file: .env\n"
        f"    environment: {{POSTGRES_DB: {scratch_db}}}\n    ports: ['127.0.0.1:5432:5432']\n"
        "  web:\n    build: .\n    env_file: .env\n    environment: {POSTGRES_HOST: db}\n"
    )
    resolution = resolve_targets(tmp_path, {})
    assert [(t.name, t.host, t.port, t.dbname, t.container) for t in resolution.targets] == [
        ("local", "localhost", 5432, lab_db, False),
        ("docker", "127.0.0.1", 5432, scratch_db, True),
    ]
    local, docker = (snap(t) for t in resolution.targets)
    assert (len(local.applied("tickets")), docker.migrations) == (6, None)
    for result in (resolution, local, docker):
        assert_secret_free(result, role.password)

