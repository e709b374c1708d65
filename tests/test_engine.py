"""The matcher on real error texts: several findings, root first, wrapped lines, context."""

from __future__ import annotations

from migdoctor.kb.loader import KnowledgeBase
from migdoctor.match.diagnose import diagnose_text

CHAINED = """\
Running migrations:
  Applying tickets.0019_remove_ticket_priority...Traceback (most recent call last):
  File "/usr/local/lib/python3.12/site-packages/django/db/backends/utils.py", line 105, in _execute
    return self.cursor.execute(sql, params)
psycopg.errors.UndefinedColumn: column "priority" of relation "tickets_ticket" does not exist

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/app/src/manage.py", line 22, in <module>
django.db.utils.ProgrammingError: column "priority" of relation "tickets_ticket" does not exist
"""

LOG = """\
db-1   | 2024-05-01 10:00:00.000 UTC [1] LOG:  database system is ready to accept connections
web-1  | django.db.utils.OperationalError: connection to server at "db" (172.18.0.2), port 5432 failed: Connection refused
web-1  | 	Is the server running on that host and accepting TCP/IP connections?
web-1  | Running migrations:
web-1  |   Applying kb.0003_article_slug...Traceback (most recent call last):
web-1  | psycopg2.errors.DuplicateTable: relation "kb_article" already exists
"""


def test_chained_traceback_is_one_finding_with_the_applying_migration(
    knowledge: KnowledgeBase,
) -> None:
    findings = diagnose_text(CHAINED, knowledge)
    assert [f.playbook.id for f in findings] == ["undefined-column"]
    assert findings[0].entities == {
        "column": "priority", "relation": "tickets_ticket",
        "app_label": "tickets", "migration": "0019_remove_ticket_priority",
    }
    assert [e.line for e in findings[0].evidence] == [5, 11]


def test_a_log_with_two_problems_gives_both_with_services(knowledge: KnowledgeBase) -> None:
    findings = diagnose_text(LOG, knowledge)
    assert {f.playbook.id for f in findings} == {"db-connection-refused", "duplicate-table"}
    table = next(f for f in findings if f.playbook.id == "duplicate-table")
    assert table.entities["relation"] == "kb_article"
    assert table.entities["migration"] == "0003_article_slug"


def test_a_line_wrapped_by_the_terminal_is_joined(knowledge: KnowledgeBase) -> None:
    text = ('psycopg.errors.UndefinedColumn: column "priority" of relation "tick\n'
            'ets_ticket" does not exist\n')
    findings = diagnose_text(text, knowledge)
    assert findings[0].entities["relation"] == "tickets_ticket"


def test_another_frameworks_markers_lower_the_confidence(knowledge: KnowledgeBase) -> None:
    error = 'ERROR:  column "priority" of relation "tickets" does not exist'
    django = diagnose_text(f"python manage.py migrate\n{error}", knowledge)
    alembic = diagnose_text(f"alembic upgrade head\nsqlalchemy.exc.ProgrammingError\n{error}",
                            knowledge)
    assert django and django[0].confidence >= 0.9
    assert alembic == [] or alembic[0].confidence < django[0].confidence - 0.3


def test_injection_in_an_entity_is_refused_and_never_reaches_a_command(
    knowledge: KnowledgeBase,
) -> None:
    text = 'psycopg2.OperationalError: FATAL:  database "x; rm -rf /" does not exist'
    findings = diagnose_text(text, knowledge)
    assert findings[0].playbook.id == "db-missing"
    assert "database" not in findings[0].entities
    assert "not a valid database" in findings[0].rejected["database"]
