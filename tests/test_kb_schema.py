"""The JSON Schema shipped for editors agrees with every built-in playbook."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from migdoctor.kb.locate import builtin_dir, playbook_files

SCHEMA = json.loads((builtin_dir().parent / "schema" / "playbook.schema.json").read_text())
FILES = playbook_files(builtin_dir())


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_builtin_playbook_follows_the_schema(path: object) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    jsonschema.validate(data, SCHEMA)


def test_schema_rejects_an_unknown_verb() -> None:
    bad = {"id": "x", "kind": "howto", "title": "t", "summary": "s",
           "options": [{"id": "o", "title": "t", "risk": "safe", "steps": [{"shell": "rm -rf /"}]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)
