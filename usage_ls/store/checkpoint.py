"""Checkpoints: journal lines folded into the day files, their rollups, the id index and state.

Under the checkpoint lock: finish a bulk write that stopped half-way (`StoreFiles.recover`),
read every journal past its folded offset, drop ids already in `ids.npy`, insert the new
records into their day files (keyed by id, so a replay inserts nothing twice), recompute those
days' rollups from the whole day file, write `ids.npy`, then `state.json` with the new offsets
(its `seq` tells every process to reload). A crash anywhere in that sequence is repaired by the
next checkpoint replaying the same lines. Journals of processes that are gone are deleted once
folded; one that had lines skipped (they failed `check_stored`), or that is a symbolic link, is
moved aside instead (kept for the user to inspect) and noted for `usage-ls doctor`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson

from usage_ls import fileio
from usage_ls.store import repair
from usage_ls.store.files import StoreFiles
from usage_ls.store.idsets import union_ids
from usage_ls.store.journal import owner_alive
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
    repairs = files.repairs
    seen: set[int] = set()
    new_hashes: list[int] = []
    by_day: dict[str, list[dict[str, Any]]] = {}
    finished: list[Path] = []
    kept: dict[Path, str] = {}  # finished journals to move aside rather than delete: why
    for path in files.journals():
        name = path.name
        alive = name == own or owner_alive(path)
        lines = files.read_journal(path, offsets.get(name, 0))
        if lines is None:  # a symbolic link: never read
            kept[path] = "a symbolic link where a journal should be: moved aside, never read"
            repair.append_note(files.notes_path, "skipped", f"{path}: {kept[path]}", file=name)
            finished.append(path)
            continue
        for rec in lines.records:
            h = id_hash(rec["id"])
            if h in seen:
                continue
            i = int(np.searchsorted(ids, np.uint64(h))) if len(ids) else 0
            if i < len(ids) and int(ids[i]) == h:
                continue
            seen.add(h)
            new_hashes.append(h)
            by_day.setdefault(rec["date"], []).append(rec)
        offsets[name] = lines.end
        if lines.rejected:  # (told by read_journal; kept for doctor, and the journal kept aside once done)
            kept[path] = (
                "; ".join(f"line {n}: {why}" for n, why in lines.rejected[:5])
                + (f" (and {len(lines.rejected) - 5} more lines)" if len(lines.rejected) > 5 else "")
                + "; skipped, the journal's other lines were counted"
            )
            repair.append_note(files.notes_path, "skipped", f"{path}: {kept[path]}", file=name)
        if not alive:  # its writer is gone: a trailing partial line was never acknowledged
            finished.append(path)
    models = set(state.get("models") or [])
    rollups: dict[str, dict[str, dict[str, Any]]] = {}
    for day, records in sorted(by_day.items()):
        path = files.day_path(day)
        files.month_dir(day[:7])
        existing = files.day_records(day)  # a damaged file is rebuilt first (repair_day)
        fresh = {r["id"]: r for r in records if r["id"] not in existing}
        everything = {**existing, **fresh}
        if fresh:
            fileio.atomic_write(path, orjson.dumps({"records": everything}))
        models.update(r["model"] for r in fresh.values())
        rollups.setdefault(day[:7], {})[day] = rollup_doc(everything.values(), day, files.tz)
        files.write_day_columns(day, list(everything.values()))
    files.write_rollups(rollups)
    if files.repairs != repairs:  # a repair may have dropped the id index: read it again
        ids = files.read_ids()
    if new_hashes:
        files.write_ids(union_ids(ids, np.array(new_hashes, dtype=np.uint64)))
    for path in finished:
        offsets.pop(path.name, None)
    changed = bool(by_day) or bool(finished) or offsets != (state.get("offsets") or {})
    if changed:
        files.commit_state(state, models, offsets)
        noted = repair.noted_files(files.notes_path) if finished else set()  # lines skipped in an earlier fold
        for path in finished:
            if path in kept or path.name in noted:  # kept for the user to inspect (told as any file moved aside)
                fileio.quarantine(path, kept.get(path) or "a journal with lines skipped (see usage-ls doctor)")
            else:
                path.unlink(missing_ok=True)
        fileio.fsync_dir(files.journal_dir)
