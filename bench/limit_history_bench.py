"""The Plan limits card's data: `usage/limits` and `usage/limitHistory` over a heavy year.

    .venv/bin/python bench/limit_history_bench.py [--days 365] [--every 0.3]

Writes a year of plan-window observations (bench/limits_data.py: Claude Code and Codex, 5-hour
and weekly windows; `--every 0.3` reports every ~3 minutes of work, about what a status line
keeps for someone who never stops) into a temporary data dir, then times, in one process:
reading the whole observations file, `usage/limits` (the file's tail only), and
`usage/limitHistory`: a process's first call (it reads the whole file), the call after one
more observation (it reads that line), and for 7, 30, 90 and 365 days cold (the service's
result cache emptied; the observations in memory) and cached, with the answer's size as JSON
and how many points it holds. Figures are printed;
nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).parent))

import limits_data

from usage_ls import days
from usage_ls.service import Usage
from usage_ls.store.limits import LimitLog


def timed(fn, runs: int = 5) -> tuple[float, object]:
    """Median milliseconds of `runs` calls, and the last result."""
    took, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        took.append((time.perf_counter() - t0) * 1000)
    return statistics.median(took), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--every", type=float, default=0.3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        (data / "config.toml").write_text('timezone = "UTC"\n', encoding="utf-8")
        kept = limits_data.write(data, days.now_ms(), n_days=args.days, every=args.every)
        log = LimitLog(data)
        size = log.path.stat().st_size
        print(f"observations: {kept:,} over {args.days} days, {size / 1e6:.1f} MB")
        ms, _ = timed(log.read)
        print(f"LimitLog.read, the whole file: {ms:.1f} ms")
        svc = Usage(data_dir=data, tag="bench", writable=False).open()
        try:
            today = svc.today()
            week = {"from": days.shift(today, -6), "to": today}
            t0 = time.perf_counter()
            svc.limit_history(week)
            print(
                f"usage/limitHistory, a process's first call (reads the whole file): {(time.perf_counter() - t0) * 1000:.1f} ms"
            )
            # a status line call keeps one more observation: the next answer reads that line only
            last = log.read(tail=4096)[-1]
            log.append([last._replace(used_percent=min(100.0, last.used_percent + 1), observed_at=days.now_ms())])
            t0 = time.perf_counter()
            svc.limit_history(week)
            print(f"usage/limitHistory after one more observation: {(time.perf_counter() - t0) * 1000:.1f} ms")

            def cold_limits():
                svc.forget_results()
                return svc.limits()

            ms, result = timed(cold_limits)
            print(f"usage/limits: {ms:.1f} ms cold, {len(result['windows'])} windows")
            for span in (7, 30, 90, 365):
                if span > args.days + 1:
                    continue
                params = {"from": days.shift(today, -(span - 1)), "to": today}

                def cold():
                    svc.forget_results()
                    return svc.limit_history(params)

                cold_ms, result = timed(cold, runs=3)
                warm_ms, _ = timed(lambda: svc.limit_history(params), runs=20)
                points = sum(len(s["points"]) for s in result["series"])
                sampled = [f"{s['source']} {s['window']}" for s in result["series"] if s["sampled"]]
                print(
                    f"usage/limitHistory {span:>3} days: {cold_ms:6.1f} ms cold, {warm_ms:5.2f} ms cached; "
                    f"{points:,} points, {len(orjson.dumps(result)) / 1e3:,.0f} kB"
                    + (f"; thinned: {', '.join(sampled)}" if sampled else "")
                )
        finally:
            svc.close()


if __name__ == "__main__":
    main()
