"""Evidence around a hit: migration context, other frameworks, and entities from nearby lines."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Django's own words while migrating: a database error among them is a migration problem.
MIGRATION_MARKERS = (
    "running migrations", "applying ", "unapplying ", "manage.py migrate", "makemigrations",
    "django.db.migrations", "operations to perform", "migrate --", " migrate ",
)
DJANGO_MARKERS = ("django", "manage.py")
# Other frameworks print the same database errors; their markers make a Django claim unlikely.
OTHER_FRAMEWORKS = (
    "alembic", "sqlalchemy", "illuminate\\", "laravel", "artisan", "liquibase", "flyway",
    "activerecord", "rake db:", "rails", "prisma", "knex", "sequelize", "typeorm", "doctrine",
    "golang-migrate", "gorm", "hibernate", "flask db", "phinx", "ecto",
)
APPLYING = re.compile(r"\b(?:Un)?[Aa]pplying (?P<app_label>[A-Za-z_]\w*)\.(?P<migration>\d{4,}\w*)")
# `docker compose [-f x] exec|run [--rm] [-e K=V] SERVICE ...`: the service a command ran in.
COMPOSE_COMMAND = re.compile(
    r"docker(?:-| )compose\b[^|\n]{0,200}?\b(?:exec|run)\b(?P<rest>.{0,300})"
)
COMPOSE_ARG = re.compile(r"\s*(-[\w-]+(?:[= ](?:\S+=\S*|/\S*|\d\S*))?|\S+)")
# Weaker than an `Applying` line: migrations and apps named in prose or in the command run.
MENTIONS = re.compile(
    r"(?P<app>\b[A-Za-z_]\w*)[.:](?P<migration>\d{4}(?:_\w+)?)\b"
    r"|\bmigration(?: of)?(?: file)?[ \t]+`?(?P<migration__2>\d{4}(?:_\w+)?)\b"
    r"|\b(?P<migration__3>\d{4}_[A-Za-z]\w*)\b"
    r"|manage\.py[ \t]+(?:makemigrations|migrate|sqlmigrate|showmigrations|squashmigrations)"
    r"[ \t]+(?P<app__2>[A-Za-z_][\w.]*)"
)
# libpq names the server it tried: `connection to server at "db" (172.18.0.2), port 5432 failed`.
SERVER = re.compile(
    r'connection to server at "(?P<host>[^"\s]{1,253})"(?: \([^)\s]{1,45}\))?,'
    r" port (?P<port>\d{1,5})"
)
REACH = 400  # lines: an `Applying` line or a command further back belongs to another run
BUCKET = 8192  # markers are remembered per 8 KiB of input: bounded work on a log of any size
NEAR = 4  # buckets each side of a hit that count as its surroundings


@dataclass
class Context:
    """What the input says around its hits; filled while scanning, read when scoring."""

    markers: dict[str, set[int]] = field(default_factory=dict)  # kind -> buckets seen in
    applying: list[tuple[int, str, str]] = field(default_factory=list)
    services: list[tuple[int, str]] = field(default_factory=list)
    mentions: list[tuple[int, str, str]] = field(default_factory=list)  # line, entity, value
    servers: list[tuple[int, str, str]] = field(default_factory=list)  # line, host, port

    def observe(self, lowered: str, base: int) -> None:
        """Note where markers occur in a chunk that starts at byte `base` of the input."""
        for kind, words in (("migration", MIGRATION_MARKERS), ("django", DJANGO_MARKERS),
                            ("other", OTHER_FRAMEWORKS)):
            seen = self.markers.setdefault(kind, set())
            for word in words:
                at = lowered.find(word)
                while at >= 0:
                    if not _whole_word(lowered, at, len(word)):
                        at = lowered.find(word, at + 1)
                        continue
                    bucket = (base + at) // BUCKET
                    seen.add(bucket)
                    at = lowered.find(word, (bucket + 1) * BUCKET - base)

    def observe_line(self, no: int, text: str) -> None:
        applying = APPLYING.search(text)
        # `Applying x.0003... OK` finished; the one without OK is the one that failed.
        if applying and not text.rstrip().endswith("OK"):
            self.applying.append((no, applying["app_label"], applying["migration"]))
        server = SERVER.search(text)
        if server:
            self.servers.append((no, server["host"], server["port"]))
        command = COMPOSE_COMMAND.search(text)
        service = _service_of(command["rest"]) if command else ""
        if service:
            self.services.append((no, service))

    def observe_mentions(self, text: str, first_no: int) -> None:
        """Migrations and apps named anywhere in a paste (not run on whole logs)."""
        for found in MENTIONS.finditer(text):
            no = first_no + text.count("\n", 0, found.start())
            for group, value in found.groupdict().items():
                if value:
                    name = "app_label" if group.startswith("app") else "migration"
                    self.mentions.append((no, name, value))

    def mentioned(self, name: str, no: int) -> str:
        """The mention of `name` nearest before line `no`, else the first after it."""
        values = [(line, value) for line, kind, value in self.mentions if kind == name]
        before = [v for line, v in values if line <= no]
        return before[-1] if before else (values[0][1] if values else "")

    def applying_before(self, no: int) -> tuple[str, str] | None:
        """The migration being applied when line `no` was printed. Compose may flush that
        `Applying` line only after the traceback, so an unfinished one just after counts too."""
        found = _nearest_before(self.applying, no)
        if found is None:
            after = [(app, mig) for line, app, mig in self.applying if no < line <= no + REACH]
            found = after[0] if after else None
        return found

    def server_near(self, no: int) -> tuple[str, str] | None:
        """The server libpq named on or before line `no`."""
        return _nearest_before(self.servers, no)

    def service_before(self, no: int) -> str:
        found = _nearest_before([(line, s, "") for line, s in self.services], no)
        return found[0] if found else ""

    def adjustment(self, offset: int) -> float:
        """How much the surroundings of the hit at byte `offset` raise or lower its weight."""
        near = range(offset // BUCKET - NEAR, offset // BUCKET + NEAR + 1)
        has = {kind: any(b in seen for b in near) for kind, seen in self.markers.items()}
        if has.get("other") and not has.get("django"):
            return -0.35
        if has.get("other"):
            return -0.1
        return 0.04 if has.get("migration") else 0.0


def _whole_word(text: str, at: int, size: int) -> bool:
    """`ecto` in "directory" is no marker of Elixir's Ecto."""
    word = text[at:at + size]
    before = text[at - 1] if at > 0 and word[0].isalnum() else " "
    after = text[at + size] if at + size < len(text) and word[-1].isalnum() else " "
    return not (before.isalnum() or after.isalnum())


def _nearest_before(items: list[tuple[int, str, str]], no: int) -> tuple[str, str] | None:
    best = None
    for line, first, second in items:
        if line <= no + 1 and no - line <= REACH:
            best = (first, second)
    return best


def _service_of(rest: str) -> str:
    """The first argument after exec/run that is not an option."""
    for token in COMPOSE_ARG.findall(rest):
        if not token.startswith("-"):
            return token if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", token) else ""
    return ""
