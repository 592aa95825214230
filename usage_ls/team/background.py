"""When a server pushes: `usage-ls sync` in a child process (the editor never waits for the
database, and psycopg never loads into the server), one at a time.

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
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from usage_ls import child
from usage_ls.store.stamp import change_stamp

log = logging.getLogger("usage_ls")

START_DELAY_S = 2.0
MIN_INTERVAL_S = 1.0  # between pushes while records keep coming (a push is a child process)
PERIOD_S = 300.0
RETRY_FIRST_S = 5.0
RETRY_MAX_S = 300.0


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
        if ok:
            self.failed, self.retry = False, RETRY_FIRST_S
            self.synced_seq, self.synced_stamp, self.last_ok_at = self.started_seq, self.started_stamp, now
            self.next_at = now + MIN_INTERVAL_S
        else:
            self.failed = True
            self.next_at = now + self.retry
            self.retry = min(self.retry * 2, RETRY_MAX_S)

    def tick(self, now: float, seq: int, data_dir: Path) -> bool:
        """Start a push in a child when one is due (from the server's loop); True when started."""
        if self.running or now < self.next_at:
            return False
        stamp = change_stamp(data_dir)  # (a stat of state, config and each journal)
        if not self.due(now, seq, stamp):
            return False
        self.started(seq, stamp)
        self.task = asyncio.ensure_future(self._child(data_dir))
        return True

    async def _child(self, data_dir: Path) -> None:
        ok = False
        try:
            proc = await child.start(data_dir, "sync", "--quiet")
            _, err = await proc.communicate()
            ok = proc.returncode == 0
            if not ok:  # (already masked by the child; kept in sync/status.json too)
                log.warning("team sync: %s", err.decode(errors="replace").strip()[-500:])
        except Exception:
            log.exception("team sync")
        finally:
            self.finished(ok, asyncio.get_running_loop().time())
