"""Team answers by tool (`scope: "team"` with `tool` or `byTool`: team/tools.py, from `records`).

    .venv/bin/python bench/team_tool_bench.py [--records 1000000] [--runs 7]

Starts a throwaway PostgreSQL cluster (tests/team/pg_cluster.py), fills it with bench/team_fill.py
(`--records` over the 365 days ending today, rollups built in bulk), gives the records a mix of
features (claude-code 45 %, its agents' 10 %, codex 25 %, gemini 10 %, none 10 %), then times
`usage/daily` with `tool` (codex: a quarter of the records; gemini: a tenth), `usage/daily` with
`byTool`, and `usage/tools`, over 30 and 365 days: the code the server runs (team/scope.answer,
one connection), median and max of `--runs`, with the load average. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "tests" / "team"))
sys.path.insert(0, str(Path(__file__).parent))

from pg_cluster import make_cluster, remove
from team_fill import bench_database, fill

from usage_ls.pricing import Pricer
from usage_ls.queries import Filter
from usage_ls.settings import Config
from usage_ls.team import schema, scope
from usage_ls.team.query import Reader

FEATURES = """
UPDATE usage_ls.records SET feature = (ARRAY['claude-code', 'claude-code', 'claude-code', 'claude-code',
    'claude-code agent=reviewer', 'codex', 'codex', 'codex', 'codex', 'codex', 'gemini', 'gemini', NULL,
    'claude-code', 'claude-code', 'claude-code', 'claude-code', 'claude-code agent=reviewer', NULL,
    'claude-code'])[(hashtext(id) & 2147483647) % 20 + 1]
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--explain", action="store_true", help="print the plan of each 365-day statement")
    opts = ap.parse_args()
    cluster = make_cluster()
    if cluster is None:
        sys.exit("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    try:
        pg, conn = bench_database(cluster)
        today = dt.date.today()
        t = time.perf_counter()
        fill(conn, opts.records, today)
        conn.execute(FEATURES)
        conn.execute("VACUUM ANALYZE usage_ls.records")
        conn.close()
        print(f"{opts.records:,} records, schema version {schema.LATEST}: {time.perf_counter() - t:.1f} s to fill")
        reader = Reader(pg)
        cfg = Config(data_dir=Path(tempfile.mkdtemp(prefix="usage-ls-bench-")))
        pricer = Pricer(cfg)
        for span in (30, 365):
            start = (today - dt.timedelta(days=span - 1)).isoformat()
            cases = (
                ("usage/daily tool=codex", "daily", Filter(start, today.isoformat(), tool="codex"), {}),
                ("usage/daily tool=gemini", "daily", Filter(start, today.isoformat(), tool="gemini"), {}),
                ("usage/daily byTool", "daily", Filter(start, today.isoformat()), {"byTool": True}),
                ("usage/tools", "tools", Filter(start, today.isoformat()), {}),
            )
            for label, name, f, params in cases:
                times = []
                for _ in range(opts.runs):
                    t = time.perf_counter()
                    scope.answer(name, reader, f, params, cfg, pricer)
                    times.append((time.perf_counter() - t) * 1000)
                if opts.explain and span == 365:
                    asked: list = []
                    ask = reader.rows
                    reader.rows = lambda sql, args, binary=False: asked.append((sql, args)) or ask(sql, args, binary)  # type: ignore[method-assign]
                    scope.answer(name, reader, f, params, cfg, pricer)
                    reader.rows = ask  # type: ignore[method-assign]
                    for sql, args in asked:
                        print("\n".join(r[0] for r in ask("EXPLAIN (ANALYZE, BUFFERS) " + sql, args)))
                load = os.getloadavg()[0]
                print(
                    f"{span:>3} days  {label:<26} median {statistics.median(times):7.1f} ms  "
                    f"max {max(times):7.1f} ms  first {times[0]:7.1f} ms  (load {load:.1f})"
                )
        reader.close()
    finally:
        remove(cluster)


if __name__ == "__main__":
    main()
