"""Reading a big log tree on every core.

A one-shot import (`usage-ls import`, never the live watcher) of MIN_BYTES (32 MB) or more
forks one worker per core after the tool and the prices are ready (below, reading serially is
as quick: see `workers_for`). Workers take the files one at a time
from a shared counter, so a worker that drew cheap files (few usage lines per byte) takes more
of them and all finish together. Two rounds:

1. Each worker reads its files (`read_one`, the very function the serial path runs), merges
   what can be merged within a file (`Tool.premerge`), prepares each candidate's record
   (`store.bulk.prepare`: checked, priced, in stored form) and sends back, per file, what the import
   state needs (offset, parser state, problems) and, per candidate, only its merge key
   (`Tool.prepare_candidates`, `Tool.merge_keys`: hashes and counts, as numpy columns).
2. The parent puts the keys of all files back in file order and merges them (`Tool.merge`,
   exactly as a serial run would), drops ids the ledger already holds, and sends each worker
   the mask of its candidates to keep. Each worker then sends one part per day of those, in
   day order: the day file's new members as JSON text (through a file), their id hashes and
   the day's partial rollup. The parent writes each day (`store.bulk.DayWriter`) as soon as
   every worker's part of it is in.

So the records themselves cross between processes once, as a few large strings, and every
per-record step runs on all cores; only the merge of compact keys runs in the parent.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from usage_ls import lazy
from usage_ls.importers.base import Tool
from usage_ls.importers.lines import FileResult, Vanished

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy.module("numpy")  # loaded on first use (usage_ls/lazy.py)

MIN_BYTES = 32 * 1024 * 1024  # below this, starting workers costs more than it saves (see workers_for)


def read_one(tool: Tool, path: Path, start: int, state: dict, final: bool) -> tuple[str, object]:
    """("ok", FileResult) | ("vanished", reason) | ("error", reason) for one file."""
    result = FileResult(end=start)
    try:
        tool.read(path, start, state, result, final=final)
    except Vanished as exc:
        return "vanished", str(exc)
    except Exception as exc:  # a parser bug or a format we never saw: skip the file, say why
        return "error", f"{type(exc).__name__}: {exc}"
    return "ok", result


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def workers_for(tool: Tool, total_bytes: int) -> int:
    """How many worker processes: one per core (up to 8) for an import of MIN_BYTES or more
    of a tool that supports it, else 0 (serial). Measured on 2 cores, Claude Code logs, serial
    against two workers, alternately; nothing else of ours running / one busy loop beside /
    two: 24 MB 0.25 / 0.31 / 0.61 s serial against 0.25 / 0.38 / 0.69 s with workers; 44 MB
    0.37 / 0.57 / 0.90 s against 0.31 / 0.46 / 0.81 s. Workers pay on a busy machine too: more
    processes win a larger share of it. `USAGE_LS_IMPORT_WORKERS=N` sets the number (0 or 1:
    serial), e.g. to test both paths."""
    if not getattr(tool, "parallel", False) or not sys.platform.startswith("linux"):
        return 0  # fork is the only start method that shares the tool as it is
    forced = os.environ.get("USAGE_LS_IMPORT_WORKERS", "").strip()
    if forced.isdigit():
        return int(forced) if int(forced) >= 2 else 0
    n = cores()
    if total_bytes < MIN_BYTES or n < 2:
        return 0
    return min(n, 8)


@contextlib.contextmanager
def no_gc():
    """The cyclic garbage collector off: a bulk import makes hundreds of thousands of small
    objects and no reference cycles, and each full collection would walk all of them again."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _worker(conn, tool: Tool, jobs: list, counter, final: bool, prep, blob: Path) -> None:
    gc.disable()  # see no_gc; this process ends with the import
    try:
        outcomes, local, files = [], [], []
        keys = tool.new_keys()
        while True:
            with counter.get_lock():
                i = counter.value
                counter.value = i + 1
            if i >= len(jobs):
                break
            path, start, state, _n = jobs[i]
            kind, result = read_one(tool, path, start, state, final)
            n = 0
            if kind == "ok":
                entries, dups = tool.premerge(result.entries)
                result.duplicates += dups
                n = result.entries = len(entries)  # the candidates stay here; only their keys travel
                tool.prepare_candidates(entries, prep, local, keys)  # while the file is hot
            outcomes.append((i, kind, result))
            files.append((i, n))
        conn.send((outcomes, files, tool.merge_keys(keys)))
        keep = conn.recv()
        from usage_ls.store.bulk import day_part, group_days

        by_day, rejected = group_days([tool.record_of(e) for e, k in zip(local, keep) if k])
        pricer = getattr(prep, "pricer", None)  # prices this worker looked up: for the cache
        prices = dict(pricer.cache.new) if pricer is not None else {}
        days = sorted(by_day)
        # then one part a day, in day order (the other workers go the same way), so the parent
        # writes each day file while later days are still being built; the JSON text (most of
        # the bytes) goes through a file (made before the parent hears of it): a pipe would
        # copy it thrice
        with open(blob, "wb") as f:
            conn.send((days, rejected, prices))
            for day in days:
                part = day_part(day, by_day.pop(day), tool.tz)
                where = (f.tell(), len(part.text))
                f.write(part.text)
                f.flush()
                part.text = b""
                conn.send((day, part, where))
    except BaseException:
        import traceback

        conn.send(("crash", traceback.format_exc()))
    finally:
        conn.close()
    # everything is sent: leave without freeing hundreds of thousands of objects one by one
    # (~0.1 s the parent would wait for in join)
    os._exit(0)


