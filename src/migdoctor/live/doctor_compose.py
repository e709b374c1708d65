"""The doctor's Docker checks: the guide's "Cannot migrate in Docker" list, then the engine.

Compose file; `.env` exists and is loaded with `env_file:`; POSTGRES_* set and agreeing between
`web` and `db` (in the files, then in what the containers received); the daemon; the db service
running; the tail of its log through the matcher. Without a compose file they are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping

from migdoctor.kb.loader import KnowledgeBase
from migdoctor.live.checks import Check, from_probe, ok, skip
from migdoctor.live.gather import Handles, LiveOptions
from migdoctor.probes import ProbeFinding
from migdoctor.probes.compose import ComposeReport, probe
from migdoctor.probes.compose_config import ComposeConfig, load_config
from migdoctor.probes.compose_env import POSTGRES_SHARED, diff_postgres, env_issue_finding
from migdoctor.probes.project import Project

CONNECTION = frozenset({"db-connection-refused", "db-host-unresolved"})
TITLES = {"compose-file": "Compose file", "env-file": ".env loaded", "postgres-env":
          "POSTGRES_* variables", "docker-daemon": "Docker daemon", "db-service": "db service",
          "db-logs": "db log"}  # fmt: skip


def checks(
    project: Project, options: LiveOptions, handles: Handles, knowledge: KnowledgeBase,
    answering: bool = False,
) -> list[Check]:
    """The Docker checks. `answering`: the db service's database answers now (probed)."""
    config = load_config(project.root, files=options.compose_files, web=options.service,
                         environ=handles.environ)  # fmt: skip
    if not config.files:
        found = [f for f in config.findings if f.label == "compose-file-missing"]
        first = from_probe("compose-file", TITLES["compose-file"], found, knowledge)
        head = first if options.compose_files else skip("compose-file", first.title,
                                                        "no compose file: Docker not used")
        return [head, *(skip(id, TITLES[id], "no compose file") for id in list(TITLES)[1:])]
    report = live_report(config, handles, knowledge)
    return [compose_file_check(config, knowledge), env_file_check(project, config, report,
            knowledge), postgres_env_check(config, report, knowledge),
            *engine_checks(config, report, knowledge, answering)]  # fmt: skip


def live_report(
    config: ComposeConfig, handles: Handles, knowledge: KnowledgeBase
) -> ComposeReport | None:
    if handles.open_docker is None:
        return None
    client, status = handles.open_docker(handles.environ)
    try:
        return probe(config, client, status, knowledge)
    finally:
        if client is not None:
            client.close()


def compose_file_check(config: ComposeConfig, knowledge: KnowledgeBase) -> Check:
    found = [f for f in config.findings if f.label == "compose-file-missing"]
    if found:
        return from_probe("compose-file", TITLES["compose-file"], found, knowledge)
    names = ", ".join(p.name for p in config.files)
    roles = f"web: {config.web or '?'}, db: {config.db or '?'}"
    if config.web is None or config.db is None:
        return Check("compose-file", TITLES["compose-file"], "warn", f"{names} ({roles})",
                     "name the service that runs Django with --service NAME")  # fmt: skip
    return ok("compose-file", TITLES["compose-file"], f"{names} ({roles})")


def env_file_check(
    project: Project, config: ComposeConfig, report: ComposeReport | None,
    knowledge: KnowledgeBase,
) -> Check:
    title = TITLES["env-file"]
    received = report.findings if report else ()
    live = [f for f in received if f.kind in ("env-missing", "env-differs")]
    missing = [f for f in (*config.findings, *project.findings) if f.label == "env-file-missing"]
    if missing or live:
        return from_probe("env-file", title, missing or live, knowledge,
                          "fail" if missing else "warn")  # fmt: skip
    dotenv = config.root / ".env"
    users = [s.name for s in config.services.values()
             if any(ref.resolved == dotenv for ref in s.env_files)]  # fmt: skip
    if not dotenv.is_file():
        return Check("env-file", title, "warn", f"no .env in {config.root}",
                     "create it with the POSTGRES_* settings, and load it with env_file: .env")
    if not users:
        return Check("env-file", title, "warn", ".env exists, but no service loads it",
                     "add `env_file: .env` to the web and db services", "env-file-missing")
    return ok("env-file", title, f".env loaded by {', '.join(sorted(users))} (env_file)")


