"""Choosing what runs: --set, the option, the entities completed; and that `diagnose` does not
load the wizard."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from migdoctor.errors import MigdoctorError
from migdoctor.kb.loader import KnowledgeBase
from migdoctor.wizard.choose import complete_entities, parse_sets, pick_option
from migdoctor.wizard.facts import Facts
from migdoctor.wizard.prompt import NoTerminal


def test_diagnose_never_imports_the_wizard() -> None:
    code = ("import sys, migdoctor.cli; "
            "print(sorted(m for m in sys.modules if m.startswith('migdoctor.wizard')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "[]\n"


def test_set_values_are_entities_of_the_playbook_and_valid(knowledge: KnowledgeBase) -> None:
    pb = knowledge.resolve("fake-migration")
    assert parse_sets(pb, ("app_label=kb", "migration= 0002 ")) == {"app_label": "kb",
                                                                   "migration": "0002"}
    with pytest.raises(MigdoctorError, match=r"--set migration: '0002; rm' is not a valid "):
        parse_sets(pb, ("migration=0002; rm",))
    with pytest.raises(MigdoctorError, match="not ENTITY=VALUE") as info:
        parse_sets(pb, ("table=x",))
    assert info.value.hint == "its entities: app_label, migration"


def test_the_option_chosen(knowledge: KnowledgeBase) -> None:
    pb = knowledge.resolve("fresh-database")
    assert pick_option(pb, "flush-data", {}).id == "flush-data"
    assert pick_option(pb, None, {}).risk == "destructive"
    with pytest.raises(MigdoctorError, match="has no option to run here"):
        pick_option(pb, None, {}, destructive=False)
    with pytest.raises(MigdoctorError, match="no option 'nope' in fresh-database"):
        pick_option(pb, "nope", {})
    assert pick_option(knowledge.resolve("undefined-column"), None, {}, False).id == (
        "apply-pending-migrations")


def test_entities_from_the_text_the_probes_or_an_error(knowledge: KnowledgeBase,
                                                       tmp_path: Path) -> None:
    pb = knowledge.resolve("fake-migration")
    option = pb.options[0]
    facts = Facts(tmp_path, apps=("tickets",))
    found = complete_entities(pb, option, {"relation": "tickets_ticket", "migration": "0003"},
                              facts, "local", NoTerminal())  # fmt: skip
    assert found == {"app_label": "tickets", "migration": "0003", "relation": "tickets_ticket"}
    with pytest.raises(MigdoctorError) as info:
        complete_entities(pb, option, {}, facts, "local", NoTerminal())
    assert (info.value.message, info.value.hint) == (
        "option fake-one-migration needs app_label, migration",
        "give --set app_label=VALUE --set migration=VALUE")
