"""OTLP receiver benchmark: throughput and export -> stored latency.

    .venv/bin/python bench/otlp_bench.py                      # the figures in docs/performance.md
    .venv/bin/python bench/otlp_bench.py --requests 5 --latency 20   # quick, as CI runs it

Against a real `usage-ls receive` (one keep-alive connection, as an SDK exporter holds one):
- metric data points per second: delta `gen_ai.client.token.usage` histograms, `--points` per
  request (half input, half output series: a record per model per request);
- Claude Code `api_request` events per second, `--events` per request (a record each);
- export -> stored: the round trip of one event, answered only once it is fsynced;
and, against the language server with `[receive] otlp`, one event's POST -> `usage/didChange`
carrying it: events `--gap` apart (as an agent's calls come: each pushed at once), then back to
back (each sent when the last one's didChange came: the pushes' rate bound, one per 100 ms,
shows). Figures only: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kv(key: str, value) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def metrics_body(n_points: int, batch: int) -> bytes:
    req = ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    rm.resource.attributes.append(kv("service.name", "copilot-chat"))
    metric = rm.scope_metrics.add().metrics.add()
    metric.name = "gen_ai.client.token.usage"
    metric.histogram.aggregation_temporality = 1  # delta
    now = time.time_ns()
    for i in range(n_points):
        p = metric.histogram.data_points.add()
        p.start_time_unix_nano, p.time_unix_nano = now - 10**9, now + batch
        p.sum, p.count = 100 + i, 1
        p.attributes.extend(
            [
                kv("gen_ai.request.model", f"bench-model-{i // 2}"),
                kv("gen_ai.provider.name", "openai"),
                kv("gen_ai.token.type", "input" if i % 2 == 0 else "output"),
            ]
        )
    return req.SerializeToString()


def events_body(n: int, tag: str) -> bytes:
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    rl.resource.attributes.append(kv("service.name", "claude-code"))
    sl = rl.scope_logs.add()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    for i in range(n):
        lr = sl.log_records.add()
        lr.time_unix_nano = time.time_ns()
        lr.body.string_value = "claude_code.api_request"
        lr.attributes.extend(
            kv(k, v)
            for k, v in {
                "event.name": "api_request",
                "event.timestamp": stamp,
                "request_id": f"req_{tag}_{i}",
                "model": "claude-sonnet-4-5",
                "input_tokens": 100,
                "output_tokens": 50,
                "cache_read_tokens": 1000,
            }.items()
        )
    return req.SerializeToString()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Poster:
    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def post(self, path: str, body: bytes) -> None:
        self.conn.request("POST", path, body, {"Content-Type": "application/x-protobuf"})
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{path}: {resp.status} {data[:200]!r}")


def bench_receive(work: Path, args) -> list[tuple[str, str]]:
    port = free_port()
    env = {**os.environ, "USAGE_LS_DATA_DIR": str(work / "rx"), "USAGE_LS_WATCH": "off"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "usage_ls", "receive", "--listen", f"127.0.0.1:{port}", "--quiet"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert "listening on" in proc.stdout.readline()
    out = []
    try:
        poster = Poster(port)
        # warm up: the price table loads, and each model is looked up once (then remembered)
        poster.post("/v1/metrics", metrics_body(args.points, -1))
        poster.post("/v1/logs", events_body(1, "warm"))
        bodies = [metrics_body(args.points, b) for b in range(args.requests)]
        t = time.perf_counter()
        for body in bodies:
            poster.post("/v1/metrics", body)
        elapsed = time.perf_counter() - t
        points = args.points * args.requests
        out.append(
            (
                f"metric data points/s ({args.points} per request, {args.points // 2} records each)",
                f"{points / elapsed:,.0f}",
            )
        )
        bodies = [events_body(args.events, f"t{b}") for b in range(args.requests)]
        t = time.perf_counter()
        for body in bodies:
            poster.post("/v1/logs", body)
        elapsed = time.perf_counter() - t
        out.append(
            (f"Claude Code events/s ({args.events} per request)", f"{args.events * args.requests / elapsed:,.0f}")
        )
        times = []
        for i in range(args.latency):
            body = events_body(1, f"lat{i}")
            t = time.perf_counter()
            poster.post("/v1/logs", body)
            times.append((time.perf_counter() - t) * 1000)
        out.append(
            (
                "one event: export -> stored (fsynced) p50 / p99",
                f"{statistics.median(times):.1f} / {pct(times, 99):.1f} ms",
            )
        )
    finally:
        proc.terminate()
        proc.communicate(timeout=60)
    return out


class Lsp:
    """A minimal LSP peer over the server's stdio that notes when each `usage/didChange` came."""

    def __init__(self, proc):
        self.proc, self.next_id, self.waiting, self.changes = proc, 0, {}, []
        self.changed = asyncio.Event()
        self.reader = asyncio.ensure_future(self._read())

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
            if msg.get("method") == "usage/didChange":
                self.changes.append((time.perf_counter(), msg["params"]))
                self.changed.set()
            elif "method" not in msg and msg.get("id") in self.waiting:
                self.waiting.pop(msg["id"]).set_result(msg)

    async def request(self, method: str, params=None):
        self.next_id += 1
        fut = self.waiting[self.next_id] = asyncio.get_running_loop().create_future()
        self.notify(method, params, self.next_id)
        return (await fut).get("result")

    def notify(self, method: str, params, msg_id=None) -> None:
        msg = {"jsonrpc": "2.0", "method": method, "params": params}
        if msg_id is not None:
            msg["id"] = msg_id
        body = orjson.dumps(msg)
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)


