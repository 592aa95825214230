"""Which plan-window and AI Credits thresholds (`[limits]` in config.toml) are crossed and not
yet announced: once per window and threshold, and once per window when the pace runs ahead of
it, across every server process and restarts (alerts.json, shared with the budgets' alerts).

A window is told apart from the next one of its kind by its reset time: a reset within a
quarter of the window (at most 30 minutes) of the one announced is the same window (tools
round it differently between reports). Credits are announced once per threshold and month.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from usage_ls import windows
from usage_ls.budgets import announced

SAME_WINDOW_MS = 30 * 60_000


def _same_window(stored: object, resets_at: int, window: str) -> bool:
    if not isinstance(stored, int):
        return False
    length = windows.window_ms(window) or 4 * SAME_WINDOW_MS
    return abs(stored - resets_at) <= min(SAME_WINDOW_MS, length // 4)


def due(
    data_dir: Path, limits: dict[str, Any], thresholds: tuple[float, ...], pace: bool
) -> list[tuple[str, dict[str, Any], float | None]]:
    """("window", window, threshold), ("pace", window, None) and ("credits", plan, threshold)
    for each not announced yet; thresholds crossed together are one, the highest."""
    out: list[tuple[str, dict[str, Any], float | None]] = []
    todo = [w for w in limits["windows"] if w["usedPercent"] is not None and w["resetsAt"] is not None]
    plans = [p for p in limits["plans"] if p["credits"] and p["credits"]["allowance"] > 0]
    if not todo and not plans:
        return out
    with announced(data_dir) as seen:
        if seen is None:
            return out
        for w in todo:
            base = f"limit:{w['source']}:{w['window']}:{w['limitId'] or ''}:{'est' if w['estimated'] else 'tool'}"
            crossed = None
            for threshold in thresholds:
                key = f"{base}:{threshold:g}"
                if w["usedPercent"] >= threshold and not _same_window(seen.get(key), w["resetsAt"], w["window"]):
                    seen[key] = w["resetsAt"]
                    crossed = threshold
            if crossed is not None:
                out.append(("window", w, crossed))
            ahead = w["projectedPercent"] is not None and w["projectedPercent"] >= 100
            key = f"{base}:pace"
            if pace and ahead and not _same_window(seen.get(key), w["resetsAt"], w["window"]):
                seen[key] = w["resetsAt"]
                if crossed is None:
                    out.append(("pace", w, None))
        for p in plans:
            c = p["credits"]
            crossed = None
            for threshold in thresholds:
                key = f"credits:{p['tool']}:{p['periodStart']}:{threshold:g}"
                if c["used"] / c["allowance"] * 100 >= threshold and key not in seen:
                    seen[key] = 1
                    crossed = threshold
            if crossed is not None:
                out.append(("credits", p, crossed))
    return out
