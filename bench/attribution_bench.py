"""Where the money went: `usage/attribution` over N days x M interactions, and what enrichment
(annotations) costs.

    .venv/bin/python bench/attribution_bench.py [--days 30] [--per-day 2000]

Fills a temporary ledger (bench/dashboard_data.py's records, their features replaced by Claude
Code-style attribution: ~45% of calls attributed, 24 agents, 6 skills, 5 MCP servers) and prints:
  - `Usage.attribution` for today, 7, 30 (and N) days: cold (a fresh process: the days' columns
    read from their .cols files) and warm (columns cached, the result cache emptied);
  - enrichment: 1,000 duplicates of stored calls carrying new words (annotations appended and
    fsynced), the same batch again (a retry: nothing written), and a day's columns rebuilt with
    1,000 annotations applied;
  - `Ledger.refresh()` with and without an annotations folder (its extra directory scan).
Best of 5 for the warm figures. Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from dashboard_data import records

from usage_ls import days
from usage_ls.service import Usage

AGENTS = [f"agent-{i}" for i in range(20)] + ["code-reviewer", "Explore", "general-purpose", "test-runner"]
SKILLS = ["pdf", "docx", "frontend-design", "xlsx", "pptx", "webapp-testing"]
MCPS = ["github", "linear", "slack", "sentry", "postgres"]


def feature(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.55:
        return "claude-code"
    words = []
    if roll < 0.85:
        words += [f"agent={rng.choice(AGENTS)}", "query=subagent"]
    if rng.random() < 0.3:
        words.append(f"skill={rng.choice(SKILLS)}")
    if rng.random() < 0.3:
        words.append(f"mcp={rng.choice(MCPS)}")
    return " ".join(["claude-code", *sorted(words)])


def best(fn, n: int = 5) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--per-day", type=int, default=2000)
    args = ap.parse_args()
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        svc = Usage(data_dir=data, tag="bench").open()
        today = dt.date.fromisoformat(days.today(svc.tz))
        t0 = time.perf_counter()
        total = 0
        for day_records in records(args.days, args.per_day, today, svc.tz):
            for r in day_records:
                r["feature"] = feature(rng)
            total += svc.record(day_records)["accepted"]
        svc.ledger.checkpoint()
        svc.close()
        print(f"ledger: {total:,} records over {args.days} days, filled in {time.perf_counter() - t0:.1f} s")

        ranges = [("today", 0), ("7 days", 6), ("30 days", 29)] + (
            [(f"{args.days} days", args.days - 1)] * (args.days > 30)
        )
        print("\nusage/attribution           cold (fresh process)   warm (columns cached)")
        for label, back in ranges:
            params = {"from": days.shift(today.isoformat(), -back), "to": today.isoformat()}
            fresh = Usage(data_dir=data, tag="bench", writable=False).open()
            t0 = time.perf_counter()
            out = fresh.attribution(params)
            cold = time.perf_counter() - t0

            def again(svc: Usage = fresh, p: dict = params) -> None:
                svc.forget_results()
                svc.attribution(p)

            warm = best(again)
            fresh.close()
            agents = len(out["by"]["agent"])
            print(f"  {label:<24} {ms(cold)}            {ms(warm)}   ({agents} agents)")

        svc = Usage(data_dir=data, tag="bench").open()
        day = today.isoformat()
        cols = svc.ledger.day_columns(day)
        plain = [i for i, f in enumerate(cols.extra) if f[2] == "claude-code"][:1000]
        rows = svc.interactions({"from": day, "to": day, "limit": 10_000, "sort": "timestamp"})["rows"]
        by_id = {r["id"]: r for r in rows}
        dups = []
        for i in plain:
            r = dict(by_id[cols.ids[i]])
            dups.append({k: r[k] for k in ("id", "timestamp", "model", "project", "inputTokens", "outputTokens")})
            dups[-1]["feature"] = "claude-code agent=code-reviewer mcp=github query=subagent"
        t0 = time.perf_counter()
        res = svc.record(dups)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        again_res = svc.record(dups)
        retry = time.perf_counter() - t0
        print(
            f"\nenrichment: {len(dups):,} duplicates with new words {ms(first)} ({res.get('enriched', 0):,} annotated, "
            f"fsynced); the same again {ms(retry)} ({again_res.get('enriched', 0)} annotated)"
        )
        led = svc.ledger

        def rebuild() -> None:
            led.day_cache.clear()
            led.day_columns(day)

        with_notes = best(rebuild)
        path = led.annotations.path(day[:7])
        saved = path.read_bytes()
        path.unlink()
        led.refresh()
        without = best(rebuild)
        print(
            f"a day's columns ({len(cols):,} records) rebuilt: {ms(without)}; with 1,000 annotations applied {ms(with_notes)}"
        )
        path.write_bytes(saved)
        led.refresh()
        with_dir = best(led.refresh, 200)
        path.unlink()
        path.parent.rmdir()
        without_dir = best(led.refresh, 200)
        print(f"Ledger.refresh(): {ms(without_dir)} without an annotations folder, {ms(with_dir)} with one month file")
        svc.close()


if __name__ == "__main__":
    main()
