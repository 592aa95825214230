"""Unusual spend: is a day, or an hour, far above what this user's comparable periods cost?

Pure functions over plain numbers (spend per day, spend and priced calls per hour); the
insights engine feeds them from the ledger. docs/insights.md explains the method, why, and
its measured false-alarm rate and detection (bench/spike_calibration.py prints them).

The user's own history is the yardstick, and it is heavy-tailed: one answer of an expensive
model can cost as much as a whole ordinary hour, so a rule built on "median + a few typical
deviations" cries wolf every few weeks. Each period is judged against the comparable periods
of the previous 28 days, never against a fixed number:

- **A day** against the *active* days (any spend) of the previous 28, at least 7 of them
  (idle days are not comparable: a weekend off would make every Monday look unusual).
  Spike when spend > max(median + $1, 2.5 × median, median + 3.5σ), σ = 1.4826 × MAD
  (1.2533 × mean |x − median| when more than half the days are equal).
- **An hour** against the *busy* hours (any spend) of the previous 28 days, at least 12 of
  them. Two ways to be a spike, each at least $0.10 above the median busy hour:
  - *spend*: more than 2.5 × the busy hours' 99th percentile. The 99th percentile is where
    the expensive single answers of an ordinary month live; 2.5 times it is beyond what
    they reach in years of ordinary use, yet a runaway or a monster prompt gets there.
  - *work*: at least max(10, 4 × the busy hours' average, 1.25 × their 99th percentile)
    priced calls, and spend > 4 × the median busy hour. A burst of ordinary calls (an agent
    loop, five times the usual work) is unusual by its number of calls long before its
    spend leaves the heavy tail; one or two expensive calls never are.

Amounts are in the unit being judged (dollars or credits); the floors are given in dollars
and converted by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

BASELINE_DAYS = 28
MIN_HISTORY_DAYS = 7  # active days
MIN_BUSY_HOURS = 12
MAD_TO_SIGMA = 1.4826
MEAN_AD_TO_SIGMA = 1.2533

DAY_K = 3.5
DAY_RATIO = 2.5
DAY_FLOOR_USD = 1.0

HOUR_QUANTILE = 0.99
HOUR_TAIL_RATIO = 2.5
HOUR_WORK_RATIO = 4.0
HOUR_FLOOR_USD = 0.10
CALLS_MEAN_RATIO = 4.0
CALLS_QUANTILE = 0.99
CALLS_TAIL_RATIO = 1.25
MIN_HOUR_CALLS = 10


@dataclass(frozen=True)
class DayBaseline:
    median: float
    sigma: float  # robust scale: 1.4826 * MAD (or 1.2533 * mean |x - median| when MAD is 0)
    samples: int

    def threshold(self, floor: float) -> float:
        """The spend above which a day is a spike."""
        return max(self.median + floor, DAY_RATIO * self.median, self.median + DAY_K * self.sigma)


def day_baseline(previous_days: Sequence[float]) -> DayBaseline | None:
    """Median and robust scale of the active days among `previous_days`; None with fewer
    than MIN_HISTORY_DAYS of them."""
    x = np.asarray(previous_days, dtype=np.float64)
    x = x[x > 0]
    if len(x) < MIN_HISTORY_DAYS:
        return None
    med = float(np.median(x))
    dev = np.abs(x - med)
    mad = float(np.median(dev))
    sigma = MAD_TO_SIGMA * mad if mad > 0 else MEAN_AD_TO_SIGMA * float(dev.mean())
    return DayBaseline(med, sigma, len(x))


def day_spikes(dates: list[str], series: Sequence[float], first: int, floor: float) -> list[dict]:
    """Spike days among `dates[first:]`; `series[i]` is the spend of `dates[i]`, and the
    BASELINE_DAYS entries before each evaluated day are its history."""
    out = []
    for i in range(first, len(series)):
        base = day_baseline(series[max(0, i - BASELINE_DAYS) : i])
        if base is None:
            continue
        limit = base.threshold(floor)
        if series[i] > limit:
            out.append({"kind": "day", "date": dates[i], "value": series[i], "median": base.median, "threshold": limit})
    return out


@dataclass(frozen=True)
class HourBaseline:
    median: float  # the typical busy hour
    high: float  # the busy hours' 99th percentile
    samples: int

    def spend_limit(self, floor: float) -> float:
        """Above this, an hour is a spike whatever its number of calls."""
        return max(self.median + floor, HOUR_TAIL_RATIO * self.high)

    def work_limit(self, floor: float) -> float:
        """Above this, an hour with unusually many calls is a spike."""
        return max(self.median + floor, HOUR_WORK_RATIO * self.median)


def hour_baseline(past_hours) -> HourBaseline | None:
    """Baseline of an hour: the busy (non-zero) hours of the previous days (any shape)."""
    x = np.asarray(past_hours, dtype=np.float64).ravel()
    x = x[x > 0]
    if len(x) < MIN_BUSY_HOURS:
        return None
    return HourBaseline(float(np.median(x)), float(np.quantile(x, HOUR_QUANTILE)), len(x))


def calls_limit(past_calls) -> float:
    """The number of priced calls from which an hour has unusually many: 4 times the busy
    hours' average and a quarter more than their 99th percentile (bursty users have busy
    hours far above their average), at least MIN_HOUR_CALLS."""
    x = np.asarray(past_calls, dtype=np.float64).ravel()
    x = x[x > 0]
    if not len(x):
        return float(MIN_HOUR_CALLS)
    return max(
        float(MIN_HOUR_CALLS),
        CALLS_MEAN_RATIO * float(x.mean()),
        CALLS_TAIL_RATIO * float(np.quantile(x, CALLS_QUANTILE)),
    )


def hour_spikes(
    date: str,
    hours,
    calls,
    base: HourBaseline | None,
    floor: float,
    past_calls_limit: Callable[[], float],
) -> list[dict]:
    """Spike hours of one day; `hours[h]` is the spend of the day's hour h (local) and
    `calls[h]` its number of priced calls. `past_calls_limit` (calls_limit of the history) is
    asked only when an hour has spend above the work limit and at least MIN_HOUR_CALLS calls:
    the history's calls per hour cost reading its day files."""
    if base is None:
        return []
    spend_limit, work_limit = base.spend_limit(floor), base.work_limit(floor)
    many: float | None = None
    out = []
    for h, (value, n) in enumerate(zip(np.asarray(hours, dtype=np.float64).tolist(), np.asarray(calls).tolist())):
        limit = spend_limit
        if value <= spend_limit:
            if value <= work_limit or n < MIN_HOUR_CALLS:
                continue
            if many is None:
                many = past_calls_limit()
            if n < many:
                continue
            limit = work_limit
        out.append(
            {
                "kind": "hour",
                "date": date,
                "hour": h,
                "value": value,
                "calls": int(n),
                "median": base.median,
                "threshold": limit,
            }
        )
    return out