class WorkerCrash(RuntimeError):
    written = 0  # records already in day files when it happened


def _recv(conn):
    try:
        msg = conn.recv()
    except EOFError:
        raise WorkerCrash("a worker ended before sending all it read (killed?)") from None
    if isinstance(msg, tuple) and len(msg) == 2 and msg[0] == "crash":
        raise WorkerCrash(msg[1])
    return msg


def run(tool: Tool, jobs: list, final: bool, prep, merge, workers: int, writer):
    """Both rounds. `merge(keys)` -> (indices of the candidates to keep, in file order).
    `writer(days)` -> a context manager (`store.bulk.DayWriter`) whose `day(day, parts)` is
    called for each day as soon as every worker's part of it is in. Returns (outcomes in job
    order, rejected records [(id, field, message)], records written)."""
    import multiprocessing.connection  # here: a small import reads serially (~10 ms to load)
    import shutil
    import tempfile

    np.zeros(0)  # numpy (usage_ls/lazy.py) loaded once here, before the fork, not in each worker
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("l", 0)  # the next job to take
    procs = []
    tmp = Path(tempfile.mkdtemp(prefix="usage-ls-import-"))
    ok = False
    try:
        for i in range(max(1, min(workers, len(jobs)))):
            parent, child = ctx.Pipe()
            p = ctx.Process(
                target=_worker, args=(child, tool, jobs, counter, final, prep, tmp / f"{i}.json"), daemon=True
            )
            p.start()
            child.close()
            procs.append((p, parent))
        outcomes: list = [None] * len(jobs)
        keys, job_of, sizes = [], [], []
        for _p, conn in procs:
            done, files, k = _recv(conn)
            for i, kind, result in done:
                outcomes[i] = (kind, result)
            keys.append(k)
            job_of.append(
                np.repeat(
                    np.array([f[0] for f in files], dtype=np.int64), np.array([f[1] for f in files], dtype=np.int64)
                )
            )
            sizes.append(len(k[0]))
        # each worker's candidates are in its files' order; all of them, in file order:
        order = np.argsort(np.concatenate(job_of), kind="stable")
        columns = tuple(np.concatenate(c)[order] for c in zip(*keys))
        keep_sorted = np.zeros(len(order), dtype=bool)
        keep_sorted[merge([columns])] = True
        mask = np.empty_like(keep_sorted)
        mask[order] = keep_sorted
        at = 0
        for (_p, conn), n in zip(procs, sizes):
            conn.send(mask[at : at + n])
            at += n
        rejected: list = []
        waiting: dict[str, int] = {}  # day -> parts still to come
        coming: dict = {}  # worker's pipe -> its parts still to come
        pricer = getattr(prep, "pricer", None)
        for _p, conn in procs:
            days, worker_rejected, prices = _recv(conn)
            rejected.extend(worker_rejected)
            if prices and pricer is not None:
                pricer.cache.absorb(prices)
            for day in days:
                waiting[day] = waiting.get(day, 0) + 1
            if days:
                coming[conn] = len(days)
        got: dict[str, list] = {}
        blobs = [open(tmp / f"{i}.json", "rb") for i in range(len(procs))]  # noqa: SIM115
        try:
            index = {conn: i for i, (_p, conn) in enumerate(procs)}
            w = writer(list(waiting))
            try:
                with w:
                    while coming:
                        for conn in multiprocessing.connection.wait(list(coming)):
                            day, part, (offset, size) = _recv(conn)
                            coming[conn] -= 1
                            if not coming[conn]:
                                del coming[conn]
                            part.text = os.pread(blobs[index[conn]].fileno(), size, offset)
                            got.setdefault(day, []).append(part)
                            waiting[day] -= 1
                            if not waiting[day]:
                                w.day(day, got.pop(day))
            except WorkerCrash as exc:
                exc.written = w.accepted  # day files written before the crash: imported all the same
                raise
            written = w.accepted
        finally:
            for f in blobs:
                f.close()
        ok = True
        return outcomes, rejected, written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for p, conn in procs:
            conn.close()
            if not ok:
                p.kill()  # an error here (a full disk): no worker is left waiting on a pipe
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
