"""Sync lag (bench/team_bench.py): a real server (`usage-ls serve --stdio`, [sync] postgres set)
receives `rate` records a second over the protocol (`usage/record`, a batch every TICK_S),
while another thread polls the team database (`record_ids`, by id) for the records acknowledged
and not yet seen. Lag = seen - acknowledged, per record (the poll adds up to POLL_S).

The figures are given for every record and for those acknowledged once the first record was
visible (`steady`: the first push waits START_DELAY_S after the server's start, for the worker's
start and, in a new database, the schema's making).

After the last record is visible, the server is left idle for `idle_s` seconds and the pushes
it makes meanwhile are counted (`sync/status.json`'s lastAttempt): an idle server must not keep
the database busy.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import orjson
from server_bench import start_server

TICK_S = 0.02
POLL_S = 0.05
MODELS = ("claude-sonnet-4-5", "gpt-4.1-mini", "gemini-2.5-pro", "gpt-4o")
# A join, not `id = ANY(%s)`: with the array a parameter and record_ids growing faster than its
# statistics, PostgreSQL scanned the table comparing each row with every waiting id: with a few
# thousand waiting that poll took seconds (8.6 s at 6,000), more ids waited meanwhile, and the
# figures measured the poll (p99 10-38 s on a loaded machine, for a lag the pushes' own timings
# put under 2 s). The join costs what the two lists cost.
POLL = "SELECT r.id FROM unnest(%s::text[]) AS w(id) JOIN usage_ls.record_ids AS r ON r.id = w.id"


class Watch:
    """Ids acknowledged by the server, and when each was first seen in the team database."""

    def __init__(self, conninfo: str):
        self.conninfo = conninfo
        self.acked: dict[str, float] = {}
        self.seen: dict[str, float] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self.stop.is_set():
                with self.lock:
                    waiting = [i for i in self.acked if i not in self.seen]
                if waiting:
                    try:
                        rows = conn.execute(POLL, (waiting,)).fetchall()
                    except psycopg.errors.UndefinedTable:  # the first push has not made the schema yet
                        rows = []
                    now = time.monotonic()
                    with self.lock:
                        for (i,) in rows:
                            self.seen[i] = now
                time.sleep(POLL_S)

    def missing(self) -> int:
        with self.lock:
            return sum(1 for i in self.acked if i not in self.seen)


def _record(i: int, day: str) -> dict[str, Any]:
    return {
        "id": f"lag-{i}",
        "timestamp": f"{day}T{time.strftime('%H:%M:%S', time.gmtime())}Z",
        "model": MODELS[i % len(MODELS)],
        "inputTokens": 1000 + i % 977,
        "outputTokens": 100 + i % 97,
        "project": ("widget", "api")[i % 2],
    }


async def _produce(client: Any, watch: Watch, rate: int, seconds: float) -> int:
    loop = asyncio.get_running_loop()
    start, n = loop.time(), 0
    day = time.strftime("%Y-%m-%d", time.gmtime())
    while (elapsed := loop.time() - start) < seconds:
        due = int(elapsed * rate)
        if due > n:
            batch = [_record(i, day) for i in range(n, due)]
            result = await client.request("usage/record", {"records": batch})
            assert result["accepted"] == len(batch) and result.get("durable", True), result
            now = time.monotonic()
            with watch.lock:
                for rec in batch:
                    watch.acked[rec["id"]] = now
            n = due
        await asyncio.sleep(TICK_S)
    return n


def _attempts(data_dir: Path) -> Any:
    try:
        return orjson.loads((data_dir / "sync" / "status.json").read_bytes()).get("lastAttempt")
    except (OSError, ValueError):
        return None


async def measure(data_dir: Path, conninfo: str, rate: int, seconds: float, idle_s: float) -> dict[str, Any]:
    """Figures: lags (ms) p50/p99/max, records, records never seen, pushes while idle."""
    watch = Watch(conninfo)
    poller = threading.Thread(target=watch.run, daemon=True)
    poller.start()
    client, _cold = await start_server(data_dir)
    try:
        sent = await _produce(client, watch, rate, seconds)
        deadline = time.monotonic() + 120
        while watch.missing() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        attempts, last = 0, _attempts(data_dir)
        idle_end = time.monotonic() + idle_s
        while time.monotonic() < idle_end:
            await asyncio.sleep(0.2)
            now = _attempts(data_dir)
            if now != last:
                attempts, last = attempts + 1, now
    finally:
        watch.stop.set()
        poller.join()
        await client.stop()
    lags = sorted((watch.seen[i] - t) * 1000 for i, t in watch.acked.items() if i in watch.seen)
    first = min(watch.seen.values(), default=0.0)
    steady = sorted((watch.seen[i] - t) * 1000 for i, t in watch.acked.items() if i in watch.seen and t > first)
    return {
        "records": sent,
        "missing": watch.missing(),
        **_figures(lags, ""),
        **_figures(steady, "steady_"),
        "idle_pushes": attempts,
    }


def _figures(lags: list[float], prefix: str) -> dict[str, float]:
    """p50, p99, max of sorted lags (ms)."""
    if not lags:
        return {f"{prefix}p50": float("nan"), f"{prefix}p99": float("nan"), f"{prefix}max": float("nan")}
    p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
    return {f"{prefix}p50": statistics.median(lags), f"{prefix}p99": p99, f"{prefix}max": lags[-1]}
