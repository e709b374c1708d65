"""The command line: creates the I/O handles, maps failures to exit codes, nothing more.

Exit codes: 0 success (a confident finding), 1 no finding or a failed check, 2 usage or
unreadable input, 3 unexpected error (traceback only with --debug), 130 interrupted.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from migdoctor.errors import MigdoctorError, print_error, print_warning

app = typer.Typer(
    name="migdoctor",
    help="Diagnose and fix Django migration, PostgreSQL and Docker Compose problems.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
kb_app = typer.Typer(help="Inspect and validate the knowledge base.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")

KbOption = Annotated[
    list[Path] | None,
    typer.Option("--kb", help="A folder of your own playbooks (repeatable; also MIGDOCTOR_KB)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
T = TypeVar("T")
_state: dict[str, bool] = {"debug": False}


@app.callback()
def _root(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False) -> None:
    _state["debug"] = debug


@contextmanager
def _handled() -> Iterator[None]:
    """The one place failures become messages and exit codes."""
    try:
        yield
    except MigdoctorError as exc:
        print_error(exc.message, exc.hint)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        print_error("interrupted")
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if _state["debug"]:
            raise
        print_error(f"unexpected {type(exc).__name__}: {exc}", "run with --debug for details")
        raise typer.Exit(3) from None


def _load_kb(kb: list[Path] | None) -> Any:
    from migdoctor.kb.loader import load

    knowledge = load(kb)
    for problem in knowledge.problems:
        print_warning(f"skipped playbook {problem}")
    return knowledge


def _emit(data: dict[str, Any]) -> None:
    import json

    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


# Options of the live commands: doctor, status and diagnose --live (see migdoctor.live).
ProjectOption = Annotated[str | None, typer.Option(
    "--project", help="The project folder (default: found from the current one).")]
ManageOption = Annotated[str | None, typer.Option("--manage", help="The path of manage.py.")]
DatabaseUrlOption = Annotated[str | None, typer.Option(
    "--database-url", help="The database to probe: postgresql://USER:PASSWORD@HOST:PORT/DB.")]
DatabaseOption = Annotated[list[str] | None, typer.Option(
    "--database", help="A database to probe by name, NAME=URL (repeatable).")]
ComposeFilesOption = Annotated[list[str] | None, typer.Option(
    "--file", "-f", help="A compose file (repeatable; default: as docker compose finds it).")]
ServiceOption = Annotated[str | None, typer.Option(
    "--service", help="The Compose service that runs Django (default: web or the like).")]
FailOnOption = Annotated[str, typer.Option(
    "--fail-on", help="Exit 1 on problems at this level or above: warn or fail.")]
LiveFlag = Annotated[bool, typer.Option(
    "--live", help="Confirm and complete the findings with the project and its databases.")]


def _live_options(project: str | None, manage: str | None, database_url: str | None,
                  database: list[str] | None, files: list[str] | None,
                  service: str | None) -> Any:  # fmt: skip
    from migdoctor.live.gather import LiveOptions

    return LiveOptions(project, manage, database_url, tuple(database or ()), tuple(files or ()),
                       service)  # fmt: skip


def _handles() -> Any:
    import os

    from migdoctor.live.gather import real_handles

    return real_handles(os.environ, Path.cwd())


@app.command()
def diagnose(
    text: Annotated[str | None, typer.Argument(help="The error text (or --file, stdin).")] = None,
    file: Annotated[str | None, typer.Option("--file", "-f", help="A file; - for stdin.")] = None,
    as_json: JsonOption = False,
    kb: KbOption = None,
    fix: cli_fix.Fix = False, option: cli_fix.OptionId = None, context: cli_fix.Context = None,
    project: cli_fix.ProjectDir = None, python: cli_fix.Python = None,
    compose_file: cli_fix.ComposeFiles = None, yes: cli_fix.Yes = False,
    dry_run: cli_fix.DryRun = False, allow_destructive: cli_fix.AllowDestructive = False,
    allow_production: cli_fix.AllowProduction = False, set_: cli_fix.Sets = None,
    live: LiveFlag = False, manage: ManageOption = None, database_url: DatabaseUrlOption = None,
    database: DatabaseOption = None, service: ServiceOption = None,
) -> None:  # fmt: skip
    """Diagnose a pasted error, traceback or `docker compose logs` dump (--fix: and fix it)."""
    with _handled():
        from migdoctor.match.diagnose import diagnose_stream, diagnose_text

        if not live and (manage or database_url or database or service):
            raise MigdoctorError("--manage, --database-url, --database and --service need --live")
        knowledge = _load_kb(kb)
        if text is not None and file is not None:
            raise MigdoctorError("give the text or --file, not both")
        if text is not None:
            if not text.strip():
                raise MigdoctorError("no text to diagnose: the argument is empty")
            findings, head = diagnose_text(text, knowledge), text
        else:
            findings, head = _with_stream(file, lambda s: diagnose_stream(s, knowledge))
        if fix:
            request = cli_fix.FixRequest(
                option, context, project, python, tuple(compose_file or ()), yes, dry_run,
                allow_destructive, allow_production, as_json, tuple(set_ or ()))  # fmt: skip
            raise typer.Exit(cli_fix.fix_findings(findings, request))
        if live and findings:
            _show_live(findings, _live_options(project, manage, database_url, database,
                                               compose_file, service), as_json)  # fmt: skip
        else:
            _show_diagnosis(findings, knowledge, head, as_json)
        raise typer.Exit(0 if findings else 1)


def _show_live(findings: list[Any], options: Any, as_json: bool) -> None:
    from migdoctor.live.enrich import enrich
    from migdoctor.live.gather import gather

    enriched = enrich(findings, gather(options, _handles()))
    if as_json:
        _emit({"findings": [item.as_json() for item in enriched]})
        return
    from migdoctor.live import render_live

    render_live.live_findings(enriched)


def _with_stream(file: str | None, use: Callable[[Any], T]) -> T:
    if file in (None, "-"):
        if file is None and sys.stdin.isatty():
            raise MigdoctorError("no text to diagnose",
                                 "paste it as an argument, pipe it in, or use --file PATH")
        return use(sys.stdin.buffer)
    try:
        with open(file, "rb") as stream:
            return use(stream)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise MigdoctorError(f"cannot read {file}: {exc.strerror}") from None


def _show_diagnosis(findings: list[Any], knowledge: Any, head: str, as_json: bool) -> None:
    if as_json:
        from migdoctor.report import diagnosis_json

        _emit(diagnosis_json(findings))
        return
    from migdoctor import render
    from migdoctor.kb.search import search

    nearest: list[Any] = []
    if not findings:
        nearest = search(head[:2000], list(knowledge.playbooks.values()), limit=3)
    render.diagnosis(findings, nearest)


@app.command()
def docs(
    query: Annotated[list[str] | None, typer.Argument(help="Words, or a playbook id.")] = None,
    as_json: JsonOption = False,
    limit: Annotated[int, typer.Option(help="How many results.")] = 5,
    kb: KbOption = None,
) -> None:
    """Search the knowledge base offline, or show one topic by its id."""
    with _handled():
        from migdoctor import render
        from migdoctor.kb.search import search

        knowledge = _load_kb(kb)
        words = " ".join(query or []).strip()
        playbooks = sorted(knowledge.playbooks.values(), key=lambda p: p.id)
        page = knowledge.get(words)
        if page is not None and not as_json:
            render.playbook_page(page)
            return
        hits = search(words, playbooks, limit) if words else []
        if as_json:
            _emit({"results": [{"id": h.playbook.id, "title": h.playbook.title, "score": h.score}
                               for h in hits]})
        else:
            render.search_results(hits)
        raise typer.Exit(0 if hits else 1)


@kb_app.command("list")
def kb_list(as_json: JsonOption = False, kb: KbOption = None) -> None:
    """List every playbook: id, kind and title."""
    with _handled():
        playbooks = sorted(_load_kb(kb).playbooks.values(), key=lambda p: p.id)
        if as_json:
            _emit({"playbooks": [{"id": p.id, "kind": p.kind, "title": p.title,
                                  "source": p.source} for p in playbooks]})
            return
        for p in playbooks:
            sys.stdout.write(f"{p.id:36} {p.kind:6} {p.title}\n")


@kb_app.command("validate")
def kb_validate(
    directory: Annotated[Path | None, typer.Argument(help="A folder of playbooks.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Check playbooks: schema, placeholders, probes, regex safety, examples."""
    with _handled():
        from migdoctor.kb.validate import validate_dir

        problems = validate_dir(directory)
        if as_json:
            _emit({"problems": [str(p) for p in problems]})
        else:
            for problem in problems:
                sys.stdout.write(f"{problem}\n")
            sys.stdout.write("ok\n" if not problems else f"{len(problems)} problem(s)\n")
        raise typer.Exit(1 if problems else 0)


