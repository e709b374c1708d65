"""Which databases to probe, by name: the one given, the environment's, the local one, Docker's.

- `cli`: `--database-url URL`; then each `--database NAME=URL`. Given any, only these count.
- `env`: `DATABASE_URL` in the environment.
- `local`: the database a `python src/manage.py ...` run on this machine uses: `POSTGRES_*` (or
  `DATABASE_URL`) of the project's `.env`, the environment's `POSTGRES_*` winning. A host that
  names a Compose service (`db`) does not resolve here: it means 127.0.0.1 and the db service's
  published port (its own port under `network_mode: host`).
- `docker`: the database of the Compose db service, the one `docker compose exec web python
  src/manage.py ...` uses: `db:5432` inside Compose, its `POSTGRES_*` from the service's env
  files and `environment:`, probed from here through its published port.

`local` and `docker` are often two different servers with two different histories: the names and
`source` of the targets say which is which. A password is never part of a repr, str or message.

`Target` and the URLs it is read from are in `db_target`; its public names are importable from
here as well.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final

from migdoctor.errors import MigdoctorError
from migdoctor.probes.compose_config import interpolation_env, load_config
from migdoctor.probes.compose_service import ServiceConfig
from migdoctor.probes.compose_yaml import (
    ComposeFileError,
    environment_map,
    interpolate,
    read_compose_file,
)
from migdoctor.probes.db_target import DEFAULT_PORT, SCHEMES, Target, parse_named, parse_url
from migdoctor.probes.envfile import read_env_file

__all__ = [  # the public names, defined here or in db_target
    "DEFAULT_PORT", "LOOPBACK", "SCHEMES", "DbService", "Resolution", "Target", "docker_target",
    "local_target", "parse_named", "parse_url", "read_db_service", "resolve_targets",
]  # fmt: skip

LOOPBACK: Final = "127.0.0.1"


@dataclass(frozen=True)
class Resolution:
    """The targets, in order, and notes on what could not be resolved or is worth knowing."""

    targets: tuple[Target, ...]
    notes: tuple[str, ...] = ()

    def get(self, name: str) -> Target | None:
        return next((t for t in self.targets if t.name == name), None)


def resolve_targets(
    root: Path | None,
    environ: Mapping[str, str],
    database_url: str | None = None,
    named: Sequence[str] = (),
    compose_files: Sequence[str | Path] = (),
) -> Resolution:
    """The targets to probe, in order (see the module's docstring).

    Given URLs that cannot be read raise `MigdoctorError`; discovered ones become notes.
    """
    explicit = [parse_url(database_url)] if database_url else []
    explicit += [parse_named(spec) for spec in named]
    if explicit:
        _check_unique(explicit)
        return Resolution(tuple(explicit))
    env, notes = _discovered(lambda: (_env_target(environ), ()))
    if root is None:
        return Resolution(tuple(t for t in (env,) if t), notes)
    compose = read_db_service(root, environ, compose_files)
    local, local_notes = _discovered(lambda: local_target(root, environ, compose))
    docker, docker_notes = docker_target(compose)
    found = tuple(t for t in (env, local, docker) if t is not None)
    return Resolution(found, (*notes, *local_notes, *docker_notes, *_same(local, docker)))


def _discovered(
    resolve: Callable[[], tuple[Target | None, tuple[str, ...]]],
) -> tuple[Target | None, tuple[str, ...]]:
    """A discovered target, or a note saying why its settings cannot be read."""
    try:
        return resolve()
    except MigdoctorError as exc:
        return None, (exc.message,)


def _env_target(environ: Mapping[str, str]) -> Target | None:
    url = environ.get("DATABASE_URL")
    return parse_url(url, "env", "DATABASE_URL in the environment") if url else None


def _check_unique(targets: Sequence[Target]) -> None:
    names = [t.name for t in targets]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise MigdoctorError(f"two databases named {', '.join(twice)}", "give each a new name")


def _same(local: Target | None, docker: Target | None) -> tuple[str, ...]:
    if local is None or docker is None:
        return ()
    if (local.host, local.port, local.dbname) != (docker.host, docker.port, docker.dbname):
        return ()
    return (f"local and docker are the same database: {local.host}:{local.port}/{local.dbname}",)


@dataclass(frozen=True)
class DbService:
    """The Compose db service as targets need it: its env (with secrets) and how to reach it."""

    name: str
    services: frozenset[str]
    env: Mapping[str, str] = field(repr=False)
    port: int | None  # where the host reaches it: the published port, or its own (host network)
    host_ip: str = LOOPBACK
    host_network: bool = False

    @property
    def where(self) -> str:
        """How the other services reach it, and how this machine does."""
        if self.host_network:
            return f"network_mode: host, {self.host_ip}:{self.port} inside Compose and here"
        return f"{self.inside} inside Compose, published as {self.host_ip}:{self.port} here"

    @property
    def inside(self) -> str:
        return f"{self.name}:{_port(self.env.get('PGPORT'))}"


def read_db_service(
    root: Path, environ: Mapping[str, str], files: Sequence[str | Path] = ()
) -> DbService | None:
    """The db service of the project's compose files, or None when there is none."""
    config = load_config(root, files=files, environ=environ)
    service = config.service(config.db)
    if service is None:
        return None
    env = _service_env(service, config.files, interpolation_env(config.root, environ))
    port, host_ip = _host_port(service, env)
    return DbService(service.name, frozenset(config.services), env, port, host_ip,
                     service.network_mode == "host")  # fmt: skip


def _service_env(
    service: ServiceConfig,
    files: Sequence[Path],
    interpolation: Mapping[str, str],
) -> dict[str, str]:
    """The service's env as its container gets it: env files in order, then `environment:`.

    `ServiceConfig` keeps secrets as digests; the targets need the password itself, so the
    values are read again here, and kept out of every repr.
    """
    values: dict[str, str] = {}
    for ref in service.env_files:
        values.update(read_env_file(ref.resolved, interpolation).values)
    for path in files:
        try:
            raw = read_compose_file(path).get("services", {}).get(service.name) or {}
        except ComposeFileError:
            continue  # load_config has reported it
        given = environment_map(interpolate(raw.get("environment"), interpolation))
        values.update({k: v for k, v in given.items() if v is not None})
    return values


def _host_port(service: ServiceConfig, env: Mapping[str, str]) -> tuple[int | None, str]:
    """The port (and address) the host reaches the service's PostgreSQL on; None: not at all."""
    if service.network_mode == "host":
        return _port(env.get("PGPORT") or env.get("POSTGRES_PORT")), LOOPBACK
    inside = _port(env.get("PGPORT"))
    for mapping in service.ports:
        if mapping.target == inside and mapping.published and mapping.protocol == "tcp":
            loopback = mapping.host_ip in ("", "0.0.0.0", "::", "127.0.0.1")
            return mapping.published, LOOPBACK if loopback else mapping.host_ip
    return None, LOOPBACK


def _port(value: str | None) -> int:
    value = (value or "").strip()
    return int(value) if value.isdigit() else DEFAULT_PORT


def docker_target(db: DbService | None) -> tuple[Target | None, tuple[str, ...]]:
    """The Compose db service's database, as reached from this machine."""
    if db is None:
        return None, ()
    if db.port is None:
        note = (f"docker: the Compose service {db.name} publishes no port: its database is "
                f"reachable only inside Compose ({db.inside})")  # fmt: skip
        return None, (note,)
    user = db.env.get("POSTGRES_USER") or "postgres"
    source = f"Compose service {db.name}: {db.where}"
    target = Target("docker", db.host_ip, db.port, db.env.get("POSTGRES_DB") or user, user,
                    db.env.get("POSTGRES_PASSWORD", ""), source, container=True)  # fmt: skip
    return target, ()


def local_target(
    root: Path, environ: Mapping[str, str], db: DbService | None
) -> tuple[Target | None, tuple[str, ...]]:
    """What `python src/manage.py` run here connects to: `.env`, the environment winning."""
    dotenv = read_env_file(root / ".env", environ)
    shell = {k: v for k, v in environ.items() if k.startswith("POSTGRES_")}
    in_file = any(k.startswith("POSTGRES_") for k in dotenv.values)
    if not (in_file or shell):
        if "DATABASE_URL" not in dotenv.values:
            return None, ()
        return _as_seen_from_here(parse_url(dotenv.values["DATABASE_URL"], "local",
                                            "DATABASE_URL in .env"), db)  # fmt: skip
    origin = " and ".join(o for o, used in ((".env", in_file), ("the environment", shell)) if used)
    target = _from_postgres_vars({**dotenv.values, **shell}, f"POSTGRES_* in {origin}")
    return _as_seen_from_here(target, db)


def _from_postgres_vars(values: Mapping[str, str], source: str) -> Target:
    user = values.get("POSTGRES_USER") or "postgres"
    port = values.get("POSTGRES_PORT", "").strip() or str(DEFAULT_PORT)
    if not port.isdigit():
        raise MigdoctorError(f"{source}: POSTGRES_PORT is not a number", "")
    return Target("local", values.get("POSTGRES_HOST") or "localhost", int(port),
                  values.get("POSTGRES_DB") or user, user, values.get("POSTGRES_PASSWORD", ""),
                  source)  # fmt: skip


def _as_seen_from_here(
    target: Target, db: DbService | None
) -> tuple[Target | None, tuple[str, ...]]:
    """A host that names a Compose service becomes the db service's address from here."""
    if db is None or target.host not in db.services:
        return target, ()
    if db.port is None:
        note = (f"local: {target.host} is a Compose service name, which does not resolve "
                f"outside Compose, and the service {db.name} publishes no port")  # fmt: skip
        return target, (note,)
    source = f"{target.source}; {target.host} is the Compose service, {db.host_ip}:{db.port} here"
    return replace(target, host=db.host_ip, port=db.port, source=source), ()
