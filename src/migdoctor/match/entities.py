"""Entity types: every value pulled out of pasted text is validated before any use."""

from __future__ import annotations

import re

_IDENT = r"[A-Za-z_][A-Za-z0-9_$]*"
TYPES: dict[str, re.Pattern[str]] = {
    "identifier": re.compile(rf"{_IDENT}"),
    "relation": re.compile(rf"{_IDENT}(?:\.{_IDENT})?"),
    # A dotted module path is what users often type where a label belongs; kept to say so.
    "app_label": re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"),
    "migration": re.compile(r"\d{4,}(?:_\w+)?|zero"),
    "host": re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252})|\[?[0-9A-Fa-f:.]+\]?"),
    "port": re.compile(r"[1-9][0-9]{0,4}"),
    "database": re.compile(r"[A-Za-z0-9_/.][A-Za-z0-9_$./:-]{0,254}"),  # SQLite names are paths
    "user": re.compile(r"[A-Za-z0-9_][A-Za-z0-9_$.@-]{0,62}"),
    "service": re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*"),
    "model": re.compile(rf"(?:{_IDENT}\.)?{_IDENT}"),
    "text": re.compile(r"[^\x00-\x1f]{1,200}"),
}
# Values that look valid but must never be taken as an entity (placeholders in docs and tips).
_NEVER = {"app_label", "app_name", "migration_name", "<app>", "None"}


def normalize_value(kind: str, value: str) -> str:
    """Canonical form: Compose container names (`web_1`, `proj-web-1`) name the service `web`."""
    value = value.strip().strip("`'\"")
    if kind == "service":
        value = _service_of_container(value)
    if kind == "relation":
        value = value.removeprefix("public.")
    return value


def validate(kind: str, value: str) -> str | None:
    """Why `value` is not a valid `kind`, or None when it is."""
    rule = TYPES.get(kind)
    if rule is None:
        return f"unknown entity type {kind!r}"
    if value in _NEVER:
        return f"{value!r} is a placeholder, not a real {kind}"
    if not rule.fullmatch(value):
        return f"{value!r} is not a valid {kind}"
    if kind == "port" and int(value) > 65535:
        return f"{value!r} is not a valid port"
    return None


def _service_of_container(name: str) -> str:
    """Compose names containers PROJECT_SERVICE_N (v1) or PROJECT-SERVICE-N (v2)."""
    numbered = re.fullmatch(r"(.+?)([-_])\d+", name)
    if numbered is None:
        return name
    base, sep = numbered.groups()
    return base.rsplit(sep, 1)[-1]
