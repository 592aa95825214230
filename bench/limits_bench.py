"""`usage/limits` (pushed in every `usage/didChange`) on a big ledger: plans for Claude Code
and Copilot and Claude Code's estimated 5-hour block, at 90 days x 2,000 interactions a day.

    .venv/bin/python bench/limits_bench.py [--days 90] [--per-day 2000] [--data DIR]

The usage runs around the clock (bench/dashboard_data.py), so no pause of 5 hours ever ends
the chain of blocks: the worst case for the estimated block. Prints the first call (days read
from disk), a call after a new record (what each push pays) and a cached call. Nothing is
asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from dashboard_data import records

from usage_ls import days
from usage_ls.service import Usage

CONFIG = '[plans]\nclaude-code = { plan = "max5", block_tokens = 50000000 }\ncopilot = "pro+"\n'


def generate(data: Path, n_days: int, per_day: int) -> int:
    data.mkdir(parents=True, exist_ok=True)
    (data / "config.toml").write_text(CONFIG, encoding="utf-8")
    svc = Usage(data_dir=data, tag="bench").open()
    today = dt.date.fromisoformat(days.today(svc.tz))
    total = 0
    for day in records(n_days, per_day, today, svc.tz):
        for r in day:
            r["feature"] = "claude-code" if r["feature"] == "agent" else "copilot-chat"
        total += svc.record(day)["accepted"]
    svc.ledger.checkpoint()
    svc.close()
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--per-day", type=int, default=2000)
    ap.add_argument("--data")
    args = ap.parse_args()
    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="usage-ls-limits-bench-")) / "data"
    if not (data / "config.toml").exists():
        t0 = time.perf_counter()
        n = generate(data, args.days, args.per_day)
        print(f"ledger: {n:,} records in {time.perf_counter() - t0:.1f} s ({data})")
    svc = Usage(data_dir=data, tag="bench").open()
    t0 = time.perf_counter()
    first = svc.limits()
    print(f"first call (days from disk):   {(time.perf_counter() - t0) * 1000:8.1f} ms")
    assert first["plans"] and first["windows"], first
    after = []
    for i in range(5):
        svc.record(
            [
                {
                    "model": "claude-sonnet-4-5",
                    "inputTokens": 10,
                    "outputTokens": 10,
                    "feature": "claude-code",
                    "id": f"bench-new-{time.time()}-{i}",
                }
            ]
        )
        t0 = time.perf_counter()
        svc.limits()
        after.append(time.perf_counter() - t0)
    print(f"after a new record (median/5): {statistics.median(after) * 1000:8.1f} ms")
    t0 = time.perf_counter()
    svc.limits()
    print(f"cached:                        {(time.perf_counter() - t0) * 1000:8.1f} ms")
    w = first["windows"][0]
    print(
        f"estimated block: {w['tokens']:,} tokens, ${w['costUsd']:,.2f}; plans: "
        + ", ".join(f"{p['label']} ${p['listPriceUsd']:,.0f} ({p['valueRatio']}x)" for p in first["plans"])
    )
    svc.close()


if __name__ == "__main__":
    main()
