"""The ledger: durable ingest and the in-memory view every query reads.

On disk (all files 0600, every rewrite atomic):

    journal/<start>-<tag>-<pid>-<rand>.jsonl   one per process; fsynced before an ack
    days/YYYY-MM/YYYY-MM-DD.json              TinyDB: table "records", doc id = record id
    rollups/YYYY-MM.json                      TinyDB: table "days", doc id = date, totals
                                              per (model, project, user, billing)
    days/YYYY-MM/YYYY-MM-DD.cols              the day file's records as numpy columns, and
    rollups/YYYY-MM.cols                      the rollup file's rows: derived, each stamped
                                              with the (mtime, size) of the file it was built
                                              from and rebuilt from that file when it differs
    ids.npy                                   sorted 64-bit hashes of every checkpointed id
    state.json                                checkpoint: journal offsets, seq, known models
    checkpoint.lock                           cross-process lock for checkpoints

A checkpoint (under the lock) folds journal lines past their offsets into the day files,
recomputes those days' rollups from the day files, then writes ids and offsets. Every step is
idempotent (day files are keyed by record id), so a crash anywhere in it is repaired by the
next checkpoint replaying the same journal lines.

In memory, each process holds: the rollups of the months it has needed (numpy columns, so a
filtered sum over a year is a few vectorised passes; the least recently used beyond
MONTH_CACHE_BYTES are dropped, and reloaded from their .cols files in milliseconds), plus an
*overlay* of journal lines past the checkpoint offsets from every process's journal. Each
query first tails the journals (a directory scan and a few stats), so two editor windows
always agree. When another process checkpoints, the overlay is rebuilt from the new offsets.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
from tinydb.middlewares import CachingMiddleware
from tinydb.table import Document

from usage_ls import days
from usage_ls.config import Config
from usage_ls.model import Defaults, RecordError, validate_record
from usage_ls.pricing import Pricer
from usage_ls.store import storage
from usage_ls.store.columns import RecordColumns, pack, unpack
from usage_ls.store.idsets import union_ids, unique_ids
from usage_ls.store.journal import SUFFIX, FileLock, JournalWriter, owner_alive, read_lines

# metric columns of every aggregate row, in this order
METRICS = (
    "messages",
    "inputTokens",
    "outputTokens",
    "cacheReadTokens",
    "cacheWriteTokens",
    "costUsd",
    "credits",
    "unpricedMessages",
)
NM = len(METRICS)
BILLINGS = ("premium", "byok")
CHECKPOINT_RECORDS = 5_000
MAX_BATCH = 50_000
JOURNAL_ROTATE_BYTES = 64 * 1024 * 1024
FACTS_CACHE_DAYS = 62
FACTS_CACHE_BYTES = 8 * 1024 * 1024  # aggregate rows of recent short ranges (status bar, hovers, 30-day views)
MONTH_CACHE_BYTES = 20 * 1024 * 1024  # months of rollups held as columns (~2.7 MB a month at 1M records)
DAY_CACHE_BYTES = 24 * 1024 * 1024  # days held as record columns (~115 bytes a record)
COLS_SUFFIX = ".cols"


def id_hash(rec_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(rec_id.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def metrics_of(rec: dict) -> list[float]:
    cost = rec.get("costUsd")
    credits = rec.get("credits")
    return [
        1.0,
        rec["inputTokens"],
        rec["outputTokens"],
        rec["cacheReadTokens"],
        rec["cacheWriteTokens"],
        cost or 0.0,
        credits or 0.0,
        1.0 if cost is None else 0.0,
    ]


def fact_of(rec: dict) -> tuple:
    """What a rollup needs of one stored record."""
    return (
        rec["model"], rec["project"], rec["user"], rec["billing"], rec["ts"],
        rec["inputTokens"], rec["outputTokens"], rec["cacheReadTokens"], rec["cacheWriteTokens"],
        rec.get("costUsd"), rec.get("credits"),
    )


def rollup_facts(facts, day: str, tz) -> dict:
    """A day's rollup document from its records' facts (`fact_of`): totals per (model, project,
    user, billing), and credits and cost per local hour of the day (25 bins: a DST day can have
    25 hours), so hourly baselines never need the day files."""
    acc: dict[tuple, list] = {}
    start = days.midnight_ms(day, tz)
    credits_h, cost_h = [0.0] * 25, [0.0] * 25
    for model, project, user, billing, ts, inp, out, cr, cw, cost, credits in facts:
        key = (model, project, user, billing)
        row = acc.get(key)
        if row is None:
            acc[key] = [1.0, inp, out, cr, cw, cost or 0.0, credits or 0.0, 1.0 if cost is None else 0.0]
        else:
            row[0] += 1.0
            row[1] += inp
            row[2] += out
            row[3] += cr
            row[4] += cw
            row[5] += cost or 0.0
            row[6] += credits or 0.0
            row[7] += 1.0 if cost is None else 0.0
        h = (ts - start) // 3_600_000
        if 0 <= h < 25:
            credits_h[h] += credits or 0.0
            cost_h[h] += cost or 0.0
    return {"rows": [[*key, *vals] for key, vals in acc.items()], "hours": [credits_h, cost_h]}


def rollup_rows(records) -> list[list]:
    """A day's totals per (model, project, user, billing), from its records."""
    return rollup_facts(map(fact_of, records), "2000-01-01", dt.timezone.utc)["rows"]


