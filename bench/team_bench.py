"""Team sync on PostgreSQL at scale: push throughput, team queries over the rollups, sync lag.

    .venv/bin/python bench/team_bench.py                     # the issue's sizes (~10 min)
    .venv/bin/python bench/team_bench.py --records 1000 --days 10 --rows 5000 --queries 10 \\
        --rate 200 --lag-seconds 2 --idle 1                  # small (tests/test_bench_smoke.py)

Starts a throwaway PostgreSQL cluster (tests/team/pg_cluster.py: Debian's postgresql, fsync
off), then, each in a database of its own:
  push   a data directory of --records synthetic records over --days days (365) (bench/dashboard_data.py,
         through `Usage.record` and a checkpoint) pushed into an empty team database
         (`usage_ls.team.push`, batches of 5,000), records/s; every record must be there once;
         then a push with nothing new (the cursor: no day file read);
  query  --rows records made inside PostgreSQL (bench/team_fill.py), every rollup checked
         against the raw sums on sample days, then team `usage/summary` and `usage/daily`
         (365 days) asked --queries times each of a real server (`usage-ls serve --stdio`)
         over the protocol, cycling through filters (none, user, project, model, billing and
         pairs), p50/p99 of the round trip; then the same statements timed inside PostgreSQL,
         and `usage/daily`'s parts in the server's code (fetch, building, encoding);
  lag    a real server receiving --rate records a second over the protocol for --lag-seconds,
         time from acknowledged to visible in the team database (bench/team_lag.py), then
         pushes made while idle for --idle seconds.
Figures are printed; nothing is asserted but that no record is lost or doubled.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests" / "team"))

from dashboard_data import generate
from pg_cluster import make_cluster, remove
from server_bench import start_server

from usage_ls.config import load_config
from usage_ls.team import db, push, schema


def _load() -> str:
    """The machine's load average over the last minute (2 cores shared: figures scale with it)."""
    return f"load average {os.getloadavg()[0]:.1f}"


def _database(cluster, name: str) -> str:
    import psycopg

    with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return str(cluster.conninfo(name))


