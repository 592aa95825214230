"""The receiver: OTLP requests -> usage records -> the ledger, and its life beside a server or CLI.

`Receiver` turns one decoded request into records (`mapping`), ties each call to the tool's own
log on this machine (`locallogs`), applies metric temporality (`series`), and hands the records
to a *sink*: the service's normal `record` (validation, dedupe by id, journal, fsync) — on the
server's event loop when a language server runs it, under a lock in `usage-ls receive`. It
answers only once the sink returned, so what an exporter sees acknowledged is durable.

`Runner` owns the listening socket: one receiver per data directory (an exclusive lock,
`otlp.lock`) and per port. When the port is taken by another usage-ls (a second editor window,
or `usage-ls receive` in a terminal) it says so quietly and tries again every
`RETRY_SECONDS`, so whichever outlives the other takes over; when another program holds it, it
warns once.
"""

from __future__ import annotations

import asyncio
import errno
import os
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import orjson

from usage_ls import fileio
from usage_ls.receive import mapping, metrics
from usage_ls.receive.locallogs import WAIT_SECONDS, Resolver
from usage_ls.receive.otlp import OtlpServer, who_listens
from usage_ls.receive.series import Series
from usage_ls.store.journal import FileLock

Sink = Callable[[list[dict[str, Any]]], dict[str, Any]]
Say = Callable[[str, str], None]  # (level "info" | "warning", text)

SERIES_FILE = "otlp-series.json"
HELD_FILE = "otlp-held.json"
LOCK_FILE = "otlp.lock"
TICK_SECONDS = 1.0
RETRY_SECONDS = 5.0


class Receiver:
    def __init__(self, data_dir: Path, sink: Sink, genai: str = "metrics"):
        self.sink = sink
        self.genai = genai
        self.series = Series(data_dir / SERIES_FILE)
        self.held_path = data_dir / HELD_FILE
        raw = fileio.read_json(self.held_path) if self.held_path.exists() else None
        self.held: list[dict[str, Any]] = [h for h in raw if isinstance(h, dict)] if isinstance(raw, list) else []
        self.resolver = Resolver()
        self.lock = threading.Lock()
        self.sources: dict[str, dict[str, Any]] = {}  # tool or service -> counters, last record time
        self.refused: dict[str, int] = {}
        self.address = ""
        self.on_stored: Callable[[str, int], None] | None = None  # (source, records accepted)

    # -- one request ----------------------------------------------------------------------------

    def handle(self, path: str, message: Any) -> tuple[int, str]:
        """Store what a decoded request holds; returns (rejected items, message for the reply)."""
        with self.lock:
            if path == "/v1/logs":
                return self._calls(mapping.logs(message, self.genai))
            if path == "/v1/metrics":
                return self._points(metrics.usage_points(message, self.genai))
            return 0, ""

    def _calls(self, seen: mapping.Seen) -> tuple[int, str]:
        ready: list[tuple[str, dict[str, Any]]] = []
        waiting = []
        for call in seen.calls:
            action = self.resolver.resolve(call)
            if action == "store":
                ready.append((call.tool, call.record))
            elif action == "wait":
                waiting.append(
                    {
                        "since": time.time(),
                        "tool": call.tool,
                        "record": call.record,
                        "session": call.session,
                        "rid": call.request_id,
                    }
                )
            else:
                self._count(call.tool, "fromLog")
        if waiting:
            self.held += waiting
            self._save_held()  # before the reply: an acknowledged call is never lost
        rejected = self._store(ready)
        return _reply(seen.rejected + rejected)

    def _points(self, seen: mapping.Seen) -> tuple[int, str]:
        increments, updates = self.series.increments(seen.points)
        rejected = self._store(metrics.records(increments))
        self.series.commit(updates)  # only once the records are in (see series.py)
        for p in seen.points:
            self._count(p.service, "points")
        return _reply(seen.rejected + rejected)

    def _store(self, items: list[tuple[str, dict[str, Any]]]) -> list[str]:
        if not items:
            return []
        result = self.sink([rec for _, rec in items])
        bad = {r["index"]: f"{r['field']}: {r['message']}" for r in result.get("rejected") or []}
        now = int(time.time() * 1000)
        stored: dict[str, int] = {}
        for index, (source, _rec) in enumerate(items):
            if index in bad:
                self._count(source, "rejected")
            else:
                self._count(source, "records")
                self.sources[source]["lastRecord"] = now
                stored[source] = stored.get(source, 0) + 1
        dup = result.get("duplicates") or 0
        if dup and items:
            self._count(items[0][0], "duplicates", dup)
        if self.on_stored is not None:
            for source, n in stored.items():
                self.on_stored(source, n)
        return [f"record {i}: {m}" for i, m in bad.items()]

    def _count(self, source: str, what: str, n: int = 1) -> None:
        counters = self.sources.setdefault(source, {})
        counters[what] = counters.get(what, 0) + n

    def count_refusal(self, status: int) -> None:
        key = str(status)
        self.refused[key] = self.refused.get(key, 0) + 1

    # -- calls waiting for their transcript line --------------------------------------------

    def tick(self) -> None:
        """Store held calls whose transcript line is now there, or that waited long enough."""
        if not self.held:
            return
        with self.lock:
            now = time.time()
            keep, ready = [], []
            for h in self.held:
                call = mapping.Call(h["tool"], h["record"], h.get("session"), h.get("rid"))
                action = self.resolver.resolve(call)
                if action == "wait" and now - float(h.get("since") or 0) < WAIT_SECONDS:
                    keep.append(h)
                elif action == "skip":
                    self._count(call.tool, "fromLog")
                else:
                    ready.append((call.tool, call.record))
            self._store(ready)  # raises: everything stays held, and is tried again
            self.held = keep
            self._save_held()

    def _save_held(self) -> None:
        fileio.atomic_write(self.held_path, orjson.dumps(self.held))

    def status(self) -> dict[str, Any]:
        with self.lock:
            return {
                "address": self.address,
                "sources": {k: dict(v) for k, v in self.sources.items()},
                "waiting": len(self.held),
                "refused": dict(self.refused),
                "pid": os.getpid(),
            }


