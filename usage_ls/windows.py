"""Plan windows as the user sees them: how much is used, how much of the window has passed,
where the pace ends it, and how worried to be. Pure: observations in, data out.

An observation (`store/limits.py`) says "42% of the 5-hour window used, resets at 16:40" at
one moment. From it: `elapsedPercent` (how far into the window we are), `projectedPercent`
(the used share at this pace by the reset: used / elapsed), and a `level`:

- `error` at 90% used, or when the pace reaches 100% with more than half of it used;
- `warning` at 75% used, or when the pace reaches 100% (running ahead of the window);
- `normal` otherwise (the status bar's levels).

A window whose reset time has passed is left out: it has started again and nothing says how
much of the new one is used until the tool reports it.

An *estimated* window (`estimated`) is no tool's report but a 5-hour block reckoned from the
usage (plans.py, blocks.py): its used share is its tokens against the plan's `block_tokens`
when one is set (else null: only tokens and cost are known), and `projectedPercent` is the
block's projection at its burn rate (ccusage's), not the used/elapsed pace.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from usage_ls.store.limits import Observation

WARN_PERCENT = 75.0
CRITICAL_PERCENT = 90.0
MIN_ELAPSED_FOR_PACE = 10.0  # too early in a window, a pace says nothing
LEVELS = ("normal", "warning", "error")  # the status bar's
LABELS = {"5h": "5h", "7d": "wk"}


def window_ms(window: str) -> int | None:
    if window == "5h":
        return 5 * 3_600_000
    if window == "7d":
        return 7 * 86_400_000
    if window.endswith("m") and window[:-1].isdigit():
        return int(window[:-1]) * 60_000
    return None


def level_of(used: float, projected: float | None) -> str:
    if used >= CRITICAL_PERCENT or (projected is not None and projected >= 100 and used >= 50):
        return "error"
    if used >= WARN_PERCENT or (projected is not None and projected >= 100):
        return "warning"
    return "normal"


def rank(w: dict[str, Any]) -> tuple[int, bool, float, int]:
    """Most constraining first: the worse level, a reported window before an estimated one,
    the higher used share, the shorter window."""
    used = w["usedPercent"]
    return (
        -LEVELS.index(w["level"]),
        w["estimated"],
        -(used if used is not None else -1.0),
        window_ms(w["window"]) or 0,
    )


def ordered(shown: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(shown, key=rank)


def local_iso(ms: int, tz: dt.tzinfo) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz).isoformat(timespec="minutes")


def estimated(
    source: str,
    start: int,
    end: int,
    tokens: int,
    cost_usd: float,
    projected_tokens: int | None,
    projected_cost: float | None,
    token_limit: int | None,
    now_ms: int,
    tz: dt.tzinfo,
) -> dict[str, Any]:
    """An estimated 5-hour window from a block of usage (its start and end in epoch ms)."""
    used = None if not token_limit else round(tokens / token_limit * 100, 1)
    projected = None if not token_limit or projected_tokens is None else round(projected_tokens / token_limit * 100, 1)
    elapsed = min(100.0, max(0.0, (now_ms - start) / (end - start) * 100))
    return {
        "source": source,
        "window": "5h",
        "label": "5h",
        "limitId": None,
        "usedPercent": used,
        "resetsAt": end,
        "resetsAtLocal": local_iso(end, tz),
        "observedAt": now_ms,
        "elapsedPercent": round(elapsed, 1),
        "projectedPercent": projected,
        "estimated": True,
        "level": "normal" if used is None else level_of(used, projected),
        "startsAt": start,
        "tokens": tokens,
        "costUsd": round(cost_usd, 6),
        "projectedTokens": projected_tokens,
        "projectedCostUsd": None if projected_cost is None else round(projected_cost, 6),
        "tokenLimit": token_limit,
    }


def view(observations: list[Observation], now_ms: int, tz: dt.tzinfo = dt.UTC) -> list[dict[str, Any]]:
    """`usage/limits` windows, the most constraining first; `resetsAtLocal` in `tz`."""
    out: list[dict[str, Any]] = []
    for obs in observations:
        if obs.resets_at is not None and obs.resets_at <= now_ms:
            continue
        length = window_ms(obs.window)
        elapsed = projected = None
        if length and obs.resets_at is not None:
            start = obs.resets_at - length
            elapsed = min(100.0, max(0.0, (now_ms - start) / length * 100))
            if elapsed >= MIN_ELAPSED_FOR_PACE:
                projected = obs.used_percent / elapsed * 100
        out.append(
            {
                "source": obs.source,
                "window": obs.window,
                "label": LABELS.get(obs.window, obs.window),
                "limitId": obs.limit_id,
                "usedPercent": obs.used_percent,
                "resetsAt": obs.resets_at,
                "resetsAtLocal": None if obs.resets_at is None else local_iso(obs.resets_at, tz),
                "observedAt": obs.observed_at,
                "elapsedPercent": None if elapsed is None else round(elapsed, 1),
                "projectedPercent": None if projected is None else round(projected, 1),
                "estimated": False,
                "level": level_of(obs.used_percent, projected),
            }
        )
    return ordered(out)


def worst_level(windows: list[dict[str, Any]]) -> str:
    return max((w["level"] for w in windows), key=LEVELS.index, default="normal")


MAX_POINTS = 2000  # per window in one history answer; more are thinned (`thin`)


def thin(shown: list[Observation], start_ms: int, end_ms: int, limit: int = MAX_POINTS) -> list[Observation]:
    """At most `limit` observations (in time order): the range cut into `limit // 2` equal
    spans, and of each span's observations the fullest and the last kept (the peaks a user
    looks for, and where each span ends)."""
    if len(shown) <= limit:
        return shown
    spans = max(1, limit // 2)
    width = max(1, end_ms - start_ms)
    buckets: dict[int, list[Observation]] = {}
    for obs in shown:
        buckets.setdefault(min(spans - 1, max(0, (obs.observed_at - start_ms) * spans // width)), []).append(obs)
    kept: list[Observation] = []
    for span in sorted(buckets):
        group = buckets[span]
        peak = max(group, key=lambda o: o.used_percent)
        kept.extend([peak] if peak is group[-1] else [peak, group[-1]])
    return kept


def history(
    observations: list[Observation], start_ms: int, end_ms: int, now_ms: int, source: str | None = None
) -> list[dict[str, Any]]:
    """`usage/limitHistory` series: per (source, window, limit id), the observations in
    [start_ms, end_ms) in time order, led by the last one before the range when its window was
    still open at the start (so a line starts at the left edge), and `resets`: the moments in
    the range at which a window observed before them started again (used % back to 0)."""
    groups: dict[tuple[str, str, str | None], list[Observation]] = {}
    for obs in observations:
        if source is None or obs.source == source:
            groups.setdefault(obs.key(), []).append(obs)
    out: list[tuple[tuple[str, int, str, str], dict[str, Any]]] = []
    for key, items in groups.items():
        items.sort(key=lambda o: o.observed_at)
        before = [o for o in items if o.observed_at < start_ms]
        inside = [o for o in items if start_ms <= o.observed_at < end_ms]
        lead = before[-1] if before and (before[-1].resets_at is None or before[-1].resets_at > start_ms) else None
        shown = ([lead] if lead is not None else []) + inside
        if not shown:
            continue
        until = min(end_ms, now_ms + 1)
        resets: list[int] = []
        for r in sorted({o.resets_at for o in shown if o.resets_at is not None and start_ms <= o.resets_at < until}):
            if not resets or r - resets[-1] > 60_000:  # one reset, however the tool rounded it
                resets.append(r)
        kept = thin(shown, start_ms, end_ms)
        src, window, limit_id = key
        out.append(
            (
                (src, window_ms(window) or 0, window, limit_id or ""),
                {
                    "source": src,
                    "window": window,
                    "label": LABELS.get(window, window),
                    "limitId": limit_id,
                    "points": [
                        {"t": o.observed_at, "usedPercent": o.used_percent, "resetsAt": o.resets_at} for o in kept
                    ],
                    "resets": resets,
                    "sampled": len(kept) < len(shown),
                },
            )
        )
    out.sort(key=lambda pair: pair[0])
    return [series for _, series in out]