def rollup_hours(records, day: str, tz) -> list[list[float]]:
    """Credits and cost per local hour of the day, from its records."""
    return rollup_facts(map(fact_of, records), day, tz)["hours"]


def rollup_doc(records, day: str, tz) -> dict:
    return rollup_facts(map(fact_of, records), day, tz)


class Dims:
    """Interning of model, project and user names to small ints for the numpy columns."""

    def __init__(self):
        self.names: list[str] = []
        self.index: dict[str, int] = {}

    def id(self, name: str) -> int:
        i = self.index.get(name)
        if i is None:
            i = self.index[name] = len(self.names)
            self.names.append(name)
        return i

    def lookup(self, name: str) -> int:
        return self.index.get(name, -1)


@dataclass
class Chunk:
    """Aggregate rows in columns: one row per (day, model, project, user, billing)."""

    day: np.ndarray  # int32 ordinals
    model: np.ndarray
    project: np.ndarray
    user: np.ndarray
    billing: np.ndarray  # 0 premium, 1 byok
    m: np.ndarray  # float64 (NM, n): one contiguous row per metric, for fast bincounts

    @staticmethod
    def empty() -> "Chunk":
        z = np.zeros(0, dtype=np.int32)
        return Chunk(z, z, z, z, np.zeros(0, dtype=np.int8), np.zeros((NM, 0)))

    def __len__(self) -> int:
        return len(self.day)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.day, self.model, self.project, self.user, self.billing, self.m))

    def take(self, sel) -> "Chunk":
        return Chunk(self.day[sel], self.model[sel], self.project[sel], self.user[sel], self.billing[sel], self.m[:, sel])

    def day_slice(self, lo: int, hi: int) -> "Chunk":
        """Rows with lo <= day <= hi (rows are sorted by day)."""
        a = int(np.searchsorted(self.day, lo, "left"))
        b = int(np.searchsorted(self.day, hi, "right"))
        return self if (a == 0 and b == len(self.day)) else self.take(slice(a, b))

    @staticmethod
    def concat(chunks: list["Chunk"]) -> "Chunk":
        chunks = [c for c in chunks if len(c)]
        if not chunks:
            return Chunk.empty()
        if len(chunks) == 1:
            return chunks[0]
        return Chunk(
            np.concatenate([c.day for c in chunks]),
            np.concatenate([c.model for c in chunks]),
            np.concatenate([c.project for c in chunks]),
            np.concatenate([c.user for c in chunks]),
            np.concatenate([c.billing for c in chunks]),
            np.concatenate([c.m for c in chunks], axis=1),
        )


