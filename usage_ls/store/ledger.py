"""The ledger: durable ingest and the in-memory view every query reads.

Writing: `ingest` validates, prices (with the function it was given), dedupes and journals a
batch, acknowledging only after fsync; `checkpoint` folds journals into the day files
(checkpoint.py); bulk imports write day files directly (bulk.py). The files and their format
belong to `StoreFiles` (files.py) and the aggregate rows to rollup.py.

Reading: each process holds the rollups of the months it has needed (numpy columns, so a
filtered sum over a year is a few vectorised passes; least recently used months beyond
MONTH_CACHE_BYTES are dropped, and reloaded from their .cols files in milliseconds), plus the
*overlay* (overlay.py) of journal lines past the checkpoint offsets, from every process's
journal. Each query first catches up (`refresh`: a stat of state.json, a directory scan of the
journals), so two editor windows always agree. When another process checkpoints, the overlay
is rebuilt from the new offsets.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from usage_ls import days, fileio
from usage_ls.model import Defaults, RecordError, validate_record
from usage_ls.store import annotations as ann
from usage_ls.store import checkpoint as checkpoints
from usage_ls.store.cache import ByteCache
from usage_ls.store.columns import RecordColumns
from usage_ls.store.files import Signature, StoreFiles, signature
from usage_ls.store.idsets import member
from usage_ls.store.journal import SUFFIX, JournalWriter
from usage_ls.store.overlay import Overlay
from usage_ls.store.rollup import Chunk, Names, id_hash, rollup_hours

CHECKPOINT_RECORDS = 5_000  # a server checkpoints once this many records are pending
JOURNAL_ROTATE_BYTES = 64 * 1024 * 1024
FACTS_CACHE_DAYS = 62
FACTS_CACHE_BYTES = 8 * 1024 * 1024  # aggregate rows of recent short ranges (status bar, hovers, 30-day views)
MONTH_CACHE_BYTES = 20 * 1024 * 1024  # months of rollups held as columns (~2.7 MB a month at 1M records)
DAY_CACHE_BYTES = 24 * 1024 * 1024  # days held as record columns (~115 bytes a record)

Price = Callable[[dict[str, Any]], dict[str, Any]]  # prices a stored record in place and returns it


class Month:
    """A month's rollups as loaded: the rollup file's signature, its rows, {day: hourly credits and cost}."""

    __slots__ = ("chunk", "hours", "signature")

    def __init__(self, sig: Signature | None, chunk: Chunk, hours: dict[str, np.ndarray]):
        self.signature, self.chunk, self.hours = sig, chunk, hours


class Ledger:
    def __init__(
        self, root: Path | str, tz: dt.tzinfo, price: Price | None = None, *, tag: str = "srv", writable: bool = True
    ):
        self.files = StoreFiles(Path(root), tz, writable)
        self.price = price
        self.tz = tz
        self.tag = tag
        self.writable = writable
        self.writer: JournalWriter | None = None
        self.unwritten: list[dict[str, Any]] = []  # accepted while the disk refused writes; retried
        self.write_error: str | None = None
        self.names = Names.fresh()
        self.models, self.projects, self.users = self.names
        self.version = 0  # bumped whenever what queries see changes
        self._quarantine_seen = 0
        self._mutex = threading.Lock()  # checkpoint thread vs. close
        self.months: ByteCache[str, Month] = ByteCache(MONTH_CACHE_BYTES)
        self.day_cache: ByteCache[str, tuple[Any, RecordColumns]] = ByteCache(DAY_CACHE_BYTES)  # (signature, columns)
        self.facts_cache: ByteCache[tuple[str, str], Chunk] = ByteCache(
            FACTS_CACHE_BYTES
        )  # (start, end) -> Chunk, until the ledger changes
        self._state_sig: Signature | None = None
        self._state: dict[str, Any] = {"seq": 0, "offsets": {}, "models": []}
        self._ids = np.zeros(0, dtype=np.uint64)
        self.overlay = Overlay(self.names)
        self.annotations = ann.Annotations(self.files.root / ann.DIR)
        self._notes: ann.Stamp = ()

    @property
    def problems(self) -> list[str]:
        """Told to the user (editor message, doctor)."""
        return self.files.problems

    @property
    def root(self) -> Path:
        return self.files.root

    # -- lifecycle ------------------------------------------------------------------------

    def open(self) -> Ledger:
        self.files.make_dirs()
        if self.writable:
            fileio.remove_stale_temps(self.root)
            try:
                self.writer = JournalWriter(self.files.journal_dir, self.tag)
            except OSError as exc:  # read-only or full: records are kept in memory until it works
                self.write_error = exc.strerror or str(exc)
                self.problems.append(f"cannot write to {self.files.journal_dir}: {self.write_error}")
            try:
                self.checkpoint(blocking=False)  # fold journals of processes that died
            except OSError as exc:
                self.problems.append(f"could not checkpoint at start: {exc}")
        self.reload(force=True)
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
                    checkpoints.checkpoint(self.files, own=None, blocking=True)
                except OSError as exc:
                    self.problems.append(f"final checkpoint failed: {exc}")

    def checkpoint(self, blocking: bool = True) -> bool:
        with self._mutex:
            return checkpoints.checkpoint(self.files, own=self.writer.name if self.writer else None, blocking=blocking)

    # -- ingest ---------------------------------------------------------------------------

    def ingest(self, raw_records: list[Any], defaults: Defaults, *, sync: bool = True) -> dict[str, Any]:
        """Validate, price, dedupe and journal a batch. Good records are kept beside bad ones."""
        if not self.writable or self.price is None:
            raise RuntimeError("ledger is read-only")
        self.refresh()
        accepted: list[dict[str, Any]] = []
        rejected: list[dict[str, Any]] = []
        duplicates = 0
        ignored: dict[str, int] = {}
        now = days.now_ms()
        batch_hashes: set[int] = set()
        hashes: list[int] = []
        again: list[dict[str, Any]] = []
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
                if h not in batch_hashes and "=" in (rec["feature"] or ""):
                    again.append(rec)  # may add attribution to the stored record
                continue
            batch_hashes.add(h)
            accepted.append(self.price(rec))
            hashes.append(h)
        durable = sync
        if accepted:
            if not self._write(accepted, sync):
                durable = False
            for rec, h in zip(accepted, hashes):
                self.overlay.add(rec, h)
            self.version += 1
        result = {"accepted": len(accepted), "duplicates": duplicates, "rejected": rejected, "durable": durable}
        if again and (enriched := self._enrich(again, sync)):
            result["enriched"] = enriched
        if self.unwritten:
            result["warning"] = (
                f"cannot write to {self.files.journal_dir} ({self.write_error}); {len(self.unwritten)} record(s) are "
                "kept in memory and will be written when the disk allows: not durable yet"
            )
        if ignored:
            result["ignoredFields"] = ignored
        return result

    def _enrich(self, records: list[dict[str, Any]], sync: bool) -> int:
        """Annotate stored records with the attribution their duplicates add (annotations.py)."""
        notes = ann.enrichments(records, self.day_columns)
        try:
            self.annotations.add(notes, sync)
        except OSError as exc:
            self.problems.append(f"could not add the attribution of {len(notes)} record(s): {exc}")
            return 0
        if notes:
            self._notes, self.version = self.annotations.stamp(), self.version + 1
        return len(notes)

    def _write(self, records: list[dict[str, Any]], sync: bool) -> bool:
        """Journal records; on a disk error keep them in memory (`unwritten`) to retry."""
        if self.unwritten:  # keep order: earlier records first
            self.unwritten.extend(records)
            return self.retry_unwritten() > 0
        try:
            if self.writer is None:
                self.writer = JournalWriter(self.files.journal_dir, self.tag)
            self.overlay.positions[self.writer.name] = self.writer.append(records, sync=sync)
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
                self.writer = JournalWriter(self.files.journal_dir, self.tag)
            self.overlay.positions[self.writer.name] = self.writer.append(pending, sync=True)
        except OSError as exc:
            self.write_error = exc.strerror or str(exc)
            self.unwritten = pending
            return 0
        self.write_error = None
        return len(pending)

    def sync(self) -> None:
        self.annotations.sync()  # annotations added by notifications (not fsynced yet)
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
        self.writer = JournalWriter(self.files.journal_dir, self.tag)
        self.overlay.positions[self.writer.name] = 0
        old.close()
        return True

    def _seen(self, h: int) -> bool:
        if h in self.overlay.hashes:
            return True
        ids = self._ids
        if not len(ids):
            return False
        i = int(np.searchsorted(ids, np.uint64(h)))
        return i < len(ids) and int(ids[i]) == h

    def known(self, hashes: np.ndarray) -> np.ndarray:
        """True for each id hash the ledger holds (checkpointed, or pending in any journal)."""
        self.refresh()
        known = member(self.files.read_ids(), hashes)
        if pending := self.overlay.hashes:
            known |= np.fromiter((h in pending for h in hashes.tolist()), dtype=bool, count=len(hashes))
        return known

    @property
    def pending(self) -> int:
        """Records in journals not yet folded into day files."""
        return self.overlay.count

    @property
    def checkpoint_seq(self) -> int:
        """The sequence number of the last checkpoint seen: it changes whenever a day file does."""
        return int(self._state.get("seq") or 0)

    # -- seeing other processes' writes ---------------------------------------------------

    def refresh(self) -> bool:
        """Catch up with checkpoints and journal lines of every process. True when anything changed."""
        changed = self.reload()
        try:
            entries = list(os.scandir(self.files.journal_dir))
        except FileNotFoundError:
            entries = []
        own = self.writer.name if self.writer else None
        positions = self.overlay.positions
        for entry in entries:
            name = entry.name
            if not name.endswith(SUFFIX) or (name == own and name in positions):
                continue
            pos = positions.get(name)
            if pos is None:
                pos = self._state["offsets"].get(name, 0)
            try:
                size = entry.stat(follow_symlinks=False).st_size
            except FileNotFoundError:
                continue
            if size <= pos:
                positions[name] = pos
                continue
            lines = self.files.read_journal(Path(entry.path), pos)  # lines checked again; a link is not read
            if lines is None:
                continue
            positions[name] = lines.end
            for rec in lines.records:
                h = id_hash(rec["id"])
                if not self._seen(h):
                    self.overlay.add(rec, h)
                    changed = True
        notes = self.annotations.stamp()
        if notes != self._notes:
            self._notes, changed = notes, True
        if changed:
            self.version += 1
        return changed

    def reload(self, force: bool = False) -> bool:
        """Catch up with the last checkpoint (state.json): the id index, changed months, a fresh
        overlay. True when there was one we had not seen."""
        sig = signature(self.files.state_path)
        if sig == self._state_sig and not force:
            return False
        state = self.files.stored_state()
        self._state_sig = sig
        if not force and state.get("seq") == self._state.get("seq"):
            return False
        self._state = state
        self._ids = self.files.read_ids()
        # months folded into by the checkpoint are reloaded lazily (signature check)
        for month in self.months:
            held = self.months.peek(month)
            if held is None or held.signature != signature(self.files.rollup_path(month)):
                self.months.pop(month)
        self.overlay = Overlay(self.names)
        self.version += 1
        return True

    def take_problems(self) -> list[str]:
        """Problems not yet told to the user, including files moved aside as corrupt."""
        for path, reason in fileio.QUARANTINE[self._quarantine_seen :]:
            self.problems.append(f"{path}: {reason}; moved aside (kept, not deleted)")
        self._quarantine_seen = len(fileio.QUARANTINE)
        out = list(self.problems) + self.annotations.problems
        self.problems.clear()
        self.annotations.problems.clear()
        return out

    # -- reading: aggregate rows --------------------------------------------------------------

    def facts(self, start: str, end: str) -> Chunk:
        """Aggregate rows for days start..end (inclusive), checkpointed and pending. Short ranges
        are cached (least recently used dropped beyond FACTS_CACHE_BYTES) until the ledger changes."""
        self.facts_cache.restamp((self.version, self.overlay.count))
        hit = self.facts_cache.get((start, end))
        if hit is None:
            hit = self._facts(start, end)
            if days.ordinal(end) - days.ordinal(start) < FACTS_CACHE_DAYS:  # long ranges: results are cached instead
                self.facts_cache.put((start, end), hit, hit.nbytes)
        return hit

    def _facts(self, start: str, end: str) -> Chunk:
        lo, hi = days.ordinal(start), days.ordinal(end)
        months = sorted({d[:7] for d in (start, end)} | {days.from_ordinal(o)[:7] for o in range(lo, hi + 1, 28)})
        chunks = [month.chunk.day_slice(lo, hi) for month in self._months_for(months)]
        ov = self.overlay.chunk()
        if len(ov):
            ov = ov.take((ov.day >= lo) & (ov.day <= hi))
        return Chunk.concat(chunks + [ov])

    def day_hours(self, day: str) -> np.ndarray | None:
        """Credits (row 0) and cost (row 1) per local hour of `day`, from the rollups plus
        pending journal lines; None when the rollup predates hourly totals."""
        month = self._months_for([day[:7]])[0]
        base = month.hours.get(day)
        has_rows = len(month.chunk.day_slice(days.ordinal(day), days.ordinal(day)))
        if base is None and has_rows:
            return None
        out = np.zeros((2, 25)) if base is None else base.copy()
        pending = self.overlay.records(day)
        if pending:
            out += np.array(rollup_hours(pending, day, self.tz))
        return out

    def known_models(self) -> set[str]:
        return set(self._state.get("models") or []) | self.overlay.models | set(self.models.names)

    def _cached_months(self, months: list[str]) -> dict[str, Month]:
        held = {m: self.months.get(m) for m in months}
        return {m: entry for m, entry in held.items() if entry is not None}

    def _months_for(self, months: list[str]) -> list[Month]:
        """The cache entries of `months`, loading the missing ones.

        Rollups are loaded while no checkpoint runs, and only after catching up with the last
        one: a rollup written by a checkpoint whose state we haven't seen yet would count its
        records twice (once in the rollup, once in our overlay)."""
        entries = self._cached_months(months)
        if len(entries) < len(months):
            lock = self.files.lock()
            locked = self.root.exists() and lock.acquire(blocking=True, timeout=10)
            try:
                if self.reload():
                    self.refresh()
                    entries = self._cached_months(months)
                for month in reversed(months):  # newest first: they stay cached when not all fit
                    if month not in entries:
                        entries[month] = self._load_month(month, keep=entries)
            finally:
                if locked:
                    lock.release()
        return [entries[m] for m in months]

    def _load_month(self, month: str, keep: Iterable[str] = ()) -> Month:
        """A month's rollups as columns: from its columns file (rollups/YYYY-MM.cols, written by
        checkpoints) when that matches the rollup file, else from the rollup file, writing the
        columns. Cached within MONTH_CACHE_BYTES, dropping the least recently used months but
        not those in `keep` (the request's own): a month that does not fit is not cached."""
        sig, chunk, hours = self.files.month_rollups(month, self.names)
        entry = Month(sig, chunk, hours)
        self.months.put(month, entry, entry.chunk.nbytes, keep=keep)
        return entry

    # -- reading: records -----------------------------------------------------------------------

    def day_records(self, day: str) -> list[dict[str, Any]]:
        """Every record of one day: the day file plus pending journal lines (annotations applied)."""
        return self.day_columns(day).records(*self.names)

    def pending_records(self, day: str, start: int = 0) -> list[dict[str, Any]]:
        """Records of `day` in journals not yet folded into its day file (from the `start`th)."""
        return self.overlay.records(day, start)

    def pending_lines(self, day: str) -> list[str] | None:
        """The pending lines of `day` as held (the same list while it only grows), or None."""
        return self.overlay.lines.get(day)

    def day_file_signature(self, day: str) -> Signature | None:
        return signature(self.files.day_path(day))

    def day_columns(self, day: str) -> RecordColumns:
        """A day's records as columns, cached until the day file or its pending lines change."""
        pending_n, notes = len(self.overlay.lines.get(day, ())), self.annotations.signature(day[:7])
        sig = (self.day_file_signature(day), pending_n, self._state.get("seq"), notes)
        cached = self.day_cache.get(day)
        if cached is not None and cached[0] == sig:
            return cached[1]
        cols = self.file_columns(day)
        pending = self.overlay.records(day)
        if pending:
            have = set(cols.ids) if len(cols) else ()
            fresh = [r for r in pending if r["id"] not in have]
            cols = RecordColumns.concat([cols, RecordColumns.build(fresh, *self.names)])
        cols = ann.applied(cols, self.annotations.for_day(day))
        self.day_cache.put(day, (sig, cols), cols.nbytes)
        return cols

    def file_columns(self, day: str) -> RecordColumns:
        """The records of `day`'s file (no pending lines) as columns (`StoreFiles.day_columns`)."""
        return self.files.day_columns(day, self.names)
