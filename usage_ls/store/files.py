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
    repairs.jsonl                             what was rebuilt or lost, for `usage-ls doctor` (repair.py)

Checkpoints (checkpoint.py) and bulk imports (bulk.py) both write through `StoreFiles`; the
ledger (ledger.py) reads through it. A columns file is a cache: it carries the (mtime, size)
of the file it was built from and is used only while they match (`fresh_columns`).
Problems worth telling the user (an id index rebuilt, rollups rebuilt) collect in `problems`.

Opening refuses a data directory that is not safe to use (safety.py). No file is read or
written through a symbolic link at its own name (fileio). Journal lines are checked again as
they are read, and each line skipped is told once, by file and line number (`read_journal`).
A day file found damaged is rebuilt from what remains (`repair_day`, repair.py).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import threading
from array import array
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from usage_ls import fileio, lazy
from usage_ls.errors import StoreRefused
from usage_ls.store import repair, safety, stamp, storage
from usage_ls.store.columns import RecordColumns
from usage_ls.store.idsets import as_id_array, from_npy, id_array, npy_bytes, union_ids, unique_ids
from usage_ls.store.journal import SUFFIX, FileLock, Lines, read_lines
from usage_ls.store.rollup import (
    Chunk,
    Names,
    id_hash,
    rollup_chunk,
    rollup_columns,
    rollup_doc,
    rollup_from_bytes,
    rollup_to_bytes,
)

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy.module("numpy")  # loaded on first use (usage_ls/lazy.py)

COLS_SUFFIX = ".cols"
DAY_FILE = re.compile(r"\d{4}-\d{2}-\d{2}\.json")  # days/YYYY-MM/<day>.json
Signature = tuple[int, int, int]  # (mtime_ns, size, inode): has the file changed?
Source = list[int]  # (mtime_ns, size) of the file a columns file was built from


def signature(path: Path) -> Signature | None:
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def source(path: Path) -> Source | None:
    sig = signature(path)
    return None if sig is None else [sig[0], sig[1]]


def keep_columns(side: Path, data: bytes) -> None:
    """Write a columns file. Only a cache: on a disk error readers rebuild it from its source,
    and not fsynced (after a crash, a file that is not whole fails its CRC and is rebuilt)."""
    try:
        fileio.atomic_write(side, data, durable=False)
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
        data = fileio.read_bytes(side)
    except fileio.NotAFile as exc:
        fileio.quarantine(side, f"{exc.strerror}; rebuilt from {path.name}")
        return None
    if not data:
        return None
    try:
        stored, *rest = decode(data)
    except ValueError as exc:
        fileio.quarantine(side, f"unreadable {what}: {exc}; rebuilt from {path.name}")
        return None
    return rest if stored == src else None


