"""A plan whose step migrates backwards: the Rollback section, and the refusal of a rollback that
would stop half-way. The lab project on its own PostgreSQL database, in the state each test
needs: a copy of the fully migrated template (`lab`), or a new one the lab's real `migrate` took
part of the way; what the plan reads is the database its `.env` names, as `fix` reads it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from migdoctor.kb.loader import KnowledgeBase
from migdoctor.model import Option, Playbook, Step
from migdoctor.probes.targets import local_target
from migdoctor.wizard.facts import Facts
from migdoctor.wizard.plan import Plan, build
from migdoctor.wizard.show import plan_text, rollback_json
from tests.wizard.lab import Lab, scratch_database, unique
from tests.wizard.test_plan import NOW, facts, plan_of

pytestmark = pytest.mark.postgres

TICKETS = ["0001_initial", "0002_ticket_status", "0003_rename_description_ticket_body",
           "0004_alter_ticket_title_max_length", "0005_lowercase_status",
           "0006_queue_ticket_queue_and_more"]  # fmt: skip
STOP = (
    "`migrate tickets 0004` would stop at tickets.0005_lowercase_status: irreversible "
    "(RunPython(lowercase_status) has no reverse_code), after unapplying "
    "kb.0002_article_slug, kb.0001_initial, tickets.0006_queue_ticket_queue_and_more"
)
NOTHING_LISTENS = "1"  # a port of 127.0.0.1 no server listens on


@pytest.fixture
def early_lab(tmp_path: Path) -> Iterator[Lab]:
    """The lab on a new database where its real `migrate` applied tickets up to 0003 only (a
    copy of the template cannot get there: `migrate` stops at the irreversible 0005)."""
    with scratch_database(unique("mdwiz")) as name:
        lab = Lab.create(tmp_path, name)
        lab.manage("migrate", "tickets", "0003", "-v0")
        yield lab


def lab_facts(root: Path) -> Facts:
    """The lab in `root` as the wizard sees it, its local database the one `.env` names."""
    local, _ = local_target(root, {}, None)
    assert local is not None
    return facts(root, local=local)


def rollback_plan(kb: KnowledgeBase, found: Facts, option: str, migration: str = "0004") -> Plan:
    return plan_of(kb, "rollback-migrations", option, "local", found, app_label="tickets",
                   migration=migration)  # fmt: skip


def test_a_rollback_across_an_irreversible_migration_is_refused(
    knowledge: KnowledgeBase, lab: Lab
) -> None:
    assert lab.applied("tickets") == TICKETS
    plan = rollback_plan(knowledge, lab_facts(lab.root), "rollback-to-migration")
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
        "  Django will stop at tickets.0005_lowercase_status, which it cannot reverse: by then "
        "it has unapplied kb.0002_article_slug, kb.0001_initial, "
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
    knowledge: KnowledgeBase, lab: Lab
) -> None:
    plan = plan_of(knowledge, "rollback-migrations", "rollback-app-to-zero", "local",
                   lab_facts(lab.root), app_label="tickets")  # fmt: skip
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
    knowledge: KnowledgeBase, lab: Lab
) -> None:
    plan = rollback_plan(knowledge, lab_facts(lab.root), "rollback-record-only")
    assert plan.problems == ()
    assert plan.rollback is not None and plan.rollback.fake
    assert (
        "Rollback: `migrate tickets 0004 --fake` records these as unapplied, in this order; "
        "with --fake no operation runs backwards and nothing is dropped:\n"
        "  kb.0002_article_slug\n"
    ) in plan_text(plan, "t")


def test_files_changed_by_an_earlier_step_are_not_judged_as_they_are_now(lab: Lab) -> None:
    steps = (Step("manual", ("Give 0005 a reverse_code",)),
             Step("manage", ("migrate", "tickets", "0004")))  # fmt: skip
    option = Option("o", "O", "caution", steps)
    pb = Playbook("t", "howto", "T", "", "", {}, (option,))
    plan = build(pb, option, {}, lab_facts(lab.root), "local", backup_dir=lab.root, now=NOW)
    assert plan.problems == ()
    assert "  (Read from the files as they are now: a step before it changes them.)\n" in plan_text(
        plan, "t"
    )


def test_forwards_there_is_nothing_to_unapply(knowledge: KnowledgeBase, early_lab: Lab) -> None:
    assert early_lab.applied("tickets") == TICKETS[:3]
    plan = rollback_plan(knowledge, lab_facts(early_lab.root), "rollback-to-migration")
    assert plan.rollback is None


def test_at_the_leaf_nothing_to_unapply_and_an_unknown_target(
    knowledge: KnowledgeBase, lab: Lab
) -> None:
    found = lab_facts(lab.root)
    plan = rollback_plan(knowledge, found, "rollback-to-migration", "0006")
    assert plan.problems == ()
    assert (
        "Rollback: `migrate tickets 0006`: nothing is applied after "
        "0006_queue_ticket_queue_and_more; nothing to unapply\n"
    ) in plan_text(plan, "t")
    plan = rollback_plan(knowledge, found, "rollback-to-migration", "0009")
    assert plan.problems == ("`migrate tickets 0009`: no migration of tickets matches '0009'",)


def test_a_database_that_cannot_be_read(knowledge: KnowledgeBase, tmp_path: Path) -> None:
    unreachable = Lab.create(tmp_path, "nothing")
    env = unreachable.root / ".env"
    settings = env.read_text()
    assert "POSTGRES_PORT=5432\n" in settings
    env.write_text(settings.replace("POSTGRES_PORT=5432", f"POSTGRES_PORT={NOTHING_LISTENS}"))
    found = lab_facts(unreachable.root)
    assert rollback_plan(knowledge, found, "rollback-to-migration").rollback is None
    plan = plan_of(knowledge, "rollback-migrations", "rollback-app-to-zero", "local", found,
                   app_label="tickets")  # fmt: skip
    assert (
        "Rollback: `migrate tickets zero`: not previewed: the local database could not be "
        "read (db-connection-refused)\n"
    ) in plan_text(plan, "t")
    assert not any("migrate tickets zero" in p for p in plan.problems)
