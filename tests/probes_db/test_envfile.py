"""`.env` parsing, case by case, on real files: what Compose would give each variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from migdoctor.probes.envfile import EnvFile, interpolate, read_env_file

ENVIRON = {"HOME": "/home/dev", "SHELL_ONLY": "from-shell", "EMPTY": ""}

# (id, file text, expected values)
CASES = [
    ("plain", "POSTGRES_DB=lab\n", {"POSTGRES_DB": "lab"}),
    ("no-final-newline", "A=1\nB=2", {"A": "1", "B": "2"}),
    ("crlf", "A=1\r\nB=2\r\n", {"A": "1", "B": "2"}),
    ("bom", "\ufeffA=1\n", {"A": "1"}),
    ("comments-and-blanks", "# settings\n\n   # indented\nA=1\n\n", {"A": "1"}),
    ("export", "export POSTGRES_USER=app\n", {"POSTGRES_USER": "app"}),
    ("export-tab", "export\tA=1\n", {"A": "1"}),
    ("spaces-around-equals", "A = 1\n", {"A": "1"}),
    ("yaml-style", "A: 1\n", {"A": "1"}),
    ("empty-value", "A=\n", {"A": ""}),
    ("inline-comment", "A=value # the comment\n", {"A": "value"}),
    ("hash-without-space", "A=pa#ss\n", {"A": "pa#ss"}),
    ("trailing-blanks", "A=value   \t\n", {"A": "value"}),
    ("inner-spaces", "A=two words\n", {"A": "two words"}),
    ("equals-in-value", "A=x=y\n", {"A": "x=y"}),
    ("url", "DATABASE_URL=postgres://u:p%40ss@db:5432/app?sslmode=disable\n",
     {"DATABASE_URL": "postgres://u:p%40ss@db:5432/app?sslmode=disable"}),
    ("single-quoted", "A='raw $HOME # not a comment'\n", {"A": "raw $HOME # not a comment"}),
    ("double-quoted", 'A="two words # kept"\n', {"A": "two words # kept"}),
    ("double-quoted-escapes", 'A="l1\\nl2\\t\\"q\\" \\\\ end"\n', {"A": 'l1\nl2\t"q" \\ end'}),
    ("single-quoted-no-escapes", "A='l1\\nl2'\n", {"A": "l1\\nl2"}),
    ("escaped-backslash-before-quote", 'A="C:\\\\"\nB=2\n', {"A": "C:\\", "B": "2"}),
    ("single-quoted-escaped-quote", "A='it\\'s'\n", {"A": "it's"}),
    ("double-quoted-multiline", 'A="line1\nline2"\nB=2\n', {"A": "line1\nline2", "B": "2"}),
    ("quoted-then-comment", 'A="x" # comment\n', {"A": "x"}),
    ("braced", "A=1\nB=${A}2\n", {"A": "1", "B": "12"}),
    ("bare", "A=1\nB=$A-2\n", {"A": "1", "B": "1-2"}),
    ("from-environment", "A=${HOME}/x\n", {"A": "/home/dev/x"}),
    ("file-before-environment", "HOME=/srv\nA=$HOME\n", {"HOME": "/srv", "A": "/srv"}),
    ("unset-is-empty", "A=x${NOPE}y\n", {"A": "xy"}),
    ("default-colon", "A=${NOPE:-5432}\n", {"A": "5432"}),
    ("default-colon-empty", "A=${EMPTY:-d}\n", {"A": "d"}),
    ("default-dash-empty", "A=${EMPTY-d}\n", {"A": ""}),
    ("default-dash-unset", "A=${NOPE-d}\n", {"A": "d"}),
    ("default-nested", "A=${NOPE:-${HOME}/db}\n", {"A": "/home/dev/db"}),
    ("alternative", "A=${HOME:+set}${NOPE:+unset}\n", {"A": "set"}),
    ("required-set", "A=${HOME:?need HOME}\n", {"A": "/home/dev"}),
    ("dollar-dollar", "A=pa$$word\n", {"A": "pa$word"}),
    ("escaped-dollar-double", 'A="pa\\$HOME"\n', {"A": "pa$HOME"}),
    ("double-quoted-interpolated", 'A="${HOME} x"\n', {"A": "/home/dev x"}),
    ("lone-dollar", "A=5$\n", {"A": "5$"}),
    ("inherited", "SHELL_ONLY\n", {"SHELL_ONLY": "from-shell"}),
    ("inherited-unset", "NOPE\nA=1\n", {"A": "1"}),
    ("later-wins", "A=1\nA=2\n", {"A": "2"}),
    ("dotted-key", "spring.profile=dev\n", {"spring.profile": "dev"}),
]

# (id, file text, expected values, expected problems)
PROBLEMS = [
    ("unterminated-quote", 'A="open\nB=2\n', {"B": "2"}, ("line 1: A: unterminated quoted value",)),
    ("space-in-name", "MY VAR=1\nB=2\n", {"B": "2"}, ("line 1: not a NAME=value line",)),
    ("required-unset", "A=${NOPE:?set it}\n", {"A": ""},
     ("line 1: A: required variable NOPE is missing a value",)),
    ("unterminated-brace", "A=${HOME\n", {"A": "${HOME"}, ("line 1: A: unterminated ${",)),
]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_bytes(text.encode("utf-8"))
    return path


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_values(tmp_path: Path, text: str, expected: dict[str, str]) -> None:
    env = read_env_file(write(tmp_path, text), ENVIRON)
    assert dict(env.values) == expected
    assert env.problems == ()


@pytest.mark.parametrize(
    ("text", "expected", "problems"), [c[1:] for c in PROBLEMS], ids=[c[0] for c in PROBLEMS]
)
def test_problems(
    tmp_path: Path, text: str, expected: dict[str, str], problems: tuple[str, ...]
) -> None:
    env = read_env_file(write(tmp_path, text), ENVIRON)
    assert dict(env.values) == expected
    assert env.problems == problems


def test_problems_and_repr_never_show_values(tmp_path: Path) -> None:
    secret = "s3cr3t-value-7f1c"
    env = read_env_file(write(tmp_path, f'POSTGRES_PASSWORD={secret}\nBROKEN="{secret}\n'))
    assert env.get("POSTGRES_PASSWORD") == secret
    assert env.problems == ("line 2: BROKEN: unterminated quoted value",)
    assert secret not in repr(env) and secret not in str(env)
    assert repr(env) == (
        f"EnvFile(path={str(tmp_path / '.env')!r}, names=[POSTGRES_PASSWORD], "
        "problems=('line 2: BROKEN: unterminated quoted value',))"
    )


def test_missing_file_is_empty(tmp_path: Path) -> None:
    env = read_env_file(tmp_path / ".env")
    assert env == EnvFile(tmp_path / ".env", exists=False)
    assert dict(env.values) == {}


def test_unreadable_path_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / ".env").mkdir()
    env = read_env_file(tmp_path / ".env")
    assert env.exists
    assert env.problems == ("cannot read: Is a directory",)


def test_lab_env_example() -> None:
    env = read_env_file(Path(__file__).parents[1] / "lab" / "project" / ".env.example")
    assert dict(env.values) == {
        "POSTGRES_DB": "lab",
        "POSTGRES_USER": "postgres",
        "POSTGRES_PASSWORD": "postgres",
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": "55432",
        "DEBUG": "1",
    }


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${A}:${B:-5432}", "x:5432"),
        ("$$A", "$A"),
        ("${A:+on}", "on"),
        ("${A:?}", "x"),
    ],
    ids=["default", "escape", "alternative", "required"],
)
def test_interpolate(template: str, expected: str) -> None:
    assert interpolate(template, {"A": "x"}.get) == (expected, "")
