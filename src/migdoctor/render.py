"""Human output in the terminal (rich); JSON goes through report.py instead."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from migdoctor.model import TEXT_VERBS, Finding, Option, Playbook
from migdoctor.steps import PLACEHOLDER, Command, command, ranked

if TYPE_CHECKING:
    from rich.console import Console

    from migdoctor.kb.search import Hit

RISK_STYLE = {"safe": "green", "caution": "yellow", "destructive": "bold red"}


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _plain(markdown: str) -> str:
    """Cause text without markdown decoration, first paragraph only (the rest is in `docs`)."""
    first = markdown.strip().split("\n\n", 1)[0]
    return " ".join(first.replace("**", "").replace("`", "").split())


def _option(out: Console, number: int, option: Option, entities: dict[str, str],
            gaps: bool = True) -> None:
    from rich.markup import escape

    style = RISK_STYLE[option.risk]
    said = "develop" in option.title.lower()
    dev = " [dim](development only)[/dim]" if option.dev_only and not said else ""
    risk = f"[{style}]\\[{option.risk}][/{style}]"
    out.print(f"  {number}. [bold]{escape(option.title)}[/bold] {risk}{dev}")
    commands = [command(step, entities) for step in option.steps]
    for cmd in commands:
        if cmd.verb in TEXT_VERBS:
            mark = "by hand:" if cmd.verb == "manual" else "•"
            out.print(f"       [dim]{mark}[/dim] {escape(cmd.text)}")
    for label, context in (("locally", "local"), ("with Docker Compose", "compose")):
        lines = [_shell_line(cmd, context, gaps) for cmd in commands if cmd.verb not in TEXT_VERBS]
        lines = [line for line in lines if line]
        if lines:
            out.print(f"       [dim]{label}:[/dim]")
            for line in lines:
                out.print(f"         [cyan]$[/cyan] {line}")


def _shell_line(cmd: Command, context: str, gaps: bool) -> str:
    """One step as the user would type it; an unknown value shows as its NAME."""
    from rich.markup import escape

    argv = cmd.argv(context)
    if not argv:
        return ""
    shown = [PLACEHOLDER.sub(lambda m: m.group(1).upper(), arg) for arg in argv]
    redirect = f" > {shlex.quote(cmd.stdout)}" if cmd.stdout else ""
    gap = f"  [red](needs {', '.join(cmd.missing)})[/red]" if cmd.missing and gaps else ""
    return escape(shlex.join(shown) + redirect) + gap


def finding(out: Console, item: Finding, index: int) -> None:
    from rich.markup import escape

    pb = item.playbook
    out.print(f"[bold]{index}. {escape(pb.title)}[/bold]  [dim]{pb.id} · confidence "
              f"{item.confidence:.2f}[/dim]")
    for ev in item.evidence:
        out.print(f"   [dim]line {ev.line}:[/dim] {escape(ev.text)}")
    if item.entities:
        names = "  ".join(f"{k}=[bold]{escape(v)}[/bold]" for k, v in item.entities.items())
        out.print(f"   Found: {names}")
    for name, why in item.rejected.items():
        out.print(f"   [yellow]Ignored {name}: {escape(why)}[/yellow]")
    if pb.cause:
        out.print(f"   Why: {escape(_plain(pb.cause))}")
    if pb.options:
        out.print("   Remedies, best first:")
        for number, option in enumerate(ranked(pb.options, item.entities), 1):
            _option(out, number, option, item.entities)
    out.print(f"   [dim]More: migdoctor docs {pb.id}[/dim]\n")


def diagnosis(findings: list[Finding], nearest: list[Hit]) -> None:
    out = console()
    if not findings:
        out.print("[yellow]No confident match.[/yellow] migdoctor does not recognise this text "
                  "as a migration, database or Compose problem.")
        if nearest:
            out.print("Closest topics: " + ", ".join(h.playbook.id for h in nearest)
                      + "  [dim](migdoctor docs ID)[/dim]")
        return
    for index, item in enumerate(findings, 1):
        finding(out, item, index)


def search_results(hits: list[Hit]) -> None:
    from rich.markup import escape

    out = console()
    if not hits:
        out.print("Nothing found. [dim]migdoctor kb list shows every topic.[/dim]")
        return
    for hit in hits:
        out.print(f"[bold]{hit.playbook.id}[/bold]  {escape(hit.playbook.title)}  "
                  f"[dim]{hit.score:.0f}[/dim]")
        out.print(f"   [dim]{escape(hit.playbook.summary)}[/dim]")


def playbook_page(pb: Playbook) -> None:
    from rich.markdown import Markdown
    from rich.markup import escape

    out = console()
    out.rule(f"[bold]{escape(pb.title)}[/bold]")
    out.print(f"[dim]{pb.id} · {pb.kind}[/dim]\n{escape(pb.summary)}\n")
    if pb.cause:
        out.print(Markdown(pb.cause))
        out.print()
    for number, option in enumerate(pb.options, 1):
        _option(out, number, option, {}, gaps=False)
        if option.when:
            out.print(f"       [dim]{escape(_plain(option.when))}[/dim]")
    if pb.references:
        out.print("\n[dim]References: " + "; ".join(pb.references) + "[/dim]")
    if pb.related:
        out.print("[dim]Related: " + ", ".join(pb.related) + "[/dim]")


