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
APPLYING_REACH = 400  # lines: an `Applying` line further back belongs to another run


@dataclass
class Context:
    """What the whole input says around its hits; filled while scanning, read when scoring."""

    migration: bool = False
    django: bool = False
    other_framework: bool = False
    applying: list[tuple[int, str, str]] = field(default_factory=list)
    compose_service: str = ""

    def observe(self, lowered: str) -> None:
        self.migration = self.migration or any(m in lowered for m in MIGRATION_MARKERS)
        self.django = self.django or any(m in lowered for m in DJANGO_MARKERS)
        self.other_framework = self.other_framework or any(m in lowered for m in OTHER_FRAMEWORKS)

    def observe_line(self, no: int, text: str) -> None:
        applying = APPLYING.search(text)
        if applying:
            self.applying.append((no, applying["app_label"], applying["migration"]))
        command = COMPOSE_COMMAND.search(text)
        if command and not self.compose_service:
            self.compose_service = _service_of(command["rest"])

    def applying_before(self, no: int) -> tuple[str, str] | None:
        """The migration being applied when line `no` was printed."""
        best = None
        for line, app, migration in self.applying:
            if line <= no and no - line <= APPLYING_REACH:
                best = (app, migration)
        return best

    def adjustment(self) -> float:
        """How much the surroundings raise or lower a hit's weight."""
        if self.other_framework and not self.django:
            return -0.35
        if self.other_framework:
            return -0.1
        return 0.04 if self.migration else 0.0


def _service_of(rest: str) -> str:
    """The first argument after exec/run that is not an option."""
    for token in COMPOSE_ARG.findall(rest):
        if not token.startswith("-"):
            return token if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", token) else ""
    return ""
