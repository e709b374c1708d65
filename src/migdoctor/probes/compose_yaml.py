"""Compose files as data: read, interpolate `${VAR}` and merge services the way Compose does.

Only the service keys migdoctor reads are merged with their own rules (environment, env_file,
ports, depends_on, healthcheck, build, labels); every other key of an override replaces the base.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|(?P<named>[A-Za-z_]\w*)"
    r"|\{(?P<braced>[A-Za-z_]\w*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\})"
)
_YAML12_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_YAML12_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_MAP_MERGED = ("environment", "labels", "healthcheck", "depends_on")
_LIST_APPENDED = ("env_file", "ports")


class ComposeFileError(Exception):
    """A compose file that cannot be read or is not a mapping of the shape Compose accepts."""


class _Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 scalars as Compose reads them: `on`, `yes`, `5433:5432`, `0755` stay strings."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (
        "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _YAML12_BOOL, list("tTfF"))
_Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:int", _YAML12_INT, list("-+0123456789"))


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    return int(text, 0) if text[:2] in ("0o", "0x") else int(text, 10)


_Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def read_compose_file(path: Path) -> dict[str, Any]:
    """The YAML document of one compose file, checked to be a mapping with mapping `services`."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Yaml12Loader)
    except (OSError, UnicodeDecodeError) as exc:
        raise ComposeFileError(f"cannot read {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ComposeFileError(f"{path} is not valid YAML: {_first_line(exc)}") from exc
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ComposeFileError(f"{path} is not a mapping at its top level")
    services = data.get("services") or {}
    if not isinstance(services, dict) or not all(
        isinstance(s, dict) or s is None for s in services.values()
    ):
        raise ComposeFileError(f"{path}: `services` must map service names to mappings")
    return data


def _first_line(exc: yaml.YAMLError) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """`value` with `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alt}`, `$$` resolved from `env`."""
    if isinstance(value, str):
        return _VARIABLE.sub(lambda m: _substitute(m, env), value)
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    return value


def _substitute(match: re.Match[str], env: Mapping[str, str]) -> str:
    if match["escaped"]:
        return "$"
    name = match["named"] or match["braced"]
    op, arg = match["op"] or "", interpolate(match["arg"] or "", env)
    value = env.get(name)
    is_set = value is not None
    usable = bool(value) if op.startswith(":") else is_set
    if op.endswith("-"):
        return value if usable and value is not None else arg
    if op.endswith("+"):
        return arg if usable else ""
    return value or ""  # plain, and `?` (Compose refuses to run; the probe reads on)


def environment_map(raw: Any) -> dict[str, str | None]:
    """`environment:` in list form (`K=V`, `K`) or map form, as name -> value (None: unset)."""
    if isinstance(raw, dict):
        return {str(k): _scalar(v) for k, v in raw.items()}
    result: dict[str, str | None] = {}
    for item in raw or ():
        name, sep, value = str(item).partition("=")
        result[name] = value if sep else None
    return result


def _scalar(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def depends_on_map(raw: Any) -> dict[str, dict[str, Any]]:
    """`depends_on:` as a list of names or a map of name -> {condition, required}."""
    if isinstance(raw, dict):
        return {str(k): dict(v or {}) for k, v in raw.items()}
    return {str(name): {} for name in raw or ()}


def as_list(raw: Any) -> list[Any]:
    if raw is None:
        return []
    return list(raw) if isinstance(raw, list) else [raw]


def merge_files(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """One document from several, later files overriding earlier ones (`-f a -f b`)."""
    merged: dict[str, Any] = {"services": {}}
    for doc in documents:
        for key, value in doc.items():
            if key != "services":
                merged[key] = value
        for name, service in (doc.get("services") or {}).items():
            base = merged["services"].get(name, {})
            merged["services"][name] = merge_service(base, service or {})
    return merged


def merge_service(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in override.items():
        if key not in base:
            result[key] = value
        elif key in _MAP_MERGED:
            result[key] = {**_as_map(key, base[key]), **_as_map(key, value)}
        elif key in _LIST_APPENDED:
            old = as_list(base[key])
            result[key] = old + [item for item in as_list(value) if item not in old]
        elif key == "build" and isinstance(base[key], dict) and isinstance(value, dict):
            result[key] = {**base[key], **value}
        else:
            result[key] = value
    return result


def _as_map(key: str, raw: Any) -> dict[str, Any]:
    if key == "depends_on":
        return depends_on_map(raw)
    if key in ("environment", "labels"):
        return environment_map(raw)
    return dict(raw or {})

