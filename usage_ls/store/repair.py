"""A damaged day file: what can be rebuilt, from where, and what to tell the user.

A day file that does not parse (or is a symbolic link) is moved aside by the read that finds
it. Its records may still be elsewhere:

- its columns file (`days/YYYY-MM/YYYY-MM-DD.cols`), which holds every field of the stored
  record (`RecordColumns.records`). It may be older than the damaged file (a bulk import
  writes none, a crash can come between the two writes) but never wrong: a day file only
  grows, so older columns hold a subset of it;
- journals still on disk: a running process's journal keeps the lines a checkpoint has
  already folded into day files (lines not yet folded reach the day file at the next
  checkpoint, as always).

`salvage` gathers both, every record checked again (`check_stored`). The day's rollup as it
was says how many records the file held at its last write (`rollup_count`), so what was
rebuilt and what was lost can be told (`describe`). `StoreFiles.repair_day` writes the
result and keeps the account in `repairs.jsonl`, which `usage-ls doctor` reads (`read_notes`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from usage_ls import fileio
from usage_ls.model import RecordError
from usage_ls.store.columns import RecordColumns
from usage_ls.store.journal import read_lines
from usage_ls.store.rollup import Names
from usage_ls.stored import check_stored

NOTES = "repairs.jsonl"  # in the data directory: what was repaired or lost, for `usage-ls doctor`


class Salvage(NamedTuple):
    records: dict[str, dict[str, Any]]  # by id
    from_columns: int
    from_journals: int  # records no columns file held
    rejected: int  # records found that failed `check_stored`


def salvage(day: str, columns: Path, journals: list[tuple[Path, int]]) -> Salvage:
    """The records of `day` that remain: from its columns file, then from the folded part
    (up to the offset given with each) of every journal."""
    records: dict[str, dict[str, Any]] = {}
    rejected = 0
    try:
        data = fileio.read_bytes(columns)
    except fileio.NotAFile as exc:
        fileio.quarantine(columns, f"{exc.strerror}; not read")
        data = None
    if data:
        names = Names.fresh()
        try:
            _source, cols = RecordColumns.from_bytes(data, *names)
        except ValueError as exc:
            fileio.quarantine(columns, f"unreadable record columns: {exc}")
        else:
            for rec in cols.records(*names):
                try:
                    rec = check_stored(rec)
                except RecordError:
                    rejected += 1
                    continue
                if rec["date"] == day:
                    records[rec["id"]] = rec
    from_columns = len(records)
    for path, folded in journals:
        if folded <= 0:
            continue
        try:
            lines = read_lines(path, 0)
            pending = {r["id"] for r in read_lines(path, folded).records}  # folded by the next checkpoint
        except fileio.NotAFile:
            continue
        rejected += len(lines.rejected)
        for rec in lines.records:
            if rec["date"] == day and rec["id"] not in pending:
                records.setdefault(rec["id"], rec)
    return Salvage(records, from_columns, len(records) - from_columns, rejected)


def rollup_count(rollup_file: Any, day: str) -> int | None:
    """Records of `day` in a month's rollup document as read (None when unknown)."""
    try:
        rows = rollup_file["days"][day]["rows"]
        return int(sum(row[4] for row in rows))
    except (KeyError, TypeError, IndexError, ValueError):
        return None


def describe(day: str, got: Salvage, expected: int | None, reason: str) -> tuple[str, str]:
    """(kind, sentence) for the repairs log: "rebuilt" when nothing is missing, else "lost"."""
    n = len(got.records)
    where = " and ".join(
        w for w, k in (("its columns file", got.from_columns), ("the journals still on disk", got.from_journals)) if k
    )
    found = f"{n:,} record(s) rebuilt from {where}" if n else "nothing else held its records"
    if expected is not None and n >= expected:
        return "rebuilt", f"rebuilt {day} from {where}: {n:,} record(s) (its day file was damaged: {reason})"
    lost = f"{expected - n:,} of its {expected:,} record(s)" if expected is not None else "an unknown number of records"
    return (
        "lost",
        f"lost {lost} on {day}: its day file was damaged ({reason}) and {found}; "
        "its totals now count what remains, so every view agrees",
    )


def append_note(path: Path, kind: str, text: str, file: str | None = None) -> None:
    """Keep one line of the repairs log (best effort: the user was told already); `file`: the
    name of the journal it is about."""
    entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "kind": kind, "text": text}
    line = orjson.dumps({**entry, "file": file} if file else entry) + b"\n"
    try:
        fd = fileio.open_nofollow(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    except OSError:
        return
    try:
        os.write(fd, line)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_notes(path: Path) -> list[dict[str, str]]:
    """The repairs log, each entry once (several processes may have noted the same)."""
    try:
        data = fileio.read_bytes(path) or b""
    except fileio.NotAFile:
        return []
    seen: dict[str, dict[str, str]] = {}
    for line in data.splitlines():
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("text"), str):
            seen.setdefault(entry["text"], {k: str(v) for k, v in entry.items()})
    return list(seen.values())


def noted_files(path: Path) -> set[str]:
    """Names of the journals the repairs log has something about."""
    return {n["file"] for n in read_notes(path) if n.get("file")}
