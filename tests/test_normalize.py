from __future__ import annotations

import pytest

from migdoctor.match.normalize import Line, clean_line, joined_with_next, split_lines


@pytest.mark.parametrize(
    ("raw", "text", "service"),
    [
        pytest.param("web_1  | Running migrations:", "Running migrations:", "web_1", id="compose-v1"),
        pytest.param("proj-web-1  | Running migrations:", "Running migrations:", "proj-web-1",
                     id="compose-v2-project"),
        pytest.param("web-1  | 2024-05-01T10:00:00.123456789Z boom", "boom", "web-1",
                     id="compose-timestamps"),
        pytest.param("django   | boom", "boom", "django", id="container-name"),
        pytest.param("\x1b[36mweb-1  |\x1b[0m \x1b[31mboom\x1b[0m", "boom", "web-1", id="ansi"),
        pytest.param("boom\r", "boom", "", id="crlf"),
        pytest.param("> > boom", "boom", "", id="quoted"),
        pytest.param("```bash", "", "", id="fence"),
        pytest.param("#8 12.34 boom", "boom", "", id="buildkit"),
        pytest.param("| a | b |", "| a | b |", "", id="markdown-table-kept"),
        pytest.param("  File \"x.py\", line 3", "  File \"x.py\", line 3", "", id="indent-kept"),
    ],
)
def test_clean_line(raw: str, text: str, service: str) -> None:
    assert clean_line(raw) == (text, service)


def test_split_lines_keeps_input_line_numbers() -> None:
    lines = split_lines("a\r\nweb_1  | b\n\nc")
    assert [(line.no, line.text) for line in lines] == [(1, "a"), (2, "b"), (3, ""), (4, "c")]


def test_wrapped_line_is_joined_only_when_long_and_unindented() -> None:
    long = Line(1, "psycopg.errors.UndefinedColumn: column \"priority\" of relation \"tickets_tic")
    assert joined_with_next(long, Line(2, "ket\" does not exist")) == long.text + "ket\" does not exist"
    assert joined_with_next(long, Line(2, "  File x")) is None
    assert joined_with_next(Line(1, "short"), Line(2, "next")) is None
