"""Server benchmark: the protocol's answers at scale, against plain TinyDB in the same run.

    .venv/bin/python bench/server_bench.py                 # 1,000,000 records (several minutes)
    .venv/bin/python bench/server_bench.py --records 20000 # quick, as CI runs it

Generates N records over 500 days (40 models, 30 projects, 5 users, premium and BYOK, skewed
like real usage), loads them through the real ingest path, then drives the real server over
stdio as an editor does and prints p50/p99 round trips, ingest rates, cold start and memory.
The baseline is plain TinyDB (default JSONStorage) holding the same records, measured in the
same process: one insert, and the "today" query. Figures only: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson


class Client:
    """A lean JSON-RPC peer over the server's stdio, parsing with orjson as a native editor
    parses with its own JSON: round trips then measure the server, not a slow Python client."""

    def __init__(self, proc):
        self.proc, self.pid, self.next_id, self.waiting = proc, proc.pid, 0, {}
        self.reader = asyncio.ensure_future(self._read())

    @staticmethod
    async def start(data_dir: Path) -> Client:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "usage_ls",
            "serve",
            "--stdio",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            # the server alone: no tool logs of this machine watched or imported beside it
            env={**os.environ, "USAGE_LS_DATA_DIR": str(data_dir), "USAGE_LS_WATCH": "off"},
            limit=1 << 26,
        )
        return Client(proc)

    async def _read(self):
        out = self.proc.stdout
        while True:
            length = 0
            while True:
                line = await out.readline()
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                elif line in (b"\r\n", b"\n"):
                    break
            msg = orjson.loads(await out.readexactly(length))
            fut = self.waiting.pop(msg.get("id"), None) if "method" not in msg else None
            if fut is not None:
                fut.set_result(msg)

    def _send(self, msg: dict) -> None:
        body = orjson.dumps(msg)
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def request(self, method: str, params=None):
        self.next_id += 1
        fut = self.waiting[self.next_id] = asyncio.get_running_loop().create_future()
        self._send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        msg = await fut
        if "error" in msg:
            raise RuntimeError(msg["error"])
        return msg["result"]

    def notify(self, method: str, params) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    async def stop(self) -> None:
        await self.request("shutdown")
        self.notify("exit", None)
        await self.proc.stdin.drain()
        await self.proc.wait()


MODELS = [
    "claude-sonnet-4-5",
    "gpt-4.1-mini",
    "gpt-4o",
    "claude-3-5-haiku-20241022",
    "gemini-2.5-pro",
    "gpt-4.1",
    "o3",
    "gemini-2.5-flash",
    "claude-opus-4-1",
    "gpt-5",
    "gpt-5-mini",
    "o4-mini",
    "deepseek-chat",
    "claude-3-7-sonnet-20250219",
    "gpt-4o-mini",
    "gemini-2.0-flash",
    "mistral-large-latest",
    "codestral-latest",
    "grok-3",
    "llama-3.3-70b-versatile",
] + [f"custom-model-{i}" for i in range(20)]


def weights(n: int, s: float = 1.1) -> list[float]:
    return [1 / (i + 1) ** s for i in range(n)]


def generate(n: int, days: int, tz: dt.tzinfo, seed: int = 1):
    rng = random.Random(seed)
    today = dt.datetime.now(tz).date()
    mw, pw, uw = weights(len(MODELS)), weights(30), weights(5)
    projects = [f"project-{i}" for i in range(30)]
    users = [f"user-{i}" for i in range(5)]
    per_day = n // days
    out = []
    for d in range(days):
        day = today - dt.timedelta(days=days - 1 - d)
        base = dt.datetime.combine(day, dt.time(0, 0), tz).timestamp() * 1000
        count = per_day + (n - per_day * days if d == days - 1 else 0)
        models = rng.choices(MODELS, mw, k=count)
        projs = rng.choices(projects, pw, k=count)
        usrs = rng.choices(users, uw, k=count)
        for i in range(count):
            out.append(
                {
                    "id": f"b{d}-{i}",
                    "timestamp": int(base + rng.random() * 86_399_000),
                    "model": models[i],
                    "project": projs[i],
                    "user": usrs[i],
                    "billing": "byok" if rng.random() < 0.25 else "premium",
                    "inputTokens": rng.randint(50, 20_000),
                    "outputTokens": rng.randint(10, 4_000),
                    "cacheReadTokens": rng.choice((0, 0, rng.randint(0, 80_000))),
                    "cacheWriteTokens": rng.choice((0, 0, 0, rng.randint(0, 10_000))),
                }
            )
    return out


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Row:
    def __init__(self):
        self.rows: list[tuple[str, str, str]] = []

    def add(self, what: str, figure: str, note: str = "") -> None:
        self.rows.append((what, figure, note))
        print(f"  {what:<52} {figure:>16}  {note}", flush=True)


async def start_server(data_dir: Path):
    t0 = time.perf_counter()
    client = await Client.start(data_dir)
    await client.request(
        "initialize",
        {"processId": None, "capabilities": {}, "rootUri": None, "initializationOptions": {"dataDir": str(data_dir)}},
    )
    client.notify("initialized", {})
    await client.request("usage/statusBar", {})
    return client, time.perf_counter() - t0


async def timed(client, method: str, params_list: list[dict], n: int) -> list[float]:
    times = []
    send = client.request
    for i in range(n):
        t = time.perf_counter()
        await send(method, params_list[i % len(params_list)])
        times.append((time.perf_counter() - t) * 1000)
    return times


async def bench_server(data_dir: Path, out: Row, args, today: str, models: list[str]) -> None:
    client, cold = await start_server(data_dir)
    pid = client.pid
    out.add("cold start to first usage/statusBar", f"{cold * 1000:.0f} ms", "target < 1 s at 1M")
    out.add("server resident memory after start", f"{rss_mb(pid):.0f} MB", "target < 200 MB at 1M")
    n = args.iterations
    d30 = (dt.date.fromisoformat(today) - dt.timedelta(days=29)).isoformat()
    d365 = (dt.date.fromisoformat(today) - dt.timedelta(days=364)).isoformat()
    cases = [
        ("usage/statusBar", [{}], "target p99 < 5 ms"),
        ("usage/summary", [{}], "today; target p99 < 5 ms"),
        ("usage/tokenSplit", [{"from": d30}], "30 days; target p99 < 20 ms"),
        ("usage/projects", [{"from": d30}], "30 days; target p99 < 20 ms"),
        (
            "usage/daily",
            [
                {"from": d365},
                {"from": d365, "project": "project-1"},
                {"from": d365, "model": models[0], "billing": "premium"},
                {"from": d365, "user": "user-2", "project": "project-0", "model": models[1], "billing": "byok"},
            ],
            "365 days, all filters; target p99 < 50 ms",
        ),
        (
            "usage/interactions",
            [
                {"from": d30, "limit": 100, "sort": s}
                for s in ("-timestamp", "costUsd", "-totalTokens", "model", "project")
            ],
            "page of 100, 30 days, any sort; target p99 < 50 ms",
        ),
    ]
    for method, params, note in cases:
        await timed(client, method, params, min(5, n))  # warm caches as a running editor has them
        times = await timed(client, method, params, n)
        out.add(f"{method} p50 / p99", f"{statistics.median(times):.2f} / {pct(times, 99):.2f} ms", note)
    # hover over a model name in an open document
    uri = (data_dir / "notes.md").as_uri()
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "markdown", "version": 1, "text": f"we use {models[0]} a lot"}},
    )
    # the first hover loads genai-prices' table (~0.2 s) unless the server's idle warm-up (1 s
    # after start, UsageServer.warm_prices) came first: shown on its own line, then warm
    t = time.perf_counter()
    await client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 9}})
    out.add(
        "first textDocument/hover", f"{(time.perf_counter() - t) * 1000:.2f} ms", "before or after the price warm-up"
    )
    hover_times = []
    for _ in range(n):
        t = time.perf_counter()
        await client.request(
            "textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 9}}
        )
        hover_times.append((time.perf_counter() - t) * 1000)
    out.add(
        "textDocument/hover p50 / p99",
        f"{statistics.median(hover_times):.2f} / {pct(hover_times, 99):.2f} ms",
        "target p99 < 5 ms",
    )
    # status bar p99 while records arrive (every query sees a changed ledger)
    sb = []
    for i in range(min(n, 200)):
        await client.request(
            "usage/record", {"records": [{"model": "gpt-4o", "inputTokens": 10, "outputTokens": 5, "id": f"live-{i}"}]}
        )
        t = time.perf_counter()
        await client.request("usage/statusBar", {})
        sb.append((time.perf_counter() - t) * 1000)
    out.add(
        "usage/statusBar after each new record p50 / p99",
        f"{statistics.median(sb):.2f} / {pct(sb, 99):.2f} ms",
        "cache invalidated every time",
    )
    # ingest: batches of 1000 as requests (acknowledged durable)
    rng = random.Random(9)
    batches = [
        [
            {
                "model": rng.choice(models),
                "inputTokens": rng.randint(1, 9999),
                "outputTokens": 100,
                "id": f"ing-{b}-{i}",
            }
            for i in range(1000)
        ]
        for b in range(args.ingest_batches)
    ]
    t = time.perf_counter()
    for b in batches:
        r = await client.request("usage/record", {"records": b})
        assert r["accepted"] == 1000 and r["durable"]
    rate = len(batches) * 1000 / (time.perf_counter() - t)
    out.add("ingest, batches of 1,000 over LSP, durable", f"{rate:,.0f} rec/s", "target >= 20,000")
    # single records as notifications, then a request that returns once all were handled
    m = args.notifications
    t = time.perf_counter()
    for i in range(m):
        client.notify(
            "usage/record", {"records": [{"model": "gpt-4o", "inputTokens": 1, "outputTokens": 1, "id": f"note-{i}"}]}
        )
    await client.request("usage/summary", {})
    rate = m / (time.perf_counter() - t)
    out.add("single records as notifications", f"{rate:,.0f} rec/s", "target >= 2,000")
    out.add("server resident memory at the end", f"{rss_mb(pid):.0f} MB", "target < 200 MB at 1M")
    await client.stop()


def bench_tinydb(records: list[dict], out: Row, today: str, tz, work: Path) -> tuple[float, float]:
    from tinydb import Query, TinyDB

    path = work / "plain-tinydb.json"
    db = TinyDB(path)
    t = time.perf_counter()
    for i in range(0, len(records), 100_000):  # bulk load in few writes; the baseline's best case
        db.insert_multiple(
            {**r, "date": dt.datetime.fromtimestamp(r["timestamp"] / 1000, tz).date().isoformat()}
            for r in records[i : i + 100_000]
        )
    out.add("plain TinyDB: bulk load (insert_multiple)", f"{time.perf_counter() - t:.1f} s")
    q = Query()
    times = []
    for _ in range(3):
        db.clear_cache()
        t = time.perf_counter()
        db.search(q.date == today)
        times.append(time.perf_counter() - t)
    today_ms = min(times) * 1000
    out.add("plain TinyDB: today's records (search)", f"{today_ms:.0f} ms", "best of 3")
    t = time.perf_counter()
    db.insert({"model": "gpt-4o", "inputTokens": 1, "outputTokens": 1, "date": today})
    insert_ms = (time.perf_counter() - t) * 1000
    out.add("plain TinyDB: one insert", f"{insert_ms:.0f} ms", "rewrites the whole file")
    db.close()
    return today_ms, insert_ms


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=500)
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--ingest-batches", type=int, default=30)
    ap.add_argument("--notifications", type=int, default=5000)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--keep", help="keep (or reuse) the generated data dir at this path")
    args = ap.parse_args()
    os.environ.setdefault("TZ", "UTC")

    from usage_ls.service import Usage

    work = Path(tempfile.mkdtemp(prefix="usage-ls-bench-"))
    data_dir = Path(args.keep) if args.keep else work / "data"
    out = Row()
    print(
        f"usage-ls server benchmark: {args.records:,} records over {args.days} days; {os.cpu_count()} cores; Python {sys.version.split()[0]}"
    )
    reuse = args.keep and (data_dir / "state.json").exists()
    svc = Usage(data_dir=data_dir, tag="bench").open()
    today, tz = svc.today(), svc.tz
    records = generate(args.records, args.days, tz)
    gc.freeze()  # a million generated dicts must not make *this* client's GC pauses look like server latency
    if not reuse:
        t = time.perf_counter()
        for i in range(0, len(records), 50_000):
            svc.record(records[i : i + 50_000], sync=False)
        svc.ledger.sync()
        load = time.perf_counter() - t
        t = time.perf_counter()
        svc.close()
        fold = time.perf_counter() - t
        out.add(
            "bulk load through the ingest path",
            f"{args.records / load:,.0f} rec/s",
            f"{load:.1f} s; checkpoint {fold:.1f} s",
        )
        svc = None
        gc.collect()
        gc.freeze()  # what the load left in this client too (its full collections were 40-80 ms stalls in usage/daily's p99)
    else:
        svc.ledger.close(checkpoint=False)
    asyncio.run(bench_server(data_dir, out, args, today, MODELS))
    if not args.no_baseline:
        today_ms, insert_ms = bench_tinydb(records, out, today, tz, work)
        print("\nSpeed-up over plain TinyDB with the same records (same run):")
        sb = [r for r in out.rows if r[0].startswith("usage/summary")][0][1]
        p99 = float(sb.split("/")[1].split()[0])
        print(
            f"  today's summary: {today_ms / p99:,.0f}x (plain TinyDB {today_ms:.0f} ms vs usage-ls p99 {p99:.2f} ms over LSP)"
        )
        ing = [r for r in out.rows if r[0].startswith("ingest")][0][1]
        rate = float(ing.split()[0].replace(",", ""))
        print(
            f"  ingest: {rate * insert_ms / 1000:,.0f}x (plain TinyDB {1000 / insert_ms:,.1f} rec/s one by one vs {rate:,.0f} rec/s)"
        )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