@app.command()
def doctor(
    project: ProjectOption = None, manage: ManageOption = None,
    database_url: DatabaseUrlOption = None, database: DatabaseOption = None,
    file: ComposeFilesOption = None, service: ServiceOption = None, as_json: JsonOption = False,
    fail_on: FailOnOption = "fail",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show every detail.")] = False,
    kb: KbOption = None,
) -> None:  # fmt: skip
    """Check the project, Docker Compose and each database: a mark and a hint per check."""
    with _handled():
        from migdoctor.live.doctor import run_doctor
        from migdoctor.live.status import check_fail_on, exit_code

        check_fail_on(fail_on)
        options = _live_options(project, manage, database_url, database, file, service)
        report = run_doctor(options, _handles(), _load_kb(kb))
        if as_json:
            _emit(report.as_json())
        else:
            from migdoctor.live import render_live

            render_live.doctor(report, verbose)
        raise typer.Exit(exit_code(report.statuses, fail_on))


@app.command()
def status(
    project: ProjectOption = None, manage: ManageOption = None,
    database_url: DatabaseUrlOption = None, database: DatabaseOption = None,
    file: ComposeFilesOption = None, service: ServiceOption = None, as_json: JsonOption = False,
    fail_on: FailOnOption = "fail",
) -> None:  # fmt: skip
    """Per app, the migration files against what each database has applied, side by side."""
    with _handled():
        from migdoctor.live.gather import gather
        from migdoctor.live.status import check_fail_on, exit_code, status_report

        check_fail_on(fail_on)
        options = _live_options(project, manage, database_url, database, file, service)
        report = status_report(gather(options, _handles()))
        if as_json:
            _emit(report.as_json())
        else:
            from migdoctor.live import render_live

            render_live.status(report)
        raise typer.Exit(exit_code([i.level for i in report.drift], fail_on))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("migdoctor: interrupted\n")
        raise SystemExit(130) from None


# The fix wizard's commands live in cli_fix.py, the file edits in cli_edit.py (imported last:
# they need nothing above).
from migdoctor import cli_edit, cli_fix  # noqa: E402

cli_fix.register(app)
cli_edit.register(app)
