"""A plan whose step migrates backwards: the Rollback section, and the refusal of a rollback that
would stop half-way. The lab's migration files; the database's applied set is given here (the
scenarios read it from a real database)."""

from __future__ import annotations

import shutil
from collections.abc import Collection
from pathlib import Path

import pytest

from migdoctor.kb.loader import KnowledgeBase
from migdoctor.model import Option, Playbook, Step
from migdoctor.probes import NodeKey
from migdoctor.wizard import plan as planning
from migdoctor.wizard.plan import Plan, build
from migdoctor.wizard.show import plan_text, rollback_json
from tests.wizard.test_plan import NOW, facts, plan_of

LAB = Path(__file__).resolve().parents[1] / "lab" / "project"
TICKETS = ["0001_initial", "0002_ticket_status", "0003_rename_description_ticket_body",
           "0004_alter_ticket_title_max_length", "0005_lowercase_status",
           "0006_queue_ticket_queue_and_more"]  # fmt: skip
ALL = {("tickets", n) for n in TICKETS} | {("kb", "0001_initial"), ("kb", "0002_article_slug")}
STOP = (
    "`migrate tickets 0004` would stop at tickets.0005_lowercase_status: irreversible "
    "(RunPython(lowercase_status) has no reverse_code), after unapplying "
    "kb.0002_article_slug, kb.0001_initial, tickets.0006_queue_ticket_queue_and_more"
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(LAB / "src", tmp_path / "lab" / "src",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    return tmp_path / "lab"


def applied_is(monkeypatch: pytest.MonkeyPatch, applied: Collection[NodeKey] | str) -> None:
    """The database's applied migrations (a text: why they could not be read)."""
    monkeypatch.setattr(planning, "_applied", lambda target: applied)


def rollback_plan(kb: KnowledgeBase, root: Path, option: str, migration: str = "0004") -> Plan:
    return plan_of(kb, "rollback-migrations", option, "local", facts(root), app_label="tickets",
                   migration=migration)  # fmt: skip


def test_a_rollback_across_an_irreversible_migration_is_refused(
    knowledge: KnowledgeBase, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied_is(monkeypatch, ALL)
    plan = rollback_plan(knowledge, root, "rollback-to-migration")
    assert plan.problems == (STOP,)
    section = plan_text(plan, "t").split("Rollback: ")[1].split("Verify after:")[0]
    assert section == (
        "`migrate tickets 0004` unapplies, in this order:\n"
        "  kb.0002_article_slug\n"
        "  kb.0001_initial\n"
        "  tickets.0006_queue_ticket_queue_and_more\n"
        "  tickets.0005_lowercase_status (Django stops here)\n"
        "  Drops data:\n"
        "    kb.0002_article_slug: AddField article.slug: drops column kb_article.slug\n"
        "    kb.0001_initial: CreateModel Article: drops table kb_article\n"
        "    tickets.0006_queue_ticket_queue_and_more: CreateModel Queue: drops table "
        "tickets_queue\n"
        "    tickets.0006_queue_ticket_queue_and_more: AddField ticket.queue: drops column "
        "tickets_ticket.queue_id\n"
        "  Irreversible:\n"
        "    tickets.0005_lowercase_status: RunPython(lowercase_status) has no reverse_code "
        "(Django stops here)\n"
        "  Django will stop at tickets.0005_lowercase_status, which it cannot reverse: by then it has "
        "unapplied kb.0002_article_slug, kb.0001_initial, "
        "tickets.0006_queue_ticket_queue_and_more, and tickets.0005_lowercase_status stays "
        "applied.\n"
    )
    assert plan.rollback is not None
    data = rollback_json(plan.rollback)
    assert (data["command"], data["fake"], data["target"], data["stops_at"]) == (
        "migrate tickets 0004", False, "0004_alter_ticket_title_max_length",
        "tickets.0005_lowercase_status")  # fmt: skip
    assert data["unapply"][3]["operations"] == [
        {"operation": "RunPython", "line": 24, "effect": "irreversible",
         "detail": "RunPython(lowercase_status) has no reverse_code"}]  # fmt: skip


def test_to_zero_everything_after_the_stop_is_not_reached(
    knowledge: KnowledgeBase, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied_is(monkeypatch, ALL)
    plan = plan_of(knowledge, "rollback-migrations", "rollback-app-to-zero", "local",
                   facts(root), app_label="tickets")  # fmt: skip
    text = plan_text(plan, "t")
    assert "  tickets.0001_initial (not reached)\n" in text
    assert (
        "    tickets.0001_initial: CreateModel Ticket: drops table tickets_ticket (not reached)\n"
        in text
    )
    assert [p.split(":")[0] for p in plan.problems] == [
        "`migrate tickets zero` would stop at tickets.0005_lowercase_status"
    ]


def test_a_fake_rollback_runs_no_reverse_code_and_is_not_refused(
    knowledge: KnowledgeBase, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied_is(monkeypatch, ALL)
    plan = rollback_plan(knowledge, root, "rollback-record-only")
    assert plan.problems == ()
    assert plan.rollback is not None and plan.rollback.fake
    assert (
        "Rollback: `migrate tickets 0004 --fake` records these as unapplied, in this order; "
        "with --fake no operation runs backwards and nothing is dropped:\n"
        "  kb.0002_article_slug\n"
    ) in plan_text(plan, "t")


def test_files_changed_by_an_earlier_step_are_not_judged_as_they_are_now(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied_is(monkeypatch, ALL)
    steps = (Step("manual", ("Give 0005 a reverse_code",)),
             Step("manage", ("migrate", "tickets", "0004")))  # fmt: skip
    option = Option("o", "O", "caution", steps)
    pb = Playbook("t", "howto", "T", "", "", {}, (option,))
    plan = build(pb, option, {}, facts(root), "local", backup_dir=root, now=NOW)
    assert plan.problems == ()
    assert "  (Read from the files as they are now: a step before it changes them.)\n" in plan_text(
        plan, "t"
    )


def test_forwards_nothing_to_unapply_and_unknown_targets(
    knowledge: KnowledgeBase, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied_is(monkeypatch, {("tickets", n) for n in TICKETS[:3]})
    assert rollback_plan(knowledge, root, "rollback-to-migration").rollback is None
    applied_is(monkeypatch, ALL)
    plan = rollback_plan(knowledge, root, "rollback-to-migration", "0006")
    assert plan.problems == ()
    assert (
        "Rollback: `migrate tickets 0006`: nothing is applied after "
        "0006_queue_ticket_queue_and_more; nothing to unapply\n"
    ) in plan_text(plan, "t")
    plan = rollback_plan(knowledge, root, "rollback-to-migration", "0009")
    assert plan.problems == ("`migrate tickets 0009`: no migration of tickets matches '0009'",)


def test_a_database_that_cannot_be_read(
    knowledge: KnowledgeBase, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied_is(monkeypatch, "the local database could not be read (db-connection-refused)")
    assert rollback_plan(knowledge, root, "rollback-to-migration").rollback is None
    plan = plan_of(knowledge, "rollback-migrations", "rollback-app-to-zero", "local",
                   facts(root), app_label="tickets")  # fmt: skip
    assert (
        "Rollback: `migrate tickets zero`: not previewed: the local database could not be "
        "read (db-connection-refused)\n"
    ) in plan_text(plan, "t")
    assert not any("migrate tickets zero" in p for p in plan.problems)