class StoreLock(FileLock):
    """The checkpoint lock, knowing which thread of this process holds it: a damaged day found
    while reading is repaired under it, and a flock taken twice by one process waits forever."""

    def __init__(self, files: StoreFiles):
        super().__init__(files.lock_path)
        self.files = files

    def acquire(self, blocking: bool = True, timeout: float = 30.0) -> bool:
        taken = super().acquire(blocking, timeout)
        if taken:
            self.files.lock_holder = threading.get_ident()
        return taken

    def release(self) -> None:
        if self.fd >= 0:
            self.files.lock_holder = None
        super().release()


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
        self.notes_path = root / repair.NOTES
        self.problems: list[str] = []
        self.told: set[str] = set()  # problems told once per process (a skipped journal line)
        self.lock_holder: int | None = None  # the thread of ours holding the checkpoint lock
        self.repairs = 0  # day files repaired by this process (an id index read before may be stale)

    def make_dirs(self) -> None:
        """Refuse a data directory that is not safe to use (StoreRefused: each problem and its
        fix), then create the folders that are missing (0700)."""
        problems = safety.problems(self.root)
        if problems:
            raise StoreRefused(f"refusing to use the data directory {self.root}:\n- " + "\n- ".join(problems))
        for d in (self.root, self.journal_dir, self.days_dir, self.rollup_dir):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)

    def lock(self) -> StoreLock:
        """The checkpoint lock (not yet taken): checkpoints and bulk writes hold it."""
        return StoreLock(self)

    def tell_once(self, problem: str) -> None:
        if problem not in self.told:
            self.told.add(problem)
            self.problems.append(problem)

    def note(self, kind: str, text: str) -> None:
        """Tell the user, and keep it in the repairs log for `usage-ls doctor`."""
        self.problems.append(text)
        repair.append_note(self.notes_path, kind, text)

    # -- journals -----------------------------------------------------------------------------

    def journals(self) -> list[Path]:
        return sorted(self.journal_dir.glob(f"*{SUFFIX}"))

    def read_journal(self, path: Path, offset: int) -> Lines | None:
        """`read_lines`, telling the user once about each line skipped (file and line number);
        None for a journal that is a symbolic link (never read)."""
        try:
            lines = read_lines(path, offset)
        except fileio.NotAFile:
            self.tell_once(
                f"{path} is a symbolic link, not a journal: not read (nothing is followed out of the data directory)"
            )
            return None
        for number, why in lines.rejected:
            self.tell_once(f"{path} line {number}: {why}; this line is skipped, the journal's others are counted")
        return lines

    # -- paths ------------------------------------------------------------------------------

    def day_files(self) -> list[tuple[str, Path]]:
        """Every day file as (day, path), in day order."""
        if not self.days_dir.exists():
            return []
        return sorted((p.stem, p) for p in self.days_dir.glob("*/*.json") if DAY_FILE.fullmatch(p.name))

    def day_path(self, day: str) -> Path:
        return self.days_dir / day[:7] / f"{day}.json"

    def day_columns_path(self, day: str) -> Path:
        return self.days_dir / day[:7] / f"{day}{COLS_SUFFIX}"

    def rollup_path(self, month: str) -> Path:
        return self.rollup_dir / f"{month}.json"

    def rollup_columns_path(self, month: str) -> Path:
        return self.rollup_dir / f"{month}{COLS_SUFFIX}"

    # -- day files ----------------------------------------------------------------------------

    def month_dir(self, month: str) -> Path:
        """days/YYYY-MM, created when missing; never a symbolic link (safety.checked_folder)."""
        return safety.checked_folder(self.days_dir / month)

    def day_records(self, day: str) -> dict[str, dict[str, Any]]:
        """The records of `day`'s file by id ({} when there is none). A damaged file is moved
        aside and the day rebuilt from what remains (`repair_day`)."""
        path = self.day_path(day)
        data, moved = fileio.read_json_checked(path)
        if moved is None:
            if data is None:
                return {}
            records = data.get("records", {}) if isinstance(data, dict) else None
            if isinstance(records, dict):
                return records
            moved = "not a day file"
            fileio.quarantine(path, moved)
        return self.repair_day(day, moved)

    def repair_day(self, day: str, reason: str) -> dict[str, dict[str, Any]]:
        """Rebuild a day whose file was just moved aside (`reason`) from its columns file and the
        folded part of the journals (repair.py), under the checkpoint lock; write it, the day's
        rollup (what remains: every view agrees) and the state; note what was rebuilt or lost."""
        if self.lock_holder == threading.get_ident():
            return self._repair_day(day, reason)
        lock = self.lock()
        if not lock.acquire(blocking=True, timeout=30):
            raise OSError(f"{self.lock_path}: not released within 30 s; {day} is repaired later")
        try:
            return self._repair_day(day, reason)
        finally:
            lock.release()

    def _repair_day(self, day: str, reason: str) -> dict[str, dict[str, Any]]:
        path = self.day_path(day)
        data, _moved = fileio.read_json_checked(path)
        if isinstance(data, dict) and isinstance(data.get("records"), dict):
            return dict(data["records"])  # rebuilt by another process while we waited for the lock
        state = self.stored_state()
        folded = state["offsets"]
        got = repair.salvage(
            day, self.day_columns_path(day), [(j, int(folded.get(j.name) or 0)) for j in self.journals()]
        )
        expected = repair.rollup_count(fileio.read_json(self.rollup_path(day[:7])), day)
        records = got.records
        if records:
            fileio.atomic_write(path, orjson.dumps({"records": records}))
            self.write_day_columns(day, list(records.values()))
        self.write_rollups({day[:7]: {day: rollup_doc(records.values(), day, self.tz)}})
        if expected is None or len(records) < expected:
            self.ids_path.unlink(missing_ok=True)  # lost ids must not block a record sent again: rebuilt from the days
        self.commit_state(state, set(state.get("models") or []) | {r["model"] for r in records.values()})
        self.repairs += 1
        self.note(*repair.describe(day, got, expected, reason))
        return records

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
        # (a repair under the same lock may have committed since `state` was read)
        seq = max(int(state.get("seq") or 0), int(self.stored_state().get("seq") or 0))
        new_state = {
            "format": 1,
            "seq": seq + 1,
            "offsets": state.get("offsets") or {} if offsets is None else offsets,
            "models": sorted(models),
        }
        fileio.atomic_write(self.state_path, orjson.dumps(new_state))

    # -- ids.npy ------------------------------------------------------------------------------

    def read_ids(self) -> np.ndarray:
        """The id index; rebuilt from the day files when it is missing or unreadable."""
        try:
            data = fileio.read_bytes(self.ids_path)
        except fileio.NotAFile as exc:
            fileio.quarantine(self.ids_path, f"{exc.strerror}; not read")
            data = None
        if data is None:
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
            hashes.extend(id_hash(i) for i in self.day_records(path.stem))
        ids = unique_ids(np.array(hashes, dtype=np.uint64))
        if self.writable:
            self.write_ids(ids)
        return ids

    def read_id_array(self) -> array[int]:
        """`read_ids` as an `array("Q")`, without numpy when the file is as `write_ids` wrote it."""
        try:
            data = fileio.read_bytes(self.ids_path)
            if data is None and not any(self.days_dir.glob("*/*.json")):
                return id_array()
            return from_npy(data or b"")  # (missing but day files exist, damaged, other: below)
        except (fileio.NotAFile, ValueError):
            return as_id_array(self.read_ids())  # rebuilt, moved aside or read by numpy, and told

    def write_ids(self, ids: np.ndarray | array[int], sync_dir: bool = True) -> None:
        """The id index (sorted, each once) as `np.save`'s bytes, without numpy. `sync_dir=False`:
        the caller's next durable write in the data directory makes the rename durable too."""
        fileio.atomic_write(self.ids_path, npy_bytes(ids), sync_dir=sync_dir)

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
            keep_columns(self.rollup_columns_path(month), rollup_columns(data.get("days") or {}, src))

    def rebuild_rollups(self, month: str) -> dict[str, Any] | None:
        """A month's rollups from its day files, when the rollup file is missing or was corrupt."""
        day_files = sorted((self.days_dir / month).glob(f"{month}-??.json"))
        if not day_files:
            return None
        docs = {}
        for path in day_files:
            docs[path.stem] = rollup_doc(self.day_records(path.stem).values(), path.stem, self.tz)
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
        # kept by a read-only process too (a report after an import: the import writes none):
        # a cache beside a file that exists, written whole or not at all
        if source(path) == src:  # the file we read is still the one we stat'ed
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
