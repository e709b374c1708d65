"""What the wizard needs to know about the project before it plans, gathered by the probes.

Read-only: the project's files, its compose files, the databases the two contexts use, whether
the target looks like production, and which Compose CLI is installed.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from migdoctor.probes.targets import Target
from migdoctor.wizard.backup import DumpSource

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off", ""})
LOCAL_HOSTS = frozenset({"", "localhost", "::1", "0.0.0.0", "host.docker.internal"})
_DEBUG_LITERAL = re.compile(r"^DEBUG\s*=\s*(True|False)\s*(?:#.*)?$", re.M)


@dataclass(frozen=True)
class Facts:
    """The project as the wizard sees it. `debug` and `db_host` are per context (local,
    compose): DEBUG (None: unknown) with where it was read, and the database host Django uses."""

    root: Path
    manage: str = "src/manage.py"
    python: str = "python"
    compose: tuple[str, ...] = ()  # how to call Compose here, with -f files; () not installed
    services: tuple[str, ...] = ()
    web: str = "web"
    db: str = "db"
    apps: tuple[str, ...] = ()
    local: Target | None = None
    docker: Target | None = None  # the Compose db service's database, reached from here
    dumps: Mapping[str, DumpSource] = field(default_factory=dict)
    debug: Mapping[str, tuple[bool | None, str]] = field(default_factory=dict)
    db_host: Mapping[str, str] = field(default_factory=dict)

    def target(self, context: str) -> Target | None:
        return self.docker if context == "compose" else self.local


def gather(project: str | None, python: str | None, compose_files: Sequence[str],
           environ: Mapping[str, str]) -> Facts:  # fmt: skip
    from migdoctor.probes.project import discover_project
    from migdoctor.probes.targets import resolve_targets

    found = discover_project(project)
    root = found.root
    manage = found.manage_py.relative_to(root).as_posix() if found.manage_py else "src/manage.py"
    resolution = resolve_targets(root, environ, compose_files=compose_files)
    local = resolution.get("env") or resolution.get("local")
    facts = Facts(root, manage, find_python(root, python, environ), apps=found.apps,
                  local=local, docker=resolution.get("docker"))  # fmt: skip
    facts = _with_compose(facts, compose_files, environ)
    debug = {"local": local_debug(root, found.source_dir, environ)}
    hosts = {"local": local.host if local else ""}
    return _with_context_facts(facts, found.source_dir, debug, hosts)


def find_python(root: Path, given: str | None, environ: Mapping[str, str]) -> str:
    """`--python`, else the project's virtualenv, else the active one, else python on PATH."""
    if given:
        return given
    venv = environ.get("VIRTUAL_ENV")
    candidates = [root / ".venv/bin/python", root / "venv/bin/python"]
    candidates += [Path(venv) / "bin/python"] if venv else []
    found = next((c for c in candidates if c.is_file()), None)
    if found is not None:
        return str(found)
    return "python" if shutil.which("python") else "python3"


def _with_compose(facts: Facts, files: Sequence[str], environ: Mapping[str, str]) -> Facts:
    from dataclasses import replace

    from migdoctor.probes.compose import compose_cli
    from migdoctor.probes.compose_config import load_config

    config = load_config(facts.root, files=files, environ=environ)
    if not config.services:
        return facts
    base = compose_cli(environ=environ).command
    base = (*base, *(a for f in files for a in ("-f", f))) if base else ()
    web, db = config.web or "web", config.db or "db"
    env = config.expected_env.get(web, {})
    debug = _flag(env.get("DEBUG"), f"DEBUG of the {web} service")
    host = _host_of(env)
    dump = _container_dump(facts.root, environ, files, base, db)
    return replace(facts, compose=base, services=tuple(config.services), web=web, db=db,
                   dumps={**facts.dumps, **({"compose": dump} if dump else {})},
                   debug={"compose": debug}, db_host={"compose": host or db})  # fmt: skip


