"""Django's own answers: `django_script.py` run by the project's Python, its JSON as a report.

Locally `python -B -c SCRIPT src/manage.py`, in the web container `docker compose exec -T web
python -B -c SCRIPT src/manage.py`: argv lists, no shell. A `DjangoReport` holds the loader's
graph, the applied migrations, the consistency check, the plan, the tables and what
`makemigrations --check --dry-run` finds; a run that cannot answer is a `ProbeFinding`. Use the
static parse (`migration_graph`) when this probe cannot run.

The report's types and their reading from JSON are in `django_report`, the findings in
`django_findings`; their public names are importable from here as well.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path, PurePath
from typing import Any, Final, Literal

from migdoctor.probes import ProbeFinding
from migdoctor.probes.django_findings import classify_failure, failure, report_findings
from migdoctor.probes.django_report import (
    DatabaseReport,
    DjangoGraph,
    DjangoReport,
    Inconsistency,
    Makemigrations,
    SectionError,
    read_report,
)

__all__ = [  # the public names, defined here or in the modules above
    "DEFAULT_TIMEOUT", "FORMAT", "SCRIPT_NAME", "VENV_DIRS", "Context", "DatabaseReport",
    "DjangoGraph", "DjangoReport", "Inconsistency", "Makemigrations", "SectionError",
    "classify_failure", "failure", "find_python", "parse_report", "probe_argv",
    "report_findings", "run_django_probe", "script_text",
]  # fmt: skip

Context = Literal["local", "compose"]
DEFAULT_TIMEOUT: Final = 60.0
VENV_DIRS: Final = (".venv", "venv", "env")
SCRIPT_NAME: Final = "django_script.py"
FORMAT: Final = 1


def script_text() -> str:
    """The probe script, as shipped in this package."""
    return resources.files("migdoctor.probes").joinpath(SCRIPT_NAME).read_text(encoding="utf-8")


def find_python(manage_py: str | Path) -> str:
    """The project's interpreter: a `.venv`, `venv` or `env` next to manage.py or one or two
    folders up (the guide's `src/manage.py`), else `python3` from the PATH."""
    folder = Path(manage_py).resolve().parent
    for base in (folder, *folder.parents[:2]):
        for name in VENV_DIRS:
            for candidate in (base / name / "bin" / "python", base / name / "Scripts/python.exe"):
                if candidate.is_file():
                    return str(candidate)
    return "python3"


def probe_argv(
    manage_py: str | PurePath,
    *,
    python: str | Sequence[str] | None = None,
    context: Context = "local",
    compose_argv: Sequence[str] = ("docker", "compose"),
    compose_verb: Sequence[str] = ("exec", "-T"),
    service: str = "web",
    aliases: Sequence[str] = (),
) -> list[str]:
    """The argv that runs the script. Under Compose, `manage_py` is the container's path (or
    relative to the service's working_dir) and `compose_verb` may be `("run", "--rm", "-T")`."""
    if python is None:
        python = find_python(Path(manage_py)) if context == "local" else "python"
    interpreter = [python] if isinstance(python, str) else list(python)
    command = [*interpreter, "-B", "-c", script_text(), str(manage_py), *aliases]
    if context == "compose":
        return [*compose_argv, *compose_verb, service, *command]
    return command


def _shown(argv: Sequence[str]) -> str:
    """The argv for a message, the script's text shown as SCRIPT."""
    return " ".join("SCRIPT" if "\n" in arg else arg for arg in argv)


def run_django_probe(
    manage_py: str | PurePath,
    *,
    python: str | Sequence[str] | None = None,
    context: Context = "local",
    compose_argv: Sequence[str] = ("docker", "compose"),
    compose_verb: Sequence[str] = ("exec", "-T"),
    service: str = "web",
    aliases: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> DjangoReport | ProbeFinding:
    """Run the script and read its report; a failure is a `ProbeFinding`, never raised. `env`
    is the whole environment of the process (the docker CLI's under Compose), None: ours."""
    argv = probe_argv(manage_py, python=python, context=context, compose_argv=compose_argv,
                      compose_verb=compose_verb, service=service, aliases=aliases)  # fmt: skip
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, errors="replace",
                              timeout=timeout, env=None if env is None else dict(env), cwd=cwd,
                              stdin=subprocess.DEVNULL, check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        return failure(f"{_shown(argv)}: no answer within {timeout:g}s", "none", context)
    except OSError as exc:
        return failure(f"cannot run {argv[0]}: {exc.strerror or exc}", "none", context)
    if proc.returncode != 0:
        return classify_failure(proc.returncode, proc.stderr, _shown(argv), context)
    return parse_report(proc.stdout, context)


def parse_report(stdout: str, context: str = "local") -> DjangoReport | ProbeFinding:
    """The report in the script's output (its last line), or the finding that says why not."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    try:
        data = json.loads(lines[-1]) if lines else None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not the probe's JSON")
        if data["error"]:
            return _setup_failure(data, context)
        return read_report(data, context)
    except (ValueError, KeyError, TypeError, AttributeError, StopIteration) as exc:
        shown = lines[-1][:200] if lines else "(nothing)"
        return failure(f"unreadable answer from the Django probe ({exc}): {shown}", "none", context)


def _setup_failure(data: Mapping[str, Any], context: str) -> ProbeFinding:
    error = data["error"]
    text = f"{error['type']}: {error['message']}"
    if error.get("stage") == "import":
        return failure(f"Django is not importable by {data['executable']}: {text}", "none",
                       context, hint="install the project's requirements in that environment, "
                       "or name the project's interpreter")  # fmt: skip
    return failure(f"Django could not start ({error.get('stage')}): {text}", None, context)
