"""`usage/sessions` on a big ledger: 100 days x 2,000 interactions (200,000 records, 10,000
sessions of 20 records: bench/dashboard_data.py).

    .venv/bin/python bench/sessions_bench.py [--days 100] [--per-day 2000] [--data DIR]

Prints, in one process: the first page over the whole range (the days' columns read from their
files), the same page again (result cache), another sort (columns cached, sessions recomputed),
a 30-day page, and a whole `usage-ls report sessions` command. Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from dashboard_data import generate

from usage_ls import days
from usage_ls.service import Usage


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=100)
    ap.add_argument("--per-day", type=int, default=2000)
    ap.add_argument("--data")
    args = ap.parse_args()
    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="usage-ls-sessions-bench-")) / "data"
    if not args.data:
        made = generate(data, args.days, args.per_day)
        print(f"ledger: {made['records']:,} records in {made['seconds']:.1f} s ({data})")
    svc = Usage(data_dir=data, tag="bench", writable=False).open()
    today = svc.today()
    span = {"from": days.shift(today, -(args.days - 1)), "to": today}
    calls = [
        ("whole range, page of 100, newest first", {**span}),
        ("the same again (result cache)", {**span}),
        ("whole range, by cost", {**span, "sort": "-costUsd"}),
        ("last 30 days", {"from": days.shift(today, -29), "to": today}),
    ]
    for label, params in calls:
        t0 = time.perf_counter()
        result = svc.sessions(params)
        took = time.perf_counter() - t0
        print(f"{label:42s} {took * 1000:8.1f} ms  ({result['total']:,} sessions)")
    svc.close()
    cmd = [sys.executable, "-m", "usage_ls", "--data-dir", str(data), "report", "sessions", "--from", span["from"]]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    print(
        f"{'usage-ls report sessions, whole range':42s} {(time.perf_counter() - t0) * 1000:8.1f} ms  (process included)"
    )


if __name__ == "__main__":
    main()
