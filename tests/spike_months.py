"""Seeded months of ordinary, i.i.d. AI usage, and what the spike rule (usage_ls.spikes) says
about them: its false alarms, and how soon it catches a 3x day, a 5x busy hour and a runaway
agent. Used by tests/test_spike_rates.py (a few dozen months) and bench/spike_calibration.py
(hundreds, and other kinds of users).

Usage is generated straight into what the rule consumes (spend per day, spend and priced
calls per hour), the way the insights engine computes them from the ledger. A day of the
reference profile, the issue's "ordinary usage": 30-50 interactions spread uniformly over
09:00-19:00, each with one of six models drawn at random at its list price, tokens
heavy-tailed (an interaction's size is lognormal: median 4,000 input and 600 output tokens,
spread x1.65 (sigma 0.5), and each side x1.35 more). That gives a median busy hour of about
$0.09 with an hour above $0.60 every 17 days or so (above $0.65: every 27), the figures of issue #16.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from usage_ls import spikes

# six models at their list prices, $ per million input and output tokens (genai-prices)
MODELS = (
    ("gpt-4.1-mini", 0.40, 1.60),
    ("claude-3-5-haiku-latest", 0.80, 4.00),
    ("gemini-2.5-pro", 1.25, 10.00),
    ("gpt-4.1", 2.00, 8.00),
    ("claude-sonnet-4-5", 3.00, 15.00),
    ("claude-opus-4-1", 15.00, 75.00),
)
PRICE_IN = np.array([m[1] for m in MODELS]) / 1e6
PRICE_OUT = np.array([m[2] for m in MODELS]) / 1e6
HISTORY = spikes.BASELINE_DAYS


@dataclass(frozen=True)
class Profile:
    calls: tuple[int, int] = (30, 50)  # interactions a day, uniform
    hours: tuple[int, int] = (9, 19)  # spread uniformly from the first hour to (not including) the second
    input_tokens: float = 4000.0  # median size of an interaction
    output_tokens: float = 600.0
    size_sigma: float = 0.5  # lognormal spread of an interaction's size (its input and output together)
    side_sigma: float = 0.3  # and of each side on its own
    weights: tuple[float, ...] | None = None  # of the six models; None: uniform


PROFILES = {
    "reference": Profile(),
    "waking hours 08-23": Profile(hours=(8, 23)),
    "heavier tail (sigma 0.8)": Profile(size_sigma=0.8),
    "light (5-15 a day)": Profile(calls=(5, 15)),
    "busy (150-250 a day)": Profile(calls=(150, 250), hours=(8, 22)),
    "opus-heavy": Profile(weights=(0.1, 0.1, 0.1, 0.1, 0.2, 0.4)),
    "very heavy tail (sigma 1.0)": Profile(size_sigma=1.0, input_tokens=3000.0, output_tokens=400.0),
}


def calls(rng: np.random.Generator, p: Profile, n: int, start: float, end: float, model: int | None = None):
    """n interactions at uniform minutes in [start, end) (sorted), and their costs."""
    minutes, cost, _ = calls_of_models(rng, p, n, start, end, model)
    return minutes, cost


def calls_of_models(rng: np.random.Generator, p: Profile, n: int, start: float, end: float, model: int | None = None):
    """calls(), and which of MODELS made each."""
    minutes = np.sort(rng.uniform(start, end, n))
    if model is not None:
        which = np.full(n, model)
    elif p.weights is None:
        which = rng.integers(0, len(MODELS), n)
    else:
        which = rng.choice(len(MODELS), n, p=np.array(p.weights) / sum(p.weights))
    size = rng.lognormal(0.0, p.size_sigma, n)
    inp = p.input_tokens * size * rng.lognormal(0.0, p.side_sigma, n)
    out = p.output_tokens * size * rng.lognormal(0.0, p.side_sigma, n)
    return minutes, inp * PRICE_IN[which] + out * PRICE_OUT[which], which


def ordinary_day(rng: np.random.Generator, p: Profile):
    n = int(rng.integers(p.calls[0], p.calls[1] + 1))
    return calls(rng, p, n, p.hours[0] * 60.0, p.hours[1] * 60.0)


def per_hour(minutes, cost) -> tuple[np.ndarray, np.ndarray]:
    """Spend and calls per hour of the day (25 bins, as the engine keeps them)."""
    idx = (np.asarray(minutes) // 60).astype(np.int64)
    return np.bincount(idx, weights=cost, minlength=25)[:25], np.bincount(idx, minlength=25)[:25]


@dataclass
class History:
    """The 28 days before the day being judged."""

    spend: np.ndarray  # 28 x 25
    calls: np.ndarray  # 28 x 25
    totals: list[float] = field(init=False)
    hour: spikes.HourBaseline | None = field(init=False)

    def __post_init__(self):
        self.totals = self.spend.sum(axis=1).tolist()
        self.hour = spikes.hour_baseline(self.spend)

    @property
    def usual_day(self) -> float:
        base = spikes.day_baseline(self.totals)
        assert base is not None
        return base.median

    @property
    def usual_hour_calls(self) -> float:
        return float(self.calls[self.calls > 0].mean())


def judge(history: History, minutes, cost, until: float | None = None) -> list[dict]:
    """The spikes of a day seen at minute `until` (all of it: None), against `history`: what
    the engine reports for today (the day, and each hour) after the last record before then."""
    minutes, cost = np.asarray(minutes), np.asarray(cost)
    if until is not None:
        keep = minutes <= until
        minutes, cost = minutes[keep], cost[keep]
    spend, n = per_hour(minutes, cost)
    found = spikes.day_spikes(["history"] * HISTORY + ["day"], [*history.totals, float(cost.sum())], HISTORY, 1.0)
    found += spikes.hour_spikes(
        "day", spend, n, history.hour, spikes.HOUR_FLOOR_USD, lambda: spikes.calls_limit(history.calls)
    )
    return found


def month(seed: int, days: int, p: Profile) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [ordinary_day(rng, p) for _ in range(days)]


def history_of(days: list[tuple[np.ndarray, np.ndarray]]) -> History:
    rows = [per_hour(m, c) for m, c in days]
    return History(np.array([r[0] for r in rows]), np.array([r[1] for r in rows]))


def false_spikes(p: Profile, seeds, days: int) -> tuple[int, int, list[dict]]:
    """Spikes found on `days` ordinary days after 28 of history, per seed: (spikes, days
    judged, the spikes). Days and hours count alike: each would be a pop-up."""
    found: list[dict] = []
    judged = 0
    for seed in seeds:
        ds = month(seed, HISTORY + days, p)
        for i in range(HISTORY, HISTORY + days):
            for s in judge(history_of(ds[i - HISTORY : i]), *ds[i]):
                found.append({**s, "seed": seed, "day": i})
            judged += 1
    return len(found), judged, found


# -- things that must be caught, and when ------------------------------------------------------


def _first_flag(history: History, minutes, cost, kind: str, hour: int | None = None) -> float | None:
    """The minute of the first record after which a spike of `kind` (at `hour`) is reported."""
    for t in np.asarray(minutes).tolist():
        if any(s["kind"] == kind and s.get("hour") == hour for s in judge(history, minutes, cost, t)):
            return t
    return None


@dataclass(frozen=True)
class Catch:
    due: float  # minute by which it must be caught
    flagged: float | None  # minute of the record after which it was

    @property
    def caught(self) -> bool:
        return self.flagged is not None and self.flagged <= self.due


def three_times_day(seed: int, p: Profile) -> Catch:
    """An ordinary day with more ordinary work added over its hours until it has spent 3x the
    usual day; due at the record that takes it there."""
    rng = np.random.default_rng(10_000 + seed)
    history = history_of(month(seed, HISTORY, p))
    target = 3 * history.usual_day
    parts = [ordinary_day(rng, p)]
    while sum(float(c.sum()) for _, c in parts) < target:
        parts.append(ordinary_day(rng, p))
    minutes = np.concatenate([m for m, _ in parts])
    cost = np.concatenate([c for _, c in parts])
    order = np.argsort(minutes, kind="stable")
    minutes, cost = minutes[order], cost[order]
    due = float(minutes[np.searchsorted(np.cumsum(cost), target)])
    return Catch(due, _first_flag(history, minutes, cost, "day"))


def five_times_hour(seed: int, p: Profile, hour: int = 14) -> Catch:
    """An ordinary day whose `hour` gets five times the usual busy hour's work: ordinary calls
    at random minutes of that hour, as many as it takes for the hour to hold at least 5x the
    usual calls and 5x the usual spend of a busy hour; due at the record where both hold."""
    rng = np.random.default_rng(20_000 + seed)
    history = history_of(month(seed, HISTORY, p))
    assert history.hour is not None
    want_spend, want_calls = 5 * history.hour.median, 5 * history.usual_hour_calls
    minutes, cost = ordinary_day(rng, p)
    in_hour = (minutes // 60) == hour
    spent, n = float(cost[in_hour].sum()), int(in_hour.sum())
    extra = []
    while spent < want_spend or n < want_calls:
        one = calls(rng, p, 1, hour * 60.0, hour * 60.0 + 60.0)
        extra.append(one)
        spent, n = spent + float(one[1][0]), n + 1
    minutes = np.concatenate([minutes, *[m for m, _ in extra]])
    cost = np.concatenate([cost, *[c for _, c in extra]])
    order = np.argsort(minutes, kind="stable")
    minutes, cost = minutes[order], cost[order]
    in_hour = (minutes // 60) == hour
    both = (np.cumsum(np.where(in_hour, cost, 0.0)) >= want_spend) & (np.cumsum(in_hour) >= want_calls)
    return Catch(float(minutes[np.argmax(both)]), _first_flag(history, minutes, cost, "hour", hour))


def runaway(seed: int, p: Profile, hour: int = 15, n: int = 300) -> Catch:
    """An ordinary day plus an agent stuck in a loop: `n` calls of one model (drawn at random,
    ordinary sizes) within `hour`; due by the end of that hour."""
    rng = np.random.default_rng(30_000 + seed)
    history = history_of(month(seed, HISTORY, p))
    minutes, cost = ordinary_day(rng, p)
    loop_m, loop_c = calls(rng, p, n, hour * 60.0, hour * 60.0 + 60.0, model=int(rng.integers(0, len(MODELS))))
    minutes, cost = np.concatenate([minutes, loop_m]), np.concatenate([cost, loop_c])
    order = np.argsort(minutes, kind="stable")
    return Catch(hour * 60.0 + 60.0, _first_flag(history, minutes[order], cost[order], "hour", hour))
