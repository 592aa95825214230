"""Synthetic plan-window observations for the dashboard's Plan limits card (screenshots, bench).

A subscriber's month as the tools would report it, deterministic: Claude Code's 5-hour
windows (opened by the first message of a work spell, filling while the person works) and its
weekly window, and the same, lighter, for Codex; an observation each time the used share
moves, as `usage-ls statusline --claude-code` and the Codex importer keep them. Written
through `LimitLog.append`, the path the real sources use.

The current windows end where a picture wants them: Claude Code's 5-hour window 58% through
with 62% used (a pace past the limit: the card says when it is reached).
"""

from __future__ import annotations

import random
from pathlib import Path

from usage_ls.store.limits import LimitLog, Observation

MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR
FIVE_H = 5 * HOUR
WEEK = 7 * DAY


def _spell(rng: random.Random, source: str, start: int, end: int, peak: float, step_min: float) -> list[Observation]:
    """One 5-hour window opened at `start`, worked in until `end`, ending at `peak` %: an
    observation every `step_min` minutes or so, each a little fuller."""
    times, t = [], start
    while True:
        t += int(step_min * MIN * rng.uniform(0.6, 1.4))
        if t >= end:
            break
        times.append(t)
    steps = [rng.uniform(0.2, 1.8) for _ in times]
    total, used, out = sum(steps), 0.0, []
    for t, step in zip(times, steps, strict=True):
        used += min(100.0, peak) * step / total
        out.append(Observation(source, "5h", round(used, 1), start + FIVE_H, t))
    return out


def observations(now_ms: int, n_days: int = 30, seed: int = 7, every: float = 1.0) -> list[Observation]:
    """`every` scales the minutes between observations (0.1: ten times as many)."""
    rng = random.Random(seed)
    out: list[Observation] = []
    day0 = now_ms - now_ms % DAY - n_days * DAY  # UTC midnights: a work day 08:00-19:00 UTC
    # Claude Code: 5-hour windows from two spells a day on weekdays, one short on weekends
    weekly_used: dict[str, float] = {"claude-code": 0.0, "codex": 0.0}
    week_reset = {"claude-code": day0 + 3 * DAY + 9 * HOUR, "codex": day0 + 5 * DAY + 14 * HOUR}
    current_start = now_ms - int(FIVE_H * 0.58)
    for source, spells, heavy, step in (("claude-code", (8.5, 14.0), 85.0, 9), ("codex", (10.0,), 40.0, 17)):
        for d in range(n_days + 1):
            day = day0 + d * DAY
            weekday = (day // DAY + 4) % 7  # 0 = Monday
            for h in spells if weekday < 5 else spells[:1]:
                start = day + int((h + rng.uniform(-0.6, 0.8)) * HOUR)
                if start + FIVE_H > current_start:
                    break
                peak = heavy * rng.uniform(0.35, 1.15) * (0.4 if weekday >= 5 else 1.0)
                spell = _spell(rng, source, start, start + int(rng.uniform(2.5, 4.6) * HOUR), peak, step * every)
                out += spell
                # the weekly window: a share of each 5-hour window's use, reset every 7 days
                for obs in spell[:: max(1, len(spell) // 3)] + spell[-1:]:
                    while obs.observed_at >= week_reset[source]:
                        week_reset[source] += WEEK
                        weekly_used[source] = 0.0
                    weekly_used[source] = min(100.0, weekly_used[source] + obs.used_percent * 0.022)
                    out.append(
                        Observation(source, "7d", round(weekly_used[source], 1), week_reset[source], obs.observed_at)
                    )
    # the windows open now
    for source, used5, step in (("claude-code", 62.0, 9), ("codex", 18.0, 20)):
        start = current_start if source == "claude-code" else now_ms - int(FIVE_H * 0.35)
        out += _spell(rng, source, start, now_ms - MIN, used5, step)
        while now_ms >= week_reset[source]:
            week_reset[source] += WEEK
            weekly_used[source] = 0.0
        used7 = round(min(100.0, weekly_used[source] + used5 * 0.05), 1)
        out.append(Observation(source, "7d", used7, week_reset[source], now_ms - MIN))
    out.sort(key=lambda o: o.observed_at)
    return out


def write(data: Path, now_ms: int, n_days: int = 30, every: float = 1.0) -> int:
    """Append the observations to `data`'s limit log; returns how many were kept."""
    return LimitLog(data).append(observations(now_ms, n_days, every=every))
