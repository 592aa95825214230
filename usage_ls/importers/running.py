"""Running totals turned into increments, and read-only SQLite, for the tools that need them.

Some tools keep one snapshot per session that they overwrite as it goes (Droid's
`tokenUsage`, Goose's `accumulated_*` columns, Hermes' `sessions` row), and a vendor report
row for a day that is not over yet grows the same way (GitHub's Copilot report). Such a
snapshot is not a request: counting it whole each time it is read counts it again and again,
and booking it on one day puts a week-long session on its last (or first) day.

`RunningTotals` (a mix-in for `Tool`) turns snapshots into increments. A tool's `read` emits
`Snapshot`s; `merge` compares each with the highest totals seen before for the same key
(kept in `<data dir>/imports-<tool>-totals.json`, saved once the records are durable) and
records the difference, dated at the snapshot's own time. So the watcher, reading a session
each time it changes, books each day's growth on that day; a session first seen by an import
is booked whole at its last update (all that is known about it then). Each counter only
grows: a copy of a session holding lower figures (Droid keeps some sessions in two folders)
adds nothing, and a session's increments never exceed its final totals. The record id is
`<tool>:<hash of key and the totals reached>`: reading the same snapshot again, even with
the totals file lost, gives the same id, which the ledger drops as a duplicate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from usage_ls import fileio
from usage_ls.importers.base import EPOCH, ONE_MS, short_hash

if TYPE_CHECKING:  # imported where a database is read: `import all` without one loads none
    import sqlite3

COUNTERS = ("inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens")


@dataclass
class Snapshot:
    key: str  # what the totals are of (a session, a report row's day/user/model/sku)
    ts: int  # epoch ms the totals were reached (the snapshot's update time)
    totals: dict[str, int]  # COUNTERS, running
    record: dict  # the other fields of the records made from it (model, project, session...)
    cost: float | None = None  # a running cost the tool recorded (dollars), if any
    credits: float | None = None  # a running credit count the tool recorded, if any
    extra: dict = field(default_factory=dict)


class RunningTotals:
    """Mix-in for a `Tool` whose `read` emits `Snapshot`s."""

    name = ""

    def load_memory(self, data_dir: Path) -> dict:
        path = Path(data_dir) / f"imports-{self.name}-totals.json"
        try:
            base = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            base = {}
        return {"path": path, "base": base if isinstance(base, dict) else {}, "pending": {}}

    def merge(self, entries: list, memory: dict) -> tuple[list[dict], int]:
        base, pending = memory.setdefault("base", {}), memory.setdefault("pending", {})
        records: list[dict] = []
        dups = 0
        for snap in sorted(entries, key=lambda s: s.ts):
            seen = pending.get(snap.key) or base.get(snap.key) or {}
            new = {c: max(int(seen.get(c, 0)), snap.totals.get(c, 0)) for c in COUNTERS}
            delta = {c: new[c] - int(seen.get(c, 0)) for c in COUNTERS}
            rec = dict(snap.record)
            for name, value in (("cost", snap.cost), ("credits", snap.credits)):
                if value is not None:
                    before = float(seen.get(name, 0.0))
                    new[name] = max(before, value)
                    if value > before:
                        rec["costUsd" if name == "cost" else "credits"] = round(value - before, 9)
                    elif any(delta.values()):
                        rec["costUsd" if name == "cost" else "credits"] = 0.0
            if not any(delta.values()) and "costUsd" not in rec and "credits" not in rec:
                dups += 1  # the same totals again (the file rewritten, a copy, a re-read)
                continue
            pending[snap.key] = {**seen, **new}  # (a tool may keep more beside the totals)
            rec.update(delta)
            rec["id"] = f"{self.name}:{short_hash(snap.key, *(new[c] for c in COUNTERS), new.get('cost'))}"
            rec["timestamp"] = snap.ts
            records.append(rec)
        return records, dups

    def records_done(self, memory: dict) -> None:
        pending = memory.get("pending")
        if not pending:
            return
        memory["base"].update(pending)
        memory["pending"] = {}
        fileio.atomic_write(memory["path"], orjson.dumps(memory["base"]))


def open_ro(path: Path) -> sqlite3.Connection:
    """A tool's SQLite database, read-only: `mode=ro` (the tool may be writing it: SQLite's
    locks keep what we read consistent); if that cannot open it — a WAL database in a folder
    we may not write, whose `-shm` cannot be created — `immutable=1`, which reads the file as
    it stands, without locks: a write caught half-way then reads as an error (counted, and the
    file read again next time), never as numbers."""
    import sqlite3

    uri = path.resolve().as_uri()
    try:
        con = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=2)
        con.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        return con
    except sqlite3.OperationalError:
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, timeout=2)


def columns(con: sqlite3.Connection, table: str) -> set[str]:
    """The columns a table has (empty if there is no such table): schemas differ by version."""
    return {row[1] for row in con.execute(f"PRAGMA table_info({table})")}


def wal_to_db(path: Path) -> Path:
    """The database a `-wal` file belongs to: in WAL mode a write changes the `-wal` file, not
    the database, until a checkpoint, so watching the `-wal` is how a write is seen."""
    return path.with_name(path.name[: -len("-wal")]) if path.name.endswith("-wal") else path


def sql_time(value) -> int | None:
    """`2026-05-01 01:02:03` (UTC, SQLite's CURRENT_TIMESTAMP), RFC 3339, or epoch s/ms."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value * 1000) if value < 10_000_000_000 else int(value)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return (parsed - EPOCH) // ONE_MS