async def bench_server(work: Path, args) -> list[tuple[str, str]]:
    data = work / "srv"
    data.mkdir()
    port = free_port()
    (data / "config.toml").write_text(f'[receive]\notlp = "127.0.0.1:{port}"\n')
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "usage_ls",
        "serve",
        "--stdio",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "USAGE_LS_DATA_DIR": str(data), "USAGE_LS_WATCH": "off"},
        limit=1 << 26,
    )
    lsp = Lsp(proc)
    await lsp.request(
        "initialize", {"processId": None, "capabilities": {}, "initializationOptions": {"dataDir": str(data)}}
    )
    lsp.notify("initialized", {})
    poster = None
    for _ in range(200):  # the receiver starts beside the server
        try:
            poster = Poster(port)
            poster.post("/v1/logs", b"")
            break
        except OSError:
            poster = None
            await asyncio.sleep(0.05)
    assert poster is not None, "the server's receiver did not start"
    await asyncio.sleep(1.5)  # past the start-up pushes
    spaced = await _event_latency(lsp, poster, args.latency, args.gap, 0)
    back_to_back = await _event_latency(lsp, poster, args.latency, 0.0, args.latency)
    await lsp.request("shutdown")
    lsp.notify("exit", None)
    await proc.wait()
    return [
        (
            f"one event: export -> usage/didChange (language server) p50 / p99, {args.gap:g} s apart",
            f"{statistics.median(spaced):.1f} / {pct(spaced, 99):.1f} ms",
        ),
        (
            "  the same, each sent as soon as the last one's didChange came",
            f"{statistics.median(back_to_back):.1f} / {pct(back_to_back, 99):.1f} ms",
        ),
    ]


async def _event_latency(lsp: Lsp, poster, n: int, gap: float, before: int) -> list[float]:
    """POST one event at a time; ms from the POST to the didChange that counts it."""
    times = []
    for i in range(n):
        lsp.changed.clear()
        body = events_body(1, f"srv{before + i}")
        t = time.perf_counter()
        await asyncio.to_thread(poster.post, "/v1/logs", body)
        while not lsp.changes or lsp.changes[-1][1]["today"]["messages"] < before + i + 1:
            await asyncio.wait_for(lsp.changed.wait(), 10)
            lsp.changed.clear()
        times.append((lsp.changes[-1][0] - t) * 1000)
        await asyncio.sleep(gap)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=40, help="requests per throughput run")
    ap.add_argument("--points", type=int, default=1000, help="metric data points per request")
    ap.add_argument("--events", type=int, default=500, help="log events per request")
    ap.add_argument("--latency", type=int, default=200, help="single-event requests timed")
    ap.add_argument("--gap", type=float, default=0.2, help="seconds between single events (an agent's calls)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="usage-ls-otlp-bench-"))
    try:
        rows = bench_receive(work, args) + asyncio.run(bench_server(work, args))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    width = max(len(k) for k, _ in rows)
    print(f"OTLP receiver (Python {sys.version.split()[0]}, {os.cpu_count()} cores)")
    for what, figure in rows:
        print(f"  {what:<{width}}  {figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
