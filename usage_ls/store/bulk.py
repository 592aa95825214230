"""Bulk import: many records from log files, straight into the day files.

A log import (`usage-ls import`) brings hundreds of thousands of records at once. Sending
them through the journal would write each one twice (journal line, then day file at the next
checkpoint) and price and check them in one process. Instead:

- `prepare` turns one protocol record into its stored form (the same `validate_record` and
  pricing as every other record) and the few things the write needs: its id hash, its day,
  its JSON text and its rollup facts. Import workers run it in parallel, on their own cores.
- `bulk_add` writes prepared records under the checkpoint lock, as a checkpoint does: new
  records go into their day files (keyed by record id), those days' rollups are recomputed
  from the whole day (existing records + new), then the id index and `state.json` (its `seq`
  tells every running server to reload). Records already checkpointed, pending in a journal,
  or twice in the batch count as duplicates.

Crash safety: before the first day file is touched, `bulk-intent.json` names the days about
to be written; it is removed once their rollups, the id index and `state.json` are written.
If it is still there (a crash, a full disk), the next checkpoint or bulk write first rebuilds
those days' rollups from their day files and adds their ids to the index (`recover`), so
rollups, ids and day files agree again. The import's own state (file offsets) is saved only
after the records are in, so the next import reads the same lines again and adds only what is
missing: a record already in its day file is never added twice.
"""

from __future__ import annotations

import datetime as dt
import os
from array import array
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import orjson

from usage_ls import fileio, lazy
from usage_ls.model import Defaults, RecordError, validate_fast, validate_record
from usage_ls.store.files import StoreFiles
from usage_ls.store.idsets import contains, id_array, merged
from usage_ls.store.journal import SUFFIX
from usage_ls.store.rollup import Fact, combine_rollups, fact_of, id_hash, rollup_doc, rollup_facts

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy.module("numpy")  # loaded on first use (usage_ls/lazy.py)


class Target(Protocol):
    """What a bulk write needs of the ledger it writes into (`Ledger`)."""

    tz: dt.tzinfo
    files: StoreFiles

    def known(self, hashes: Any) -> Any:
        """True for each id hash (a list, or a numpy array) the ledger holds."""
        ...

    def reload(self, force: bool = False) -> bool: ...


class Intake:
    """The ledger as a bulk write sees it (`Target`), without a `Ledger`: no query side, no
    numpy columns. What it holds is read from the files at each `known`: the id index and the
    records pending in running servers' journals (past the offsets of the last checkpoint)."""

    def __init__(self, files: StoreFiles, tz: dt.tzinfo):
        self.files, self.tz = files, tz

    def pending(self) -> set[int]:
        """Id hashes of journal lines no checkpoint has folded in yet."""
        offsets = self.files.stored_state().get("offsets") or {}
        try:
            entries = list(os.scandir(self.files.journal_dir))
        except FileNotFoundError:
            return set()
        out: set[int] = set()
        for entry in entries:
            if not entry.name.endswith(SUFFIX):
                continue
            pos = offsets.get(entry.name, 0)
            try:
                if entry.stat(follow_symlinks=False).st_size <= pos:
                    continue
            except FileNotFoundError:
                continue
            lines = self.files.read_journal(Path(entry.path), pos)  # a link is not read
            if lines is not None:
                out.update(id_hash(rec["id"]) for rec in lines.records)
        return out

    def known(self, hashes: Any) -> list[bool]:
        """True for each id hash (a list, or a numpy array) checkpointed or pending."""
        values = hashes if isinstance(hashes, list) else hashes.tolist()
        found = contains(self.files.read_id_array(), values)
        pending = self.pending()
        if pending:
            found = [f or h in pending for f, h in zip(found, values)]
        return found

    def reload(self, force: bool = False) -> bool:
        return False


class Prepared(NamedTuple):
    """A record ready to be written: its id hash and id, its day, its stored (priced) form and
    what its day's rollup needs of it (`fact_of`)."""

    hash: int
    id: str
    day: str
    record: dict[str, Any]
    fact: Fact


class Rejected(NamedTuple):
    """A record that did not validate: its id (when it had one), the field and the problem."""

    id: str | None
    field: str
    message: str


def prepare(
    price: Callable[[dict[str, Any]], dict[str, Any]], raw: dict[str, Any], defaults: Defaults, now_ms: int
) -> Prepared | Rejected:
    """One protocol record checked (the same `validate_record` as every other record), priced
    with `price`, and made ready to be written."""
    rec = validate_fast(raw, defaults)
    if rec is None:
        try:
            rec, _dropped = validate_record(raw, defaults, now_ms)
        except RecordError as exc:
            return Rejected(raw.get("id") if isinstance(raw, dict) else None, exc.field, exc.message)
    return prepared(price(rec))


def prepared(rec: dict[str, Any]) -> Prepared:
    """`prepare`'s result for a stored record already priced."""
    return Prepared(id_hash(rec["id"]), rec["id"], rec["date"], rec, fact_of(rec))


