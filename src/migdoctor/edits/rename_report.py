"""What `rename-migration` did (or, in a dry run, would do): as lines for a person and as JSON.

The JSON shape is stable: `app_label`, `old`, `new`, `dry_run`, `complete`, `file` (`old`,
`new`), `references` (`path`, `line`, `list`), `removed`, `databases` (`name`, `url`, `status`,
`detail`, `sql`), `notes`.
"""

from __future__ import annotations

from dataclasses import dataclass

from migdoctor.edits.history import (
    ALREADY_RENAMED,
    CONFLICT,
    NOT_APPLIED,
    RENAMED,
    SAME_DATABASE,
    UNREACHABLE,
    WOULD_RENAME,
    DatabaseResult,
)


@dataclass(frozen=True)
class Edit:
    """One reference rewritten: the file (as shown), its line, and the list it is in."""

    path: str
    line: int
    attribute: str


@dataclass(frozen=True)
class RenameReport:
    app_label: str
    old: str
    new: str
    old_path: str
    new_path: str
    edits: tuple[Edit, ...]
    removed: tuple[str, ...]
    databases: tuple[DatabaseResult, ...]
    notes: tuple[str, ...]
    dry_run: bool
    manual_sql: str

    @property
    def complete(self) -> bool:
        """Every database is consistent with the files (or would be, in a dry run)."""
        return all(db.done for db in self.databases)

    def as_dict(self) -> dict[str, object]:
        return {
            "app_label": self.app_label, "old": self.old, "new": self.new,
            "dry_run": self.dry_run, "complete": self.complete,
            "file": {"old": self.old_path, "new": self.new_path},
            "references": [{"path": e.path, "line": e.line, "list": e.attribute}
                           for e in self.edits],
            "removed": list(self.removed),
            "databases": [db.as_dict() for db in self.databases],
            "notes": list(self.notes),
        }  # fmt: skip

    def text(self) -> str:
        return "".join(f"{line}\n" for line in self._lines())

    def _lines(self) -> list[str]:
        would = self.dry_run
        head = "Would rename" if would else "Renamed"
        lines = [f"{head} {self.app_label}.{self.old} to {self.new}"
                 + (" (dry run: nothing changed)." if would else ".")]  # fmt: skip
        lines.append(f"  {'would move' if would else 'moved':<13}{self.old_path} -> "
                     f"{self.new_path}")  # fmt: skip
        verb = "would change" if would else "changed"
        lines += [f"  {verb:<13}{e.path}:{e.line} ({e.attribute})" for e in self.edits]
        verb = "would remove" if would else "removed"
        lines += [f"  {verb:<13}{path}" for path in self.removed]
        lines += self._database_lines()
        lines += [f"Note: {note}" for note in self.notes]
        if not self.complete:
            lines.append("Not every database was updated: run the statement shown in each "
                         "before `migrate` runs there.")  # fmt: skip
        return lines

    def _database_lines(self) -> list[str]:
        if not self.databases:
            return ["Databases: none found (no DATABASE_URL, .env or Compose db service); where "
                    f"the migration is applied, run: {self.manual_sql}"]  # fmt: skip
        width = max(len(db.name) for db in self.databases)
        lines = ["Databases (django_migrations):"]
        for db in self.databases:
            where = f" {db.url}" if db.url else ""
            lines.append(f"  {db.name:<{width}}{where}: {_outcome(db)}")
        return lines


def _outcome(db: DatabaseResult) -> str:
    detail = f" ({db.detail})" if db.detail else ""
    if db.status == RENAMED:
        return "row renamed"
    if db.status == WOULD_RENAME:
        return f"would rename the row{detail}"
    if db.status == NOT_APPLIED:
        return f"not applied there{detail}"
    if db.status == ALREADY_RENAMED:
        return f"already renamed there{detail}"
    if db.status == SAME_DATABASE:
        return db.detail
    if db.status == CONFLICT:
        return f"not updated: {db.detail} — run this there: {db.sql}"
    if db.status == UNREACHABLE:
        return f"not updated: unreachable{detail} — run this UPDATE there: {db.sql}"
    return f"not updated{detail} — run this UPDATE there: {db.sql}"