def postgres_env_check(
    config: ComposeConfig, report: ComposeReport | None, knowledge: KnowledgeBase
) -> Check:
    title = TITLES["postgres-env"]
    if config.web is None or config.db is None:
        return skip("postgres-env", title, "no web and db services to compare")
    web, db = config.expected_env.get(config.web, {}), config.expected_env.get(config.db, {})
    issues = diff_postgres(config.web, web, config.db, db)
    found = [env_issue_finding(i) for i in issues]
    found += [f for f in (report.findings if report else ()) if f.kind == "postgres-env-mismatch"]
    if found:
        return from_probe("postgres-env", title, found, knowledge, entities={"service": config.web})
    unset = _unset(config.web, web) + _unset(config.db, db, ("POSTGRES_PASSWORD",))
    if unset:
        return Check("postgres-env", title, "warn", f"not set: {', '.join(unset)}",
                     "set them in .env (POSTGRES_DB, POSTGRES_USER, POSTGRES_PASSWORD)")
    return ok("postgres-env", title, f"{config.web} and {config.db} agree on "
              f"{', '.join(POSTGRES_SHARED)}")


def _unset(
    service: str, env: Mapping[str, object], names: tuple[str, ...] = POSTGRES_SHARED
) -> list[str]:
    if "DATABASE_URL" in env or env.get("POSTGRES_HOST_AUTH_METHOD") == "trust":
        return []
    return [f"{service}: {name}" for name in names if not env.get(name)]


def engine_checks(
    config: ComposeConfig, report: ComposeReport | None, knowledge: KnowledgeBase,
    answering: bool = False,
) -> list[Check]:
    later = ("db-service", "db-logs")
    if report is None:
        return [skip(id, TITLES[id], "not probed") for id in ("docker-daemon", *later)]
    if not report.daemon.reachable:
        found = [f for f in report.findings if f.label == "docker-daemon-unreachable"]
        why = "the Docker daemon cannot be reached"
        return [from_probe("docker-daemon", TITLES["docker-daemon"], found, knowledge),
                *(skip(id, TITLES[id], why) for id in later)]
    daemon = ok("docker-daemon", TITLES["docker-daemon"],
                f"Docker {report.daemon.server_version} at {report.daemon.base_url}")
    return [daemon, service_check(config, report, knowledge),
            log_check(config, report, answering)]


def service_check(config: ComposeConfig, report: ComposeReport, knowledge: KnowledgeBase) -> Check:
    title = TITLES["db-service"]
    down = [f for f in report.findings if f.label == "compose-service-not-running"]
    about_db = [f for f in down if _names(f, config.db)]
    if about_db or (down and not report.containers):
        return from_probe("db-service", title, about_db or down, knowledge,
                          entities={"service": config.web or "web"})  # fmt: skip
    running = [c.name for c in report.containers if c.service == config.db and c.running]
    if down:
        return from_probe("db-service", title, down, knowledge, "warn")
    return ok("db-service", title, f"{config.db} is running ({', '.join(running)})")


def _names(found: ProbeFinding, service: str | None) -> bool:
    return service is not None and f"service {service} " in f"{found.message} "


def log_check(config: ComposeConfig, report: ComposeReport, answering: bool = False) -> Check:
    """The matcher's findings in the tail of the db log. Connection errors in it are history
    when the database answers now (a client that tried while the server was starting up)."""
    title = TITLES["db-logs"]
    logs = [d for d in report.logs if d.service == config.db]
    if not logs:
        return skip("db-logs", title, f"no container of {config.db} to read the log of")
    stale = [f for f in logs[0].findings if answering and f.playbook.id in CONNECTION]
    found = [f for f in logs[0].findings if f not in stale]
    if not found:
        earlier = f" ({len(stale)} earlier connection errors: it answers now)" if stale else ""
        return ok("db-logs", title, f"no known problem in the last {logs[0].lines} lines{earlier}",
                  [f.evidence[0].text.strip() for f in stale if f.evidence])
    first = found[0]
    line = first.evidence[0].text.strip() if first.evidence else first.playbook.title
    return Check("db-logs", title, "warn", f"{first.playbook.title}: {line[:200]}",
                 f"migdoctor docs {first.playbook.id}", first.playbook.id,
                 tuple(f.playbook.title for f in found[1:]), tuple(found))
