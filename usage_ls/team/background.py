"""When a server pushes, and through what: a thread of the server (`TeamSync`) keeps the
schedule and tells the push worker, `usage-ls sync --worker`, one child process kept while the
server pushes (the editor never waits for the database, and psycopg never loads into the
server), one push at a time.

A push is due when the data directory changed since the last successful push started (its
journals grew: new records, which the push sends from the journal; or a checkpoint or an
import changed the day files: `stamp.change_stamp`), at most every MIN_INTERVAL_S, so a record
reaches the team database within a second or two even while records keep arriving (1,000 a
second: bench/team_bench.py); and every PERIOD_S anyway (another machine may have recreated
the database). An idle data directory does not change: no push, no connection, until PERIOD_S
(after activity, the server's own checkpoint makes one more, which inserts nothing new). After
a failure (the database down, the network gone) it is tried again after RETRY_FIRST_S,
doubling up to RETRY_MAX_S: a laptop offline for days resumes from its cursor within minutes
of coming back.

The schedule runs in a thread, not on the server's loop: the loop may be busy for a second
or more (a status bar over a day of 60,000 records on a loaded machine), and a push waiting for
it is lag. The thread only stats the data directory and writes and reads a line.

The worker (`worker.py`) keeps its connection and schema check, so a push costs only what is
new: MIN_INTERVAL_S is short. It is started for the first push, told `push` on its stdin for
each one, and answers a line; it is stopped (its stdin closed) after WORKER_IDLE_S without a
push, so an idle server keeps no process and no connection, and when the server stops. It
exits by itself when the server is gone, even after a kill -9 (its stdin closes; it watches its
parent too). A worker that died (killed, crashed) is started again: a push that finds it gone
is sent to a new one at once; a push counts as failed when a worker started for it dies too.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from usage_ls import child
from usage_ls.store.stamp import change_stamp
from usage_ls.team import state
from usage_ls.team.secrets import mask

log = logging.getLogger("usage_ls")

START_DELAY_S = 1.0  # after a server's start: its first answers go first (the push is another process)
MIN_INTERVAL_S = 0.25  # between pushes while records keep coming (the worker is kept: a push is cheap)
PERIOD_S = 300.0
RETRY_FIRST_S = 5.0
RETRY_MAX_S = 300.0
WORKER_IDLE_S = 60.0  # a worker without a push this long is stopped (started again when one is due)


class SyncSchedule:
    """When a push is due (pure: times are given)."""

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
        self.finishes = 0  # pushes finished (the status bar's tooltip shows the last outcome)
        self.shown = 0  # finishes the status bar has been told of
        self.last_push_at = now  # when the last push finished

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


class WorkerGone(RuntimeError):
    """The push worker exited before answering."""


class PushWorker:
    """The server's `usage-ls sync --worker` child: started when a push needs it, told `push`,
    answered a JSON line per push; what it says on stderr goes to the log, masked."""

    def __init__(self, data_dir: Path, conninfo: str | None = None):
        self.data_dir = data_dir
        self.conninfo = conninfo  # (its passwords masked in what the worker says on stderr)
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        """The running worker's process id."""
        proc = self.proc
        return None if proc is None or proc.poll() is not None else proc.pid

    def push(self) -> dict[str, Any]:
        """One push's answer; WorkerGone when a worker started for it exits before answering."""
        fresh = self.pid is None
        try:
            return self._ask()
        except WorkerGone:
            if fresh:
                raise
        return self._ask()  # the kept worker had died (killed, crashed): once more, on a new one

    def _ask(self) -> dict[str, Any]:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        line = b""
        try:
            proc.stdin.write(b"push\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
        except (BrokenPipeError, ConnectionResetError, ValueError):  # (ValueError: closed by `stop`)
            pass
        if not line.endswith(b"\n"):
            if self.proc is proc:
                self.proc = None
            code = proc.wait()
            raise WorkerGone(f"the push worker exited (code {code}) before answering; the records stay queued")
        answer = orjson.loads(line)
        if not isinstance(answer, dict):
            raise WorkerGone(f"the push worker answered {line[:80]!r}")
        return answer

    def _start(self) -> subprocess.Popen[bytes]:
        proc = child.popen(
            self.data_dir,
            "sync",
            "--worker",
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "USAGE_LS_EXIT_WITH": str(os.getpid())},
        )
        self.proc = proc
        self.starts += 1
        threading.Thread(target=self._drain, args=(proc,), daemon=True, name="team-sync-stderr").start()
        return proc

    def _drain(self, proc: subprocess.Popen[bytes]) -> None:
        """What the worker says on stderr (warnings, a crash) into the log, never a full pipe."""
        assert proc.stderr is not None
        for line in proc.stderr:
            log.warning("team sync worker: %s", mask(line.decode("utf-8", "replace").rstrip(), self.conninfo))
        proc.stderr.close()

    def stop(self) -> None:
        """Close the worker's stdin: it exits after the push under way, if any."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.stdin is not None:
            try:
                proc.stdin.close()
            except OSError:
                pass


class TeamSync:
    """The server's team push: the schedule in a thread of its own, the worker it tells."""

    def __init__(self, data_dir: Path, conninfo: str | None, on_finish: Callable[[], None] | None = None):
        self.data_dir = data_dir
        self.conninfo = conninfo  # config.toml's, followed by the server's upkeep
        self.enabled = True  # [sync] postgres or [export] otlp set (the upkeep follows config.toml)
        self.schedule = SyncSchedule(time.monotonic())
        self.worker = PushWorker(data_dir, conninfo)
        self.on_finish = on_finish  # called (in this thread) after each push
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="team-sync")
        self.lock = threading.Lock()  # a tick against `stop`

    def start(self) -> TeamSync:
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stopping.wait(MIN_INTERVAL_S / 2):
            try:
                self.tick(time.monotonic())
            except Exception:  # the schedule must survive anything
                log.exception("team sync")

    def tick(self, now: float) -> bool:
        """Push through the worker when one is due; True when one was made. A worker idle for
        WORKER_IDLE_S is stopped."""
        s = self.schedule
        with self.lock:
            if self.stopping.is_set():
                return False
            if self.worker.proc is not None and now - s.last_push_at >= WORKER_IDLE_S:
                self.worker.stop()  # (started again by the next push)
            if not self.enabled or now < s.next_at:
                return False
            stamp = change_stamp(self.data_dir)  # (a stat of state, config and each journal)
            if not s.due(now, 0, stamp):  # (the stamp holds state.json: checkpoints change it)
                return False
            s.started(0, stamp)
            self.worker.conninfo = self.conninfo
        ok = False
        try:
            answer = self.worker.push()
            ok = answer.get("ok") is True
            if not ok:  # (masked by the worker; kept in sync/status.json too)
                log.warning("team sync: %s", str(answer.get("error"))[-500:])
        except WorkerGone as exc:
            if not self.stopping.is_set():
                log.warning("team sync: %s", exc)
                try:
                    state.write_status(self.data_dir, lastError=str(exc), lastErrorAt=state.now_ms())
                except OSError:
                    pass
        finally:
            s.finished(ok, time.monotonic())
        if self.on_finish is not None:
            self.on_finish()
        return True

    def stop(self) -> None:
        """The server stops: so does the schedule, and the worker after the push under way."""
        self.stopping.set()
        with self.lock:
            self.worker.stop()
