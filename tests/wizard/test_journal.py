"""The journal: where it lives, what a line holds, and that no secret reaches it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migdoctor.wizard.journal import (
    Journal,
    entry,
    journal_path,
    redact,
    redact_argv,
    redact_env,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("postgresql://app:hunter22@db:5432/shop", "postgresql://app:***@db:5432/shop"),
    ("DATABASE_URL=postgres://u:p%40ss@h/d", "DATABASE_URL=postgres://u:***@h/d"),
    ("password=hunter22 host=db", "password=*** host=db"),
    ("PGPASSWORD='a b c' psql", "PGPASSWORD=*** psql"),
    ("--db-password=hunter22", "--db-password=***"),
    ("DJANGO_SECRET_KEY: abc", "DJANGO_SECRET_KEY: ***"),
    ('export PGPASSWORD="${POSTGRES_PASSWORD:-}"; pg_dump',
     'export PGPASSWORD="${POSTGRES_PASSWORD:-}"; pg_dump'),
    ("migrate tickets 0002 --fake", "migrate tickets 0002 --fake"),
    ("postgresql://app@db/shop", "postgresql://app@db/shop"),
], ids=["url", "url-in-assignment", "conninfo", "quoted", "flag", "secret-key", "variable-only",
        "plain", "url-without-password"])  # fmt: skip
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_known_secrets_and_password_flags() -> None:
    argv = ["tool", "--password", "hunter22", "-c", "SELECT 'hunter22'", "--user", "app"]
    assert redact_argv(argv, ["hunter22"]) == ["tool", "--password", "***", "-c",
                                               "SELECT '***'", "--user", "app"]
    assert redact_env({"PGPASSWORD": "x", "PGHOST": "db", "OPTS": "u=hunter22"},
                      ["hunter22"]) == {"PGPASSWORD": "***", "PGHOST": "db", "OPTS": "u=***"}


def test_state_folder(tmp_path: Path) -> None:
    assert journal_path({"XDG_STATE_HOME": str(tmp_path)}) == (
        tmp_path / "migdoctor" / "journal.jsonl")
    assert journal_path({"HOME": "/home/u"}) == Path("/home/u/.local/state/migdoctor/"
                                                     "journal.jsonl")


def test_lines_are_json_private_and_redacted(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "state" / "journal.jsonl")
    journal.write(entry("pb", "opt", "local", ["psql", "postgresql://u:topsecret@h/d"], 0,
                        {"PGPASSWORD": "topsecret"}, ["topsecret"]))  # fmt: skip
    journal.write(entry("pb", "opt", "compose", ["docker", "compose", "ps"], None))
    text = journal.path.read_text()
    assert "topsecret" not in text
    assert journal.path.stat().st_mode & 0o777 == 0o600
    first, second = (json.loads(line) for line in text.splitlines())
    assert first["argv"] == ["psql", "postgresql://u:***@h/d"]
    assert first["env"] == {"PGPASSWORD": "***"}
    assert (first["playbook"], first["option"], first["context"], first["exit_code"]) == (
        "pb", "opt", "local", 0)
    assert first["time"].endswith("Z") and second["exit_code"] is None


def test_reading_skips_what_is_not_an_entry(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text('{"argv": ["a"]}\nnot json\n[1, 2]\n{"argv": ["b"]}\n')
    assert [e["argv"] for e in Journal(path).read()] == [["a"], ["b"]]
    assert list(Journal(tmp_path / "none.jsonl").read()) == []
