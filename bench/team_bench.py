"""Team sync on PostgreSQL: push throughput, team queries over the rollup.

    .venv/bin/python bench/team_bench.py [--days 60] [--per-day 2000] [--queries 200]

Starts a throwaway PostgreSQL cluster (tests/team/pg_cluster.py: Debian's postgresql, fsync
off), fills a data directory with days x per-day synthetic records (bench/dashboard_data.py,
through `Usage.record` and checkpoints), then measures:
  - push: every record into an empty team database (`usage_ls.team.push`, batches of 5,000),
    records per second; and a second push with nothing new (the cursor: no day file read);
  - team `usage/summary` and `usage/daily` over the whole range from the daily rollup, p50/p99.
Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests" / "team"))

from dashboard_data import generate
from pg_cluster import make_cluster, remove

from usage_ls import days
from usage_ls.config import load_config
from usage_ls.service import Usage
from usage_ls.team import push


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--per-day", type=int, default=2000)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    cluster = make_cluster()
    if cluster is None:
        print("PostgreSQL's server binaries are not installed: bash scripts/setup.d/60-postgresql.sh")
        return 1
    try:
        import psycopg

        with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        conninfo = cluster.conninfo("bench")
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "data"
            info = generate(data, args.days, args.per_day)
            n = info.get("records", args.days * args.per_day)
            (data / "config.toml").write_text(f'[sync]\npostgres = "{conninfo}"\n')
            cfg = load_config(data)
            t0 = time.perf_counter()
            out = push.push(data, cfg.tz, conninfo)
            took = time.perf_counter() - t0
            print(
                f"push: {out.inserted:,} records in {out.batches} batches, {took:.2f} s ({out.inserted / took:,.0f}/s)"
            )
            t0 = time.perf_counter()
            again = push.push(data, cfg.tz, conninfo)
            print(f"push again, nothing new: {again.sent} sent, {(time.perf_counter() - t0) * 1000:.0f} ms")
            with psycopg.connect(conninfo) as conn:
                rows = conn.execute("SELECT count(*) FROM usage_ls.daily").fetchone()[0]
            print(f"rollup rows: {rows:,} for {n:,} records")
            svc = Usage(data_dir=data).open()
            today = days.today(svc.tz)
            span = {"from": days.shift(today, -args.days), "to": today, "scope": "team"}
            for method in ("summary", "daily"):
                times = []
                for _ in range(args.queries):
                    t0 = time.perf_counter()
                    getattr(svc, method)(span)
                    times.append((time.perf_counter() - t0) * 1000)
                times.sort()
                p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
                print(f"team {method} ({args.days} days): p50 {statistics.median(times):.2f} ms, p99 {p99:.2f} ms")
            svc.close()
    finally:
        remove(cluster)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
