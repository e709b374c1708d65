"""Entity types: every value pulled out of pasted text is validated before any use."""

from __future__ import annotations

import re

from migdoctor.match.regexes import compiled

_IDENT = r"[A-Za-z_][A-Za-z0-9_$]*"
TYPES: dict[str, str] = {  # compiled on first use: most runs validate a few values
    "identifier": rf"{_IDENT}",
    "relation": rf"{_IDENT}(?:\.{_IDENT})?",
    # A dotted module path is what users often type where a label belongs; kept to say so.
    "app_label": r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*",
    "migration": r"\d{4,}(?:_\w+)?|zero",
    "host": r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252})|\[?[0-9A-Fa-f:.]+\]?",
    "port": r"[1-9][0-9]{0,4}",
    "database": r"[A-Za-z0-9_/.][A-Za-z0-9_$./:-]{0,254}",  # SQLite names are paths
    "user": r"[A-Za-z0-9_][A-Za-z0-9_$.@-]{0,62}",
    "service": r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    "model": rf"(?:{_IDENT}\.)?{_IDENT}",
    "text": r"[^\x00-\x1f]{1,200}",
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
    if not compiled(rule).fullmatch(value):
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
