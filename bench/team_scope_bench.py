"""Team answers that read records: interactions, sessions, attribution (and insights).

    .venv/bin/python bench/team_scope_bench.py [--records 1000000] [--runs 7]

Starts a throwaway PostgreSQL cluster (tests/team/pg_cluster.py), inserts `--records` synthetic
records over 91 days (2026-09-01 .. 11-30: 20 users, 30 projects, 8 models of genai-prices (6
with a cheaper sibling: the cheaper-model tip re-prices their short answers), sessions of 40
records) straight into `usage_ls.records` with SQL (the push is bench/team_bench.py's), then
times the `scope: "team"` answers (usage_ls.team.records, .insights) over a 30-day and a 7-day
range, and interactions again without the `records_ts` index (schema version 2). Insights are
timed first (a new cache each time), repeated (answered from team/insights.Cache: the stamp,
the burn rate and the projection only) and after a record of the range arrived. `--only
insights` skips the other answers. Figures are printed; nothing is asserted.
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
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))  # raw_server
sys.path.insert(0, str(Path(__file__).parent))

from pg_cluster import make_cluster, remove
from team_fill import bench_database

from usage_ls import blocks
from usage_ls.pricing import Pricer
from usage_ls.queries import Filter
from usage_ls.settings import Config
from usage_ls.team import insights, query, records

FILL = """
INSERT INTO usage_ls.records (id, day, ts, "user", device_id, project, model, provider, billing,
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens,
    cost_usd, credits, cost_source, feature, session)
SELECT 'r' || i, d::date, d + (i % 86400) * interval '1 second', 'u' || (i % 20), 'dev', 'p' || (i % 30),
    (ARRAY['claude-sonnet-4-5', 'claude-opus-4-1', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-5', 'gemini-2.5-pro',
           'claude-haiku-4-5', 'o3'])[i % 8 + 1], null, 'premium', 1000 + i % 5000, 100 + i % 700, i % 3000, 0, 0,
    (i % 1000) / 10000.0, (i % 1000) / 100.0, 'computed',
    CASE WHEN i % 7 = 0 THEN 'claude-code agent=x query=subagent' ELSE 'claude-code' END, 's' || (i / 40)
FROM generate_series(1, {n}) AS i,
     LATERAL (SELECT timestamptz '2026-09-01' + (((i - 1) * 91) / {n}) * interval '1 day' AS d) AS x
"""

# one more record of 2026-11-15 (in both ranges' baseline or range), as a push inserts it
ARRIVE = """
INSERT INTO usage_ls.records (id, day, ts, "user", device_id, project, model, provider, billing,
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens,
    cost_usd, credits, cost_source, feature, session)
