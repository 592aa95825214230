"""Annotations: what a second report of a call adds to the stored record, without rewriting it.

A call is stored once, by id; whichever report of it arrives first is the record. When a later
report of the same call (same id) carries attribution the stored record lacks — Claude Code's
OpenTelemetry event (`agent=code-reviewer mcp=github`) arriving after the transcript line of the
same call was imported — the ledger appends an *annotation*, `{"id", "date", "feature"}`, to
`annotations/YYYY-MM.jsonl` (the month of the stored record's date). Whatever reads records
(a day's columns: the interactions table, sessions, the split by attribution) applies the
day's annotations: the record's `feature` becomes the annotation's (the last line for an id
wins). Nothing else of the record is ever changed: tokens, cost and the rollups (which hold no
feature) stay as stored, and day files are never rewritten for it.

- Durable: a line is appended (by any process: the month's file is shared, each append under
  an exclusive `flock` on it, in one `write`) and fsynced before the ingest that caused it
  returns. A torn last line (a crash mid-write) is never read and is ended before the next
  append.
- Idempotent: an annotation is written only when it changes what the record shows, so a
  retried batch adds nothing.
- Checked when read back, like journal lines: a line that is not `{"id", "date", "feature"}`
  with the record rules (a date in the file's month, a feature that is a plain name) is skipped
  and reported. No file here is opened through a symbolic link.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from usage_ls import attribution, days, fileio
from usage_ls.model import MAX_ID, RecordError, check_name
from usage_ls.store import safety
from usage_ls.store.columns import TEXT_COLUMNS, RecordColumns, Strings

DIR = "annotations"
SUFFIX = ".jsonl"

Stamp = tuple[tuple[str, int, int], ...]  # (file name, mtime ns, size) per month file


@dataclass(frozen=True)
class Note:
    """The feature record `id` (stored on `date`) shows from now on."""

    id: str
    date: str
    feature: str


def applied(cols: RecordColumns, notes: dict[str, str]) -> RecordColumns:
    """`cols` with the features of `notes` ({record id: feature}); the same object when none applies."""
    if not notes or not len(cols):
        return cols
    rows = [(i, notes[rid]) for i, rid in enumerate(cols.ids) if rid is not None and rid in notes]
    if not rows:
        return cols
    fresh = list(dict.fromkeys(feature for _, feature in rows))
    added = Strings.of(fresh)
    base = len(cols.strings)
    index = {feature: base + j for j, feature in enumerate(fresh)}
    text = cols.text.copy()
    column = TEXT_COLUMNS.index("feature")
    for i, feature in rows:
        text[column, i] = index[feature]
    offsets = np.concatenate([cols.strings.offsets, added.offsets[1:] + len(cols.strings.blob)])
    return dataclasses.replace(cols, text=text, strings=Strings(cols.strings.blob + added.blob, offsets))


def enrichments(records: Iterable[dict[str, Any]], columns: Callable[[str], RecordColumns]) -> list[Note]:
    """What `records` (duplicates of stored records, by id) add to them: a `Note` for each whose
    attribution the stored record lacks. `columns(day)` is a day's records as queries see them
    (annotations applied); the stored record is looked for on the record's day and the days
    beside it (two reports of one call may fall either side of midnight)."""
    out: dict[str, Note] = {}
    seen: dict[str, tuple[RecordColumns, dict[str | None, int]]] = {}  # day -> its columns, {id: row}
    for rec in records:
        rec_id, date = rec["id"], rec["date"]
        if not attribution.parse(rec.get("feature")):
            continue
        for day in (date, days.shift(date, -1), days.shift(date, 1)):
            if day not in seen:
                cols = columns(day)
                seen[day] = (cols, {rid: i for i, rid in enumerate(cols.ids)})
            cols, rows = seen[day]
            found = rows.get(rec_id)
            if found is None:
                continue
            held = out.get(rec_id)
            stored = held.feature if held else cols.extra[found][2]
            feature = attribution.merged(stored, rec.get("feature"))
            if feature is not None:
                out[rec_id] = Note(rec_id, day, feature)
            break
    return list(out.values())


class Annotations:
    """The annotations of one data directory: appended by `add`, read per day by `for_day`."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.problems: list[str] = []
        self._told: set[str] = set()
        self.last: dict[str, tuple[int, int]] = {}  # month -> (mtime ns, size) at the last stamp
        self.unsynced: set[Path] = set()  # appended without fsync (notifications): `sync` does it
        self._months: dict[str, tuple[tuple[int, int] | None, dict[str, dict[str, str]]]] = {}

    def stamp(self) -> Stamp:
        """What changes when any process adds an annotation (a directory scan, a stat per file)."""
        out: list[tuple[str, int, int]] = []
        self.last = {}
        try:
            with os.scandir(self.dir) as entries:
                for entry in entries:
                    if entry.name.endswith(SUFFIX):
                        st = entry.stat(follow_symlinks=False)
                        out.append((entry.name, st.st_mtime_ns, st.st_size))
                        self.last[entry.name[: -len(SUFFIX)]] = (st.st_mtime_ns, st.st_size)
        except OSError:
            pass
        return tuple(sorted(out))

    def signature(self, month: str) -> tuple[int, int] | None:
        """The month file's (mtime, size) as the last `stamp` saw it."""
        return self.last.get(month)

    def path(self, month: str) -> Path:
        return self.dir / f"{month}{SUFFIX}"

    # -- reading --------------------------------------------------------------------------------

    def for_day(self, day: str) -> dict[str, str]:
        """{record id: feature} of the annotations of `day` (the last one per id)."""
        return self.month(day[:7]).get(day, {})

    def month(self, month: str) -> dict[str, dict[str, str]]:
        """{day: {record id: feature}} of a month's file, read (and checked) when it changed."""
        path = self.path(month)
        try:
            st = os.stat(path, follow_symlinks=False)
            sig: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except OSError:
            sig = None
        held = self._months.get(month)
        if held is not None and held[0] == sig:
            return held[1]
        notes: dict[str, dict[str, str]] = {}
        if sig is not None:
            try:
                data = fileio.read_bytes(path) or b""
            except OSError as exc:  # a link (never followed), unreadable
                self._tell(f"{path}: not read ({exc.strerror or exc}); its annotations are not shown")
                data = b""
            for number, line in enumerate(data.split(b"\n")[:-1], 1):  # a torn last line has no newline
                if not line.strip():
                    continue
                try:
                    note = _checked(line, month)
                except (ValueError, RecordError) as exc:
                    self._tell(f"{path} line {number}: skipped ({exc})")
                    continue
                notes.setdefault(note.date, {})[note.id] = note.feature
        self._months[month] = (sig, notes)
        return notes

    def _tell(self, problem: str) -> None:
        if problem not in self._told:
            self._told.add(problem)
            self.problems.append(problem)

    # -- writing --------------------------------------------------------------------------------

    def add(self, notes: list[Note], sync: bool = True) -> None:
        """Append `notes` (each to its month's file), fsynced when `sync`. OSError when the disk refuses."""
        by_month: dict[str, list[Note]] = {}
        for note in notes:
            by_month.setdefault(note.date[:7], []).append(note)
        if by_month:
            safety.checked_folder(self.dir)  # not through a link made since the store opened
        for month, group in sorted(by_month.items()):
            data = b"".join(orjson.dumps({"id": n.id, "date": n.date, "feature": n.feature}) + b"\n" for n in group)
            _append(self.path(month), data, sync)
            if not sync:
                self.unsynced.add(self.path(month))

    def sync(self) -> None:
        """fsync what `add` appended without it (the ledger's group commit)."""
        pending, self.unsynced = self.unsynced, set()
        for path in sorted(pending):
            try:
                fd = fileio.open_nofollow(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as exc:
                self._tell(f"{path}: fsync failed ({exc.strerror or exc}); recent attribution may be lost in a crash")


def _append(path: Path, data: bytes, sync: bool) -> None:
    """One write of whole lines at the end of `path`, under an exclusive lock on it."""
    created = not os.path.lexists(path)
    fd = fileio.open_nofollow(path, os.O_RDWR | os.O_APPEND | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data  # end a line torn by a crash: it stays unread, the next ones are whole
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(fd, view) :]
            if sync:
                os.fsync(fd)
        except OSError:
            try:
                os.ftruncate(fd, size)  # no half line left for the next writer
            except OSError:
                pass
            raise
    finally:
        os.close(fd)  # releases the lock
    if created and sync:
        fileio.fsync_dir(path.parent)


def _checked(line: bytes, month: str) -> Note:
    """A line read back, with the record rules; ValueError or RecordError naming the field."""
    obj = orjson.loads(line)
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    rec_id, date, feature = obj.get("id"), obj.get("date"), obj.get("feature")
    if not (isinstance(rec_id, str) and 0 < len(rec_id) <= MAX_ID and not rec_id.isspace()):
        raise RecordError("id", f"expected a string of 1..{MAX_ID} characters")
    if not isinstance(date, str) or date[:7] != month:
        raise RecordError("date", f"expected a day of {month}")
    try:
        if days.parse_day(date).isoformat() != date:
            raise ValueError
    except (ValueError, TypeError):
        raise RecordError("date", "expected a date as YYYY-MM-DD") from None
    return Note(rec_id, date, check_name(feature, "feature"))
