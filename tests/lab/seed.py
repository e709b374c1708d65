"""What the labs of the tests share: the admin connection to the lab's real PostgreSQL
(127.0.0.1:5432, trust auth), scratch databases made and dropped on it, unique names, the rows
seeded into the lab project's tables, and checksums of every table's rows computed by SQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "tests" / "lab" / "project"  # the lab project: a Django app on PostgreSQL
ADMIN: dict[str, Any] = {"host": "127.0.0.1", "port": 5432, "user": "postgres",
                         "dbname": "postgres"}  # fmt: skip


def seed_sql(article_body: str = "'body ' || id") -> str:
    """The rows of the lab project: two queues, 50 tickets, an article for every fifth ticket
    whose body is the SQL expression `article_body` (over the ticket's `id`)."""
    return f"""
INSERT INTO tickets_queue (name) VALUES ('support'), ('billing');
INSERT INTO tickets_ticket (title, body, status, created_at, queue_id)
SELECT 'ticket ' || n, repeat('text ', n), 'open', '2026-01-01'::timestamptz + n * interval '1 h',
       (SELECT id FROM tickets_queue ORDER BY id LIMIT 1)
FROM generate_series(1, 50) AS n;
INSERT INTO kb_article (title, slug, body, ticket_id)
SELECT 'article ' || id, 'article-' || id, {article_body}, id FROM tickets_ticket WHERE id % 5 = 0;
"""


SEED_SQL = seed_sql()


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def admin() -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(**ADMIN, autocommit=True, connect_timeout=3)


def create_database(name: str, template: str | None = None) -> None:
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with admin() as conn:
        conn.execute(create)


def drop_database(name: str) -> None:
    with admin() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))  # fmt: skip


@contextmanager
def database(name: str, template: str | None = None) -> Iterator[str]:
    """The new database `name` (a copy of `template`), dropped on leaving."""
    create_database(name, template)
    try:
        yield name
    finally:
        drop_database(name)


@contextmanager
def scratch_database(prefix: str, template: str | None = None) -> Iterator[str]:
    """A new database named after `prefix` (a copy of `template`), dropped on leaving."""
    with database(unique(prefix), template) as name:
        yield name


def checksums(connect: Callable[[], psycopg.Connection[tuple[Any, ...]]],
              ignore: Mapping[str, tuple[str, ...]] | None = None,
              ) -> dict[str, tuple[int, str]]:  # fmt: skip
    """Row count and an md5 of every table's rows (as JSON, in a stable order), by SQL.
    `ignore` names columns per table left out (a column a fix adds back)."""
    ignore = ignore or {}
    found: dict[str, tuple[int, str]] = {}
    with connect() as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]  # fmt: skip
        for table in tables:
            row: sql.Composable = sql.SQL("to_jsonb(t)")
            for column in ignore.get(table, ()):
                row = sql.SQL("({} - {})").format(row, sql.Literal(column))
            query = sql.SQL("SELECT count(*), md5(coalesce(string_agg(({row})::text, '|' "
                            "ORDER BY ({row})::text), '')) FROM {table} AS t").format(
                row=row, table=sql.Identifier(table))  # fmt: skip
            count, digest = conn.execute(query).fetchone() or (0, "")
            found[table] = (int(count), str(digest))
    return found
