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

import os
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import orjson

from usage_ls.model import Defaults, RecordError, validate_fast, validate_record
from usage_ls.pricing import Pricer
from usage_ls.store import storage
from usage_ls.store.idsets import union_ids
from usage_ls.store.journal import FileLock
from usage_ls.store.ledger import fact_of, id_hash, rollup_doc, rollup_facts


def prepare(pricer: Pricer, raw: dict, defaults: Defaults, now_ms: int) -> tuple:
    """(id hash, id, day, stored record, rollup facts) of one record, or (None, id, field,
    message) when it does not validate."""
    rec = validate_fast(raw, defaults)
    if rec is None:
        try:
            rec, _dropped = validate_record(raw, defaults, now_ms)
        except RecordError as exc:
            return (None, raw.get("id") if isinstance(raw, dict) else None, exc.field, exc.message)
    return prepared(pricer, rec)


def prepared(pricer: Pricer, rec: dict) -> tuple:
    """`prepare`'s result for a record already in stored form (`validate_fast`/`stored_fast`)."""
    pricer.apply(rec)
    return payload(rec)


def payload(rec: dict) -> tuple:
    """`prepare`'s result for a stored record already priced."""
    return (id_hash(rec["id"]), rec["id"], rec["date"], rec, fact_of(rec))


class DayPart:
    """New records of one day, ready to be written: the day file's members as UTF-8 JSON text
    (`"<id>":{...},...`), their id hashes, the day's rollup over just these records, models."""

    __slots__ = ("day", "text", "count", "hashes", "rollup", "models")

    def __init__(self, day: str, text: bytes, count: int, hashes: np.ndarray, rollup: dict, models: set):
        self.day, self.text, self.count, self.hashes, self.rollup, self.models = day, text, count, hashes, rollup, models

    def __reduce__(self):
        return (DayPart, (self.day, self.text, self.count, self.hashes, self.rollup, self.models))

    def members(self) -> dict:
        return orjson.loads(b"{" + self.text + b"}")


def group_days(payloads) -> tuple[dict[str, list], list[tuple]]:
    """Prepared records (`prepare`) -> ({day: its records}, rejected [(id, field, message)])."""
    by_day: dict[str, list] = defaultdict(list)
    rejected = []
    for p in payloads:
        if p[0] is None:
            rejected.append(p[1:])
        else:
            by_day[p[2]].append(p)
    return by_day, rejected


def day_part(day: str, items: list, tz) -> DayPart:
    """One day's prepared records -> its DayPart."""
    members = {p[1]: p[3] for p in items}
    if len(members) != len(items):
        raise ValueError(f"day_part: the same record id twice on {day}")  # callers drop repeats first
    text = orjson.dumps(members)[1:-1]  # one call a day: much faster than one a record
    facts = [p[4] for p in items]
    hashes = np.fromiter((p[0] for p in items), dtype=np.uint64, count=len(items))
    return DayPart(day, text, len(items), hashes, rollup_facts(facts, day, tz), {f[0] for f in facts})


def combine_rollups(docs: list[dict]) -> dict:
    """One day's rollup from rollups of disjoint sets of its records."""
    if len(docs) == 1:
        return docs[0]
    acc: dict[tuple, list] = {}
    hours = [[0.0] * 25, [0.0] * 25]
    for doc in docs:
        for row in doc["rows"]:
            key = tuple(row[:4])
            have = acc.get(key)
            if have is None:
                acc[key] = list(row[4:])
            else:
                for i, v in enumerate(row[4:]):
                    have[i] += v
        for h in range(2):
            for i, v in enumerate(doc["hours"][h]):
                hours[h][i] += v
    return {"rows": [[*key, *vals] for key, vals in acc.items()], "hours": hours}


def known_mask(ledger, hashes: np.ndarray) -> np.ndarray:
    """True for ids the ledger already holds (checkpointed or pending in a journal) and for
    repeats within `hashes` (all but the first)."""
    ledger.refresh()  # pending journal lines of running servers: their ids count as known
    known = np.isin(hashes, ledger._read_ids())
    pending = ledger._ov_hashes
    if pending:
        known |= np.fromiter((h in pending for h in hashes.tolist()), dtype=bool, count=len(hashes))
    first = np.zeros(len(hashes), dtype=bool)
    first[np.unique(hashes, return_index=True)[1]] = True
    return known | ~first


def bulk_add(ledger, payloads: list) -> dict:
    """Prepared records -> the ledger. Returns {"accepted", "duplicates", "rejected"}."""
    good = [p for p in payloads if p[0] is not None]
    rejected = [p[1:] for p in payloads if p[0] is None]
    if good:
        hashes = np.fromiter((p[0] for p in good), dtype=np.uint64, count=len(good))
        good = [p for p, k in zip(good, known_mask(ledger, hashes).tolist()) if not k]
    by_day, _ = group_days(good)
    accepted = 0
    if by_day:
        with DayWriter(ledger, list(by_day)) as writer:
            for day in sorted(by_day):
                writer.day(day, [day_part(day, by_day[day], ledger.tz)])
        accepted = writer.accepted
    return {"accepted": accepted, "duplicates": len(payloads) - len(rejected) - accepted, "rejected": rejected}