class Ledger:
    def __init__(self, cfg: Config, pricer: Pricer | None = None, *, tag: str = "srv", writable: bool = True):
        self.cfg = cfg
        self.pricer = pricer or Pricer(cfg)
        self.tz = cfg.tz
        self.root = Path(cfg.data_dir)
        self.journal_dir = self.root / "journal"
        self.days_dir = self.root / "days"
        self.rollup_dir = self.root / "rollups"
        self.state_path = self.root / "state.json"
        self.ids_path = self.root / "ids.npy"
        self.lock_path = self.root / "checkpoint.lock"
        self.tag = tag
        self.writable = writable
        self.writer: JournalWriter | None = None
        self.unwritten: list[dict] = []  # accepted while the disk refused writes; retried
        self.write_error: str | None = None
        self.models, self.projects, self.users = Dims(), Dims(), Dims()
        self.version = 0  # bumped whenever what queries see changes
        self.problems: list[str] = []  # told to the user (editor message, doctor)
        self._quarantine_seen = 0
        self._mutex = threading.Lock()  # checkpoint thread vs. close
        # month -> (rollup file signature, rows, {day: hourly credits and cost}), least recently used first
        self._months: dict[str, tuple[tuple, Chunk, dict[str, np.ndarray]]] = {}
        self._month_bytes = 0
        self._state_sig: tuple | None = None
        self._state: dict = {"seq": 0, "offsets": {}, "models": []}
        self._ids = np.zeros(0, dtype=np.uint64)
        self._day_cache: dict[str, tuple[tuple, RecordColumns]] = {}
        self._day_bytes = 0
        self._facts_cache: dict[tuple[str, str], Chunk] = {}
        self._facts_bytes = 0
        self._facts_stamp: tuple = ()
        self._reset_overlay()

    # -- lifecycle ------------------------------------------------------------------------

    def open(self) -> "Ledger":
        for d in (self.root, self.journal_dir, self.days_dir, self.rollup_dir):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.writable:
            storage.remove_stale_temps(self.root)
            try:
                self.writer = JournalWriter(self.journal_dir, self.tag)
            except OSError as exc:  # read-only or full: records are kept in memory until it works
                self.write_error = exc.strerror or str(exc)
                self.problems.append(f"cannot write to {self.journal_dir}: {self.write_error}")
            try:
                self.checkpoint(blocking=False)  # fold journals of processes that died
            except OSError as exc:
                self.problems.append(f"could not checkpoint at start: {exc}")
        self._load_state(force=True)
        self.refresh()
        return self

    def close(self, checkpoint: bool = True) -> None:
        """Fold our journal into the day files and remove it (a clean exit leaves no journal)."""
        self.retry_unwritten()
        if self.writer is None:
            return
        with self._mutex:
            writer, self.writer = self.writer, None
            writer.close()
            if checkpoint:
                try:
                    self._checkpoint(blocking=True, own=None)
                except OSError as exc:
                    self.problems.append(f"final checkpoint failed: {exc}")

    # -- ingest ---------------------------------------------------------------------------

    def ingest(self, raw_records, defaults: Defaults, *, sync: bool = True) -> dict:
        """Validate, price, dedupe and journal a batch. Good records are kept beside bad ones."""
        if not self.writable:
            raise RuntimeError("ledger is read-only")
        self.refresh()
        accepted: list[dict] = []
        rejected: list[dict] = []
        duplicates = 0
        ignored: dict[str, int] = {}
        now = days.now_ms()
        batch_hashes: set[int] = set()
        hashes: list[int] = []
        for index, raw in enumerate(raw_records):
            try:
                rec, dropped = validate_record(raw, defaults, now)
            except RecordError as exc:
                rejected.append({"index": index, "field": exc.field, "message": exc.message})
                continue
            for key in dropped:
                ignored[key] = ignored.get(key, 0) + 1
            h = id_hash(rec["id"])
            if h in batch_hashes or self._seen(h):
                duplicates += 1
                continue
            batch_hashes.add(h)
            accepted.append(self.pricer.apply(rec))
            hashes.append(h)
        durable = sync
        if accepted:
            if not self._write(accepted, sync):
                durable = False
            for rec, h in zip(accepted, hashes):
                self._overlay_add(rec, h)
            self.version += 1
        result = {"accepted": len(accepted), "duplicates": duplicates, "rejected": rejected, "durable": durable}
        if self.unwritten:
            result["warning"] = (
                f"cannot write to {self.journal_dir} ({self.write_error}); {len(self.unwritten)} record(s) are "
                "kept in memory and will be written when the disk allows: not durable yet"
            )
        if ignored:
            result["ignoredFields"] = ignored
        return result

    def _write(self, records: list[dict], sync: bool) -> bool:
        """Journal records; on a disk error keep them in memory (`unwritten`) to retry."""
        if self.unwritten:  # keep order: earlier records first
            self.unwritten.extend(records)
            return self.retry_unwritten() > 0
        try:
            if self.writer is None:
                self.writer = JournalWriter(self.journal_dir, self.tag)
            self._pos[self.writer.name] = self.writer.append(records, sync=sync)
            self.write_error = None
            return True
        except OSError as exc:
            self.write_error = exc.strerror or str(exc)
            self.unwritten.extend(records)
            return False

    def retry_unwritten(self) -> int:
        """Write records kept in memory after a disk error; returns how many were written."""
        if not self.unwritten:
            return 0
        pending, self.unwritten = self.unwritten, []
        try:
            if self.writer is None:
                self.writer = JournalWriter(self.journal_dir, self.tag)
            self._pos[self.writer.name] = self.writer.append(pending, sync=True)
        except OSError as exc:
            self.write_error = exc.strerror or str(exc)
            self.unwritten = pending
            return 0
        self.write_error = None
        return len(pending)

    def sync(self) -> None:
        if self.writer is not None:
            try:
                self.writer.sync()
            except OSError as exc:
                self.write_error = exc.strerror or str(exc)
                self.problems.append(f"fsync of the journal failed: {self.write_error}")

    def rotate_journal(self, max_bytes: int = JOURNAL_ROTATE_BYTES) -> bool:
        """Start a fresh journal once ours is large; the old one is folded and deleted by the
        next checkpoint like any finished journal, so a long-running server's journal stays small."""
        if self.writer is None or self.writer.size < max_bytes:
            return False
        old = self.writer
        old.sync()
        self.writer = JournalWriter(self.journal_dir, self.tag)
        self._pos[self.writer.name] = 0
        old.close()
        return True

    def _seen(self, h: int) -> bool:
        if h in self._ov_hashes:
            return True
        ids = self._ids
        if not len(ids):
            return False
        i = int(np.searchsorted(ids, np.uint64(h)))
        return i < len(ids) and int(ids[i]) == h

    @property
    def pending(self) -> int:
        """Records in journals not yet folded into day files."""
        return self._ov_count

    # -- overlay (journal lines past the checkpoint) ----------------------------------------

    def _reset_overlay(self) -> None:
        self._pos: dict[str, int] = {}
        # pending records per day, as their JSON lines: a quarter of the memory of dicts
        self._ov_records: dict[str, list[str]] = defaultdict(list)
        self._ov_index: dict[tuple, int] = {}  # (day, model, project, user, billing) -> row
        self._ov_keys = np.zeros((5, 256), dtype=np.int32)
        self._ov_m = np.zeros((NM, 256))
        self._ov_hashes: set[int] = set()
        self._ov_count = 0
        self._ov_models: set[str] = set()
        self._ordinals: dict[str, int] = {}

    def _overlay_add(self, rec: dict, h: int | None = None) -> bool:
        """Count a record that is in a journal; `h` is its id hash when the caller already
        checked it is new."""
        if h is None:
            h = id_hash(rec["id"])
            if self._seen(h):
                return False
        self._ov_hashes.add(h)
        # .decode(): an orjson bytes result keeps an ~8 KB buffer alive; the str is exact
        self._ov_records[rec["date"]].append(orjson.dumps(rec).decode())
        ordinal = self._ordinals.get(rec["date"])
        if ordinal is None:
            ordinal = self._ordinals[rec["date"]] = days.ordinal(rec["date"])
        key = (
            ordinal,
            self.models.id(rec["model"]),
            self.projects.id(rec["project"]),
            self.users.id(rec["user"]),
            0 if rec["billing"] == "premium" else 1,
        )
        row = self._ov_index.get(key)
        if row is None:
            row = self._ov_index[key] = len(self._ov_index)
            if row >= self._ov_keys.shape[1]:  # grow by doubling
                self._ov_keys = np.concatenate([self._ov_keys, np.zeros_like(self._ov_keys)], axis=1)
                self._ov_m = np.concatenate([self._ov_m, np.zeros_like(self._ov_m)], axis=1)
            self._ov_keys[:, row] = key
        self._ov_m[:, row] += metrics_of(rec)
        self._ov_count += 1
        self._ov_models.add(rec["model"])
        return True

    def _overlay_chunk(self) -> Chunk:
        n = len(self._ov_index)
        if not n:
            return Chunk.empty()
        k = self._ov_keys
        return Chunk(k[0, :n], k[1, :n], k[2, :n], k[3, :n], k[4, :n].astype(np.int8), self._ov_m[:, :n])

    # -- seeing other processes' writes ---------------------------------------------------

    def refresh(self) -> bool:
        """Catch up with checkpoints and journal lines of every process. True when anything changed."""
        changed = self._load_state()
        try:
            entries = list(os.scandir(self.journal_dir))
        except FileNotFoundError:
            entries = []
        own = self.writer.name if self.writer else None
        for entry in entries:
            name = entry.name
            if not name.endswith(SUFFIX) or name == own and name in self._pos:
                continue
            pos = self._pos.get(name)
            if pos is None:
                pos = self._state["offsets"].get(name, 0)
            try:
                size = entry.stat().st_size
            except FileNotFoundError:
                continue
            if size <= pos:
                self._pos[name] = pos
                continue
            records, end, _bad = read_lines(Path(entry.path), pos)
            self._pos[name] = end
            added = False
            for rec in records:
                added |= self._overlay_add(rec)
            if added:
                changed = True
        if changed:
            self.version += 1
        return changed

    def _signature(self, path: Path) -> tuple | None:
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _stored_state(self) -> dict:
        """state.json as on disk; a fresh state when it is missing or not understood."""
        state = storage.read_json(self.state_path) or {}
        return state if isinstance(state.get("offsets"), dict) else {"seq": 0, "offsets": {}, "models": []}

    def _commit_state(self, state: dict, models: set, offsets: dict | None = None) -> None:
        """Write the state after `state` (under the checkpoint lock): its `seq` + 1 tells every
        process that day files, rollups or ids changed."""
        new_state = {
            "format": 1,
            "seq": int(state.get("seq") or 0) + 1,
            "offsets": state.get("offsets") or {} if offsets is None else offsets,
            "models": sorted(models),
        }
        storage.atomic_write(self.state_path, orjson.dumps(new_state))

    def _load_state(self, force: bool = False) -> bool:
        sig = self._signature(self.state_path)
        if sig == self._state_sig and not force:
            return False
        state = self._stored_state()
        self._state_sig = sig
        if not force and state.get("seq") == self._state.get("seq"):
            return False
        self._state = state
        self._ids = self._read_ids()
        # months folded into by the checkpoint are reloaded lazily (signature check)
        for month in list(self._months):
            if self._months[month][0] != self._signature(self._rollup_path(month)):
                self._drop_month(month)
        self._reset_overlay()
        self.version += 1
        return True

    def _read_ids(self) -> np.ndarray:
        try:
            data = self.ids_path.read_bytes()
        except FileNotFoundError:
            if any(self.days_dir.glob("*/*.json")):  # lost or moved aside: day files know every id
                return self._rebuild_ids()
            return np.zeros(0, dtype=np.uint64)
        try:
            arr = np.load(io.BytesIO(data), allow_pickle=False)
            if arr.dtype != np.uint64 or arr.ndim != 1:
                raise ValueError("unexpected array")
            return arr
        except Exception as exc:
            storage.quarantine(self.ids_path, f"unreadable id index: {exc}")
            self.problems.append("the id index was unreadable and moved aside; it is rebuilt from the day files")
            return self._rebuild_ids()

    def _rebuild_ids(self) -> np.ndarray:
        hashes = []
        for path in self.days_dir.glob("*/*.json"):
            data = storage.read_json(path) or {}
            hashes.extend(id_hash(i) for i in (data.get("records") or {}))
        ids = unique_ids(np.array(hashes, dtype=np.uint64))
        if self.writable:
            self._write_ids(ids)
        return ids

    def _write_ids(self, ids: np.ndarray) -> None:
        buf = io.BytesIO()
        np.save(buf, ids, allow_pickle=False)
        storage.atomic_write(self.ids_path, buf.getvalue())

    # -- reading ----------------------------------------------------------------------------

    def _rollup_path(self, month: str) -> Path:
        return self.rollup_dir / f"{month}.json"

    def _day_path(self, day: str) -> Path:
        return self.days_dir / day[:7] / f"{day}.json"

    def _months_for(self, months: list[str]) -> list[tuple]:
        """The cache entries of `months`, loading the missing ones.

        Rollups are loaded while no checkpoint runs, and only after catching up with the last
        one: a rollup written by a checkpoint whose state we haven't seen yet would count its
        records twice (once in the rollup, once in our overlay)."""
        entries = {}
        for m in months:
            if m in self._months:
                entries[m] = self._months[m] = self._months.pop(m)  # most recently used last
        if len(entries) < len(months):
            lock = FileLock(self.lock_path)
            locked = self.lock_path.parent.exists() and lock.acquire(blocking=True, timeout=10)
            try:
                if self._load_state():
                    self.refresh()
                    entries = {m: self._months[m] for m in months if m in self._months}
                for month in reversed(months):  # newest first: they stay cached when not all fit
                    if month not in entries:
                        entries[month] = self._load_month(month, keep=entries)
            finally:
                if locked:
                    lock.release()
        return [entries[m] for m in months]

    def _load_month(self, month: str, keep=()) -> tuple:
        """A month's rollups as columns: from its columns file (rollups/YYYY-MM.cols, written by
        checkpoints) when that matches the rollup file, else from the rollup file, writing the
        columns. Cached within MONTH_CACHE_BYTES, dropping the least recently used months but
        not those in `keep` (the request's own): a month that does not fit is not cached."""
        path, side = self._rollup_path(month), self._month_cols_path(month)
        sig, source = self._signature(path), self._source(path)
        loaded = self._fresh_columns(side, path, source, self._month_from_bytes, "rollup columns")
        if loaded is None:
            data = storage.read_json(path) if source is not None else None
            if data is None and self.writable:  # missing or corrupt: rebuilt from the day files
                data = self._rebuild_rollups(month)
                sig, source = self._signature(path), self._source(path)
            loaded = self._chunk_of((data or {}).get("days") or {}, self.models, self.projects, self.users)
            if self.writable and source is not None and self._source(path) == source:
                self._keep_columns(side, self._month_to_bytes(*loaded, source))
        entry = (sig, *loaded)
        self._drop_month(month)
        for old in [m for m in self._months if m not in keep]:
            if self._month_bytes + entry[1].nbytes <= MONTH_CACHE_BYTES:
                break
            self._drop_month(old)
        if self._month_bytes + entry[1].nbytes <= MONTH_CACHE_BYTES or not self._months:
            self._months[month] = entry
            self._month_bytes += entry[1].nbytes
        return entry

    def _drop_month(self, month: str) -> None:
        entry = self._months.pop(month, None)
        if entry is not None:
            self._month_bytes -= entry[1].nbytes

    def _month_cols_path(self, month: str) -> Path:
        return self.rollup_dir / f"{month}{COLS_SUFFIX}"

    @staticmethod
    def _chunk_of(table: dict, models: Dims, projects: Dims, users: Dims) -> tuple[Chunk, dict[str, np.ndarray]]:
        """Rows and hourly totals of a rollup file's "days" table."""
        days_col, cols, metrics = [], ([], [], [], []), []
        mid, pid, uid = models.id, projects.id, users.id
        hours = {}
        for day in sorted(table):
            rows = table[day].get("rows") or []
            if isinstance(table[day].get("hours"), list) and len(table[day]["hours"]) == 2:
                hours[day] = np.array(table[day]["hours"], dtype=np.float64)
            ordinal = days.ordinal(day)
            for row in rows:
                days_col.append(ordinal)
                cols[0].append(mid(row[0]))
                cols[1].append(pid(row[1]))
                cols[2].append(uid(row[2]))
                cols[3].append(0 if row[3] == "premium" else 1)
                metrics.append(row[4 : 4 + NM])
        if not days_col:
            return Chunk.empty(), hours
        chunk = Chunk(
            np.array(days_col, dtype=np.int32),
            np.array(cols[0], dtype=np.int32),
            np.array(cols[1], dtype=np.int32),
            np.array(cols[2], dtype=np.int32),
            np.array(cols[3], dtype=np.int8),
            np.ascontiguousarray(np.array(metrics, dtype=np.float64).reshape(len(days_col), NM).T),
        )
        return chunk, hours

    def _month_to_bytes(self, chunk: Chunk, hours: dict[str, np.ndarray], source: list, dims=None) -> bytes:
        """A month's rows and hourly totals as one `pack` file; names travel in its header (each
        process interns them to ids of its own)."""
        names, codes = [], []
        for col, interned in zip((chunk.model, chunk.project, chunk.user), dims or (self.models, self.projects, self.users)):
            used, inverse = np.unique(col, return_inverse=True)
            names.append([interned.names[int(i)] for i in used])
            codes.append(inverse.reshape(-1))
        hour_days = sorted(hours)
        arrays = {
            "day": chunk.day, "dims": np.array(codes, dtype=np.int32).reshape(3, len(chunk)), "billing": chunk.billing,
            "m": chunk.m, "hour_days": np.array([days.ordinal(d) for d in hour_days], dtype=np.int32),
            "hours": np.array([hours[d] for d in hour_days], dtype=np.float64).reshape(len(hour_days), 2, 25),
        }
        return pack(arrays, {"source": list(source), "n": len(chunk), "names": names})

    def _month_from_bytes(self, data: bytes) -> tuple[list, Chunk, dict[str, np.ndarray]]:
        """(source signature, rows, hourly totals) of `_month_to_bytes`; ValueError when damaged."""
        header, arrays = unpack(data)
        try:
            n, names, source = int(header["n"]), header["names"], header["source"]
            day, codes, billing, m = arrays["day"], arrays["dims"], arrays["billing"], arrays["m"]
            hour_days, hours = arrays["hour_days"], arrays["hours"]
            if (
                day.shape != (n,) or codes.shape != (3, n) or billing.shape != (n,) or m.shape != (NM, n)
                or len(names) != 3 or hours.shape != (len(hour_days), 2, 25)
                or any(n and (row.min() < 0 or row.max() >= len(ns)) for row, ns in zip(codes, names))
            ):
                raise ValueError("inconsistent rollup columns")
            dims = [
                np.array([interned.id(str(name)) for name in ns], dtype=np.int32)[row] if n else np.zeros(0, dtype=np.int32)
                for row, ns, interned in zip(codes, names, (self.models, self.projects, self.users))
            ]
            by_day = {days.from_ordinal(o): hours[i].copy() for i, o in enumerate(hour_days.tolist())}
        except (KeyError, TypeError, IndexError, OverflowError) as exc:
            raise ValueError(f"bad header: {exc!r}") from None
        return source, Chunk(day.copy(), dims[0], dims[1], dims[2], billing.copy(), m.copy()), by_day

    def _write_month_columns(self, rollups: dict) -> None:
        """Checkpoint step: the columns of the rollup files just written (`rollups`: {month: ...}),
        so that no server parses a rollup file after a checkpoint (see `_load_month`)."""
        for month in rollups:
            path = self._rollup_path(month)
            source = self._source(path)
            data = storage.read_json(path) if source is not None else None
            if data is None:
                continue
            dims = (Dims(), Dims(), Dims())
            chunk, hours = self._chunk_of(data.get("days") or {}, *dims)
            self._keep_columns(self._month_cols_path(month), self._month_to_bytes(chunk, hours, source, dims))

    def _rebuild_rollups(self, month: str) -> dict | None:
        """A month's rollups from its day files, when the rollup file is missing or was corrupt."""
        day_files = sorted((self.days_dir / month).glob(f"{month}-??.json"))
        if not day_files:
            return None
        db = storage.Database(self._rollup_path(month), storage=CachingMiddleware(storage.AtomicJSONStorage))
        table = db.table("days")
        for path in day_files:
            records = ((storage.read_json(path) or {}).get("records") or {}).values()
            table.upsert(Document(rollup_doc(records, path.stem, self.tz), doc_id=path.stem))
        db.storage.flush()
        self.problems.append(f"rebuilt the rollups of {month} from its day files")
        return storage.read_json(self._rollup_path(month))

    def take_problems(self) -> list[str]:
        """Problems not yet told to the user, including files moved aside as corrupt."""
        for path, reason in storage.QUARANTINE[self._quarantine_seen :]:
            self.problems.append(f"{path}: {reason}; moved aside (kept, not deleted)")
        self._quarantine_seen = len(storage.QUARANTINE)
        out, self.problems = self.problems, []
        return out

    def facts(self, start: str, end: str) -> Chunk:
        """Aggregate rows for days start..end (inclusive), checkpointed and pending. Short ranges
        are cached (least recently used dropped beyond FACTS_CACHE_BYTES) until the ledger changes."""
        stamp = (self.version, self._ov_count)
        if self._facts_stamp != stamp:
            self._facts_cache.clear()
            self._facts_bytes = 0
            self._facts_stamp = stamp
        hit = self._facts_cache.pop((start, end), None)
        if hit is None:
            hit = self._facts(start, end)
            if days.ordinal(end) - days.ordinal(start) >= FACTS_CACHE_DAYS:  # long ranges: results are cached instead
                return hit
            self._facts_bytes += hit.nbytes
            while self._facts_cache and self._facts_bytes > FACTS_CACHE_BYTES:
                self._facts_bytes -= self._facts_cache.pop(next(iter(self._facts_cache))).nbytes
        self._facts_cache[(start, end)] = hit  # most recently used last
        return hit

    def _facts(self, start: str, end: str) -> Chunk:
        lo, hi = days.ordinal(start), days.ordinal(end)
        months = sorted({d[:7] for d in (start, end)} | {days.from_ordinal(o)[:7] for o in range(lo, hi + 1, 28)})
        chunks = [entry[1].day_slice(lo, hi) for entry in self._months_for(months)]
        ov = self._overlay_chunk()
        if len(ov):
            ov = ov.take((ov.day >= lo) & (ov.day <= hi))
        return Chunk.concat(chunks + [ov])

    def day_records(self, day: str) -> list[dict]:
        """Every record of one day: the day file plus pending journal lines."""
        path = self._day_path(day)
        data = storage.read_json(path)
        recs = list(((data or {}).get("records") or {}).values())
        pending = self.pending_records(day)
        if not pending:
            return recs
        have = {r["id"] for r in recs}
        return recs + [r for r in pending if r["id"] not in have]

    def pending_records(self, day: str, start: int = 0) -> list[dict]:
        """Records of `day` in journals not yet folded into its day file (from the `start`th)."""
        lines = self._ov_records.get(day)
        return [orjson.loads(line) for line in lines[start:]] if lines else []

    def day_columns(self, day: str) -> RecordColumns:
        """A day's records as columns, cached until the day file or its pending lines change."""
        sig = (self._signature(self._day_path(day)), len(self._ov_records.get(day, ())), self._state.get("seq"))
        cached = self._day_cache.get(day)
        if cached is not None and cached[0] == sig:
            self._day_cache[day] = self._day_cache.pop(day)  # most recently used last
            return cached[1]
        cols = self.file_columns(day)
        pending = self.pending_records(day)
        if pending:
            have = set(cols.ids) if len(cols) else ()
            fresh = [r for r in pending if r["id"] not in have]
            cols = RecordColumns.concat([cols, RecordColumns.build(fresh, self.models, self.projects, self.users)])
        if cached is not None:
            self._day_bytes -= cached[1].nbytes
        self._day_cache[day] = (sig, cols)
        self._day_bytes += cols.nbytes
        while self._day_bytes > DAY_CACHE_BYTES and len(self._day_cache) > 1:
            _day, (_sig, old) = next(iter(self._day_cache.items()))
            del self._day_cache[_day]
            self._day_bytes -= old.nbytes
        return cols

    # A day's checkpointed records are also kept as columns beside its day file
    # (days/YYYY-MM/YYYY-MM-DD.cols, written by checkpoints): loading them takes ~0.2 ms per
    # 2,000 records where parsing the day file and building columns takes ~8 ms. The day file stays
    # the source of truth: the columns carry the signature (mtime, size) of the day file they
    # were built from and are rebuilt from it when missing, stale or damaged.

    def _cols_path(self, day: str) -> Path:
        return self.days_dir / day[:7] / f"{day}{COLS_SUFFIX}"

    @staticmethod
    def _keep_columns(side: Path, data: bytes) -> None:
        """Write a columns file. Only a cache: on a disk error readers rebuild it from its source."""
        try:
            storage.atomic_write(side, data)
        except OSError:
            pass

    @staticmethod
    def _fresh_columns(side: Path, path: Path, source: list | None, decode, what: str) -> list | None:
        """What `decode` makes of the columns file `side` (after the signature it stores) when it
        was built from `path` as that file is now (`source`), else None. A columns file that
        does not decode is moved aside; the caller rebuilds it from `path`."""
        if source is None:
            return None
        try:
            data = side.read_bytes()
        except FileNotFoundError:
            return None
        if not data:
            return None
        try:
            stored, *rest = decode(data)
        except ValueError as exc:
            storage.quarantine(side, f"unreadable {what}: {exc}; rebuilt from {path.name}")
            return None
        return rest if stored == source else None

    @staticmethod
    def _source(path: Path) -> list | None:
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        return [st.st_mtime_ns, st.st_size]

    def file_columns(self, day: str) -> RecordColumns:
        """The records of `day`'s file (no pending lines) as columns."""
        path, side = self._day_path(day), self._cols_path(day)
        source = self._source(path)
        if source is None:
            return RecordColumns.build([], self.models, self.projects, self.users)
        fresh = self._fresh_columns(
            side, path, source, lambda data: RecordColumns.from_bytes(data, self.models, self.projects, self.users), "record columns"
        )
        if fresh is not None:
            return fresh[0]
        records = list(((storage.read_json(path) or {}).get("records") or {}).values())
        cols = RecordColumns.build(records, self.models, self.projects, self.users)
        if self.writable and self._source(path) == source:  # the file we read is still the one we stat'ed
            self._keep_columns(side, cols.to_bytes(self.models, self.projects, self.users, source))
        return cols

    def _write_day_columns(self, day: str, records: list) -> None:
        """Checkpoint step: the columns of a day file just written with exactly `records`."""
        source = self._source(self._day_path(day))
        if source is None:
            return
        dims = (Dims(), Dims(), Dims())
        self._keep_columns(self._cols_path(day), RecordColumns.build(records, *dims).to_bytes(*dims, source))

    def day_hours(self, day: str) -> np.ndarray | None:
        """Credits (row 0) and cost (row 1) per local hour of `day`, from the rollups plus
        pending journal lines; None when the rollup predates hourly totals."""
        _sig, chunk, hours = self._months_for([day[:7]])[0]
        base = hours.get(day)
        has_rows = len(chunk.day_slice(days.ordinal(day), days.ordinal(day)))
        if base is None and has_rows:
            return None
        out = np.zeros((2, 25)) if base is None else base.copy()
        pending = self.pending_records(day)
        if pending:
            out += np.array(rollup_hours(pending, day, self.tz))
        return out

    def known_models(self) -> set[str]:
        return set(self._state.get("models") or []) | self._ov_models | set(self.models.names)

    # -- checkpoint ---------------------------------------------------------------------------

    def checkpoint(self, blocking: bool = True) -> bool:
        with self._mutex:
            return self._checkpoint(blocking, own=self.writer.name if self.writer else None)

    def _write_rollups(self, rollups: dict[str, dict[str, dict]]) -> None:
        """Upsert day documents into their months' rollup files ({month: {day: doc}})."""
        for month, day_docs in rollups.items():
            db = storage.Database(self._rollup_path(month), storage=CachingMiddleware(storage.AtomicJSONStorage))
            table = db.table("days")
            for day, doc in day_docs.items():
                table.upsert(Document(doc, doc_id=day))
            db.storage.flush()

    def bulk_add(self, payloads: list) -> dict:
        """Records prepared by `store.bulk.prepare` (a log import), written straight into the
        day files and rollups under the checkpoint lock; see `store.bulk`."""
        from usage_ls.store.bulk import bulk_add

        return bulk_add(self, payloads)

    def _checkpoint(self, blocking: bool, own: str | None) -> bool:
        lock = FileLock(self.lock_path)
        if not lock.acquire(blocking=blocking):
            return False
        try:
            from usage_ls.store.bulk import recover

            recover(self)  # a bulk import that stopped half-way: its days' rollups and ids
            state = storage.read_json(self.state_path) or {}
            offsets: dict[str, int] = dict(state.get("offsets") or {})
            ids = self._read_ids()
            seen: set[int] = set()
            new_hashes: list[int] = []
            by_day: dict[str, list[dict]] = defaultdict(list)
            finished: list[Path] = []
            for path in sorted(self.journal_dir.glob(f"*{SUFFIX}")):
                name = path.name
                alive = name == own or owner_alive(path)
                records, end, _bad = read_lines(path, offsets.get(name, 0))
                for rec in records:
                    h = id_hash(rec["id"])
                    if h in seen:
                        continue
                    i = int(np.searchsorted(ids, np.uint64(h))) if len(ids) else 0
                    if i < len(ids) and int(ids[i]) == h:
                        continue
                    seen.add(h)
                    new_hashes.append(h)
                    by_day[rec["date"]].append(rec)
                offsets[name] = end
                if not alive:  # its writer is gone: a trailing partial line was never acknowledged
                    finished.append(path)
            models = set(state.get("models") or [])
            rollups: dict[str, dict[str, list]] = defaultdict(dict)
            for day, records in sorted(by_day.items()):
                path = self._day_path(day)
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                db = storage.Database(path, storage=CachingMiddleware(storage.AtomicJSONStorage))
                table = db.table("records")
                existing = {doc.doc_id: doc for doc in table.all()}
                fresh = [Document(r, doc_id=r["id"]) for r in records if r["id"] not in existing]
                if fresh:
                    table.insert_multiple(fresh)
                    db.storage.flush()
                models.update(r["model"] for r in fresh)
                rollups[day[:7]][day] = rollup_doc([*existing.values(), *fresh], day, self.tz)
                self._write_day_columns(day, [*existing.values(), *fresh])
            self._write_rollups(rollups)
            self._write_month_columns(rollups)
            if new_hashes:
                self._write_ids(union_ids(ids, np.array(new_hashes, dtype=np.uint64)))
            for path in finished:
                offsets.pop(path.name, None)
            changed = bool(by_day) or bool(finished) or offsets != (state.get("offsets") or {})
            if changed:
                self._commit_state(state, models, offsets)
                for path in finished:
                    path.unlink(missing_ok=True)
                storage.fsync_dir(self.journal_dir)
            return True
        finally:
            lock.release()
