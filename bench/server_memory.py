"""Resident memory of a server under the status-bar workload (issue 2's figure):

    .venv/bin/python bench/server_memory.py DATA_DIR

DATA_DIR is a ledger made by `bench/server_bench.py --keep DIR` (1,000,000 records). The
server answers 300 status bars and summaries, takes 30 batches of 1,000 records (a status bar
after each) and 5,000 single-record notifications; its RSS is printed after start, after the
writes, and 3 s later (after its checkpoint). No dashboard-sized queries here: those are in
server_bench.py's own end-of-suite figure.
"""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import server_bench as sb


async def main(data_dir: Path) -> None:
    client, cold = await sb.start_server(data_dir)
    print(f"  cold start {cold * 1000:.0f} ms; RSS after start {sb.rss_mb(client.pid):.0f} MB")
    for _ in range(300):
        await client.request("usage/statusBar", {})
        await client.request("usage/summary", {})
    rng = random.Random(3)
    tag = rng.randrange(10**9)
    for b in range(30):
        await client.request(
            "usage/record",
            {
                "records": [
                    {
                        "model": "gpt-4o",
                        "inputTokens": rng.randint(1, 999),
                        "outputTokens": 5,
                        "id": f"mem{tag}-{b}-{i}",
                    }
                    for i in range(1000)
                ]
            },
        )
        await client.request("usage/statusBar", {})
    for i in range(5000):
        client.notify(
            "usage/record",
            {"records": [{"model": "gpt-4o", "inputTokens": 1, "outputTokens": 1, "id": f"memn{tag}-{i}"}]},
        )
    await client.request("usage/statusBar", {})
    print(f"  RSS after 35,000 new records: {sb.rss_mb(client.pid):.0f} MB")
    await asyncio.sleep(3)
    print(f"  RSS 3 s later (checkpoint done): {sb.rss_mb(client.pid):.0f} MB   target < 200 MB at 1M")
    await client.stop()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
