"""Ask real Django about a project's migrations; run in a subprocess (settings are per process).

    python django_oracle.py CONFIG.json

CONFIG holds `path` (added to sys.path), `settings` (for `settings.configure`), optional
`commands` (run with `call_command`, then exit), optional `applied` (node keys recorded as
applied), `schema` (render the final project state) and `states` (node keys whose project
state to render). Prints JSON: nodes,
edges, leaves, conflicts, the loader's error if it raised, and `schemas`: for "__all__" and for
each state, `{table: [columns]}` as Django's own model state names them.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def configure(config: dict[str, Any]) -> None:
    sys.path.insert(0, config["path"])
    import django
    from django.conf import settings

    # Commands get a throwaway SQLite file; reading the graph never connects, and PostgreSQL's
    # operations give the 63-character identifier limit that names tables.
    if config.get("commands"):
        database = {"ENGINE": "django.db.backends.sqlite3", "NAME": f"{config['path']}/db.sqlite3"}
    else:
        database = {"ENGINE": "django.db.backends.postgresql", "NAME": "never-connected"}
    settings.configure(DATABASES={"default": database}, **config["settings"])
    django.setup()


def fake_recorder(applied: list[list[str]]) -> type:
    class Recorder:
        def __init__(self, connection: object) -> None:
            pass

        def applied_migrations(self) -> dict[tuple[str, str], None]:
            return {(app, name): None for app, name in applied}

    return Recorder


def tables(state: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for model in state.apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.managed and not meta.proxy:
            found[meta.db_table] = [f.column for f in meta.local_concrete_fields]
    return found


def graph_report(config: dict[str, Any]) -> dict[str, Any]:
    from django.db.migrations import loader as loader_module

    connection = None
    if config.get("applied") is not None:
        loader_module.MigrationRecorder = fake_recorder(config["applied"])  # type: ignore[attr-defined,misc]
        connection = object()
    try:
        loader = loader_module.MigrationLoader(connection, ignore_no_migrations=True)
    except Exception as exc:  # reported to the test as data
        return {"error": [type(exc).__name__, str(exc)]}
    graph = loader.graph
    schemas = {"__all__": tables(loader.project_state())} if config.get("schema") else {}
    for app, name in config.get("states", []):
        schemas[f"{app}.{name}"] = tables(loader.project_state((app, name)))
    return {
        "error": None,
        "nodes": sorted(graph.nodes),
        "edges": sorted([n.key, p.key] for n in graph.node_map.values() for p in n.parents),
        "leaves": graph.leaf_nodes(),
        "conflicts": {app: names for app, names in loader.detect_conflicts().items()},
        "schemas": schemas,
    }


def main() -> None:
    with open(sys.argv[1]) as handle:
        config = json.load(handle)
    configure(config)
    if config.get("commands"):
        from django.core.management import call_command

        for command in config["commands"]:
            call_command(*command, interactive=False, verbosity=0)
        return
    json.dump(graph_report(config), sys.stdout)


if __name__ == "__main__":
    main()