class DayPart:
    """New records of one day, ready to be written: the day file's members as UTF-8 JSON text
    (`"<id>":{...},...`), their id hashes, the day's rollup over just these records, models."""

    __slots__ = ("count", "day", "hashes", "models", "rollup", "text")

    def __init__(self, day: str, text: bytes, count: int, hashes: array[int], rollup: dict[str, Any], models: set[str]):
        self.day, self.text, self.count, self.hashes, self.rollup, self.models = (
            day,
            text,
            count,
            hashes,
            rollup,
            models,
        )

    def __reduce__(self) -> tuple[type[DayPart], tuple[Any, ...]]:
        return (DayPart, (self.day, self.text, self.count, self.hashes, self.rollup, self.models))

    def members(self) -> dict[str, Any]:
        members: dict[str, Any] = orjson.loads(b"{" + self.text + b"}")
        return members


def group_days(payloads: Sequence[Prepared | Rejected]) -> tuple[dict[str, list[Prepared]], list[Rejected]]:
    """Prepared records (`prepare`) -> ({day: its records}, the rejected ones)."""
    by_day: dict[str, list[Prepared]] = defaultdict(list)
    rejected = []
    for p in payloads:
        if isinstance(p, Rejected):
            rejected.append(p)
        else:
            by_day[p.day].append(p)
    return by_day, rejected


def day_part(day: str, items: list[Prepared], tz: dt.tzinfo) -> DayPart:
    """One day's prepared records -> its DayPart."""
    members = {p.id: p.record for p in items}
    if len(members) != len(items):
        raise ValueError(f"day_part: the same record id twice on {day}")  # callers drop repeats first
    text = orjson.dumps(members)[1:-1]  # one call a day: much faster than one a record
    facts = [p.fact for p in items]
    hashes = id_array(p.hash for p in items)
    return DayPart(day, text, len(items), hashes, rollup_facts(facts, day, tz), {f[0] for f in facts})


def known_mask(ledger: Target, hashes: np.ndarray) -> np.ndarray:
    """True for ids the ledger already holds (checkpointed or pending in a journal) and for
    repeats within `hashes` (all but the first). For a big import's merge (numpy columns)."""
    known = np.asarray(ledger.known(hashes), dtype=np.bool_)  # pending journal lines count as known
    first = np.zeros(len(hashes), dtype=bool)
    first[np.unique(hashes, return_index=True)[1]] = True
    mask: np.ndarray = known | ~first
    return mask


def known_list(ledger: Target, hashes: list[int]) -> list[bool]:
    """`known_mask` for hashes in a list, without numpy (a small import)."""
    seen: set[int] = set()
    out = []
    for h, k in zip(hashes, ledger.known(hashes)):
        out.append(bool(k) or h in seen)
        seen.add(h)
    return out


def bulk_add(ledger: Target, payloads: list[Prepared | Rejected]) -> dict[str, Any]:
    """Prepared records -> the ledger, under the checkpoint lock. Returns {"accepted",
    "duplicates", "rejected": [Rejected]}."""
    return bulk_add_many(ledger, [payloads])[0]


def bulk_add_many(ledger: Target, batches: Sequence[Sequence[Prepared | Rejected]]) -> list[dict[str, Any]]:
    """Several batches of prepared records (an import's tools) -> the ledger in one write under
    the checkpoint lock: one intent, each day file, month of rollups, the id index and
    `state.json` written once for all. Returns each batch's {"accepted", "duplicates",
    "rejected": [Rejected]}; an id in two batches counts in the first."""
    good: list[Prepared] = []
    owner: list[int] = []
    for i, batch in enumerate(batches):
        for p in batch:
            if type(p) is Prepared:
                good.append(p)
                owner.append(i)
    kept: list[Prepared] = []
    kept_owner: list[int] = []
    if good:
        for p, o, k in zip(good, owner, known_list(ledger, [p.hash for p in good])):
            if not k:
                kept.append(p)
                kept_owner.append(o)
    by_day, _ = group_days(kept)
    accepted = [0] * len(batches)
    if by_day:
        with DayWriter(ledger, list(by_day)) as writer:
            for day in sorted(by_day):
                writer.day(day, [day_part(day, by_day[day], ledger.tz)])
        if writer.accepted == len(kept):
            for o in kept_owner:
                accepted[o] += 1
        else:  # some were in their day files already (a crash after those were written)
            written = set(chain.from_iterable(writer.new_hashes))
            for p, o in zip(kept, kept_owner):
                accepted[o] += p.hash in written
    results = []
    for batch, n in zip(batches, accepted):
        rejected = [p for p in batch if type(p) is Rejected]
        results.append({"accepted": n, "duplicates": len(batch) - len(rejected) - n, "rejected": rejected})
    return results


