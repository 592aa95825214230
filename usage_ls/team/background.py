"""When a server pushes, and the push worker it pushes through: `usage-ls sync --worker`, one
child process kept while the server pushes (the editor never waits for the database, and psycopg
never loads into the server), one push at a time.

A push is due when the data directory changed since the last successful push started (its
journals grew: new records, which the push sends from the journal; or a checkpoint or an
import changed the day files: `stamp.change_stamp`), at most every MIN_INTERVAL_S, so a record
reaches the team database within a few seconds even while records keep arriving (1,000 a
second: bench/team_bench.py); and every PERIOD_S anyway (another machine may have recreated
the database). An idle data directory does not change: no push, no connection, until PERIOD_S
(after activity, the server's own checkpoint makes one more, which inserts nothing new). After
a failure (the database down, the network gone) it is tried again after RETRY_FIRST_S,
doubling up to RETRY_MAX_S: a laptop offline for days resumes from its cursor within minutes
of coming back.

The worker (`worker.py`) keeps its connection and schema check, so a push costs only what is
new: MIN_INTERVAL_S is one upkeep tick. It is started on the first push, told `push` on its
stdin for each one, and answers a line; it is stopped (its stdin closed) after WORKER_IDLE_S
without a push, so an idle server keeps no process and no connection, and with the server. It
exits by itself when the server is gone, even after a kill -9 (its stdin closes; it watches its
parent too). A worker that died (killed, crashed) is started again: a push that finds it gone
is sent to a new one at once; a push it died during counts as failed only when a fresh worker
dies too.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

import orjson

from usage_ls import child
from usage_ls.store.stamp import change_stamp
from usage_ls.team import state
from usage_ls.team.secrets import mask

log = logging.getLogger("usage_ls")

START_DELAY_S = 2.0
MIN_INTERVAL_S = 0.25  # between pushes while records keep coming (one upkeep tick: the worker is kept)
PERIOD_S = 300.0
RETRY_FIRST_S = 5.0
RETRY_MAX_S = 300.0
WORKER_IDLE_S = 60.0  # a worker without a push this long is stopped (started again when one is due)


class WorkerGone(RuntimeError):
    """The push worker exited before answering."""


class PushWorker:
    """The server's `usage-ls sync --worker` child: started when a push needs it, told `push`,
    answered a JSON line per push; its stderr goes to the log (masked)."""

    def __init__(self, data_dir: Path, conninfo: str | None = None):
        self.data_dir = data_dir
        self.conninfo = conninfo  # (its password masked in what the worker says on stderr)
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.drain: asyncio.Future[None] | None = None

    @property
    def pid(self) -> int | None:
        return None if self.proc is None or self.proc.returncode is not None else self.proc.pid

    async def push(self) -> dict[str, Any]:
        """One push's answer; WorkerGone when a worker started for it exits before answering."""
        fresh = self.pid is None
        try:
            return await self._ask()
        except WorkerGone:
            if fresh:
                raise
        return await self._ask()  # the kept worker had died (killed, crashed): once more on a new one

    async def _ask(self) -> dict[str, Any]:
        proc = self.proc
        if proc is None or proc.returncode is not None:
            proc = await self._start()
        assert proc.stdin is not None and proc.stdout is not None
        line = b""
        try:
            proc.stdin.write(b"push\n")
            await proc.stdin.drain()
            line = await proc.stdout.readline()
        except (BrokenPipeError, ConnectionResetError):
            pass
        if not line.endswith(b"\n"):
            self.proc = None
            code = await proc.wait()
            raise WorkerGone(f"the push worker exited (code {code}) before answering; the records stay queued")
        answer = orjson.loads(line)
        if not isinstance(answer, dict):
            raise WorkerGone(f"the push worker answered {line[:80]!r}")
        return answer

    async def _start(self) -> asyncio.subprocess.Process:
        self.proc = await child.start(
            self.data_dir,
            "sync",
            "--worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "USAGE_LS_EXIT_WITH": str(os.getpid())},
        )
        self.starts += 1
        assert self.proc.stderr is not None
        self.drain = asyncio.ensure_future(self._drain(self.proc.stderr))
        return self.proc

    async def _drain(self, err: asyncio.StreamReader) -> None:
        """What the worker says on stderr (warnings, a crash) into the log, never a full pipe."""
        while line := await err.readline():
            log.warning("team sync worker: %s", mask(line.decode("utf-8", "replace").rstrip(), self.conninfo))

    def stop(self) -> None:
        """Close the worker's stdin: it exits after the push under way, if any."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.stdin is not None and proc.returncode is None:
            try:
                proc.stdin.close()
            except (OSError, RuntimeError):  # (a pipe already gone, a loop closing)
                pass


class SyncSchedule:
    def __init__(self, now: float):
        self.running = False
        self.next_at = now + START_DELAY_S
        self.last_ok_at = now
        self.synced_seq: int | None = None  # the checkpoint seq the last successful push saw
        self.started_seq: int | None = None
        self.synced_stamp: object = None  # the data directory's change_stamp when that push started
        self.started_stamp: object = None
        self.failed = False
        self.retry = RETRY_FIRST_S
        self.task: asyncio.Future[None] | None = None
        self.finishes = 0  # pushes finished (the status bar's tooltip shows the last outcome)
        self.shown = 0  # finishes the status bar has been told of
        self.worker: PushWorker | None = None
        self.place: tuple[Path, str | None] | None = None  # the data directory and database of the last tick
        self.last_push_at = now  # when the last push finished (the worker is stopped WORKER_IDLE_S after)

    def due(self, now: float, seq: int, stamp: object = None) -> bool:
        if self.running or now < self.next_at:
            return False
        changed = seq != self.synced_seq or stamp != self.synced_stamp
        return self.failed or changed or now - self.last_ok_at >= PERIOD_S

    def started(self, seq: int, stamp: object = None) -> None:
        self.running, self.started_seq, self.started_stamp = True, seq, stamp

    def finished(self, ok: bool, now: float) -> None:
        self.running = False
        self.finishes += 1
        self.last_push_at = now
        if ok:
            self.failed, self.retry = False, RETRY_FIRST_S
            self.synced_seq, self.synced_stamp, self.last_ok_at = self.started_seq, self.started_stamp, now
            self.next_at = now + MIN_INTERVAL_S
        else:
            self.failed = True
            self.next_at = now + self.retry
            self.retry = min(self.retry * 2, RETRY_MAX_S)

    def tick(self, now: float, seq: int, data_dir: Path, conninfo: str | None = None) -> bool:
        """Start a push through the worker when one is due (from the server's loop); True when
        started. A worker idle for WORKER_IDLE_S is stopped."""
        self.place = (data_dir, conninfo)
        if self.running:
            return False
        if self.worker is not None and now - self.last_push_at >= WORKER_IDLE_S:
            self.worker.stop()  # (started again by the next push)
        if now < self.next_at:
            return False
        stamp = change_stamp(data_dir)  # (a stat of state, config and each journal)
        if not self.due(now, seq, stamp):
            return False
        self.started(seq, stamp)
        if self.worker is None or self.worker.data_dir != data_dir:
            if self.worker is not None:
                self.worker.stop()
            self.worker = PushWorker(data_dir, conninfo)
        self.worker.conninfo = conninfo
        self.task = asyncio.ensure_future(self._push(self.worker))
        return True

    async def _push(self, worker: PushWorker) -> None:
        ok = False
        try:
            answer = await worker.push()
            ok = answer.get("ok") is True
            if not ok:  # (already masked by the worker; kept in sync/status.json too)
                log.warning("team sync: %s", str(answer.get("error"))[-500:])
        except WorkerGone as exc:
            log.warning("team sync: %s", exc)
            try:
                state.write_status(worker.data_dir, lastError=str(exc), lastErrorAt=state.now_ms())
            except OSError:
                pass
        except Exception:
            log.exception("team sync")
        finally:
            loop = asyncio.get_running_loop()
            self.finished(ok, loop.time())
            if ok:  # records may have come meanwhile: looked at again after MIN_INTERVAL_S, not the next tick
                loop.call_later(MIN_INTERVAL_S + 0.001, self._again)

    def _again(self) -> None:
        if self.place is not None and self.started_seq is not None:
            self.tick(asyncio.get_running_loop().time(), self.started_seq, *self.place)

    def stop(self) -> None:
        """The server stops: so does its worker."""
        if self.worker is not None:
            self.worker.stop()