class DayWriter:
    """Day parts into the day files and rollups under the checkpoint lock, a day at a time,
    so a caller can write each day as soon as all its parts are there (an import writes while
    its workers still build later days).

    Entering takes the checkpoint lock, finishes a bulk write that stopped half-way, and names
    the days in `bulk-intent.json` before any day file is touched; `day()` writes one day's
    file (on a pool thread, fsynced); leaving without an error waits for the files, then
    writes the rollups, the id index and `state.json` and removes the intent. Leaving with an
    error writes nothing more: the intent stays, and the next checkpoint or bulk write
    rebuilds those days' rollups and ids from their files (`recover`)."""

    def __init__(self, ledger, days: list[str]):
        self.ledger, self.days = ledger, sorted(set(days))
        self.accepted = 0  # records written (after an error: those whose day file is written)

    def __enter__(self) -> "DayWriter":
        ledger = self.ledger
        self.lock = FileLock(ledger.lock_path)
        self.lock.acquire(blocking=True)
        try:
            recover(ledger)
            self.state = ledger._stored_state()
            self.ids = ledger._read_ids()
            self.known: set[int] | None = None  # ids as a set, for the rare day that needs it
            storage.atomic_write(_intent_path(ledger), orjson.dumps({"days": self.days}))
            self.new_hashes: list[np.ndarray] = []
            self.models = set(self.state.get("models") or [])
            self.rollups: dict[str, dict[str, dict]] = defaultdict(dict)
            self.writes: list = []  # day files are written (and fsynced) on a few threads
            self.present: set[str] = set()  # day files there already: listed before any write
            for month in {day[:7] for day in self.days}:  # (a stat per day waits behind fsyncs)
                folder = ledger.days_dir / month
                folder.mkdir(parents=True, exist_ok=True, mode=0o700)
                self.present.update(e.name for e in os.scandir(folder))
            self.pool = ThreadPoolExecutor(4)
        except BaseException:
            self.lock.release()
            raise
        return self

    def day(self, day: str, parts: list[DayPart]) -> None:
        ledger = self.ledger
        parts = [p for p in parts if p.count]
        if not parts:
            return
        ids = self.ids
        path = ledger._day_path(day)
        existing = ((storage.read_json(path) or {}).get("records") or {}) if path.name in self.present else {}
        fresh_hashes = np.concatenate([p.hashes for p in parts])
        have = np.array([id_hash(i) for i in existing], dtype=np.uint64) if existing else ids[:0]
        if np.isin(fresh_hashes, have).any() or np.isin(fresh_hashes, ids).any():
            # some are in the ledger already (a crash after this day was written): per record
            members = {}
            for p in parts:
                members.update(p.members())
            if self.known is None:
                self.known = set(ids.tolist())
            fresh = {k: v for k, v in members.items() if k not in existing and id_hash(k) not in self.known}
            text = orjson.dumps(fresh)[1:-1] if fresh else b""
            docs = [rollup_doc([*existing.values(), *fresh.values()], day, ledger.tz)]
            count = len(fresh)
            fresh_hashes = np.array([id_hash(k) for k in fresh], dtype=np.uint64)
            day_models = {r["model"] for r in fresh.values()}
        else:
            text = b",".join(p.text for p in parts)
            docs = [rollup_doc(existing.values(), day, ledger.tz)] if existing else []
            docs.extend(p.rollup for p in parts)
            count = sum(p.count for p in parts)
            day_models = set().union(*(p.models for p in parts))
        if count:
            head = orjson.dumps(existing)[1:-1] + b"," if existing else b""
            self.writes.append((self.pool.submit(storage.atomic_write, path, b'{"records":{' + head + text + b"}}"), count))
        self.accepted += count
        self.new_hashes.append(fresh_hashes)
        self.models.update(day_models)
        self.rollups[day[:7]][day] = combine_rollups(docs) if docs else rollup_doc([], day, ledger.tz)

    def __exit__(self, exc_type, exc, tb) -> None:
        ledger = self.ledger
        try:
            self.pool.shutdown(wait=True)
            if exc_type is not None:
                # the intent stays: the next checkpoint or bulk write finishes what was written
                self.accepted = sum(n for w, n in self.writes if w.exception() is None)
                return
            for w, _n in self.writes:
                w.result()  # a failed write stops here: nothing after it claims the records are in
            if self.rollups:
                ledger._write_rollups(self.rollups)
                ledger._write_month_columns(self.rollups)  # day columns: built when a day is first shown
                ledger._write_ids(union_ids(self.ids, np.concatenate(self.new_hashes)))
                ledger._commit_state(self.state, self.models)
            _intent_path(ledger).unlink(missing_ok=True)
        finally:
            self.lock.release()
        ledger._load_state()


def _intent_path(ledger):
    return ledger.root / "bulk-intent.json"


def recover(ledger) -> bool:
    """Finish a bulk write that stopped after `bulk-intent.json` was written (call under the
    checkpoint lock): rebuild the named days' rollups from their day files and add their ids."""
    path = _intent_path(ledger)
    intent = storage.read_json(path) if path.exists() else None
    if intent is None:
        return False
    rollups: dict[str, dict[str, dict]] = defaultdict(dict)
    hashes: list[int] = []
    models: set[str] = set()
    for day in intent.get("days") or []:
        if not (isinstance(day, str) and len(day) == 10):
            continue
        records = ((storage.read_json(ledger._day_path(day)) or {}).get("records") or {})
        rollups[day[:7]][day] = rollup_doc(records.values(), day, ledger.tz)
        hashes.extend(id_hash(i) for i in records)
        models.update(r["model"] for r in records.values())
    ledger._write_rollups(rollups)
    ledger._write_month_columns(rollups)
    ledger._write_ids(union_ids(ledger._read_ids(), np.array(hashes, dtype=np.uint64)))
    state = ledger._stored_state()
    ledger._commit_state(state, set(state.get("models") or []) | models)
    path.unlink(missing_ok=True)
    days_checked = sum(len(d) for d in rollups.values())
    ledger.problems.append(f"finished an import that stopped half-way: rollups of {days_checked} day(s) rebuilt from their files")
    return True
