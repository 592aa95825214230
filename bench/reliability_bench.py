"""Reliability figures for docs/reliability.md: kill -9 trials during heavy ingest.

    .venv/bin/python bench/reliability_bench.py --trials 50

Each trial starts the real server on the same data directory, streams batches of records as
requests (an acknowledgement means "durable"), kills the server with SIGKILL at a random
moment, and starts the next trial. At the end it checks, from a fresh process: every
acknowledged record is stored, none twice, the store opens, no temp file is left, and the
rollups agree with the day files record for record.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from usage_ls.lspclient import raw_converter


async def trial(data_dir: Path, n: int, rng: random.Random, acked: set[str], sent: list[int]) -> None:
    client = LanguageClient("rel", "1", converter_factory=raw_converter)
    client.feature("usage/didChange")(lambda params: None)
    await client.start_io(
        sys.executable,
        "-m",
        "usage_ls",
        "serve",
        "--stdio",
        env={**os.environ, "USAGE_LS_DATA_DIR": str(data_dir), "USAGE_LS_WATCH": "off"},
    )
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(), initialization_options={"dataDir": str(data_dir)}
        )
    )
    client.initialized(types.InitializedParams())
    pid = client._server.pid

    async def writer():
        b = 0
        while True:
            size = rng.choice((1, 10, 100, 500))
            records = [
                {
                    "model": rng.choice(("gpt-4o", "claude-sonnet-4-5", "gemini-2.5-pro")),
                    "inputTokens": rng.randint(1, 5000),
                    "outputTokens": rng.randint(1, 500),
                    "id": f"t{n}-{b}-{i}",
                }
                for i in range(size)
            ]
            b += 1
            sent[0] += size
            result = await client.protocol.send_request_async("usage/record", {"records": records})
            if result["accepted"] == size and result["durable"]:
                acked.update(r["id"] for r in records)

    task = asyncio.ensure_future(writer())
    await asyncio.sleep(0.2 + rng.random() * 1.5)
    os.kill(pid, signal.SIGKILL)
    try:
        await asyncio.wait_for(task, 5)
    except BaseException:
        pass
    try:
        await client.stop()
    except BaseException:
        pass


def verify(data_dir: Path, acked: set[str]) -> dict:
    from usage_ls import fileio
    from usage_ls.service import Usage
    from usage_ls.store.rollup import rollup_rows

    svc = Usage(data_dir=data_dir).open()  # folds the journals the killed servers left
    svc.close()
    svc = Usage(data_dir=data_dir, writable=False).open()
    stored: list[str] = []
    mismatched_days = 0
    for path in sorted((data_dir / "days").glob("*/*.json")):
        records = list(((fileio.read_json(path) or {}).get("records") or {}).values())
        stored += [r["id"] for r in records]
        rollup = ((fileio.read_json(data_dir / "rollups" / f"{path.stem[:7]}.json") or {}).get("days") or {}).get(
            path.stem, {}
        )
        norm = lambda rows: sorted((tuple(r[:4]), tuple(round(x, 6) for x in r[4:])) for r in rows)
        if norm(rollup.get("rows") or []) != norm(rollup_rows(records)):
            mismatched_days += 1
    today = svc.today()
    total = svc.summary({"from": today[:4] + "-01-01", "to": today})["messages"] if stored else 0
    temps = [p for p in data_dir.rglob("*") if ".tmp-" in p.name]
    return {
        "stored": len(stored),
        "unique": len(set(stored)),
        "lost": len(acked - set(stored)),
        "summary": total,
        "rollup_mismatches": mismatched_days,
        "temp_files": len(temps),
    }


async def main_async(args) -> int:
    rng = random.Random(args.seed)
    data_dir = Path(tempfile.mkdtemp(prefix="usage-ls-rel-")) / "data"
    acked: set[str] = set()
    sent = [0]
    t0 = time.perf_counter()
    for n in range(args.trials):
        await trial(data_dir, n, rng, acked, sent)
    took = time.perf_counter() - t0
    result = verify(data_dir, acked)
    print(f"kill -9 trials: {args.trials} ({took:.0f} s); records sent {sent[0]:,}, acknowledged {len(acked):,}")
    print(f"  stored {result['stored']:,} (unique {result['unique']:,}); acknowledged but lost: {result['lost']}")
    print(
        f"  summary after restart: {result['summary']:,} messages; rollup days disagreeing with day files: {result['rollup_mismatches']}"
    )
    print(f"  temp files left: {result['temp_files']}")
    ok = (
        result["lost"] == 0
        and result["stored"] == result["unique"] == result["summary"]
        and not result["rollup_mismatches"]
    )
    print("RESULT:", "no acknowledged record lost, none counted twice" if ok else "FAILED")
    return 0 if ok else 1


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    os.environ.setdefault("TZ", "UTC")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
