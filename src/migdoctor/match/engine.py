"""Scan text for the playbooks it matches and turn the hits into ranked findings."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from migdoctor.kb.loader import KnowledgeBase
from migdoctor.match.context import BUCKET, NEAR, Context
from migdoctor.match.entities import normalize_value, validate
from migdoctor.match.normalize import Line, clean_line, joined_with_next
from migdoctor.match.regexes import compiled, entity_name, literal_union, required_literal
from migdoctor.model import Evidence, Finding, Playbook

MIN_CONFIDENCE = 0.5
MAX_LINE = 4096  # longer lines are matched on a window around their signal: bounded time
MAX_EVIDENCE = 3
CONTEXT_TOKENS = ("pplying", "compose", "connection to server at")
Library = KnowledgeBase | list[Playbook]
# Lines printed by other frameworks' database layers; the same SQL error there is theirs.
FOREIGN_LINES = ("pg::", "sqlalchemy.exc.", "sqlstate[", "activerecord::", "illuminate\\",
                 "org.postgresql.", "liquibase.", "org.flywaydb.", "prisma:", "sequelize")
# makemigrations names AlterField/RemoveField migrations `NNNN_alter_<model>_<field>`.
AUTO_NAMED_FIELD = re.compile(r"\d{4}_(?:alter|remove)_[a-z0-9]+_(?P<field>[a-z_][a-z0-9_]*)")
SMALL = 64 << 10  # up to this size a paste is scanned with plain finds; logs with one regex


@dataclass
class _Group:
    """Hits of one playbook with the same entities, gathered across the input."""

    playbook: Playbook
    entities: dict[str, str]
    rejected: dict[str, str]
    weight: float
    first: Line
    offset: int  # byte offset of the first hit in the input, for its surroundings
    patterns: set[int] = field(default_factory=set)
    evidence: list[tuple[float, Evidence]] = field(default_factory=list)  # strongest kept


@dataclass(frozen=True)
class _Hit:
    playbook: Playbook
    pattern: int
    weight: float
    groups: tuple[tuple[str, str], ...]


class Scanner:
    """Feed it text in chunks of whole lines; ask it for findings at the end."""

    def __init__(self, library: Library) -> None:
        self.by_signal, self.resolve = _index(library)
        self.words = [*self.by_signal, *CONTEXT_TOKENS]
        self._union: re.Pattern[str] | None = None
        self.context = Context()
        self.groups: dict[tuple[str, frozenset[tuple[str, str]]], _Group] = {}
        self.consumed = 0  # characters fed so far
        self._observed: set[int] = set()  # buckets whose surroundings were looked at

    def feed(self, chunk: str, first_no: int) -> None:
        """Scan a chunk of whole lines whose first line has number `first_no`."""
        lowered = chunk.lower()
        small = len(chunk) <= SMALL
        if small:
            self.context.observe(lowered, self.consumed)
            if self.consumed == 0:
                self.context.observe_mentions(chunk, first_no)
        starts = self._candidate_starts(lowered)
        line_no, counted = first_no, 0
        for start in starts:
            line_no += chunk.count("\n", counted, start)
            counted = start
            if self._scan_line(chunk, start, line_no) and not small:
                self._observe_around(lowered, start)
        self.consumed += len(chunk)

    def _observe_around(self, lowered: str, start: int) -> None:
        """In a big log, markers matter only near a hit: look there, not everywhere."""
        reach = (NEAR + 1) * BUCKET
        bucket = (self.consumed + start) // BUCKET
        if bucket in self._observed:
            return
        self._observed.update(range(bucket - NEAR, bucket + NEAR + 1))
        begin = max(0, start - reach)
        self.context.observe(lowered[begin:start + reach], self.consumed + begin)

    def _candidate_starts(self, lowered: str) -> list[int]:
        """Start offsets of the lines that contain a signal, in order."""
        if len(lowered) <= SMALL:
            offsets = _occurrences(lowered, self.words)
            return sorted({lowered.rfind("\n", 0, at) + 1 for at in offsets})
        if self._union is None:
            self._union = literal_union([_key_word(w) for w in self.words])
        starts: list[int] = []
        position = 0
        while (found := self._union.search(lowered, position)) is not None:
            starts.append(lowered.rfind("\n", 0, found.start()) + 1)
            end = lowered.find("\n", found.end())
            if end < 0:
                break
            position = end + 1
        return starts

    def _scan_line(self, chunk: str, start: int, no: int) -> bool:
        end = chunk.find("\n", start)
        end = len(chunk) if end < 0 else end
        text, service = clean_line(chunk[start:end])
        line = Line(no, _window(text), service)
        low = line.text.lower()
        if any(token in low for token in CONTEXT_TOKENS):
            self.context.observe_line(no, line.text)
        nxt_end = chunk.find("\n", end + 1)
        nxt = Line(no + 1, clean_line(chunk[end + 1:nxt_end if nxt_end >= 0 else None])[0])
        joined = joined_with_next(line, nxt) if end < len(chunk) else None
        if any(marker in low for marker in FOREIGN_LINES):
            return False  # another framework's driver printed this line: not Django's problem
        hits = self._hits(line.text, low)
        if joined:
            # A wrapped line may hold a weaker reading alone and the full one when joined.
            hits = max(hits, self._hits(joined, joined.lower()), key=_strength)
        self._record(hits, line, self.consumed + start)
        return bool(hits)

    def _hits(self, text: str, low: str) -> list[_Hit]:
        candidates: set[str] = set()
        for signal, ids in self.by_signal.items():
            if signal in low:
                candidates.update(ids)
        hits: list[_Hit] = []
        for pid in sorted(candidates):
            hits.extend(_playbook_hits(self.resolve(pid), text))
        if not hits:
            return []
        best = max(h.weight for h in hits)
        # One line, one diagnosis: the strongest reading of a line wins over weaker ones.
        winner = next(h.playbook.id for h in hits if h.weight == best)
        return [h for h in hits if h.playbook.id == winner]

    def _record(self, hits: list[_Hit], line: Line, offset: int) -> None:
        for hit in hits:
            entities, rejected = _bind(hit.playbook, hit.groups)
            key = (hit.playbook.id, frozenset(entities.items()))
            group = self.groups.get(key)
            if group is None:
                group = _Group(hit.playbook, entities, rejected, hit.weight, line, offset)
                self.groups[key] = group
            group.weight = max(group.weight, hit.weight)
            group.patterns.add(hit.pattern)
            _keep(group.evidence, hit.weight, Evidence(line.no, line.text.strip()[:300]))

    def findings(self) -> list[Finding]:
        """Distinct findings, confident ones only, strongest and earliest first."""
        groups = _merge_subsets(list(self.groups.values()))
        out = []
        for group in groups:
            adjust = self.context.adjustment(group.offset)
            confidence = group.weight + adjust + 0.02 * (len(group.patterns) - 1)
            confidence = round(max(0.0, min(1.0, confidence)), 3)
            if confidence >= MIN_CONFIDENCE:
                entities = dict(group.entities)
                self._bind_context(group, entities)
                out.append(Finding(group.playbook, confidence, entities,
                                   _evidence(group), group.rejected))
        out.sort(key=lambda f: (-f.confidence, f.evidence[0].line if f.evidence else 0))
        return out

    def _bind_context(self, group: _Group, entities: dict[str, str]) -> None:
        declared = group.playbook.entities
        applying = self.context.applying_before(group.first.no)
        wants_both = "app_label" in declared and "migration" in declared
        if applying and wants_both and not {"app_label", "migration"} & entities.keys():
            entities["app_label"], entities["migration"] = applying
        server = self.context.server_near(group.first.no)
        for name, value in zip(("host", "port"), server or (), strict=False):
            if name in declared and name not in entities:
                _set_valid(entities, declared[name].type, name, value)
        for name in ("app_label", "migration"):
            if name in declared and name not in entities:
                _set_valid(entities, declared[name].type, name,
                           self.context.mentioned(name, group.first.no))
        named = AUTO_NAMED_FIELD.fullmatch(entities.get("migration", ""))
        if named and "column" in declared and "column" not in entities:
            _set_valid(entities, declared["column"].type, "column", named["field"])
        service = group.first.service or self.context.service_before(group.first.no)
        if service and "service" in declared and "service" not in entities:
            value = normalize_value("service", service)
            if validate("service", value) is None:
                entities["service"] = value


def _keep(kept: list[tuple[float, Evidence]], weight: float, evidence: Evidence) -> None:
    """Keep the strongest few lines: the error line itself beats secondary lines."""
    if any(e.line == evidence.line for _, e in kept):
        return
    kept.append((weight, evidence))
    if len(kept) > MAX_EVIDENCE:
        kept.remove(min(kept, key=lambda item: (item[0], -item[1].line)))


def _evidence(group: _Group) -> tuple[Evidence, ...]:
    return tuple(sorted((e for _, e in group.evidence), key=lambda e: e.line))


def _strength(hits: list[_Hit]) -> tuple[float, int]:
    return max(((h.weight, len(h.groups)) for h in hits), default=(0.0, 0))


def _set_valid(entities: dict[str, str], kind: str, name: str, raw: str) -> None:
    value = normalize_value(kind, raw)
    if raw and validate(kind, value) is None:
        entities[name] = value


def _index(library: Library) -> tuple[dict[str, list[str]], Callable[[str], Playbook]]:
    """Signal -> playbook ids, and how to get a playbook by id (lazily for a KnowledgeBase)."""
    if isinstance(library, KnowledgeBase):
        return library.signal_index(), library.resolve
    by_id = {p.id: p for p in library if p.match is not None}
    index: dict[str, list[str]] = {}
    for playbook in by_id.values():
        for signal in playbook.match.signals if playbook.match else ():
            index.setdefault(signal.lower(), []).append(playbook.id)
    return index, by_id.__getitem__


def _key_word(signal: str) -> str:
    """The longest run of letters in a signal: a line with the signal has it too, and a scan
    for words that start with a letter skips digits and punctuation at C speed."""
    runs = re.findall(r"[^\W\d_]{3,}", signal)
    return max(runs, key=len) if runs else signal


def _occurrences(text: str, words: list[str]) -> Iterator[int]:
    """Every offset where one of `words` starts: plain finds, cheaper than a regex for a paste."""
    for word in words:
        at = text.find(word)
        while at >= 0:
            yield at
            at = text.find(word, at + 1)


def _window(text: str) -> str:
    return text if len(text) <= MAX_LINE else text[: MAX_LINE]


def _playbook_hits(playbook: Playbook, text: str) -> list[_Hit]:
    assert playbook.match is not None
    if any(compiled(rx).search(text) for rx in playbook.match.exclude):
        return []
    hits = []
    low = text.lower()
    for index, pattern in enumerate(playbook.match.patterns):
        if required_literal(pattern.source) not in low:
            continue
        for found in compiled(pattern.source).finditer(text):
            groups = tuple((k, v) for k, v in found.groupdict().items() if v)
            hits.append(_Hit(playbook, index, pattern.weight, groups))
    return hits


def _bind(
    playbook: Playbook, groups: tuple[tuple[str, str], ...]
) -> tuple[dict[str, str], dict[str, str]]:
    """Validated entities from regex groups, and the values refused with the reason."""
    entities: dict[str, str] = {}
    rejected: dict[str, str] = {}
    for group, raw in groups:
        name = entity_name(group)
        spec = playbook.entities.get(name)
        kind = spec.type if spec else "text"
        value = normalize_value(kind, raw)
        problem = validate(kind, value)
        if problem:
            rejected[name] = problem
        elif name not in entities:
            entities[name] = value
    return entities, rejected


def _merge_subsets(groups: list[_Group]) -> list[_Group]:
    """Fold a group into another of the same playbook whose entities include all of its own."""
    groups.sort(key=lambda g: -len(g.entities))
    kept: list[_Group] = []
    for group in groups:
        items = set(group.entities.items())
        home = next((k for k in kept if k.playbook.id == group.playbook.id
                     and items <= set(k.entities.items())), None)
        if home is None:
            kept.append(group)
            continue
        home.weight = max(home.weight, group.weight)
        home.patterns |= group.patterns
        if group.first.no < home.first.no:
            home.first, home.offset = group.first, group.offset
        for weight, evidence in group.evidence:
            _keep(home.evidence, weight, evidence)
    return kept
