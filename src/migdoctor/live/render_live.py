"""Terminal output of the live commands (rich): the doctor checklist, the status table, and
`diagnose --live` findings. JSON goes through each report's `as_json` instead."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from migdoctor import render
from migdoctor.live.doctor import DoctorReport, summary
from migdoctor.live.status import AppStatus, StatusReport

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from migdoctor.live.checks import Check
    from migdoctor.live.enrich import LiveFinding

MARKS = {"ok": "[green]✓[/green]", "warn": "[yellow]![/yellow]", "fail": "[red]✗[/red]",
         "skip": "[dim]-[/dim]"}  # fmt: skip


def doctor(report: DoctorReport, verbose: bool = False) -> None:
    from rich.markup import escape

    out = render.console()
    where = f" for {escape(str(report.root))}" if report.root else ""
    out.print(f"[bold]Doctor summary{where}[/bold]"
              + ("" if verbose else " [dim](details: migdoctor doctor --verbose)[/dim]"))
    for check in report.checks:
        _check(out, check, verbose)
    worst = next((s for s in ("fail", "warn") if s in report.statuses), "ok")
    out.print(f"\n{MARKS[worst]} {summary(report.statuses)}")


def _check(out: Console, check: Check, verbose: bool) -> None:
    from rich.markup import escape

    style = "dim" if check.status == "skip" else "bold"
    out.print(f"\\[{MARKS[check.status]}] [{style}]{escape(check.title)}[/{style}]: "
              f"{escape(check.message)}")
    if check.hint and check.status in ("warn", "fail"):
        docs = f"  [dim](migdoctor docs {check.playbook})[/dim]" if check.playbook else ""
        out.print(f"    {MARKS[check.status]} {escape(check.hint)}{docs}")
    if verbose or check.status in ("warn", "fail"):
        shown = check.details if verbose else check.details[:3]
        for detail in shown:
            out.print(f"    [dim]•[/dim] {escape(detail)}")
        if len(check.details) > len(shown):
            out.print(f"    [dim]• {len(check.details) - len(shown)} more (--verbose)[/dim]")


def status(report: StatusReport) -> None:
    from rich.markup import escape

    out = render.console()
    unread = {i.target: i for i in report.drift if i.kind in ("unreachable", "unreadable")}
    for app in report.apps:
        out.print(_app_table(app.app, app, report, set(unread)))
    for item in unread.values():
        out.print(f"[red]✗[/red] {escape(item.cause)}  [dim](migdoctor docs {item.playbook})"
                  "[/dim]")
    drift = [i for i in report.drift if i.target not in unread]
    for item in drift:
        out.print(f"{MARKS[item.level]} {escape(item.cause)}")
    if not report.targets:
        out.print("[yellow]![/yellow] no database to compare with: set POSTGRES_* (or "
                  "DATABASE_URL) in .env, or pass --database-url URL")
    elif not report.drift:
        out.print(f"[green]✓[/green] every migration file is applied in "
                  f"{', '.join(report.targets)}, and the schema matches")


def _app_table(title: str, app: AppStatus, report: StatusReport, unread: set[str]) -> Table:
    from rich.table import Table

    table = Table(title=f"[bold]{title}[/bold]", title_justify="left", box=None, pad_edge=False)
    table.add_column("migration", no_wrap=True)
    for column in ("file", *report.targets):
        table.add_column(column, justify="center", no_wrap=True)
    table.add_column("drift")
    for name in app.names():
        marks = [_applied(name, app.applied[t], t in unread) for t in report.targets]
        notes = ", ".join(dict.fromkeys(f"{i.kind} ({t})" for t in report.targets
                                        for i in report.items(t, app.app, name)))  # fmt: skip
        table.add_row(name, "[green]✓[/green]" if name in app.files else "[red]✗[/red]",
                      *marks, notes)  # fmt: skip
    return table


def _applied(name: str, applied: tuple[str, ...], unread: bool) -> str:
    if unread:
        return "[dim]?[/dim]"
    return "[green]✓[/green]" if name in applied else "[dim]·[/dim]"


def live_findings(found: list[LiveFinding]) -> None:
    out = render.console()
    if not found:
        out.print("[yellow]No confident match.[/yellow] migdoctor does not recognise this text "
                  "as a migration, database or Compose problem.")
    for index, item in enumerate(found, 1):
        _live_finding(out, item, index)


def _live_finding(out: Console, item: LiveFinding, index: int) -> None:
    from rich.markup import escape

    finding, pb = item.finding, item.finding.playbook
    out.print(f"[bold]{index}. {escape(pb.title)}[/bold]  [dim]{pb.id} · confidence "
              f"{finding.confidence:.2f}[/dim]")
    for ev in finding.evidence:
        out.print(f"   [dim]line {ev.line}:[/dim] {escape(ev.text)}")
    if finding.entities:
        names = "  ".join(f"{k}=[bold]{escape(v)}[/bold]" + (" [dim](probes)[/dim]"
                          if k in item.filled else "") for k, v in finding.entities.items())
        out.print(f"   Found: {names}")
    for name, facts in item.targets.items():
        out.print(f"   [cyan]{escape(name)}[/cyan]: {escape(_facts(facts, item))}")
    for drift in item.subject.items:
        out.print(f"   {MARKS[drift.level]} {escape(drift.cause)}")
    _options(out, item)
    out.print(f"   [dim]More: migdoctor docs {pb.id}[/dim]\n")


def _facts(facts: Mapping[str, object], item: LiveFinding) -> str:
    if not facts.get("reachable"):
        return f"not reachable ({facts.get('playbook')})"
    said = [f"{what} {item.subject.relation if what == 'table' else item.subject.column} "
            f"{'present' if facts[what] else 'missing'}"
            for what in ("table", "column") if facts.get(what) is not None]
    if facts.get("migration_applied") is not None:
        done = "applied" if facts["migration_applied"] else "not applied"
        said.append(f"{item.subject.name} {done}")
    return ", ".join(said) or "reachable"


def _options(out: Console, item: LiveFinding) -> None:
    from rich.markup import escape

    verdicts = {v.option: v for v in item.verdicts}
    options = item.options()
    available = [o for o in options if verdicts[o.id].available]
    if available:
        out.print("   Remedies, best first:")
    for number, option in enumerate(available, 1):
        render._option(out, number, option, item.finding.entities)
        if verdicts[option.id].reason:
            out.print(f"       [green]✓ {escape(verdicts[option.id].reason)}[/green]")
    for option in (o for o in options if not verdicts[o.id].available):
        out.print(f"   [dim]Not offered: {escape(option.title)}: "
                  f"{escape(verdicts[option.id].reason)}[/dim]")
