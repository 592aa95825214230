"""How often the spike rule (usage_ls/spikes.py) cries wolf on ordinary usage, and how soon it
catches a 3x day, an hour of 5x the usual work and a runaway agent: many seeded months of
i.i.d. usage per kind of user (tests/spike_months.py generates them; tests/test_spike_rates.py
asserts the targets on fewer seeds). Prints figures, asserts nothing.

    .venv/bin/python bench/spike_calibration.py [--seeds 200] [--days 90] [--catch-seeds 100]

For comparison it also runs the rule before issue #16 (median + 4 robust sigmas, 2x / 3x the
median, $1 / $0.50 floors), re-implemented here in a few lines.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import spike_months as sm


def poisson_upper(k: int, level: float = 0.95) -> float:
    """One-sided upper confidence bound of a Poisson mean after k events (by bisection)."""

    def cdf(lam: float) -> float:  # P(X <= k), summed in logs: exp(-lam) underflows past 745
        return math.fsum(math.exp(i * math.log(lam) - lam - math.lgamma(i + 1)) for i in range(k + 1))

    lo, hi = float(k), float(k) + 10.0 * math.sqrt(k + 1) + 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) > 1 - level else (lo, mid)
    return hi


def before_rule_false_spikes(p: sm.Profile, seeds, days: int) -> int:
    """The rule before issue #16, on the same months: its day and hour spikes."""

    def threshold(x, floor: float, ratio: float) -> float | None:
        med = float(np.median(x))
        dev = np.abs(x - med)
        mad = float(np.median(dev))
        sigma = 1.4826 * mad if mad > 0 else 1.2533 * float(dev.mean())
        return max(med + 4 * sigma, ratio * med, med + floor)

    found = 0
    for seed in seeds:
        ds = sm.month(seed, sm.HISTORY + days, p)
        rows = [sm.per_hour(m, c)[0] for m, c in ds]
        totals = np.array([r.sum() for r in rows])
        for i in range(sm.HISTORY, sm.HISTORY + days):
            past = totals[i - sm.HISTORY : i]
            nz = np.nonzero(past > 0)[0]
            past = past[nz[0] :] if len(nz) else past[:0]
            if len(past) >= 7 and totals[i] > threshold(past, 1.0, 2.0):
                found += 1
            busy = np.concatenate(rows[i - sm.HISTORY : i])
            busy = busy[busy > 0]
            if len(busy) >= 12:
                found += int((rows[i] > threshold(busy, 0.5, 3.0)).sum())
    return found


def rate_line(name: str, found: int, judged: int) -> str:
    per90 = 90 * found / judged
    upper = 90 * poisson_upper(found) / judged
    return f"  {name:<28} {found:>5} in {judged:>6} days: {per90:5.2f} per 90 days (95% upper bound {upper:.2f})"


def minutes(xs: list[float]) -> str:
    if not xs:
        return "-"
    return f"median {statistics.median(xs):.0f} min, worst {max(xs):.0f} min"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=200, help="months per kind of user for the false-alarm rate")
    ap.add_argument("--days", type=int, default=90, help="days judged per month, after 28 days of history")
    ap.add_argument("--catch-seeds", type=int, default=100, help="runs of each thing that must be caught")
    ap.add_argument("--profiles", default="all", help="comma-separated names from tests/spike_months.PROFILES")
    ap.add_argument("--no-before", action="store_true", help="skip the rule before issue #16")
    args = ap.parse_args()
    names = list(sm.PROFILES) if args.profiles == "all" else args.profiles.split(",")
    seeds = range(1000, 1000 + args.seeds)  # not the test's seeds
    catch_seeds = range(1000, 1000 + args.catch_seeds)
    print(
        f"spike calibration: {args.seeds} months x {args.days} days per kind of user, {args.catch_seeds} runs of each catch"
    )
    for name in names:
        p = sm.PROFILES[name]
        t0 = time.perf_counter()
        found, judged, spikes = sm.false_spikes(p, seeds, args.days)
        days_found = sum(s["kind"] == "day" for s in spikes)
        alert_days = len({(s["seed"], s["day"]) for s in spikes})
        print(f"\n{name}: {p}")
        print(rate_line("false spikes (days + hours)", found, judged))
        print(f"    of which days {days_found}, hours {found - days_found}; days with a pop-up: {alert_days}")
        if not args.no_before:
            print(rate_line("before issue #16, same months", before_rule_false_spikes(p, seeds, args.days), judged))
        day, hour, loop = [], [], []
        for seed in catch_seeds:
            day.append(sm.three_times_day(seed, p))
            hour.append(sm.five_times_hour(seed, p))
            loop.append(sm.runaway(seed, p))
        n = len(catch_seeds)
        print(
            f"  3x day:      caught {sum(c.caught for c in day)}/{n} by the record that makes it 3x; "
            f"flagged {minutes([c.due - c.flagged for c in day if c.caught])} before that record"
        )
        print(
            f"  5x hour:     caught {sum(c.caught for c in hour)}/{n} by the record that makes it 5x; "
            f"into the hour: {minutes([c.flagged % 60 for c in hour if c.caught])}"
        )
        print(
            f"  runaway:     caught {sum(c.caught for c in loop)}/{n} within the hour (300 calls of one model); "
            f"into the hour: {minutes([c.flagged % 60 for c in loop if c.caught])}"
        )
        print(f"  ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
