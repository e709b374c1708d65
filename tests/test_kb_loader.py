"""The loader: errors name file, line and key path; user playbooks add, override or are skipped."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from migdoctor.kb.loader import load, load_dir
from migdoctor.kb.validate import validate_dir

GOOD = """\
id: {id}
kind: error
title: Widget frobnication failed
summary: The widget could not be frobnicated.
match:
  signals: [FrobError]
  patterns:
    - regex: 'FrobError: widget "(?P<relation>\\w+)" is stuck'
      weight: 0.95
  examples: ['FrobError: widget "w1" is stuck']
entities:
  relation: {{type: relation}}
cause: Widgets get stuck.
options:
  - id: unstick
    title: Unstick it
    risk: safe
    steps:
      - manage: [unstick, "{{relation}}"]
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        pytest.param("risk: safe", "risk: risky", 17, "options.0.risk: risk is one of", id="risk"),
        pytest.param('"{relation}"]', '"{column}"]', 19, "{column} is not a declared entity",
                     id="placeholder"),
        pytest.param("(?P<relation>", "(?P<table>", 8, "group 'table' is not a declared entity",
                     id="group"),
        pytest.param("\\w+)", "(\\w+)+)", 8, "may backtrack catastrophically", id="backtracking"),
        pytest.param("\\w+)", "\\w+", 8, "regex does not compile", id="compile"),
        pytest.param("kind: error", "kind: bug", 2, "kind: kind is error or howto", id="kind"),
        pytest.param("title: Widget", "titel: Widget", 3, "titel: unknown key", id="unknown-key"),
        pytest.param("  - manage: [", "  - shell: [", 19, "needs exactly one verb", id="verb"),
        pytest.param("[FrobError]", "[Nothing]", 8, "none of the playbook's signals", id="signal"),
        pytest.param("summary: The", "summary: [The", 5, "invalid YAML", id="yaml"),
    ],
)
def test_broken_playbook_error_names_file_line_and_path(
    tmp_path: Path, old: str, new: str, line: int, message: str
) -> None:
    path = _write(tmp_path, "frob", GOOD.format(id="frob").replace(old, new, 1))
    loaded, broken = load_dir(tmp_path)
    assert loaded == []
    assert len(broken) == 1
    assert str(broken[0]).startswith(f"{path}:{line}: ")
    assert message in str(broken[0])


def test_user_playbook_adds_and_overrides_and_broken_one_is_skipped(tmp_path: Path) -> None:
    _write(tmp_path, "frob", GOOD.format(id="frob"))
    _write(tmp_path, "undefined-column", GOOD.format(id="undefined-column"))
    _write(tmp_path, "broken", "id: broken\nkind: [\n")
    kb = load([tmp_path])
    assert kb.playbooks["frob"].title == "Widget frobnication failed"
    assert kb.playbooks["undefined-column"].source == str(tmp_path / "undefined-column.yaml")
    assert "undefined-table" in kb.playbooks  # the built-ins still load
    assert [Path(p.source).name for p in kb.problems] == ["broken.yaml"]


def test_environment_variable_adds_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path / "a", "frob", GOOD.format(id="frob"))
    monkeypatch.setenv("MIGDOCTOR_KB", str(tmp_path / "a"))
    assert "frob" in load().playbooks


def test_id_must_equal_file_name(tmp_path: Path) -> None:
    _write(tmp_path, "other", GOOD.format(id="frob"))
    _, broken = load_dir(tmp_path)
    assert "differs from the file name" in str(broken[0])


def test_cache_notices_an_edited_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "frob", GOOD.format(id="frob"))
    assert load_dir(tmp_path)[0][0].title == "Widget frobnication failed"
    path.write_text(path.read_text().replace("Widget frob", "Gadget frob"), encoding="utf-8")
    assert load_dir(tmp_path)[0][0].title == "Gadget frobnication failed"


def test_validate_reports_an_example_that_diagnoses_elsewhere(tmp_path: Path) -> None:
    text = GOOD.format(id="frob").replace(
        "examples: ['FrobError: widget \"w1\" is stuck']", "examples: ['FrobError: nothing']")
    _write(tmp_path, "frob", text)
    problems = validate_dir(tmp_path)
    assert [p.message for p in problems] == ["example diagnoses as no finding"]


def test_builtin_knowledge_base_is_valid() -> None:
    assert [str(p) for p in validate_dir()] == []