def _data_dir(root: Path, conninfo: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.toml").write_text(f'[sync]\npostgres = "{conninfo}"\n')
    return root


def bench_push(cluster, work: Path, n: int, span: int) -> None:
    conninfo = _database(cluster, "push")
    data = _data_dir(work / "push", conninfo)
    t0 = time.perf_counter()
    info = generate(data, span, max(1, n // span))
    made = info["records"]
    print(f"data directory: {made:,} records over {span} days, made in {time.perf_counter() - t0:.1f} s")
    tz = load_config(data).tz
    t0 = time.perf_counter()
    out = push.push(data, tz, conninfo)
    took = time.perf_counter() - t0
    print(f"push into an empty team database: {out.inserted:,} records in {out.batches} batches, {took:.1f} s")
    print(f"  {out.inserted / took:,.0f} records/s (target: 1,000,000 in under 60 s, i.e. > 16,667/s); {_load()}")
    t0 = time.perf_counter()
    again = push.push(data, tz, conninfo)
    print(f"push again, nothing new: {again.sent} sent, {(time.perf_counter() - t0) * 1000:.0f} ms")
    conn = db.connect(conninfo)
    try:
        ids, rows, msgs = conn.execute(
            "SELECT (SELECT count(*) FROM usage_ls.record_ids), (SELECT count(*) FROM usage_ls.records), "
            "(SELECT sum(messages) FROM usage_ls.daily)"
        ).fetchone()
        rollup = conn.execute("SELECT count(*) FROM usage_ls.daily").fetchone()[0]
    finally:
        conn.close()
    print(f"  in the database: {ids:,} ids, {rows:,} records, {int(msgs):,} messages in {rollup:,} rollup rows")
    if not ids == rows == msgs == made:
        raise SystemExit(f"LOST OR DOUBLED: {made} made, {ids} ids, {rows} records, {msgs} in the rollup")


def _filters(conninfo: str) -> list[dict]:
    conn = db.connect(conninfo)
    try:

        def top(column: str, k: int) -> list[str]:
            sql = f'SELECT "{column}" FROM usage_ls.daily GROUP BY 1 ORDER BY sum(messages) DESC LIMIT {k}'
            return [r[0] for r in conn.execute(sql).fetchall()]

        users, projects, models = top("user", 6), top("project", 5), top("model", 5)
    finally:
        conn.close()
    out: list[dict] = [{}, {"billing": "premium"}, {"billing": "byok"}]
    out += [{"user": u} for u in users] + [{"project": p} for p in projects] + [{"model": m} for m in models]
    out += [{"user": users[0], "model": models[0]}, {"project": projects[0], "billing": "premium"}]
    out += [{"user": users[1], "project": projects[1]}, {"model": models[1], "billing": "premium"}]
    return out


async def _time_queries(data: Path, conninfo: str, n: int, today: dt.date) -> None:
    span = {"from": (today - dt.timedelta(days=364)).isoformat(), "to": today.isoformat(), "scope": "team"}
    filters = _filters(conninfo)
    client, _cold = await start_server(data)
    try:
        await client.request("usage/summary", span)  # connects (and checks the schema) once
        await asyncio.sleep(6)  # past the server's first background push (a child process, 2 s after start)
        for method in ("usage/summary", "usage/daily"):
            times: dict[str, list[float]] = {}
            for i in range(n):
                f = filters[i % len(filters)]
                t0 = time.perf_counter()
                answer = await client.request(method, {**span, **f})
                times.setdefault("+".join(sorted(f)) or "none", []).append((time.perf_counter() - t0) * 1000)
                if method == "usage/daily":
                    assert len(answer["days"]) == 365
            every = sorted(t for ts in times.values() for t in ts)
            p99 = every[min(len(every) - 1, int(len(every) * 0.99))]
            kinds = ", ".join(f"{k} {max(v):.1f}" for k, v in sorted(times.items()))
            print(
                f"team {method} (365 days, {n} queries over the protocol): p50 {statistics.median(every):.1f} ms, "
                f"p99 {p99:.1f} ms, max {every[-1]:.1f} ms (target p99 < 50 ms); {_load()}"
            )
            print(f"  slowest by filter (ms): {kinds}")
    finally:
        await client.stop()


def _database_times(conninfo: str, today: dt.date, rounds: int) -> None:
    """The same queries' SQL (query.py's own, as the server sends it) timed inside PostgreSQL:
    EXPLAIN ANALYZE's execution time, the part no client, protocol or machine load adds to."""
    from usage_ls.queries import parse_filter
    from usage_ls.team import query

    class Explained(query.Reader):
        def rows(self, sql, args, binary=False):
            plan = super().rows("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, args)
            self.ms.append(plan[0][0][0]["Execution Time"])
            return super().rows(sql, args, binary)

    reader = Explained(conninfo)
    span = {"from": (today - dt.timedelta(days=364)).isoformat(), "to": today.isoformat()}
    try:
        for method in ("summary", "daily"):
            worst: dict[str, float] = {}
            every: list[float] = []
            for _ in range(rounds):
                for f in _filters(conninfo):
                    reader.ms = []
                    getattr(query, method)(reader, parse_filter({**span, **f}, dt.UTC))
                    kind = "+".join(sorted(f)) or "none"
                    worst[kind] = max(worst.get(kind, 0.0), *reader.ms)
                    every.extend(reader.ms)
            every.sort()
            print(
                f"  {method}'s SQL inside PostgreSQL (EXPLAIN ANALYZE, {len(every)} runs): "
                f"p50 {statistics.median(every):.1f} ms, max {every[-1]:.1f} ms; slowest by filter: "
                + ", ".join(f"{k} {v:.1f}" for k, v in sorted(worst.items()))
            )
    finally:
        reader.close()


def _server_times(conninfo: str, today: dt.date, rounds: int) -> None:
    """Where a team `usage/daily` answer's time goes in the server, in this process (the
    server's own code, without the protocol): the statement and its rows' fetch, building the
    answer (numpy, dicts), encoding it (orjson, as the transport does); and the answer's size."""
    import orjson

    from usage_ls.queries import parse_filter
    from usage_ls.team import query

    class Timed(query.Reader):
        def rows(self, sql, args, binary=False):
            t0 = time.perf_counter()
            out = super().rows(sql, args, binary)
            self.sql += time.perf_counter() - t0
            return out

    reader = Timed(conninfo)
    span = {"from": (today - dt.timedelta(days=364)).isoformat(), "to": today.isoformat()}
    parts: dict[str, list[float]] = {"fetch": [], "build": [], "encode": []}
    size = 0
    try:
        for _ in range(rounds):
            for f in _filters(conninfo):
                reader.sql = 0.0
                t0 = time.perf_counter()
                answer = query.daily(reader, parse_filter({**span, **f}, dt.UTC))
                t1 = time.perf_counter()
                size = max(size, len(orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": answer})))
                t2 = time.perf_counter()
                parts["fetch"].append(reader.sql * 1000)
                parts["build"].append((t1 - t0 - reader.sql) * 1000)
                parts["encode"].append((t2 - t1) * 1000)
    finally:
        reader.close()
    print(
        f"  daily in the server's code ({len(parts['fetch'])} runs, p50 / max ms): "
        + ", ".join(f"{k} {statistics.median(v):.1f} / {max(v):.1f}" for k, v in parts.items())
        + f"; the largest answer {size / 1000:.0f} kB; {_load()}"
    )


def bench_query(cluster, work: Path, rows: int, n: int, fill_mode: str) -> None:
    import team_fill

    conninfo = _database(cluster, "query")
    conn = db.connect(conninfo)
    try:
        schema.prepare(conn)
        today = dt.date.fromisoformat(time.strftime("%Y-%m-%d"))
        t0 = time.perf_counter()
        team_fill.fill(conn, rows, today, mode=fill_mode)
        took = time.perf_counter() - t0
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM usage_ls.daily), (SELECT count(*) FROM usage_ls.daily_models), "
            "(SELECT count(*) FROM usage_ls.daily_users), (SELECT count(*) FROM usage_ls.daily_projects)"
        ).fetchone()
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
        print(f"team database: {rows:,} records made in PostgreSQL in {took:.0f} s (rollups: {fill_mode}), {size}")
        print(
            "  rollup rows: "
            + ", ".join(
                f"{t} {c:,}" for t, c in zip(("daily", "daily_models", "daily_users", "daily_projects"), counts)
            )
        )
        compared, differ = team_fill.check_rollup(conn)
        print(f"  rollups vs raw sums on 12 sample days: {compared:,} rows compared, {differ} differ")
        if differ:
            raise SystemExit("ROLLUP DIFFERS FROM THE RECORDS")
    finally:
        conn.close()
    data = _data_dir(work / "query", conninfo)
    asyncio.run(_time_queries(data, conninfo, n, today))
    _database_times(conninfo, today, max(1, n // 100))
    _server_times(conninfo, today, max(1, n // 100))


def bench_lag(cluster, work: Path, rate: int, seconds: float, idle: float) -> None:
    import team_lag

    conninfo = _database(cluster, "lag")
    data = _data_dir(work / "lag", conninfo)
    got = asyncio.run(team_lag.measure(data, conninfo, rate, seconds, idle))
    print(
        f"sync lag at {rate:,} records/s for {seconds:.0f} s ({got['records']:,} records, acknowledged -> visible "
        f"in the team database): p50 {got['p50'] / 1000:.2f} s, p99 {got['p99'] / 1000:.2f} s, "
        f"max {got['max'] / 1000:.2f} s (target < 5 s)"
    )
    print(
        f"  acknowledged after the first record was visible: p50 {got['steady_p50'] / 1000:.2f} s, "
        f"p99 {got['steady_p99'] / 1000:.2f} s, max {got['steady_max'] / 1000:.2f} s"
    )
    print(
        f"  never visible: {got['missing']}; pushes while idle for {idle:.0f} s afterwards: {got['idle_pushes']}; "
        + _load()
    )
    if got["missing"]:
        raise SystemExit(f"LOST: {got['missing']} acknowledged records never reached the team database")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000, help="records pushed (push)")
    ap.add_argument("--days", type=int, default=365, help="days the pushed records span (push)")
    ap.add_argument("--rows", type=int, default=10_000_000, help="records in the team database (query)")
    ap.add_argument("--fill", choices=("bulk", "trigger"), default="bulk", help="how the query part's rollups are made")
    ap.add_argument("--queries", type=int, default=300, help="queries per method (query)")
    ap.add_argument("--rate", type=int, default=1000, help="records a second (lag)")
    ap.add_argument("--lag-seconds", type=float, default=60.0)
    ap.add_argument("--idle", type=float, default=15.0, help="seconds idle after the lag run, pushes counted")
    ap.add_argument("--parts", default="push,query,lag")
    args = ap.parse_args()
    os.environ.setdefault("TZ", "UTC")
    parts = set(args.parts.split(","))
    cluster = make_cluster()
    if cluster is None:
        print("PostgreSQL's server binaries are not installed: bash scripts/setup.d/60-postgresql.sh")
        return 1
    print(f"team bench: PostgreSQL at {cluster.bindir} (fsync off); {os.cpu_count()} cores")
    try:
        with tempfile.TemporaryDirectory(prefix="usage-ls-team-bench-") as tmp:
            work = Path(tmp)
            if "push" in parts:
                bench_push(cluster, work, args.records, args.days)
            if "query" in parts:
                bench_query(cluster, work, args.rows, args.queries, args.fill)
            if "lag" in parts:
                bench_lag(cluster, work, args.rate, args.lag_seconds, args.idle)
    finally:
        remove(cluster)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
