"""Checkpoints: journal lines folded into the day files, their rollups, the id index and state.

Under the checkpoint lock: finish a bulk write that stopped half-way (`StoreFiles.recover`),
read every journal past its folded offset, drop ids already in `ids.npy`, insert the new
records into their day files (keyed by id, so a replay inserts nothing twice), recompute those
days' rollups from the whole day file, write `ids.npy`, then `state.json` with the new offsets
(its `seq` tells every process to reload). A crash anywhere in that sequence is repaired by the
next checkpoint replaying the same lines. Journals of processes that are gone are deleted once
folded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from usage_ls import fileio
from usage_ls.store import storage
from usage_ls.store.files import StoreFiles
from usage_ls.store.idsets import union_ids
from usage_ls.store.journal import SUFFIX, owner_alive, read_lines
from usage_ls.store.rollup import id_hash, rollup_doc


def checkpoint(files: StoreFiles, own: str | None, blocking: bool = True) -> bool:
    """Fold every journal; `own` is this process's journal (alive, not deleted). False when
    `blocking` is off and another process holds the lock."""
    lock = files.lock()
    if not lock.acquire(blocking=blocking):
        return False
    try:
        files.recover()  # a bulk import that stopped half-way: its days' rollups and ids
        _fold(files, own)
        return True
    finally:
        lock.release()


def _fold(files: StoreFiles, own: str | None) -> None:
    state = fileio.read_json(files.state_path) or {}
    offsets: dict[str, int] = dict(state.get("offsets") or {})
    ids = files.read_ids()
    seen: set[int] = set()
    new_hashes: list[int] = []
    by_day: dict[str, list[dict[str, Any]]] = {}
    finished: list[Path] = []
    for path in sorted(files.journal_dir.glob(f"*{SUFFIX}")):
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
            by_day.setdefault(rec["date"], []).append(rec)
        offsets[name] = end
        if not alive:  # its writer is gone: a trailing partial line was never acknowledged
            finished.append(path)
    models = set(state.get("models") or [])
    rollups: dict[str, dict[str, dict[str, Any]]] = {}
    for day, records in sorted(by_day.items()):
        path = files.day_path(day)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        db, flush = storage.batch(path)
        table = db.table("records")
        existing = {doc.doc_id: doc for doc in table.all()}
        fresh = [storage.document(r, r["id"]) for r in records if r["id"] not in existing]
        if fresh:
            table.insert_multiple(fresh)
            flush()
        models.update(r["model"] for r in fresh)
        everything = [*existing.values(), *fresh]
        rollups.setdefault(day[:7], {})[day] = rollup_doc(everything, day, files.tz)
        files.write_day_columns(day, everything)
    files.write_rollups(rollups)
    if new_hashes:
        files.write_ids(union_ids(ids, np.array(new_hashes, dtype=np.uint64)))
    for path in finished:
        offsets.pop(path.name, None)
    changed = bool(by_day) or bool(finished) or offsets != (state.get("offsets") or {})
    if changed:
        files.commit_state(state, models, offsets)
        for path in finished:
            path.unlink(missing_ok=True)
        fileio.fsync_dir(files.journal_dir)
