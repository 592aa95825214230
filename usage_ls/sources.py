"""Where usage reaches a running server without anyone sending it: the tools' logs (watched, and
their history imported in the background with progress) and OpenTelemetry (the OTLP receiver).
The language server owns one `Sources`; it starts them on `initialized` and stops them at exit.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from lsprotocol import types

log = logging.getLogger(__name__)


class Sources:
    def __init__(self, server: Any):
        self.server = server  # UsageServer: svc(), tell(), request_push(), work_done_progress
        self.receiver: Any = None  # the OTLP receiver's Runner ([receive] otlp)
        self.watched: list[str] = []  # tools whose logs are watched
        self.watcher: Any = None  # importers.live.LiveImporter
        self.backfill: asyncio.Task[None] | None = None
        self.last_received: float | None = None  # when the receiver last stored a record

    # -- the tools' logs ------------------------------------------------------------------------

    def watch_logs(self) -> None:
        """`[import] watch` ("auto" by default: every tool with logs on this machine; `[]` off;
        `USAGE_LS_WATCH` overrides): watch them, and import their history in the background."""
        from usage_ls.importers import backfill, live, live_status

        svc = self.server.svc()
        setting = backfill.watch_setting(svc.cfg.import_watch, svc.cfg.import_watch_set)
        if not setting:
            return
        try:
            watcher = live.attach(svc, setting)
        except Exception as exc:
            self.server.tell(f"usage-ls: live import could not start: {exc}", types.MessageType.Warning)
            return
        if watcher is None:
            return
        self.watcher = watcher
        self.watched = [w.name for w in watcher.watches]
        watcher.paused = True  # the history first, then what the tools append
        watcher.on_records = self._logs_recorded
        watcher.start(asyncio.get_running_loop())  # OS file events (polled where there are none)
        live_status.write_status(svc.cfg.data_dir, watcher)
        svc.live_sources = self.sources()
        self.backfill = asyncio.ensure_future(self._backfill(list(self.watched), watcher))

    def _logs_recorded(self) -> None:
        """The watcher read new lines into the ledger: show them now."""
        from usage_ls.importers import live_status

        self.server.last_write = asyncio.get_running_loop().time()
        self.server.svc().live_sources = self.sources()
        self.server.request_push(now=True)
        # for `usage-ls doctor`, after the push
        asyncio.get_running_loop().call_soon(live_status.write_status, self.server.svc().cfg.data_dir, self.watcher)

    def sources(self) -> list[dict[str, Any]]:
        """The live sources and when each last gave a record (the tooltip, `usage-ls doctor`)."""
        out: list[dict[str, Any]] = list(self.watcher.sources()) if self.watcher is not None else []
        if self.receiver is not None:
            out.append({"tool": "OTLP receiver", "mode": "receiver", "lastRecord": self.last_received})
        return out

    async def _backfill(self, names: list[str], watcher: Any) -> None:
        from usage_ls.importers import backfill

        token = f"usage-ls-import-{uuid.uuid4().hex[:8]}"
        progress = None
        window = self.server.client_capabilities.window
        try:
            if not (window and window.work_done_progress):
                raise LookupError("the editor does not show progress")
            await asyncio.wait_for(self.server.work_done_progress.create_async(token), 5)
            progress = self.server.work_done_progress
            progress.begin(
                token, types.WorkDoneProgressBegin(title="usage-ls", message="Importing AI tool logs", percentage=0)
            )
        except Exception:  # the editor does not take progress: import all the same
            progress = None

        def report(percent: int, message: str) -> None:
            if progress is not None:
                progress.report(token, types.WorkDoneProgressReport(message=message, percentage=percent))

        try:
            imported = await backfill.run(self.server.svc().cfg.data_dir, names, report)
        finally:
            watcher.importer.refresh()
            watcher.seen_before()
            watcher.resume()
            if progress is not None:
                done = sum(imported.values()) if "imported" in locals() else 0
                progress.end(token, types.WorkDoneProgressEnd(message=f"Imported {done:,} records from AI tool logs"))
        self.server.svc().refresh()
        self.server.svc().live_sources = self.sources()
        self.server.push(force=True)  # the history, and the live sources in the tooltip
        log.info("backfill: %s", imported)

    # -- OpenTelemetry ----------------------------------------------------------------------------

    def start_receiver(self) -> None:
        """The OTLP receiver ([receive] otlp) in threads of its own (usage_ls/receive/receiver.py)."""
        if self.server.svc().cfg.receive_otlp is not None and self.receiver is None:
            from usage_ls.receive.receiver import start_beside

            loop = asyncio.get_running_loop()
            self.receiver = start_beside(loop, self.server.svc().cfg, self.record_received, self.say)
            self.server.svc().live_sources = self.sources()

    async def record_received(self, records: list[Any]) -> dict[str, Any]:
        """Records from the receiver, on the server's loop (the ledger's only thread), durable when returned."""
        server = self.server
        result: dict[str, Any] = server.svc().record(records, server.svc().defaults(), sync=True)
        if "warning" in result and not server.disk_warned:
            server.disk_warned = True
            server.tell(f"usage-ls: {result['warning']}", types.MessageType.Error)
        if result["accepted"]:
            server.last_write = asyncio.get_running_loop().time()
            self.last_received = time.time()
            server.svc().live_sources = self.sources()
            server.request_push()
        return result

    def say(self, level: str, text: str) -> None:
        """The receiver's news: warnings pop up, the rest goes to the log."""
        if level == "warning":
            self.server.tell(f"usage-ls: {text}", types.MessageType.Warning)
        else:
            params = types.LogMessageParams(type=types.MessageType.Info, message=f"usage-ls: {text}")
            self.server.window_log_message(params)

    def stop(self) -> None:
        if self.watcher is not None:
            from usage_ls.importers import live_status

            self.watcher.stop()
            live_status.write_status(self.watcher.importer.data_dir, None)
            self.watcher = None
        if self.receiver is not None:
            self.receiver.stop()
            self.receiver = None
        if self.backfill is not None:
            self.backfill.cancel()
            self.backfill = None
