"""A team database of N synthetic records made inside PostgreSQL (bench/team_bench.py's queries).

Rows are generated server-side (`generate_series`, INSERT … SELECT into the partitioned
`usage_ls.records`): no client round trip per row. A team of 20 people, each working on 3 of
15 projects with 8 models (skewed: a few people and models make most of the usage), over the
365 days that end today, about 3 % of records unpriced (cost NULL), as pushes would have made it.

Two ways to fill the rollups (`daily`, and `daily_models`, `daily_users`, `daily_projects`):
  - "trigger": the real path, the rollup trigger runs on each INSERT (in chunks of
    CHUNK rows: one statement's transition table is held whole);
  - "bulk": the trigger disabled while loading, then `daily` built by one GROUP BY over the
    records, the others from `daily` as the migrations fill them, and the trigger enabled
    again; `check_rollup` then compares every rollup with the raw sums.
Both fill `record_ids` as a push does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from usage_ls.team import db, schema

CHUNK = 500_000
USERS, PROJECTS = 20, 15
MODELS = (  # (model, provider, billing)
    ("claude-sonnet-4-5", "anthropic", "premium"),
    ("gpt-4.1-mini", "openai", "premium"),
    ("claude-3-5-haiku-20241022", "anthropic", "premium"),
    ("gpt-4o", "openai", "premium"),
    ("gemini-2.5-pro", "google", "byok"),
    ("claude-opus-4-1", "anthropic", "byok"),
    ("gpt-4.1", "openai", "byok"),
    ("acme-coder-v2", None, "byok"),
)
_COLUMNS = (
    'id, day, ts, "user", device_id, project, model, provider, billing, input_tokens, output_tokens, '
    "cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, cost_usd, credits, cost_source, feature, session"
)
_BY_MODEL = (  # the rollups per day × model × billing (of everyone, of a user, of a project): table, key
    ("daily_models", "day, model, billing"),
    ("daily_users", '"user", day, model, billing'),
    ("daily_projects", "project, day, model, billing"),
)
_RAW_SUMS = (
    "count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens), "
    "coalesce(sum(cost_usd), 0), coalesce(sum(credits), 0), count(*) FILTER (WHERE cost_usd IS NULL)"
)


def _insert(first: int, last: int, today: dt.date, span_days: int) -> tuple[str, list[Any]]:
    models = "ARRAY[" + ",".join(f"'{m}'" for m, _p, _b in MODELS) + "]"
    providers = "ARRAY[" + ",".join("NULL" if p is None else f"'{p}'" for _m, p, _b in MODELS) + "]::text[]"
    billings = "ARRAY[" + ",".join(f"'{b}'" for _m, _p, b in MODELS) + "]"
    sql = f"""
    INSERT INTO usage_ls.records ({_COLUMNS})
    SELECT 'bench-' || g, day, day + make_interval(secs => secs), 'user-' || lpad(u::text, 2, '0'),
           'device-' || u || '-' || (g %% 2), 'project-' || ((u * 3 + p) %% {PROJECTS}),
           ({models})[m + 1], ({providers})[m + 1], ({billings})[m + 1],
           inp, inp / 4, inp * 3, inp / 10, 0,
           CASE WHEN m = 7 THEN NULL ELSE round((inp * 0.000003 + (inp / 4) * 0.000015)::numeric, 9) END,
           CASE WHEN m = 7 OR ({billings})[m + 1] = 'byok' THEN 0
                ELSE round((inp * 0.0003)::numeric, 6) END,
           CASE WHEN m = 7 THEN NULL ELSE 'calculated' END, 'agent', 's-' || u || '-' || (g / 40)
    FROM (
        SELECT g, (%s::date - (random() * {span_days - 1})::int) AS day, (random() * 86399)::int AS secs,
               floor({USERS} * random() ^ 1.6)::int AS u, floor(3 * random())::int AS p,
               floor({len(MODELS)} * random() ^ 2)::int AS m, (200 + random() * 12000)::bigint AS inp
        FROM generate_series(%s::bigint, %s::bigint) AS g
    ) AS r
    """
    return sql, [today, first, last]


def bench_database(cluster: Any) -> tuple[str, Any]:
    """A new database `bench` in a throwaway cluster (tests/team/pg_cluster.py) with the team
    schema: (its conninfo, a connection to it)."""
    import psycopg

    with psycopg.connect(cluster.conninfo(), autocommit=True) as c:
        c.execute("CREATE DATABASE bench")
    pg = cluster.conninfo("bench")
    conn = db.connect(pg)
    schema.prepare(conn)
    return pg, conn


def fill(conn: Any, n: int, today: dt.date, *, span_days: int = 365, mode: str = "bulk") -> None:
    """`n` records (ids bench-1 … bench-n) into an empty team database whose schema exists."""
    start = today - dt.timedelta(days=span_days - 1)
    months = []
    m = start.replace(day=1)
    while m <= today:
        months.append(m)
        m = (m + dt.timedelta(days=32)).replace(day=1)
    conn.execute("SET statement_timeout = 0")  # (db.connect's 2 minutes are for users' queries)
    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute("SELECT usage_ls.add_months(%s::date[])", (months,))
    if mode == "bulk":
        conn.execute("ALTER TABLE usage_ls.records DISABLE TRIGGER records_roll_up")
    try:
        for first in range(1, n + 1, CHUNK):
            sql, args = _insert(first, min(n, first + CHUNK - 1), today, span_days)
            conn.execute(sql, args)
    finally:
        if mode == "bulk":
            conn.execute("ALTER TABLE usage_ls.records ENABLE TRIGGER records_roll_up")
    if mode == "bulk":
        conn.execute(
            f"""INSERT INTO usage_ls.daily (day, "user", project, model, billing, {", ".join(schema.ROLLUP_COLUMNS)})
            SELECT day, "user", project, model, billing, {_RAW_SUMS}
            FROM usage_ls.records GROUP BY day, "user", project, model, billing"""
        )
        for table, key in _BY_MODEL:  # as schema versions 4 and 5's migrations fill them
            conn.execute(
                f"""INSERT INTO usage_ls.{table} ({key}, {", ".join(schema.ROLLUP_COLUMNS)})
                SELECT {key}, {", ".join(f"sum({c})" for c in schema.ROLLUP_COLUMNS)}
                FROM usage_ls.daily GROUP BY {key} ORDER BY {key}"""
            )
    # every id, as pushes leave them; the primary key built once after (a sort), not row by row
    conn.execute("ALTER TABLE usage_ls.record_ids DROP CONSTRAINT record_ids_pkey")
    conn.execute("INSERT INTO usage_ls.record_ids (id) SELECT id FROM usage_ls.records")
    conn.execute("ALTER TABLE usage_ls.record_ids ADD PRIMARY KEY (id)")
    conn.execute("VACUUM ANALYZE usage_ls.daily")
    for table, _key in _BY_MODEL:
        conn.execute(f"VACUUM ANALYZE usage_ls.{table}")
    conn.execute("ANALYZE usage_ls.records")


def check_rollup(conn: Any, sample_days: int = 12) -> tuple[int, int]:
    """Every rollup's rows (`daily`, `daily_models`, `daily_users`, `daily_projects`) vs the raw records' sums over `sample_days` random days that have
    records: (rows compared, rows that differ); every column, exactly (bigint and numeric)."""
    group = 'day, "user", project, model, billing'
    raw = f"SELECT {group}, {_RAW_SUMS} FROM usage_ls.records WHERE day = ANY(%s) GROUP BY {group}"
    rolled = f"SELECT {group}, {', '.join(schema.ROLLUP_COLUMNS)} FROM usage_ls.daily WHERE day = ANY(%s)"
    picked = [
        r[0]
        for r in conn.execute(
            "SELECT day FROM (SELECT DISTINCT day FROM usage_ls.daily) d ORDER BY random() LIMIT %s", (sample_days,)
        ).fetchall()
    ]
    a = {tuple(r[:5]): tuple(r[5:]) for r in conn.execute(raw, (picked,)).fetchall()}
    b = {tuple(r[:5]): tuple(r[5:]) for r in conn.execute(rolled, (picked,)).fetchall()}
    differ = sum(1 for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    compared = len(a)
    for table, key in _BY_MODEL:
        raw_m = f"SELECT {key}, {_RAW_SUMS} FROM usage_ls.records WHERE day = ANY(%s) GROUP BY {key}"
        rolled_m = f"SELECT {key}, {', '.join(schema.ROLLUP_COLUMNS)} FROM usage_ls.{table} WHERE day = ANY(%s)"
        n = len(key.split(","))
        c = {tuple(r[:n]): tuple(r[n:]) for r in conn.execute(raw_m, (picked,)).fetchall()}
        d = {tuple(r[:n]): tuple(r[n:]) for r in conn.execute(rolled_m, (picked,)).fetchall()}
        differ += sum(1 for k in c.keys() | d.keys() if c.get(k) != d.get(k))
        compared += len(c)
    return compared, differ