def _reply(reasons: list[str]) -> tuple[int, str]:
    if not reasons:
        return 0, ""
    shown = "; ".join(reasons[:5])
    more = f" (and {len(reasons) - 5} more)" if len(reasons) > 5 else ""
    return len(reasons), f"{len(reasons)} rejected: {shown}{more}"


class Runner:
    """The receiver's socket and threads for one data directory."""

    def __init__(self, data_dir: Path, listen: tuple[str, int], sink: Sink, say: Say, genai: str = "metrics"):
        self.data_dir = Path(data_dir)
        self.host, self.port = listen
        self.sink = sink
        self.say = say
        self.genai = genai
        self.lock = FileLock(self.data_dir / LOCK_FILE)
        self.receiver: Receiver | None = None
        self.server: OtlpServer | None = None
        self.state = "not started"
        self.blocked: str | None = None  # why not listening: "usage-ls" (another one has it), "other", "error"
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.on_stored: Callable[[str, int], None] | None = None

    @property
    def listening(self) -> bool:
        return self.server is not None

    def start(self, retry: bool = True) -> bool:
        """Listen if this data directory and the port are free. With `retry` (a language server)
        this happens in the background, and goes on being tried while another usage-ls holds
        them; without (`usage-ls receive`) it is tried once, now. True when listening now."""
        ok = False if retry else self._try()
        self.thread = threading.Thread(target=self._loop, args=(retry,), name="usage-ls otlp", daemon=True)
        self.thread.start()
        return ok

    def _set(self, level: str, state: str) -> None:
        if state != self.state:
            self.state = state
            self.say(level, state)

    def _try(self) -> bool:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        where = f"{self.host}:{self.port}"
        if not self.lock.acquire(blocking=False):
            self.blocked = "usage-ls"
            self._set(
                "info",
                f"OTLP receiver: another usage-ls process receives for this data directory ({where}); this one stands by",
            )
            return False
        try:
            receiver = Receiver(self.data_dir, self.sink, self.genai)
            server = OtlpServer(self.host, self.port, receiver)
        except OSError as exc:
            self.lock.release()
            if exc.errno == errno.EADDRINUSE:
                other = who_listens(self.host, self.port)
                self.blocked = "usage-ls" if other is not None else "other"
                if other is not None:
                    self._set(
                        "info",
                        f"OTLP receiver: {where} is held by another usage-ls (pid {other.get('pid')}), which stores "
                        "what it receives; this one stands by",
                    )
                else:
                    self._set("warning", f"OTLP receiver: {where} is taken by another program; not receiving")
            else:
                self.blocked = "error"
                self._set("warning", f"OTLP receiver: cannot listen on {where}: {exc.strerror or exc}")
            return False
        receiver.address = server.url
        receiver.on_stored = self.on_stored
        self.receiver, self.server, self.blocked = receiver, server, None
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True).start()
        self._set("info", f"OTLP receiver: listening on {server.url} (POST /v1/logs, /v1/metrics)")
        return True

    def _loop(self, retry: bool) -> None:
        if retry:
            self._try()
        next_try = time.monotonic() + RETRY_SECONDS
        while not self.stopping.wait(TICK_SECONDS):
            if self.receiver is not None:
                try:
                    self.receiver.tick()
                except Exception as exc:  # the sink refused: held calls stay held
                    self.say("warning", f"OTLP receiver: storing held calls failed: {exc}")
            elif retry and time.monotonic() >= next_try:
                next_try = time.monotonic() + RETRY_SECONDS
                self._try()

    def stop(self) -> None:
        self.stopping.set()
        server, self.server = self.server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            self.lock.release()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout=5)


def start_beside(
    loop: asyncio.AbstractEventLoop,
    cfg: Any,
    record: Callable[[list[dict[str, Any]]], Coroutine[Any, Any, dict[str, Any]]],
    say: Say,
) -> Runner:
    """A Runner for a language server: `record` runs on the server's event loop (the ledger is
    used from that thread only) while the HTTP thread waits for its answer; `say` too."""

    def sink(records: list[dict[str, Any]]) -> dict[str, Any]:
        return asyncio.run_coroutine_threadsafe(record(records), loop).result(timeout=60)

    def tell(level: str, text: str) -> None:
        try:
            loop.call_soon_threadsafe(say, level, text)
        except RuntimeError:  # the server is gone (its loop closed)
            pass

    runner = Runner(cfg.data_dir, cfg.receive_otlp, sink, tell, cfg.receive_genai)
    runner.start()
    return runner
