"""Machines (data directories) for the team tests, and what they compare."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from usage_ls.service import Usage


def machine(tmp: Path, name: str, user: str, conninfo: str | None, preamble: str = "") -> Path:
    """A data directory: one device of `user`, syncing to `conninfo` (`preamble`: more
    top-level config.toml lines)."""
    d = tmp / name
    d.mkdir(mode=0o700)
    text = preamble + f'user = "{user}"\n'
    if conninfo is not None:
        text += f"[sync]\npostgres = {json.dumps(conninfo)}\n"
    (d / "config.toml").write_text(text)
    return d


def three_machines(cluster, tmp: Path, database: str, preamble: str = "") -> dict:
    """A new database of `cluster`, Alice's laptop and desktop and Bob's machine syncing to it,
    and `union` (Alice's, not syncing): the ledger that holds every record once, for the
    tests to fill. {"pg": conninfo, "laptop": data dir, …}"""
    import psycopg

    with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {database}")
    pg = cluster.conninfo(database)
    out = {"pg": pg, "union": machine(tmp, "union", "alice", None, preamble)}
    for name, user in (("laptop", "alice"), ("desktop", "alice"), ("bob", "bob")):
        out[name] = machine(tmp, name, user, pg, preamble)
    return out


def record(data_dir: Path, records: list[dict]) -> None:
    svc = Usage(data_dir=data_dir).open()
    try:
        result = svc.record(records)
        assert not result["rejected"], result
    finally:
        svc.close()  # folds the journal into the day files


def records(prefix: str, n: int, day: str = "2026-11-16", **fields) -> list[dict]:
    models = ("claude-sonnet-4-5", "gpt-4.1-mini", "no-such-model-x")
    return [
        {
            "id": f"{prefix}-{i}",
            "timestamp": f"{day}T{8 + i % 12:02d}:{i % 60:02d}:00Z",
            "model": models[i % 3],
            "inputTokens": 1000 + 7 * i,
            "outputTokens": 100 + i,
            "cacheReadTokens": 50 * (i % 5),
            "project": ("widget", "docs")[i % 2],
            **fields,
        }
        for i in range(n)
    ]


def cli(data_dir: Path, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "usage_ls", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def team_answer(server, method: str, params: dict) -> dict:
    """`method` with `scope: "team"` through a RawServer: its result (the error fails the test)."""
    answer = server.request(method, {**params, "scope": "team"}, timeout=60)
    assert "result" in answer, answer
    return answer["result"]


def rounded(value):
    """A protocol answer with money rounded to 9 decimals: the team database sums money exactly
    (numeric), the local ledger in floats; tokens and counts must be equal as they are."""
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    if isinstance(value, float):
        return round(value, 9)
    return value
