from __future__ import annotations

from pathlib import Path

import pytest

from migdoctor.kb.loader import KnowledgeBase, load
from migdoctor.model import Playbook


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test session gets its own knowledge base cache, and no MIGDOCTOR_KB from outside."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))
    monkeypatch.delenv("MIGDOCTOR_KB", raising=False)


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeBase:
    kb = load()
    assert not kb.problems, [str(p) for p in kb.problems]
    return kb


@pytest.fixture(scope="session")
def playbooks(knowledge: KnowledgeBase) -> list[Playbook]:
    return list(knowledge.playbooks.values())


REPO = Path(__file__).resolve().parent.parent
