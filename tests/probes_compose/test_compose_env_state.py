"""Environment comparisons and container states from the engine's data, without an engine."""

from __future__ import annotations

from typing import Any

import pytest

from migdoctor.kb.loader import KnowledgeBase
from migdoctor.probes import ProbeFinding
from migdoctor.probes.compose_env import (
    EnvIssue,
    database_url_settings,
    diff_environment,
    diff_postgres,
    env_issue_finding,
    env_value,
    redact,
)
from migdoctor.probes.compose_state import (
    ContainerState,
    container_state,
    diagnose_log,
    log_findings,
    main_container,
    secret_values,
    service_findings,
)

SECRET = "s3cr3t-value-42"


def _attrs(service: str, status: str = "running", *, number: int = 1, exit_code: int = 0,
           restarts: int = 0, health: str | None = None, oneoff: bool = False,
           env: tuple[str, ...] = ()) -> dict[str, Any]:
    """Inspect data in the shape the engine returns (only the keys the probe reads)."""
    state: dict[str, Any] = {"Status": status, "ExitCode": exit_code}
    if health:
        state["Health"] = {"Status": health, "FailingStreak": 3}
    return {
        "Id": f"{service}{number}" * 8,
        "Name": f"/shop-{service}-{number}",
        "RestartCount": restarts,
        "State": state,
        "Config": {
            "Image": "app:dev",
            "Env": list(env),
            "Labels": {"com.docker.compose.project": "shop", "com.docker.compose.service": service,
                       "com.docker.compose.container-number": str(number),
                       "com.docker.compose.oneoff": "True" if oneoff else "False",
                       "com.docker.compose.version": "2.26.1"},
        },
    }


def test_container_state_from_inspect_data() -> None:
    attrs = _attrs("db", "exited", exit_code=137, restarts=2, env=(
        f"POSTGRES_PASSWORD={SECRET}", "POSTGRES_DB=shop", "EMPTY=", "PATH=/usr/bin"))
    state = container_state(attrs)
    assert state == ContainerState(
        id="db1" * 8, name="shop-db-1", service="db", number=1, state="exited", health=None,
        restart_count=2, exit_code=137, oneoff=False, image="app:dev", compose_version="2.26.1",
        environment={"POSTGRES_PASSWORD": env_value("POSTGRES_PASSWORD", SECRET),
                     "POSTGRES_DB": "shop", "EMPTY": "", "PATH": "/usr/bin"},
    )
    assert SECRET not in repr(state)
    assert secret_values(attrs) == frozenset({SECRET})


def test_database_url_of_a_container_is_read_then_hidden() -> None:
    url = f"postgres://shop:{SECRET}@127.0.0.1:5433/shop_db"
    state = container_state(_attrs("web", env=(f"DATABASE_URL={url}",)))
    assert state.environment == {"DATABASE_URL": "postgres://shop:<secret>@127.0.0.1:5433/shop_db"}
    assert state.database_url == {
        "POSTGRES_DB": "shop_db", "POSTGRES_USER": "shop",
        "POSTGRES_PASSWORD": env_value("POSTGRES_PASSWORD", SECRET)}
    assert SECRET not in repr(state)


def test_main_container_prefers_a_running_one() -> None:
    states = [container_state(a) for a in (
        _attrs("web", "exited", number=1), _attrs("web", number=2),
        _attrs("web", number=3, oneoff=True))]
    chosen = main_container(states, "web")
    assert chosen is not None and chosen.name == "shop-web-2"
    assert main_container(states, "db") is None


@pytest.mark.parametrize(
    ("attrs", "messages"),
    [
        pytest.param([_attrs("db"), _attrs("web")], [], id="all-running"),
        pytest.param([_attrs("db", "exited", exit_code=1), _attrs("web")],
                     ["service db is not running: shop-db-1 is exited, exit code 1"], id="db-exited"),
        pytest.param([_attrs("db", "restarting", exit_code=1, restarts=7), _attrs("web")],
                     ["service db is not running: shop-db-1 is restarting, exit code 1, "
                      "restarted 7 times"], id="db-restarting"),
        pytest.param([_attrs("db", health="unhealthy"), _attrs("web")],
                     ["service db runs but is unhealthy (shop-db-1)"], id="db-unhealthy"),
        pytest.param([_attrs("db")],
                     ["service web has no container (it was never started, or was removed)"],
                     id="web-never-started"),
        pytest.param([_attrs("db"), _attrs("web"), _attrs("migrate", "exited", exit_code=0)], [],
                     id="one-shot-job-done"),
        pytest.param([_attrs("db"), _attrs("web"), _attrs("worker", "exited", exit_code=2)],
                     ["service worker is not running: shop-worker-1 is exited, exit code 2"],
                     id="other-service-crashed"),
        pytest.param([_attrs("web", oneoff=True)],
                     ["no container of project shop exists: the stack is not up (or runs under "
                      "another project name)"], id="only-a-run-container"),
    ],
)
def test_service_findings(attrs: list[dict[str, Any]], messages: list[str]) -> None:
    states = [container_state(a) for a in attrs]
    found = service_findings("shop", ["db", "web", "migrate", "worker"], states, ("db", "web"))
    assert [f.message for f in found] == messages
    assert {f.label for f in found} <= {"compose-service-not-running"}


