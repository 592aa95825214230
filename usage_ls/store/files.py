"""The ledger's files: where each lives, and the one place that reads and writes them.

    journal/<start>-<tag>-<pid>-<rand>.jsonl   one per process; fsynced before an ack (journal.py)
    days/YYYY-MM/YYYY-MM-DD.json              TinyDB: table "records", doc id = record id
    days/YYYY-MM/YYYY-MM-DD.cols              the day's records as columns (derived)
    rollups/YYYY-MM.json                      TinyDB: table "days", doc id = date (rollup.py)
    rollups/YYYY-MM.cols                      the month's rows as columns (derived)
    ids.npy                                   sorted 64-bit hashes of every checkpointed id
    state.json                                checkpoint: journal offsets, seq, known models
    bulk-intent.json                          days a bulk write is about to touch (bulk.py)
    checkpoint.lock                           cross-process lock for checkpoints and bulk writes

Checkpoints (checkpoint.py) and bulk imports (bulk.py) both write through `StoreFiles`; the
ledger (ledger.py) reads through it. A columns file is a cache: it carries the (mtime, size)
of the file it was built from and is used only while they match (`fresh_columns`).
Problems worth telling the user (an id index rebuilt, rollups rebuilt) collect in `problems`.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from usage_ls import fileio
from usage_ls.store import stamp, storage
from usage_ls.store.columns import RecordColumns
from usage_ls.store.idsets import union_ids, unique_ids
from usage_ls.store.journal import FileLock
from usage_ls.store.rollup import Chunk, Names, id_hash, rollup_chunk, rollup_doc, rollup_from_bytes, rollup_to_bytes

COLS_SUFFIX = ".cols"
Signature = tuple[int, int, int]  # (mtime_ns, size, inode): has the file changed?
Source = list[int]  # (mtime_ns, size) of the file a columns file was built from


def signature(path: Path) -> Signature | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def source(path: Path) -> Source | None:
    sig = signature(path)
    return None if sig is None else [sig[0], sig[1]]


def keep_columns(side: Path, data: bytes) -> None:
    """Write a columns file. Only a cache: on a disk error readers rebuild it from its source."""
    try:
        fileio.atomic_write(side, data)
    except OSError:
        pass


def fresh_columns(
    side: Path, path: Path, src: Source | None, decode: Callable[[bytes], Any], what: str
) -> list[Any] | None:
    """What `decode` makes of the columns file `side` (after the source it stores) when it was
    built from `path` as that file is now (`src`), else None. A columns file that does not
    decode is moved aside; the caller rebuilds it from `path`."""
    if src is None:
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
        fileio.quarantine(side, f"unreadable {what}: {exc}; rebuilt from {path.name}")
        return None
    return rest if stored == src else None


class StoreFiles:
    def __init__(self, root: Path, tz: dt.tzinfo, writable: bool = True):
        self.root = root
        self.tz = tz
        self.writable = writable
        self.journal_dir = root / stamp.JOURNAL_DIR
        self.days_dir = root / "days"
        self.rollup_dir = root / "rollups"
        self.state_path = root / stamp.STATE
        self.ids_path = root / "ids.npy"
        self.lock_path = root / "checkpoint.lock"
        self.intent_path = root / "bulk-intent.json"
        self.problems: list[str] = []

    def make_dirs(self) -> None:
        for d in (self.root, self.journal_dir, self.days_dir, self.rollup_dir):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)

    def lock(self) -> FileLock:
        """The checkpoint lock (not yet taken): checkpoints and bulk writes hold it."""
        return FileLock(self.lock_path)

    # -- paths ------------------------------------------------------------------------------

    def day_path(self, day: str) -> Path:
        return self.days_dir / day[:7] / f"{day}.json"

    def day_columns_path(self, day: str) -> Path:
        return self.days_dir / day[:7] / f"{day}{COLS_SUFFIX}"

    def rollup_path(self, month: str) -> Path:
        return self.rollup_dir / f"{month}.json"

    def rollup_columns_path(self, month: str) -> Path:
        return self.rollup_dir / f"{month}{COLS_SUFFIX}"

    # -- day files ----------------------------------------------------------------------------

    def day_records(self, day: str) -> dict[str, dict[str, Any]]:
        """The records of `day`'s file by id ({} when there is none)."""
        return (fileio.read_json(self.day_path(day)) or {}).get("records") or {}

    def write_day_columns(self, day: str, records: Sequence[dict[str, Any]]) -> None:
        """The columns of a day file just written with exactly `records`."""
        src = source(self.day_path(day))
        if src is None:
            return
        names = Names.fresh()
        keep_columns(self.day_columns_path(day), RecordColumns.build(records, *names).to_bytes(*names, src))

    # -- state.json ---------------------------------------------------------------------------

    def stored_state(self) -> dict[str, Any]:
        """state.json as on disk; a fresh state when it is missing or not understood."""
        state = fileio.read_json(self.state_path) or {}
        return state if isinstance(state.get("offsets"), dict) else {"seq": 0, "offsets": {}, "models": []}

    def commit_state(self, state: dict[str, Any], models: set[str], offsets: dict[str, Any] | None = None) -> None:
        """Write the state after `state` (under the checkpoint lock): its `seq` + 1 tells every
        process that day files, rollups or ids changed."""
        new_state = {
            "format": 1,
            "seq": int(state.get("seq") or 0) + 1,
            "offsets": state.get("offsets") or {} if offsets is None else offsets,
            "models": sorted(models),
        }
        fileio.atomic_write(self.state_path, orjson.dumps(new_state))

    # -- ids.npy ------------------------------------------------------------------------------

    def read_ids(self) -> np.ndarray:
        """The id index; rebuilt from the day files when it is missing or unreadable."""
        try:
            data = self.ids_path.read_bytes()
        except FileNotFoundError:
            if any(self.days_dir.glob("*/*.json")):  # lost or moved aside: day files know every id
                return self._rebuild_ids()
            return np.zeros(0, dtype=np.uint64)
        try:
            arr = np.load(io.BytesIO(data), allow_pickle=False)
            if not isinstance(arr, np.ndarray) or arr.dtype != np.uint64 or arr.ndim != 1:
                raise ValueError("unexpected array")
            return arr
        except Exception as exc:
            fileio.quarantine(self.ids_path, f"unreadable id index: {exc}")
            self.problems.append("the id index was unreadable and moved aside; it is rebuilt from the day files")
            return self._rebuild_ids()

    def _rebuild_ids(self) -> np.ndarray:
        hashes: list[int] = []
        for path in self.days_dir.glob("*/*.json"):
            data = fileio.read_json(path) or {}
            hashes.extend(id_hash(i) for i in (data.get("records") or {}))
        ids = unique_ids(np.array(hashes, dtype=np.uint64))
        if self.writable:
            self.write_ids(ids)
        return ids

    def write_ids(self, ids: np.ndarray) -> None:
        buf = io.BytesIO()
        np.save(buf, ids, allow_pickle=False)
        fileio.atomic_write(self.ids_path, buf.getvalue())

    # -- rollups ------------------------------------------------------------------------------

    def write_rollups(self, rollups: dict[str, dict[str, dict[str, Any]]]) -> None:
        """Upsert day documents into their months' rollup files ({month: {day: doc}}), then
        write those months' columns files, so that no server parses a rollup file after."""
        for month, day_docs in rollups.items():
            storage.upsert_all(self.rollup_path(month), "days", day_docs)
        for month in rollups:
            path = self.rollup_path(month)
            src = source(path)
            data = fileio.read_json(path) if src is not None else None
            if data is None or src is None:
                continue
            names = Names.fresh()
            chunk, hours = rollup_chunk(data.get("days") or {}, names)
            keep_columns(self.rollup_columns_path(month), rollup_to_bytes(chunk, hours, src, names))

    def rebuild_rollups(self, month: str) -> dict[str, Any] | None:
        """A month's rollups from its day files, when the rollup file is missing or was corrupt."""
        day_files = sorted((self.days_dir / month).glob(f"{month}-??.json"))
        if not day_files:
            return None
        docs = {}
        for path in day_files:
            records = ((fileio.read_json(path) or {}).get("records") or {}).values()
            docs[path.stem] = rollup_doc(records, path.stem, self.tz)
        storage.upsert_all(self.rollup_path(month), "days", docs)
        self.problems.append(f"rebuilt the rollups of {month} from its day files")
        rebuilt: dict[str, Any] | None = fileio.read_json(self.rollup_path(month))
        return rebuilt

    # -- bulk writes: intent and recovery -----------------------------------------------------

    def write_intent(self, days: list[str]) -> None:
        """Name the days a bulk write is about to touch, before any day file is written."""
        fileio.atomic_write(self.intent_path, orjson.dumps({"days": days}))

    def clear_intent(self) -> None:
        self.intent_path.unlink(missing_ok=True)

    def recover(self) -> bool:
        """Finish a bulk write that stopped after its intent was written (call under the
        checkpoint lock): rebuild the named days' rollups from their day files and add their ids."""
        intent = fileio.read_json(self.intent_path) if self.intent_path.exists() else None
        if intent is None:
            return False
        rollups: dict[str, dict[str, dict[str, Any]]] = {}
        hashes: list[int] = []
        models: set[str] = set()
        days = [d for d in intent.get("days") or [] if isinstance(d, str) and len(d) == 10]
        for month in {day[:7] for day in days}:  # the write fsyncs them only at its end (bulk.py):
            fileio.fsync_dir(self.days_dir / month)  # the day files it renamed, durable before counted
        for day in days:
            records = self.day_records(day)
            rollups.setdefault(day[:7], {})[day] = rollup_doc(records.values(), day, self.tz)
            hashes.extend(id_hash(i) for i in records)
            models.update(r["model"] for r in records.values())
        self.write_rollups(rollups)
        self.write_ids(union_ids(self.read_ids(), np.array(hashes, dtype=np.uint64)))
        state = self.stored_state()
        self.commit_state(state, set(state.get("models") or []) | models)
        self.clear_intent()
        days_checked = sum(len(d) for d in rollups.values())
        self.problems.append(
            f"finished an import that stopped half-way: rollups of {days_checked} day(s) rebuilt from their files"
        )
        return True

    # -- columns beside the JSON files -------------------------------------------------------
    # A day's checkpointed records are also kept as columns beside its day file
    # (days/YYYY-MM/YYYY-MM-DD.cols), a month's rollups beside its rollup file
    # (rollups/YYYY-MM.cols): loading a day's columns takes ~0.2 ms per 2,000 records where
    # parsing the day file and building columns takes ~8 ms. The JSON files stay the source of
    # truth: the columns carry the signature (mtime, size) of the file they were built from and
    # are rebuilt from it when missing, stale or damaged.

    def day_columns(self, day: str, names: Names) -> RecordColumns:
        """The records of `day`'s file as columns."""
        path, side = self.day_path(day), self.day_columns_path(day)
        src = source(path)
        if src is None:
            return RecordColumns.build([], *names)
        fresh = fresh_columns(side, path, src, lambda data: RecordColumns.from_bytes(data, *names), "record columns")
        if fresh is not None:
            cols = fresh[0]
            assert isinstance(cols, RecordColumns)
            return cols
        cols = RecordColumns.build(list(self.day_records(day).values()), *names)
        if self.writable and source(path) == src:  # the file we read is still the one we stat'ed
            keep_columns(side, cols.to_bytes(*names, src))
        return cols

    def month_rollups(self, month: str, names: Names) -> tuple[Signature | None, Chunk, dict[str, np.ndarray]]:
        """(signature of the rollup file, its rows, its hourly totals): from the columns file
        when that matches the rollup file, else from the rollup file (rebuilt from the day files
        when missing or corrupt), writing the columns."""
        path, side = self.rollup_path(month), self.rollup_columns_path(month)
        sig, src = signature(path), source(path)
        fresh = fresh_columns(side, path, src, lambda data: rollup_from_bytes(data, names), "rollup columns")
        if fresh is not None:
            chunk, hours = fresh
            return sig, chunk, hours
        data = fileio.read_json(path) if src is not None else None
        if data is None and self.writable:  # missing or corrupt: rebuilt from the day files
            data = self.rebuild_rollups(month)
            sig, src = signature(path), source(path)
        chunk, hours = rollup_chunk((data or {}).get("days") or {}, names)
        if self.writable and src is not None and source(path) == src:
            keep_columns(side, rollup_to_bytes(chunk, hours, src, names))
        return sig, chunk, hours
