"""Plan windows from observations: elapsed share, pace, level, expiry (usage_ls.windows)."""

from __future__ import annotations

import datetime as dt

import pytest

from usage_ls import windows
from usage_ls.store.limits import Observation

H = 3_600_000
NOW = 1_796_568_000_000


def obs(window: str, used: float, resets_in_ms: int | None, source: str = "claude-code") -> Observation:
    return Observation(source, window, used, None if resets_in_ms is None else NOW + resets_in_ms, NOW - 1000)


def test_pace_and_levels():
    (w,) = windows.view([obs("5h", 20.0, 4 * H)], NOW)  # 1 hour of 5 passed
    assert (w["elapsedPercent"], w["projectedPercent"], w["level"]) == (20.0, 100.0, "warning")
    (w,) = windows.view([obs("5h", 10.0, 4 * H)], NOW)
    assert (w["projectedPercent"], w["level"]) == (50.0, "normal")
    (w,) = windows.view([obs("5h", 76.0, int(0.5 * H))], NOW)  # 90% of the window passed
    assert w["level"] == "warning" and w["projectedPercent"] == pytest.approx(84.4, abs=0.1)
    (w,) = windows.view([obs("7d", 91.0, 86_400_000)], NOW)
    assert w["level"] == "error"
    (w,) = windows.view([obs("5h", 30.0, int(4.8 * H))], NOW)  # 4% in: too early for a pace
    assert w["projectedPercent"] is None and w["level"] == "normal"


def test_most_constraining_first_and_expired_windows_left_out():
    got = windows.view([obs("7d", 18.0, 3 * 86_400_000), obs("5h", 42.0, 2 * H), obs("5h", 99.0, -1, "codex")], NOW)
    assert [(w["source"], w["label"], w["usedPercent"]) for w in got] == [
        ("claude-code", "5h", 42.0),
        ("claude-code", "wk", 18.0),
    ]
    assert windows.worst_level(got) == "normal" and windows.worst_level([]) == "normal"


def test_reset_in_the_configured_zone_and_unknown_lengths():
    berlin = dt.timezone(dt.timedelta(hours=1))
    (w,) = windows.view([obs("5h", 1.0, 2 * H)], NOW, berlin)
    assert w["resetsAtLocal"] == dt.datetime.fromtimestamp((NOW + 2 * H) / 1000, berlin).isoformat(timespec="minutes")
    (w,) = windows.view([obs("90m", 50.0, 45 * 60_000)], NOW)
    assert (w["label"], w["elapsedPercent"]) == ("90m", 50.0)
    (w,) = windows.view([obs("5h", 50.0, None)], NOW)  # no reset time: no pace
    assert w["elapsedPercent"] is None and w["resetsAtLocal"] is None
