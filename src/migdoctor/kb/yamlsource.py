"""Read one YAML file into plain data plus a map from key path to line number."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from migdoctor.kb.problem import KeyPath, PlaybookError


def _walk(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            _walk(value, child, lines)
            lines[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)


def read_yaml(path: Path) -> tuple[Any, dict[KeyPath, int]]:
    """Parse `path`; syntax errors become a PlaybookError with the line of the problem."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=loader)
        data = yaml.load(text, Loader=loader)
    except (OSError, UnicodeDecodeError) as exc:
        raise PlaybookError(str(path), 0, (), f"cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlaybookError(str(path), line, (), f"invalid YAML: {problem}") from None
    lines: dict[KeyPath, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines
