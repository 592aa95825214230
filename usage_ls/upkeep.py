"""The server's upkeep, a tick every POLL_SECONDS: other processes' writes seen, price data
followed, records kept in memory written once the disk takes them, changes pushed, journals
rotated and checkpointed (in a child process), the team push and OTLP export started (their
schedule is a thread of its own, team/background.py), and an exit when the editor is gone."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from usage_ls import child, heap, transport
from usage_ls.service import Usage
from usage_ls.team.background import TeamSync

log = logging.getLogger("usage_ls")

POLL_SECONDS = 0.25  # how often other processes' journals are checked (didChange within 1 s)
IDLE_CHECKPOINT_SECONDS = 30.0


async def watch(ls: Any) -> None:
    """See other processes' writes, push changes, checkpoint when due, exit with the editor."""
    loop = asyncio.get_running_loop()
    ticks = 0
    while True:
        await asyncio.sleep(POLL_SECONDS)
        ticks += 1
        if ticks % 120 == 0:  # every 30 s
            heap.trim()
            ls.svc().budgets.poll()  # the team's budgets read again when their answer is a minute old
        else:
            heap.trim_if_grown()
        try:
            svc = ls.svc()
            for poll in svc.watchers:
                try:
                    poll()
                except Exception:
                    log.exception("watcher")
            if ticks % 4 == 0 and svc.pricer.follow_data():  # `usage-ls prices update` ran
                log.info("price data changed: new records are priced with it")
                svc.forget_results()  # tips price other models
                ls.warm_prices()
            written = svc.retry_unwritten()
            if written:
                ls.disk_warned = False
                ls.tell(
                    f"usage-ls: the data directory accepts writes again; {written} record(s) kept in memory are now saved."
                )
            svc.refresh()
            ls.push()
            ls.tell_problems()
            idle = loop.time() - ls.last_write > IDLE_CHECKPOINT_SECONDS
            if not ls.checkpointing:
                ls.flush()
                svc.rotate_journal()
            if not ls.checkpointing and svc.checkpoint_due(idle):
                ls.checkpointing = True
                ls.flush()
                transport.keep(asyncio.ensure_future(ls.checkpoint_in_child(svc)))
            syncing = svc.cfg.sync_postgres is not None or svc.cfg.export_otlp is not None
            if syncing and ls.team_sync is None:  # (its own thread: this loop may be busy when a push is due)
                ls.team_sync = TeamSync(svc.cfg.data_dir, svc.cfg.sync_postgres).start()
            if ls.team_sync is not None:
                ls.team_sync.enabled, ls.team_sync.conninfo = syncing, svc.cfg.sync_postgres
                sched = ls.team_sync.schedule
                if sched.shown != sched.finishes:  # the tooltip's last push and error
                    sched.shown = sched.finishes
                    ls.push(force=True)
            if ls.process_id and not alive(ls.process_id):
                log.info("editor process %s is gone; exiting", ls.process_id)
                ls.stop_usage()
                os._exit(0)
        except Exception:  # the watcher must survive anything
            log.exception("watch loop")


async def checkpoint_in_child(ls: Any, svc: Usage) -> None:
    """Fold journals into day files in a child process: a checkpoint parses and writes
    whole day and month files, and doing it here would leave the server's heap (which
    Python rarely gives back) as large as the largest checkpoint."""
    try:
        proc = await child.start(svc.cfg.data_dir, "checkpoint")
        _, err = await proc.communicate()
        if proc.returncode:
            log.warning("checkpoint failed: %s", err.decode(errors="replace")[-500:])
    except Exception:
        log.exception("checkpoint")
    finally:
        ls.checkpointing = False
        ls.svc().refresh()
        heap.trim()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
