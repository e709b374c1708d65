"""Settings of the migdoctor lab project.

Everything that differs between a laptop, the ``web`` container and CI comes from the
environment (the compose file passes ``.env`` with ``env_file``):

- ``POSTGRES_DB``, ``POSTGRES_USER``, ``POSTGRES_PASSWORD``, ``POSTGRES_HOST`` (default ``db``),
  ``POSTGRES_PORT`` (default 5432): the PostgreSQL database, the default engine.
- ``DATABASE_ENGINE``: ``postgresql`` (default), ``sqlite`` (file ``SQLITE_PATH``, default
  ``db.sqlite3`` next to ``manage.py``) or ``mysql`` (MariaDB/MySQL, ``MYSQL_DATABASE``,
  ``MYSQL_USER``, ``MYSQL_PASSWORD``, ``MYSQL_HOST``, ``MYSQL_PORT``).
- ``DEBUG`` (``1``/``true``/``yes`` to enable), ``DJANGO_SECRET_KEY``, ``DJANGO_ALLOWED_HOSTS``.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "lab-insecure-secret-key-for-local-use-only")
DEBUG = env_flag("DEBUG")
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "tickets",
    "kb",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"


def postgres_database() -> dict[str, object]:
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("POSTGRES_DB", "lab"),
        "USER": os.environ.get("POSTGRES_USER", "postgres"),
        "PASSWORD": os.environ.get("POSTGRES_PASSWORD", ""),
        "HOST": os.environ.get("POSTGRES_HOST", "db"),
        "PORT": os.environ.get("POSTGRES_PORT", "5432"),
    }


def sqlite_database() -> dict[str, object]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
    }


def mysql_database() -> dict[str, object]:
    try:
        import MySQLdb  # noqa: F401  (mysqlclient, the driver Django documents)
    except ImportError:
        try:
            import pymysql
        except ImportError:
            pass  # Django reports the missing driver itself
        else:
            pymysql.install_as_MySQLdb()
    return {
        "ENGINE": "django.db.backends.mysql",
        "NAME": os.environ.get("MYSQL_DATABASE", "lab"),
        "USER": os.environ.get("MYSQL_USER", "root"),
        "PASSWORD": os.environ.get("MYSQL_PASSWORD", ""),
        "HOST": os.environ.get("MYSQL_HOST", "127.0.0.1"),
        "PORT": os.environ.get("MYSQL_PORT", "3306"),
        "OPTIONS": {"charset": "utf8mb4"},
    }


DATABASE_BUILDERS = {
    "postgresql": postgres_database,
    "sqlite": sqlite_database,
    "mysql": mysql_database,
}


def database() -> dict[str, object]:
    engine = os.environ.get("DATABASE_ENGINE", "postgresql")
    if engine not in DATABASE_BUILDERS:
        from django.core.exceptions import ImproperlyConfigured

        choices = ", ".join(DATABASE_BUILDERS)
        raise ImproperlyConfigured(f"DATABASE_ENGINE={engine!r} is not one of: {choices}")
    return DATABASE_BUILDERS[engine]()


DATABASES = {"default": database()}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