class DayWriter:
    """Day parts into the day files and rollups under the checkpoint lock, a day at a time,
    so a caller can write each day as soon as all its parts are there (an import writes while
    its workers still build later days).

    Entering takes the checkpoint lock, finishes a bulk write that stopped half-way, and names
    the days in `bulk-intent.json` before any day file is touched; `day()` writes one day's
    file (on a pool thread, fsynced); leaving without an error waits for the files, fsyncs
    each month's folder once (not once per day file: the renames need only be durable before
    the rollups, ids and state that count them), then writes the rollups, the id index and
    `state.json` and removes the intent. Leaving with an error writes nothing more: the intent
    stays, and the next checkpoint or bulk write rebuilds those days' rollups and ids from
    their files (`recover`)."""

    def __init__(self, ledger: Target, days: list[str]):
        self.ledger, self.days = ledger, sorted(set(days))
        self.accepted = 0  # records written (after an error: those whose day file is written)

    def __enter__(self) -> DayWriter:
        files = self.files = self.ledger.files
        self.lock = files.lock()
        self.lock.acquire(blocking=True)
        try:
            files.recover()
            self.state = files.stored_state()
            self.ids = files.read_id_array()
            self.known: set[int] | None = None  # ids as a set, for the rare day that needs it
            files.write_intent(self.days)
            self.new_hashes: list[array[int]] = []
            self.models = set(self.state.get("models") or [])
            self.rollups: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
            self.writes: list[Any] = []  # day files are written (and fsynced) on a few threads
            self.folders: set[Path] = set()  # their folders: fsynced once, when all are written
            self.present: set[str] = set()  # day files there already: listed before any write
            for month in {day[:7] for day in self.days}:  # (a stat per day waits behind fsyncs)
                self.present.update(e.name for e in os.scandir(files.month_dir(month)))
            self.repairs = files.repairs
            self.pool = ThreadPoolExecutor(8)  # fsyncs in flight together: ~20% less wait than 4
        except BaseException:
            self.lock.release()
            raise
        return self

    def day(self, day: str, parts: list[DayPart]) -> None:
        tz = self.ledger.tz
        parts = [p for p in parts if p.count]
        if not parts:
            return
        ids = self.ids
        path = self.files.day_path(day)
        existing = self.files.day_records(day) if path.name in self.present else {}
        fresh_hashes = parts[0].hashes if len(parts) == 1 else id_array(chain.from_iterable(p.hashes for p in parts))
        have = {id_hash(i) for i in existing}
        if not have.isdisjoint(fresh_hashes) or any(contains(ids, fresh_hashes)):
            # some are in the ledger already (a crash after this day was written): per record
            members = {}
            for p in parts:
                members.update(p.members())
            if self.known is None:
                self.known = set(ids)
            fresh = {k: v for k, v in members.items() if k not in existing and id_hash(k) not in self.known}
            text = orjson.dumps(fresh)[1:-1] if fresh else b""
            docs = [rollup_doc([*existing.values(), *fresh.values()], day, tz)]
            count = len(fresh)
            fresh_hashes = id_array(id_hash(k) for k in fresh)
            day_models = {r["model"] for r in fresh.values()}
        else:
            text = b",".join(p.text for p in parts)
            docs = [rollup_doc(existing.values(), day, tz)] if existing else []
            docs.extend(p.rollup for p in parts)
            count = sum(p.count for p in parts)
            day_models = set().union(*(p.models for p in parts))
        if count:
            head = orjson.dumps(existing)[1:-1] + b"," if existing else b""
            data = b'{"records":{' + head + text + b"}}"
            self.writes.append((self.pool.submit(fileio.atomic_write, path, data, sync_dir=False), count))
            self.folders.add(path.parent)
        self.accepted += count
        self.new_hashes.append(fresh_hashes)
        self.models.update(day_models)
        self.rollups[day[:7]][day] = combine_rollups(docs) if docs else rollup_doc([], day, tz)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        files = self.files
        try:
            self.pool.shutdown(wait=True)
            if exc_type is not None:
                # the intent stays: the next checkpoint or bulk write finishes what was written
                self.accepted = sum(n for w, n in self.writes if w.exception() is None)
                for folder in self.folders:
                    fileio.fsync_dir(folder)
                return
            for w, _n in self.writes:
                w.result()  # a failed write stops here: nothing after it claims the records are in
            for folder in self.folders:
                fileio.fsync_dir(folder)  # the day files' renames, before anything counts them
            if self.rollups:
                files.write_rollups(self.rollups)  # day columns: built when a day is first shown
                ids = self.ids if files.repairs == self.repairs else files.read_id_array()  # a repair may drop it
                # (its folder is fsynced with state.json's, the same folder, just after)
                files.write_ids(merged(ids, chain.from_iterable(self.new_hashes)), sync_dir=False)
                files.commit_state(self.state, self.models)
            files.clear_intent()
        finally:
            self.lock.release()
        self.ledger.reload()
