"""The real command, run as a user runs it: input forms, JSON shape, exit codes, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ERROR = ('psycopg.errors.UndefinedColumn: column "priority" of relation "tickets_ticket" '
         "does not exist")


def run(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "migdoctor", *args], input=stdin, capture_output=True,
        timeout=timeout, env=env,
    )
    return subprocess.CompletedProcess(proc.args, proc.returncode,
                                       proc.stdout.decode("utf-8", "replace"),
                                       proc.stderr.decode("utf-8", "replace"))


def test_json_shape_of_a_finding() -> None:
    result = run("diagnose", "--json", ERROR)
    assert result.returncode == 0, result.stderr
    finding = json.loads(result.stdout)["findings"][0]
    assert set(finding) == {"playbook", "title", "confidence", "entities", "evidence", "options"}
    assert finding["playbook"] == "undefined-column"
    assert finding["entities"] == {"column": "priority", "relation": "tickets_ticket"}
    assert finding["evidence"] == [{"line": 1, "text": ERROR}]
    assert 0.5 <= finding["confidence"] <= 1
    option = finding["options"][0]
    assert set(option) == {"id", "title", "risk", "steps"}
    assert option["risk"] in ("safe", "caution", "destructive")


def test_entities_fill_both_command_forms() -> None:
    text = "  Applying tickets.0019_remove_ticket_priority...\n" + ERROR
    finding = json.loads(run("diagnose", "--json", text).stdout)["findings"][0]
    steps = [s for o in finding["options"] for s in o["steps"] if s["verb"] == "manage"]
    argvs = [s["local"] for s in steps] + [s["compose"] for s in steps]
    assert ["python", "src/manage.py", "showmigrations", "tickets"] in argvs
    assert ["docker", "compose", "exec", "web", "python", "src/manage.py", "showmigrations",
            "tickets"] in argvs


def test_stdin_file_and_dash_give_the_same_answer(tmp_path: Path) -> None:
    path = tmp_path / "error.log"
    path.write_text(ERROR + "\n", encoding="utf-8")
    by_arg = json.loads(run("diagnose", "--json", ERROR).stdout)
    by_file = json.loads(run("diagnose", "--json", "--file", str(path)).stdout)
    by_dash = json.loads(run("diagnose", "--json", "-f", "-", stdin=ERROR.encode()).stdout)
    by_pipe = json.loads(run("diagnose", "--json", stdin=ERROR.encode()).stdout)
    assert by_arg == by_file == by_dash == by_pipe


def test_no_confident_match_exits_1_with_empty_findings() -> None:
    result = run("diagnose", "--json", "TemplateDoesNotExist at /: home.html")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {"findings": []}
    human = run("diagnose", "TemplateDoesNotExist at /: home.html")
    assert "No confident match" in human.stdout
    assert "migdoctor docs" in human.stdout


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        pytest.param(("diagnose", ""), None, "the argument is empty", id="empty-arg"),
        pytest.param(("diagnose", "-f", "-"), b"", "the input is empty", id="empty-stdin"),
        pytest.param(("diagnose", "-f", "-"), b"  \n\n", "the input is empty", id="blank"),
        pytest.param(("diagnose", "-f", "-"), bytes(range(256)) * 64, "looks like a binary file",
                     id="binary"),
        pytest.param(("diagnose", "--file", "/nonexistent/x.log"), None, "cannot read",
                     id="missing-file"),
        pytest.param(("diagnose", "--file", "/"), None, "cannot read", id="directory"),
        pytest.param(("diagnose", "x", "--file", "y"), None, "not both", id="both"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(
    args: tuple[str, ...], stdin: bytes | None, message: str
) -> None:
    result = run(*args, stdin=stdin)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr


def test_unknown_option_is_a_usage_error() -> None:
    assert run("diagnose", "--nope").returncode == 2


def test_utf16_log_from_powershell_is_read() -> None:
    data = ("web-1  | " + ERROR + "\r\n").encode("utf-16")
    result = run("diagnose", "--json", "-f", "-", stdin=data)
    assert json.loads(result.stdout)["findings"][0]["playbook"] == "undefined-column"


def test_invalid_utf8_is_decoded_with_replacement() -> None:
    data = b"\xff\xfe garbage \xc3\x28\n" + ERROR.encode() + b"\n\x80\x81"
    result = run("diagnose", "--json", "-f", "-", stdin=data)
    assert result.returncode == 0
    assert json.loads(result.stdout)["findings"][0]["playbook"] == "undefined-column"


def test_one_megabyte_single_line_is_bounded() -> None:
    data = ("column " * 150_000).encode() + b"\n" + ERROR.encode()
    result = run("diagnose", "--json", "-f", "-", stdin=data)
    assert result.returncode == 0
    finding = json.loads(result.stdout)["findings"][0]
    assert finding["evidence"][0]["line"] == 2


@pytest.mark.slow
def test_hundred_megabyte_log_is_streamed(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    filler = "".join(f"web-1  | 2024-05-01T10:00:{i % 60:02d}Z GET /api/items/{i} 200\n"
                     for i in range(10_000)).encode()
    with path.open("wb") as out:
        for block in range(100 * 2**20 // len(filler)):
            out.write(filler)
            if block == 100:
                out.write(f"web-1  | {ERROR}\n".encode())
    result = run("diagnose", "--json", "--file", str(path), timeout=120)
    assert result.returncode == 0
    findings = json.loads(result.stdout)["findings"]
    assert [f["playbook"] for f in findings] == ["undefined-column"]
    assert findings[0]["evidence"][0]["line"] == 101 * 10_000 + 1


def test_user_kb_option_and_skipped_broken_playbook(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("id: broken\nkind: [\n", encoding="utf-8")
    result = run("--debug", "diagnose", "--kb", str(tmp_path), "--json", ERROR)
    assert result.returncode == 0
    assert "broken.yaml:3" in result.stderr and "Traceback" not in result.stderr


def test_docs_questions_in_plain_words() -> None:
    first = json.loads(run("docs", "--json", "undo the last migration of an app").stdout)
    assert first["results"][0]["id"] == "rollback-migrations"
    second = json.loads(run("docs", "--json", "start over with an empty database").stdout)
    assert second["results"][0]["id"] == "fresh-database"


def test_docs_renders_a_playbook_by_id() -> None:
    result = run("docs", "undefined-column")
    assert result.returncode == 0
    assert "migrate" in result.stdout and "fake" in result.stdout.lower()


def test_kb_list_names_every_label() -> None:
    listed = {p["id"] for p in json.loads(run("kb", "list", "--json").stdout)["playbooks"]}
    labels = Path(__file__).parent / "corpus" / "labels.yaml"
    import yaml

    data = yaml.safe_load(labels.read_text(encoding="utf-8"))
    expected = (set(data["labels"]) - {"none"}) | set(data["howto"])
    assert expected - listed == set()
