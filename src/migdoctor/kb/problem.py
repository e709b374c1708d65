"""A broken playbook, located by file, line and key path."""

from __future__ import annotations

KeyPath = tuple[str | int, ...]


class PlaybookError(Exception):
    """A broken playbook: names the file, the line and the key path."""

    def __init__(self, source: str, line: int, path: KeyPath, message: str) -> None:
        self.source, self.line, self.path, self.message = source, line, path, message
        where = ".".join(str(p) for p in path) or "(top)"
        super().__init__(f"{source}:{line}: {where}: {message}")


def line_of(lines: dict[KeyPath, int], path: KeyPath) -> int:
    """The line of the deepest known prefix of `path`."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return 0
