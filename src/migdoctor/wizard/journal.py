"""The journal of executed steps: one JSON line each in the user's state folder, no secrets.

`${XDG_STATE_HOME:-~/.local/state}/migdoctor/journal.jsonl`. Each line holds the time (UTC, ISO
8601), the playbook and option, the context, the argv, the extra environment (secret values
starred) and the exit code. Passwords are removed from argv, env and URLs before writing.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MASK = "***"
SECRET_WORDS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY")
_URL_LOGIN = re.compile(r"(?P<head>\b[A-Za-z][\w+.-]*://[^:/@\s]*:)[^@\s]*(?=@)")
_ASSIGNED = re.compile(r"(?P<name>[\w.-]*(?:password|passwd|secret|token|key)[\w.-]*)"
                       r"(?P<sep>\s*[=:]\s*)(?P<value>'[^']*'|\"[^\"]*\"|\S+)", re.I)


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local/state")
    return Path(base) / "migdoctor"


def journal_path(environ: Mapping[str, str] | None = None) -> Path:
    return state_dir(environ) / "journal.jsonl"


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    return any(word in upper for word in SECRET_WORDS)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without URL passwords, `password=...` values, or any of `secrets`."""
    text = _URL_LOGIN.sub(rf"\g<head>{MASK}", text)
    text = _ASSIGNED.sub(_mask_assigned, text)
    for secret in sorted((s for s in secrets if len(s) >= 3), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def _mask_assigned(m: re.Match[str]) -> str:
    """`password=VALUE` starred, unless VALUE only names a variable (`"$POSTGRES_PASSWORD"`)."""
    if m["value"].lstrip("\"'").startswith("$"):
        return m.group(0)
    return f"{m['name']}{m['sep']}{MASK}"


def redact_argv(argv: Iterable[str], secrets: Iterable[str] = ()) -> list[str]:
    """Each argument redacted; the argument after `--password`/`-W`-style flags starred too."""
    known = tuple(secrets)
    out: list[str] = []
    for arg in argv:
        hidden = bool(out) and out[-1].lstrip("-").lower() in ("password", "passwd")
        out.append(MASK if hidden else redact(arg, known))
    return out


def redact_env(env: Mapping[str, str], secrets: Iterable[str] = ()) -> dict[str, str]:
    known = tuple(secrets)
    return {k: MASK if is_secret_name(k) else redact(v, known) for k, v in env.items()}


@dataclass(frozen=True)
class Entry:
    """One executed step as the journal keeps it (already redacted)."""

    time: str
    playbook: str
    option: str
    context: str
    argv: tuple[str, ...]
    exit_code: int | None
    env: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"time": self.time, "playbook": self.playbook, "option": self.option,
                "context": self.context, "argv": list(self.argv), "env": self.env,
                "exit_code": self.exit_code}  # fmt: skip


def entry(playbook: str, option: str, context: str, argv: Iterable[str], exit_code: int | None,
          env: Mapping[str, str] | None = None, secrets: Iterable[str] = ()) -> Entry:
    known = tuple(secrets)
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return Entry(now, playbook, option, context, tuple(redact_argv(argv, known)), exit_code,
                 redact_env(env or {}, known))  # fmt: skip


@dataclass(frozen=True)
class Journal:
    """Appends entries to `path` (created with its folder, readable by the user only)."""

    path: Path

    def write(self, item: Entry) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(item.as_dict(), ensure_ascii=False) + "\n")

    def read(self) -> Iterator[dict[str, Any]]:
        """Every entry, oldest first; a line that is not JSON is skipped."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return
        for line in lines:
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(item, dict):
                yield item
