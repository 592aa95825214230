"""What row-level security costs a push: the same records pushed by a member's login (the
policies checked on every row) and by a superuser (who bypasses them), into two fresh
databases of one throwaway cluster.

    .venv/bin/python bench/team_rls_bench.py [--records 100000] [--rounds 3]

Records of one user over 20 days (`Usage.record`, then a checkpoint); each round pushes
everything into a new database, as the superuser and then as the member. Figures are printed
(the best of the rounds, records per second); nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "tests" / "team"))

from pg_cluster import SUPERUSER, make_cluster, remove

from usage_ls.config import load_config
from usage_ls.service import Usage
from usage_ls.team import db, push, schema

USER, PW = "rls_bench", "Rls-bench-pw"
SUPERUSER_PW = "admin-pw"  # pg_cluster's initdb --pwfile


def fill(data: Path, n: int) -> None:
    data.mkdir()
    (data / "config.toml").write_text(f'user = "{USER}"\ntimezone = "UTC"\n')
    svc = Usage(data_dir=data).open()
    try:
        batch = []
        for i in range(n):
            batch.append(
                {
                    "id": f"r-{i}",
                    "timestamp": f"2026-11-{1 + i % 20:02d}T{8 + i % 10:02d}:{i % 60:02d}:00Z",
                    "model": ("claude-sonnet-4-5", "gpt-4.1-mini")[i % 2],
                    "inputTokens": 1000 + i % 997,
                    "outputTokens": 100 + i % 89,
                    "project": ("widget", "docs", "api")[i % 3],
                }
            )
            if len(batch) == 10_000:
                svc.record(batch)
                batch = []
        if batch:
            svc.record(batch)
    finally:
        svc.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    cluster = make_cluster()
    if cluster is None:
        print("PostgreSQL's server binaries are not installed: bash scripts/setup.d/60-postgresql.sh")
        return 1
    try:
        import psycopg

        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "data"
            fill(data, args.records)
            tz = load_config(data).tz
            best: dict[str, float] = {}
            for _ in range(args.rounds):
                for who in ("superuser (no RLS)", "member login (RLS)"):
                    name = "b_" + uuid.uuid4().hex[:10]
                    with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
                        conn.execute(f"CREATE DATABASE {name}")
                    owner = cluster.conninfo(name)
                    conninfo = cluster.uri(name, SUPERUSER, SUPERUSER_PW)  # both over TCP with a password
                    if who.startswith("member"):
                        conn = db.connect(owner)
                        try:
                            schema.prepare(conn)
                            conn.execute(schema.roles_sql())
                            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (USER,)).fetchone()
                            if not exists:
                                conn.execute(f"CREATE ROLE {USER} LOGIN PASSWORD '{PW}' IN ROLE {schema.WRITER}")
                        finally:
                            conn.close()
                        conninfo = cluster.uri(name, USER, PW)
                    t0 = time.perf_counter()
                    out = push.push(data, tz, conninfo)
                    took = time.perf_counter() - t0
                    assert out.inserted == args.records, out
                    best[who] = min(best.get(who, took), took)
            for who, took in best.items():
                print(f"push {args.records:,} records as {who}: {took:.2f} s, {args.records / took:,.0f} records/s")
            base, rls = best["superuser (no RLS)"], best["member login (RLS)"]
            print(f"row-level security: {100 * (rls - base) / base:+.1f}% push time")
    finally:
        remove(cluster)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
