"""Synthetic usage for the dashboard bench: N days x M interactions a day, deterministic.

Used by bench/dashboard_bench.py and for screenshots. Writes through `Usage.record` (the same
path every client uses), then checkpoints, so the day files and rollups are what a real
ledger of that size holds.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from pathlib import Path

from usage_ls import days
from usage_ls.service import Usage

# (model, provider, billing, share, typical input, output, cache read)
MIX = [
    ("claude-sonnet-4-5", "anthropic", "premium", 0.30, 6_000, 1_800, 18_000),
    ("gpt-4.1-mini", "openai", "premium", 0.28, 1_200, 120, 0),
    ("claude-3-5-haiku-20241022", "anthropic", "premium", 0.10, 2_500, 600, 8_000),
    ("gpt-4o", "openai", "premium", 0.08, 3_000, 700, 2_000),
    ("gemini-2.5-pro", "google", "byok", 0.12, 9_000, 2_200, 0),
    ("claude-opus-4-1", "anthropic", "byok", 0.04, 8_000, 2_500, 30_000),
    ("gpt-4.1", "openai", "byok", 0.05, 4_000, 900, 0),
    ("acme-coder-v2", None, "byok", 0.03, 1_500, 300, 0),  # no price table knows it: unpriced
]
PROJECTS = [("widget", 0.40), ("api-gateway", 0.25), ("docs-site", 0.15), ("infra", 0.12), ("ml-experiments", 0.08)]
USERS = [("alice", 0.5), ("bob", 0.3), ("carol", 0.2)]


def records(n_days: int, per_day: int, today: dt.date, tz: dt.tzinfo, seed: int = 11):
    """Yield one list of records per day, oldest first."""
    rng = random.Random(seed)
    weights = [m[3] for m in MIX]
    pnames, pweights = [p for p, _ in PROJECTS], [w for _, w in PROJECTS]
    unames, uweights = [u for u, _ in USERS], [w for _, w in USERS]
    for back in range(n_days - 1, -1, -1):
        day = today - dt.timedelta(days=back)
        weekday_factor = 0.6 if day.weekday() >= 5 else 1.16  # mean 1.0 over a week
        n = max(1, int(per_day * weekday_factor * rng.uniform(0.85, 1.15))) if per_day > 1 else per_day
        start = dt.datetime.combine(day, dt.time(0, 0), tz)
        out = []
        for i in range(n):
            model, provider, billing, _, inp, outp, cache = rng.choices(MIX, weights)[0]
            scale = rng.lognormvariate(0, 0.6)
            when = start + dt.timedelta(seconds=int(86_399 * (i + rng.random()) / n))
            rec = {
                "id": f"bench-{day.isoformat()}-{i}",
                "timestamp": when.isoformat(),
                "model": model,
                "billing": billing,
                "project": rng.choices(pnames, pweights)[0],
                "user": rng.choices(unames, uweights)[0],
                "inputTokens": int(inp * scale),
                "outputTokens": int(outp * scale),
                "cacheReadTokens": int(cache * scale),
                "cacheWriteTokens": int(cache * 0.08 * scale) if cache else 0,
                "feature": "agent" if cache else "chat",
                "session": f"s-{day.isoformat()}-{i // 20}",
            }
            if provider:
                rec["provider"] = provider
            out.append(rec)
        yield out


def generate(
    data_dir: Path, n_days: int = 90, per_day: int = 2000, seed: int = 11, feature: Callable[[dict], str] | None = None
) -> dict:
    """Fill `data_dir` (created) with synthetic usage; returns counts and timing. `feature`, when
    given, names each record's feature (its tool) instead of "agent" / "chat"."""
    data_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    svc = Usage(data_dir=data_dir, tag="bench").open()
    today = dt.date.fromisoformat(days.today(svc.tz))
    total, batch = 0, []
    for day_records in records(n_days, per_day, today, svc.tz, seed):
        if feature is not None:
            for r in day_records:
                r["feature"] = feature(r)
        batch.extend(day_records)
        if len(batch) >= 20_000:
            total += svc.record(batch)["accepted"]
            batch = []
    if batch:
        total += svc.record(batch)["accepted"]
    svc.ledger.checkpoint()
    svc.close()
    return {"records": total, "seconds": time.perf_counter() - t0}


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1])
    nd = int(sys.argv[2]) if len(sys.argv) > 2 else 90
    pd = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    print(generate(target, nd, pd))