def _container_dump(root: Path, environ: Mapping[str, str], files: Sequence[str],
                    compose: tuple[str, ...], db: str) -> DumpSource | None:  # fmt: skip
    from migdoctor.probes.targets import read_db_service

    service = read_db_service(root, environ, files)
    if service is None or not compose:
        return None
    port_var = service.env.get("PGPORT", "")
    if service.host_network:
        port_var = port_var or service.env.get("POSTGRES_PORT", "")
    port = int(port_var) if port_var.strip().isdigit() else 5432
    user = service.env.get("POSTGRES_USER") or "postgres"
    dbname = service.env.get("POSTGRES_DB") or user
    return DumpSource("compose", dbname, port=port, user=user, compose=compose, service=db)


def _with_context_facts(facts: Facts, source: Path, debug: dict[str, tuple[bool | None, str]],
                        hosts: dict[str, str]) -> Facts:  # fmt: skip
    from dataclasses import replace

    literal = settings_debug(source)
    merged = {**facts.debug, **debug}
    merged = {ctx: value if value[0] is not None else literal for ctx, value in merged.items()}
    dumps = dict(facts.dumps)
    if facts.local is not None:
        t = facts.local
        dumps["local"] = DumpSource("local", t.dbname, t.host, t.port, t.user, t.password)
    return replace(facts, debug=merged, db_host={**facts.db_host, **hosts}, dumps=dumps)


def local_debug(root: Path, source: Path, environ: Mapping[str, str]) -> tuple[bool | None, str]:
    """DEBUG from the environment, else from the project's `.env`."""
    from migdoctor.probes.envfile import read_env_file

    if "DEBUG" in environ:
        return _flag(environ["DEBUG"], "DEBUG in the environment")
    dotenv = read_env_file(root / ".env", environ)
    return _flag(dotenv.get("DEBUG"), "DEBUG in .env")


def _flag(value: object, where: str) -> tuple[bool | None, str]:
    if not isinstance(value, str):
        return None, ""
    lowered = value.strip().lower()
    known = True if lowered in TRUE else False if lowered in FALSE else None
    return known, f"{where} is {value.strip()!r}"


def settings_debug(source: Path) -> tuple[bool | None, str]:
    """`DEBUG = True` or `DEBUG = False` written in the settings, when all of them agree."""
    found: dict[bool, Path] = {}
    patterns = ("settings.py", "*/settings.py", "*/settings/*.py", "settings/*.py")
    for path in (p for pattern in patterns for p in sorted(source.glob(pattern))):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for value in _DEBUG_LITERAL.findall(text):
            found.setdefault(value == "True", path)
    if len(found) != 1:
        return None, ""
    value, path = next(iter(found.items()))
    return value, f"DEBUG = {value} in {path.relative_to(source).as_posix()}"


def _host_of(env: Mapping[str, object]) -> str:
    url = env.get("DATABASE_URL")
    if isinstance(url, str) and "://" in url:
        return urlsplit(url).hostname or ""
    host = env.get("POSTGRES_HOST")
    return host if isinstance(host, str) else ""


def is_local_host(host: str, services: Sequence[str] = ()) -> bool:
    return (host in LOCAL_HOSTS or host in services or host.startswith(("127.", "/"))
            or host.endswith(".localhost"))  # fmt: skip


def production(facts: Facts, context: str) -> str:
    """Why the target of `context` looks like production ("" when it does not)."""
    reasons = []
    debug, where = facts.debug.get(context, (None, ""))
    if debug is False:
        reasons.append(f"DEBUG is off: {where}")
    host = facts.db_host.get(context, "")
    if not is_local_host(host, facts.services):
        reasons.append(f"the database host {host} is not this machine")
    return "; ".join(reasons)


def probe_entities(facts: Facts, context: str, known: Mapping[str, str]) -> dict[str, str]:
    """Entity values the project itself gives: the database, its user, host and port, the web
    service, and the app of a table (`tickets_ticket` -> `tickets`)."""
    values: dict[str, str] = {"service": facts.web}
    dump = facts.dumps.get(context)
    if dump is not None:
        values.update(database=dump.dbname, user=dump.user)
    target = facts.target(context)
    if target is not None:
        values.update(host=target.host, port=str(target.port))
    relation = known.get("relation", "").removeprefix("public.")
    apps = sorted((a for a in facts.apps if relation.startswith(a + "_")), key=len, reverse=True)
    if apps:
        values["app_label"] = apps[0]
    return {k: v for k, v in values.items() if v and k not in known}