VALUES (%s, '2026-11-15', '2026-11-15 12:00+00', 'u1', 'dev', 'p1', 'claude-sonnet-4-5', null, 'premium',
    9000, 120, 0, 0, 0, 0.05, 5, 'computed', 'claude-code', 'new')
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--only", choices=("insights",), help="time team insights only")
    opts = ap.parse_args()
    cluster = make_cluster()
    if cluster is None:
        sys.exit("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    try:
        pg, conn = bench_database(cluster)
        conn.execute("SELECT usage_ls.add_months(%s)", ([dt.date(2026, m, 1) for m in (9, 10, 11)],))
        t = time.perf_counter()
        conn.execute(FILL.format(n=int(opts.records)))  # no params: % is SQL's
        conn.execute("ANALYZE usage_ls.records")
        print(
            f"team answers from records: {opts.records:,} records over 91 days (filled in {time.perf_counter() - t:.1f} s)"
            f"; load average {os.getloadavg()[0]:.1f}"
        )
        reader = query.Reader(pg)
        month, week = Filter("2026-11-01", "2026-11-30"), Filter("2026-11-24", "2026-11-30")

        def timed(label: str, fn, runs: int = opts.runs) -> None:
            ms = []
            for _ in range(runs):
                t = time.perf_counter()
                fn()
                ms.append((time.perf_counter() - t) * 1000)
            print(f"  {label:58s} median {statistics.median(ms):7.1f} ms   max {max(ms):7.1f} ms")

        utc = dt.UTC
        if opts.only is None:
            others(reader, timed, month, week)
        cfg = Config(data_dir=Path(tempfile.mkdtemp(prefix="usage-ls-bench-")))
        cfg.tz, pricer = utc, Pricer(cfg)
        found = insights.compute(reader, month, cfg, pricer)
        kinds = sorted({t["kind"] for t in found["tips"]})
        tips = ", ".join(f"{sum(t['kind'] == k for t in found['tips'])} {k}" for k in kinds)
        print(f"  (insights, 30 days: {len(found['spikes'])} spikes; tips: {tips or 'none'})")
        for label, f in (("30 days", month), ("7 days", week)):
            timed(
                f"insights, {label}, first (a new cache)",
                lambda f=f: insights.compute(reader, f, cfg, pricer, insights.Cache()),
                3,
            )
            cache = insights.Cache()
            insights.compute(reader, f, cfg, pricer, cache)
            timed(
                f"insights, {label}, repeated (from the cache)",
                lambda f=f, c=cache: insights.compute(reader, f, cfg, pricer, c),
            )
        timed(
            "  of which the stamp (daily_models over the days read)",
            lambda: insights.stamp(reader, month, "2026-12-06"),
        )
        cache = insights.Cache()
        insights.compute(reader, month, cfg, pricer, cache)
        new = [0]

        def arrived() -> None:
            new[0] += 1
            conn.execute(ARRIVE, (f"new-{new[0]}",))

        def after_one() -> None:
            arrived()
            insights.compute(reader, month, cfg, pricer, cache)

        timed("insights, 30 days, after a record of the range arrived", after_one, 3)
        print(f"  (load average {os.getloadavg()[0]:.1f})")
        through_a_server(pg, month)
        if opts.only is None:
            without_ts(conn, reader, timed, month)
        reader.close()
        conn.close()
    finally:
        remove(cluster)


def others(reader, timed, month: Filter, week: Filter) -> None:
    utc = dt.UTC
    timed("interactions, 30 days, newest 50", lambda: records.interactions(reader, month, {"limit": 50}, utc))
    timed(
        "interactions, 30 days, offset 5000",
        lambda: records.interactions(reader, month, {"limit": 50, "offset": 5000}, utc),
    )
    one = Filter("2026-11-01", "2026-11-30", user="u3")
    timed("interactions, 30 days, one user, newest 50", lambda: records.interactions(reader, one, {"limit": 50}, utc))
    timed(
        "interactions, 30 days, by -costUsd",
        lambda: records.interactions(reader, month, {"limit": 50, "sort": "-costUsd"}, utc),
        3,
    )
    timed("sessions, 7 days, first 10", lambda: records.sessions(reader, week, {"limit": 10}, utc), 3)
    timed("attribution, 30 days", lambda: records.attribution(reader, month, {}), 3)
    session = " AND session = %s", ("s20000",)  # (`report session --team`: 40 records of 2026-11-12)
    timed("report session, 30 days", lambda: records.columns(reader, month, *session), 3)
    one_week = Filter("2026-11-24", "2026-11-30", user="u3")

    def blocks_of(f: Filter) -> None:
        loader = records.DayLoader(reader, f, *records.of_tool("claude-code"))
        loader.read(f.start, "2026-12-01")
        now = int(dt.datetime(2026, 12, 1, tzinfo=utc).timestamp() * 1000)
        blocks.report(loader, f.start, f.end, utc, now, loader.models.names)

    timed("report blocks, 7 days, one user", lambda: blocks_of(one_week), 3)
    timed("report blocks, 7 days, the whole team", lambda: blocks_of(week), 3)
    print(f"  (load average {os.getloadavg()[0]:.1f})")


def through_a_server(pg: str, f: Filter) -> None:
    """`usage/insights` (scope team) through a real language server, first and repeated, and
    what a local `usage/summary` sent 0.1 s after it waits (the server's one loop answers
    both: a slow team answer holds up the editor's other requests)."""
    from raw_server import RawServer

    d = Path(tempfile.mkdtemp(prefix="usage-ls-bench-"))
    (d / "config.toml").write_text(f'timezone = "UTC"\nuser = "u1"\n[sync]\npostgres = "{pg}"\n')
    server = RawServer(d)
    try:
        server.initialize()
        server.request("usage/summary", {}, timeout=60)  # the server warmed up
        params = {"from": f.start, "to": f.end, "scope": "team"}
        for label in ("first", "repeated", "repeated"):
            t = time.perf_counter()
            server.send({"jsonrpc": "2.0", "id": "ins", "method": "usage/insights", "params": params})
            time.sleep(0.1)
            s = time.perf_counter()
            server.request("usage/summary", {}, timeout=120)
            waited = (time.perf_counter() - s) * 1000
            if not any(m.get("id") == "ins" for m in server.others):  # (answered first: kept there)
                server.wait_for("ins", 120)
            server.others.clear()
            total = (time.perf_counter() - t) * 1000
            print(
                f"  server: insights, 30 days, {label:8s} {total:7.1f} ms; a local usage/summary sent 0.1 s later "
                f"waited {waited:7.1f} ms (load average {os.getloadavg()[0]:.1f})"
            )
    finally:
        server.close()


def without_ts(conn, reader, timed, month: Filter) -> None:
    conn.execute("DROP INDEX usage_ls.records_ts")
    timed(
        "without records_ts: interactions, 30 days, newest 50",
        lambda: records.interactions(reader, month, {"limit": 50}, dt.UTC),
        3,
    )


if __name__ == "__main__":
    main()
