"""One push: this data directory's records past the cursor into the team database.

First the journals' lines past the cursor's offsets (records a running server acknowledged and
not yet folded: they reach the database within seconds, without waiting for a checkpoint, whose
cost grows with the day), then the day files (what checkpoints folded, and every record
imported), read in file order: a day file only grows. A journaled record is sent again when its
day file is pushed, and inserts nothing then: ids are inserted once.
Each batch is one transaction: `add_months` makes the partitions it needs (its own short
transaction), then the batch is COPYed (binary) into a temporary table and one statement
inserts its ids into `record_ids` with ON CONFLICT DO NOTHING and only the records whose ids
were new into `records`, whose trigger adds them to the daily rollup. The cursor moves only after the
commit: a connection dropped mid-batch or a stopped database loses nothing, and a batch sent
again (committed, but the answer lost) inserts nothing twice.

A `Link` keeps the connection and the schema check between pushes (the server's push worker,
`worker.py`); `usage-ls sync` by hand opens one for its push and closes it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from usage_ls import fileio
from usage_ls.store.files import StoreFiles
from usage_ls.store.rollup import Names
from usage_ls.team import db, schema, state
from usage_ls.team.db import TeamError

BATCH = 5_000
DAYS_EVERY_S = 30.0  # while records keep arriving in journals, the day files are read at most this often
SCHEMA_CHECK_S = 60.0  # a kept connection checks the schema (and the database's id) again this often
KNOWN_MAX = 1_000_000  # ids remembered as committed by a kept connection (only saves sending them again)
COLUMNS = (
    "id",
    "day",
    "ts",
    "user",
    "device_id",
    "project",
    "model",
    "provider",
    "billing",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "cost_usd",
    "credits",
    "cost_source",
    "feature",
    "session",
)
_TYPES = (  # as sent (COPY, binary): the day as text, money as the float's exact decimal text
    "text",
    "text",
    "bigint",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "bigint",
    "bigint",
    "bigint",
    "bigint",
    "bigint",
    "text",
    "text",
    "text",
    "text",
    "text",
)
_NAMES = ", ".join(f'"{c}"' for c in COLUMNS)
_CASTS = {"ts": 'to_timestamp("ts" / 1000.0)', "day": '"day"::date', "cost_usd": '"cost_usd"::numeric'}
_CASTS["credits"] = '"credits"::numeric'
_SELECT = ", ".join(_CASTS.get(c, f'"{c}"') for c in COLUMNS)
_DECLARE = ", ".join(f'"{c}" {t}' for c, t in zip(COLUMNS, _TYPES))
INCOMING = f"CREATE TEMP TABLE IF NOT EXISTS usage_ls_incoming ({_DECLARE}) ON COMMIT DELETE ROWS"
COPY = f"COPY usage_ls_incoming ({_NAMES}) FROM STDIN (FORMAT BINARY)"
INSERT = f"""
WITH incoming AS (
    SELECT DISTINCT ON (id) * FROM usage_ls_incoming
), fresh AS (
    INSERT INTO usage_ls.record_ids (id) SELECT id FROM incoming ON CONFLICT DO NOTHING RETURNING id
)
INSERT INTO usage_ls.records ({_NAMES})
SELECT {_SELECT} FROM incoming JOIN fresh USING (id)
"""


@dataclass
class Part:
    """How far a batch takes one day file: its first `end` records, the last being `last_id`; `sig`
    (the file's mtime and size) when that is the whole file."""

    day: str
    end: int
    last_id: str
    sig: list[int] | None


class Link:
    """A connection to the team database kept between pushes, with its schema check (`schema.prepare`:
    the database's id, migrations made): connected on first use and again after any failure
    (`drop`), the check repeated every SCHEMA_CHECK_S (another machine may have recreated the
    database, or a newer usage-ls upgraded its schema)."""

    def __init__(self, conninfo: str):
        self.conninfo = conninfo
        self.conn: Any = None
        self.database: str | None = None
        self.checked_at = 0.0
        self.fresh = False  # the connection was made by the last `open`
        # ids this link's pushes sent from journals and the database committed (its id: `known_in`):
        # when their day file is read they are not sent again (a kept link: the push worker)
        self.known: set[str] = set()
        self.known_in: str | None = None
        self.journal_at = 0.0  # when this link last sent journal records (time.time())

    def open(self) -> tuple[Any, str]:
        self.fresh = self.conn is None
        if self.conn is None:
            self.conn = db.connect(self.conninfo)
            self.database = None
        if self.database is None or time.monotonic() - self.checked_at >= SCHEMA_CHECK_S:
            self.database = None
            self.database = schema.prepare(self.conn)
            self.checked_at = time.monotonic()
        return self.conn, self.database

    def drop(self) -> None:
        """Forget the connection (after a failure: it may be broken or mid-transaction)."""
        conn, self.conn, self.database = self.conn, None, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass

    close = drop


@dataclass
class Outcome:
    sent: int = 0  # records sent (a batch sent again counts again)
    inserted: int = 0  # records new to the database
    batches: int = 0
    busy: bool = False  # another process of this data directory was pushing


def _row(rec: dict[str, Any], device: str) -> tuple[Any, ...]:
    cost, credits = rec.get("costUsd"), rec.get("credits")
    return (
        rec["id"],
        rec["date"],
        rec["ts"],
        rec["user"],
        device,
        rec["project"],
        rec["model"],
        rec.get("provider"),
        rec["billing"],
        rec["inputTokens"],
        rec["outputTokens"],
        rec["cacheReadTokens"],
        rec["cacheWriteTokens"],
        rec.get("cacheWrite1hTokens") or 0,
        None if cost is None else repr(float(cost)),  # exact decimal of the stored float, summed as numeric
        None if credits is None else repr(float(credits)),
        rec.get("costSource"),
        rec.get("feature"),
        rec.get("session"),
    )


def _sig(path: Path) -> list[int] | None:
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None
    return [st.st_mtime_ns, st.st_size]


def _start(mark: list[Any] | None, ids: list[str]) -> int:
    """Where a day's unpushed records begin: the cursor's n when the nth id is still its last_id."""
    if not mark:
        return 0
    n = int(mark[0])
    return n if 0 < n <= len(ids) and ids[n - 1] == mark[1] else 0


def batches(
    files: StoreFiles, days: dict[str, state.DayMark], size: int = BATCH
) -> Iterator[tuple[list[dict[str, Any]], list[Part]]]:
    """The records past a cursor's `days`, `size` at a time, with how far each day gets (`advance`
    moves the cursor there once they are delivered)."""
    recs: list[dict[str, Any]] = []
    parts: list[Part] = []
    for day, path in files.day_files():
        sig = _sig(path)
        mark = days.get(day)
        if mark and mark[2] == sig:
            continue
        by_id = files.day_records(day)
        ids = list(by_id)
        values = list(by_id.values())
        pos = _start(mark, ids)
        if pos == len(ids):  # nothing new (touched, or rewritten with the same records)
            days[day] = [pos, ids[-1] if ids else "", sig]
            continue
        while pos < len(ids):
            take = min(size - len(recs), len(ids) - pos)
            recs.extend(values[pos : pos + take])
            pos += take
            parts.append(Part(day, pos, ids[pos - 1], sig if pos == len(ids) else None))
            if len(recs) >= size:
                yield recs, parts
                recs, parts = [], []
    if recs:
        yield recs, parts


def journal_batches(
    files: StoreFiles, offsets: dict[str, int], size: int = BATCH
) -> Iterator[tuple[list[dict[str, Any]], dict[str, int]]]:
    """The journals' records past `offsets` (per journal, bytes), `size` at a time, each batch
    with the offsets it completes (a journal's only with its last records)."""
    for path in files.journals():
        lines = files.read_journal(path, offsets.get(path.name, 0))
        if lines is None or lines.end == offsets.get(path.name, 0):
            continue
        recs = lines.records
        for start in range(0, max(len(recs), 1), size):
            last = start + size >= len(recs)
            yield recs[start : start + size], ({path.name: lines.end} if last else {})


def advance(days: dict[str, state.DayMark], parts: list[Part]) -> None:
    """Move a cursor's `days` past a batch that was delivered."""
    for part in parts:
        days[part.day] = [part.end, part.last_id, part.sig]


def send(conn: Any, recs: list[dict[str, Any]], device: str) -> int:
    """Insert one batch in one transaction (COPY into a temporary table, then one INSERT of the
    ids new to the database); how many records were new."""
    months = sorted({r["date"][:7] + "-01" for r in recs})
    conn.execute("SELECT usage_ls.add_months(%s::date[])", (months,))
    with conn.transaction():
        conn.execute(INCOMING)
        cur = conn.cursor()
        with cur.copy(COPY) as copy:
            copy.set_types(list(_TYPES))
            for rec in recs:
                copy.write_row(_row(rec, device))
        cur.execute(INSERT)
        return int(cur.rowcount)


def push(
    root: Path,
    tz: dt.tzinfo,
    conninfo: str,
    *,
    size: int = BATCH,
    max_batches: int | None = None,
    link: Link | None = None,
) -> Outcome:
    """Push every record past the cursor; TeamError (masked, also kept in status.json) when the
    database cannot be reached or refuses. Returns at once when another process is pushing.
    With `link`, its connection is used and kept (dropped after a failure); without, one is
    opened for this push."""
    out = Outcome()
    lock = state.push_lock(root)
    if not lock.acquire(blocking=False):
        out.busy = True
        return out
    own = link is None
    used = link or Link(conninfo)
    try:
        state.write_status(root, lastAttempt=state.now_ms())
        try:
            _push(root, tz, used, size, max_batches, out)
        except TeamError as exc:
            used.drop()
            state.write_status(root, lastError=str(exc), lastErrorAt=state.now_ms())
            raise
        except Exception as exc:  # psycopg's errors, a connection dropped mid-batch
            used.drop()
            message = (
                f"push failed after {out.inserted} new record(s): {db.said(exc, conninfo)}{schema.refusal_hint(exc)}"
            )
            state.write_status(root, lastError=message, lastErrorAt=state.now_ms())
            raise TeamError(message) from None
        state.write_status(root, lastSuccess=state.now_ms(), lastError=None, lastErrorAt=None)
        return out
    finally:
        if own:
            used.close()
        lock.release()


def _push(root: Path, tz: dt.tzinfo, link: Link, size: int, max_batches: int | None, out: Outcome) -> None:
    files = StoreFiles(root, tz, writable=False)
    device = state.device_id(root)
    conn, database = link.open()
    if link.known_in != database or len(link.known) > KNOWN_MAX:
        link.known, link.known_in = set(), database
    cursor = state.Cursor(root).load(database)
    fresh = 0
    for recs, reach in journal_batches(files, cursor.journals, size):
        if max_batches is not None and out.batches >= max_batches:
            break
        fresh += len(recs)
        if recs:
            out.inserted += send(conn, recs, device)
            out.sent += len(recs)
            out.batches += 1
            link.known.update(rec["id"] for rec in recs)
        cursor.journals.update(reach)  # committed: the cursor may move
        cursor.save()
    present = {path.name for path in files.journals()}
    cursor.journals = {name: n for name, n in cursor.journals.items() if name in present}  # folded, gone
    now = time.time()
    if fresh:
        link.journal_at = now
    if (fresh or now - link.journal_at < DAYS_EVERY_S) and 0 <= now - cursor.days_read_at < DAYS_EVERY_S:
        # records keep coming: the day files (mostly those records again, folded, each one read whole)
        # wait, so the next push comes sooner; read when the journals are quiet, or DAYS_EVERY_S on.
        # (A kept link counts the pushes right after a checkpoint, whose journal is folded and gone, as
        # busy too: while it was pushing every fraction of a second it saw that journal's records.)
        cursor.save()
        return
    cursor.days_read_at = now
    for recs, parts in batches(files, cursor.days, size):
        if max_batches is not None and out.batches >= max_batches:
            break
        ids = [rec["id"] for rec in recs]
        todo = [rec for rec, i in zip(recs, ids) if i not in link.known] if link.known else recs
        if todo:  # (the journal's records this link already delivered are folded in here: not again)
            out.inserted += send(conn, todo, device)
            out.sent += len(todo)
            out.batches += 1
        link.known.difference_update(ids)
        advance(cursor.days, parts)  # committed: the cursor may move
        cursor.save()
    cursor.save()


def queued(root: Path, tz: dt.tzinfo) -> int:
    """Records in day files not yet pushed to the database the cursor was last used with (every
    record before the first push), from the rollups' counts: no day file is read."""
    path = root / state.SYNC_DIR / "cursor.json"
    data = fileio.read_json(path) if path.parent.exists() else None
    cursor = state.Cursor(root).load(data.get("database", "") if isinstance(data, dict) else "")
    files = StoreFiles(root, tz, writable=False)
    names = Names.fresh()
    total = 0
    months = sorted(p.stem for p in files.rollup_dir.glob("*.json")) if files.rollup_dir.exists() else []
    for month in months:
        _sig, chunk, _hours = files.month_rollups(month, names)
        if not len(chunk):
            continue
        ordinals, where = np.unique(chunk.day, return_inverse=True)
        counts = np.bincount(where, weights=chunk.m[0])
        for ordinal, count in zip(ordinals.tolist(), counts.tolist()):
            mark = cursor.days.get(dt.date.fromordinal(ordinal).isoformat())
            total += max(0, int(count) - (int(mark[0]) if mark else 0))
    return total