@pytest.mark.parametrize(
    ("expected", "received", "issues"),
    [
        pytest.param({"A": "1"}, {"A": "1", "PATH": "/bin"}, [], id="same"),
        pytest.param({"A": "1"}, {}, [EnvIssue("web", "A", "missing", "compose file")],
                     id="missing"),
        pytest.param({"A": "1"}, {"A": "2"},
                     [EnvIssue("web", "A", "differs", "compose file",
                               "container has '2', compose file has '1'")], id="differs"),
        pytest.param({"API_TOKEN": "a"}, {"API_TOKEN": "b"},
                     [EnvIssue("web", "API_TOKEN", "differs", "compose file",
                               "the values differ (not shown: a secret)")], id="secret-differs"),
    ],
)
def test_diff_environment(expected: dict[str, str], received: dict[str, str],
                          issues: list[EnvIssue]) -> None:
    assert diff_environment("web", redact(expected), redact(received)) == issues


@pytest.mark.parametrize(
    ("web", "db", "expected"),
    [
        pytest.param({"POSTGRES_DB": "shop"}, {"POSTGRES_DB": "shop"}, [], id="agree"),
        pytest.param({"POSTGRES_DB": "shop"}, {"POSTGRES_DB": "store"}, [(
            "db-missing", "POSTGRES_DB differs between services web and db: web has 'shop', "
                          "db has 'store'")], id="db-name"),
        pytest.param({"POSTGRES_USER": "app"}, {"POSTGRES_USER": "postgres"}, [(
            "db-auth-failed", "POSTGRES_USER differs between services web and db: web has 'app', "
                              "db has 'postgres'")], id="user"),
        pytest.param({"POSTGRES_PASSWORD": "a"}, {"POSTGRES_PASSWORD": "b"}, [(
            "db-auth-failed", "POSTGRES_PASSWORD differs between services web and db: the values "
                              "differ (not shown: a secret)")], id="password"),
        pytest.param({}, {"POSTGRES_PASSWORD": "b"}, [], id="web-without-settings"),
    ],
)
def test_diff_postgres(web: dict[str, str], db: dict[str, str],
                       expected: list[tuple[str, str]]) -> None:
    issues = diff_postgres("web", redact(web), "db", redact(db))
    assert [(env_issue_finding(i).label, env_issue_finding(i).message) for i in issues] == expected


def test_diff_postgres_reads_the_web_database_url() -> None:
    url = {"DATABASE_URL": "postgresql://shop:wrong@127.0.0.1/shop"}
    web = {**database_url_settings(url), **redact(url)}
    issues = diff_postgres("web", web, "db", redact({"POSTGRES_PASSWORD": "right",
                                                      "POSTGRES_USER": "shop", "POSTGRES_DB": "shop"}))
    assert [(i.variable, i.detail) for i in issues] == [
        ("POSTGRES_PASSWORD", "the values differ (not shown: a secret)")]


def test_env_issue_findings_name_the_remedy() -> None:
    assert env_issue_finding(EnvIssue("web", "POSTGRES_HOST", "missing", "compose file")) == ProbeFinding(
        "env-missing", "env-file-missing",
        "the container of service web lacks POSTGRES_HOST from the compose file",
        "recreate it so that it gets the current settings: docker compose up -d web",
    )


DB_LOG = f"""\
2026-11-25 04:52:02.986 UTC [42] LOG:  database system is ready to accept connections
2026-11-25 04:53:10.101 UTC [77] FATAL:  password authentication failed for user "shop"
2026-11-25 04:53:10.101 UTC [77] DETAIL:  Connection matched pg_hba.conf line 99: "host all all all scram-sha-256" {SECRET}
"""


def test_a_log_is_diagnosed_with_its_secrets_masked(knowledge: KnowledgeBase) -> None:
    attrs = _attrs("db", env=(f"POSTGRES_PASSWORD={SECRET}",))
    state = container_state(attrs)
    diagnosis = diagnose_log(state, DB_LOG.encode(), knowledge, secret_values(attrs))
    assert (diagnosis.service, diagnosis.container, diagnosis.lines) == ("db", "shop-db-1", 3)
    assert [(f.playbook.id, f.entities.get("user")) for f in diagnosis.findings][:1] == [
        ("db-auth-failed", "shop")]
    (first, *_) = log_findings(diagnosis)
    assert (first.kind, first.label, first.line) == ("log", "db-auth-failed", 2)
    assert first.message.endswith('FATAL:  password authentication failed for user "shop"')
    assert SECRET not in repr(diagnosis) + repr(log_findings(diagnosis))


def test_a_secret_on_the_matched_line_is_masked(knowledge: KnowledgeBase) -> None:
    attrs = _attrs("db", env=(f"POSTGRES_PASSWORD={SECRET}",))
    log = f'2026-11-25 04:53:10.101 UTC [77] FATAL:  role "{SECRET}" does not exist\n'
    diagnosis = diagnose_log(container_state(attrs), log.encode(), knowledge, secret_values(attrs))
    (finding, *_) = log_findings(diagnosis)
    assert finding.message.endswith('FATAL:  role "<secret>" does not exist')
    assert SECRET not in repr(diagnosis)
