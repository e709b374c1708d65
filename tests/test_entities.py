from __future__ import annotations

import pytest

from migdoctor.match.entities import normalize_value, validate


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("identifier", "dataset_id"), ("relation", "tickets_ticket"), ("relation", "s.t"),
        ("app_label", "tickets"), ("migration", "0018"), ("migration", "0019_add_parent_field"),
        ("migration", "zero"), ("host", "db"), ("host", "127.0.0.1"), ("port", "5432"),
        ("database", "myproj"), ("user", "hello_django"), ("service", "dev-shell"),
        ("model", "auth.User"),
    ],
)
def test_valid_values(kind: str, value: str) -> None:
    assert validate(kind, value) is None


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("app_label", "tickets; rm -rf /"), ("app_label", "$(reboot)"), ("migration", "18"),
        ("migration", "0018 --fake"), ("port", "70000"), ("port", "0"), ("service", "-d"),
        ("identifier", "a b"), ("app_label", "app_name"), ("relation", "x\"; DROP TABLE y"),
    ],
)
def test_invalid_values_are_refused(kind: str, value: str) -> None:
    assert validate(kind, value) is not None


@pytest.mark.parametrize(
    ("kind", "raw", "value"),
    [("service", "web_1", "web"), ("service", "proj-web-1", "web"),
     ("service", "proj_web_1", "web"), ("service", "web", "web"),
     ("relation", "public.tickets_ticket", "tickets_ticket"), ("column", "`x`", "x")],
)
def test_values_are_normalized(kind: str, raw: str, value: str) -> None:
    assert normalize_value(kind, raw) == value
