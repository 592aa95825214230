"""Framing benchmark: `framing.Frames` against pygls' header-line reader, on the same bytes.

    .venv/bin/python bench/framing_bench.py

Cuts a stream of small notifications (one record each) and one of 1,000-record batches into
bodies, the way the server reads stdin: in the pipe's 64 KiB pieces. pygls' way is its
`run_async` loop (readline per header line, readexactly per body) over an asyncio
StreamReader. Only the framing is timed, not parsing or handling. Figures only.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from usage_ls.framing import Frames

RECORD = {"model": "claude-sonnet-4-5", "inputTokens": 1200, "outputTokens": 340, "project": "widget", "id": "x" * 32}
CHUNK = 1 << 16


def stream(bodies: int, records: int) -> bytes:
    out = bytearray()
    for i in range(bodies):
        body = json.dumps(
            {"jsonrpc": "2.0", "method": "usage/record", "params": {"records": [{**RECORD, "n": i}] * records}}
        ).encode()
        out += f"Content-Length: {len(body)}\r\n\r\n".encode() + body
    return bytes(out)


def frames(data: bytes) -> int:
    f, n = Frames(), 0
    for i in range(0, len(data), CHUNK):
        n += len(f.feed(data[i : i + CHUNK]))
    return n


def pygls_way(data: bytes) -> int:
    """pygls.io_.run_async's loop, minus the parsing."""
    pattern = re.compile(rb"^Content-Length: (\d+)\r\n$")

    async def run() -> int:
        reader = asyncio.StreamReader(limit=1 << 30)
        for i in range(0, len(data), CHUNK):
            reader.feed_data(data[i : i + CHUNK])
        reader.feed_eof()
        n, length = 0, 0
        while True:
            header = await reader.readline()
            if not header:
                return n
            if not length:
                match = pattern.fullmatch(header)
                if match:
                    length = int(match.group(1))
            if length and not header.strip():
                await reader.readexactly(length)
                n += 1
                length = 0

    return asyncio.run(run())


def best(fn, data: bytes, rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn(data)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    print(f"framing benchmark: best of 5, {CHUNK // 1024} KiB pieces; Python {sys.version.split()[0]}")
    for label, bodies, records in (("single-record notifications", 50_000, 1), ("1,000-record batches", 50, 1000)):
        data = stream(bodies, records)
        assert frames(data) == pygls_way(data) == bodies
        ours, theirs = best(frames, data), best(pygls_way, data)
        print(
            f"  {label:<30} {len(data) / 1e6:6.1f} MB   Frames {bodies / ours:>10,.0f} msg/s   "
            f"pygls readline {bodies / theirs:>10,.0f} msg/s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
