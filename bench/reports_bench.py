"""Weekly/monthly periods and estimated 5-hour blocks at 90 days x 2,000 interactions a day.

    .venv/bin/python bench/reports_bench.py [--days 90] [--per-day 2000] [--data DIR]

Generates the ledger (bench/dashboard_data.py: usage around the clock, so no pause of 5 hours
ever ends the chain of blocks and `report blocks` reads back to the first day) unless --data
names one already filled, then prints:
  - the service calls in one process: first call (the days' columns loaded from disk) and again
    (the columns cached; periods answered from the result cache, blocks recomputed);
  - whole `usage-ls report ...` commands, as a user runs them (process start included).
Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from dashboard_data import generate

from usage_ls import days
from usage_ls.service import Usage


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--per-day", type=int, default=2000)
    ap.add_argument("--data")
    args = ap.parse_args()
    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="usage-ls-reports-bench-")) / "data"
    if not args.data:
        made = generate(data, args.days, args.per_day)
        print(f"ledger: {made['records']:,} records in {made['seconds']:.1f} s ({data})")
    svc = Usage(data_dir=data, tag="bench", writable=False).open()
    today = svc.today()
    span = {"from": days.shift(today, -(args.days - 1)), "to": today}
    calls = [
        ("weekly, whole range", lambda: svc.periods("week", span)),
        ("monthly, whole range", lambda: svc.periods("month", span)),
        ("blocks, last 7 days (all tools)", lambda: svc.blocks({"from": days.shift(today, -6), "tool": "all"})),
        ("blocks, whole range (all tools)", lambda: svc.blocks({**span, "tool": "all"})),
    ]
    print("\nservice, one process:                     first      again")
    for label, fn in calls:
        t0 = time.perf_counter()
        result = fn()
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        fn()
        again = time.perf_counter() - t0
        size = len(result) if isinstance(result, list) else len(next(iter(result.values())))
        print(f"  {label:36s} {ms(first)} {ms(again)}   ({size} rows)")
    svc.close()
    print("\nCLI, whole command (median of 3):")
    for what in (["weekly"], ["monthly", "--breakdown"], ["blocks", "--tool", "all"], ["blocks", "--json"]):
        cmd = [sys.executable, "-m", "usage_ls", "--data-dir", str(data), "report", *what]
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            runs.append(time.perf_counter() - t0)
        print(f"  report {' '.join(what):34s} {ms(statistics.median(runs))}")


if __name__ == "__main__":
    main()
