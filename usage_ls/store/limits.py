"""Limit observations: how much of a plan's window was used, as a tool reported it.

A subscription's 5-hour or weekly window ("5h 42%, resets 16:40") is not usage: it is kept
beside the records (`limits/observations.jsonl` in the data directory), with its history, and
never added to token or cost totals. Sources: Claude Code's statusLine JSON (`rate_limits`),
Codex's rollout logs (`rate_limits`), and later others.

One JSON line per observation, appended with O_APPEND (lines from several processes never
interleave) and fsynced. An observation equal to the latest of its window (same used % and
reset time) is not written again unless `REPEAT_MS` passed: a statusLine command runs after
every assistant message, and the history needs the changes, not every call.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path  # (json, not orjson: this module loads in a status line command)
from typing import Any, NamedTuple

FILE = "observations.jsonl"
REPEAT_MS = 15 * 60 * 1000  # an unchanged window is written again at most every 15 minutes
TAIL_BYTES = 256 * 1024  # the latest observations are read from the file's end
SOURCES = ("claude-code", "codex", "copilot", "gemini")


class Observation(NamedTuple):
    """One window of one source at one moment. `window` is `5h`, `7d` or `<n>m` (Codex's
    `window_minutes` when it is neither); `resets_at` and `observed_at` are epoch ms."""

    source: str
    window: str
    used_percent: float
    resets_at: int | None
    observed_at: int
    limit_id: str | None = None

    def key(self) -> tuple[str, str, str | None]:
        return (self.source, self.window, self.limit_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "window": self.window,
            "usedPercent": self.used_percent,
            "resetsAt": self.resets_at,
            "observedAt": self.observed_at,
            "limitId": self.limit_id,
        }


class LimitError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


def window_name(minutes: int) -> str:
    return {300: "5h", 10080: "7d"}.get(minutes, f"{minutes}m")


def percent(value: object, field: str) -> float:
    """A used percentage, 0-100 (a window past its limit may report a little over 100)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise LimitError(field, f"expected a number from 0 to 100, got {type(value).__name__}")
    if not 0 <= value <= 1000:
        raise LimitError(field, "expected a number from 0 to 100")
    return float(value)


def epoch_ms(value: object, field: str) -> int | None:
    """Epoch seconds (Claude Code, Codex) or milliseconds -> ms; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise LimitError(field, f"expected epoch seconds, got {type(value).__name__}")
    return int(value * 1000) if value < 1e11 else int(value)


def from_json(raw: object) -> Observation | None:
    """An observation as `to_json` wrote it, or None when the line is not one."""
    if not isinstance(raw, dict):
        return None
    try:
        source, window, limit_id = raw["source"], raw["window"], raw.get("limitId")
        if not isinstance(source, str) or not isinstance(window, str) or not isinstance(raw["observedAt"], int):
            return None
        if limit_id is not None and not isinstance(limit_id, str):
            return None
        resets = raw.get("resetsAt")
        return Observation(
            source,
            window,
            percent(raw["usedPercent"], "usedPercent"),
            resets if isinstance(resets, int) else None,
            raw["observedAt"],
            limit_id,
        )
    except (KeyError, LimitError):
        return None


def same_reset(a: int | None, b: int | None) -> bool:
    """The same reset time, give or take a minute (tools round it differently between calls)."""
    return a == b or (a is not None and b is not None and abs(a - b) <= 60_000)


def newest_of(observations: list[Observation]) -> dict[tuple[str, str, str | None], Observation]:
    """The newest of each (source, window, limit id)."""
    newest: dict[tuple[str, str, str | None], Observation] = {}
    for obs in observations:
        old = newest.get(obs.key())
        if old is None or obs.observed_at >= old.observed_at:
            newest[obs.key()] = obs
    return newest


class LimitLog:
    """The observations file of one data directory."""

    def __init__(self, root: Path):
        self.dir = root / "limits"
        self.path = self.dir / FILE

    def signature(self) -> tuple[int, int] | None:
        """(mtime, size) of the file, None when there is none: has anything been observed?"""
        try:
            st = os.stat(self.path, follow_symlinks=False)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def read(self, since_ms: int = 0, tail: int | None = None) -> list[Observation]:
        """Observations in the order written (from the last `tail` bytes only, when given);
        lines that are not observations are skipped."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return []
        with os.fdopen(fd, "rb") as f:
            if tail is not None:
                size = f.seek(0, os.SEEK_END)
                f.seek(max(0, size - tail))
                if size > tail:
                    f.readline()  # a partial first line
            data = f.read()
        out = []
        for line in data.splitlines():
            try:
                obs = from_json(json.loads(line))
            except (ValueError, RecursionError):
                continue
            if obs is not None and obs.observed_at >= since_ms:
                out.append(obs)
        return out

    def latest(self) -> dict[tuple[str, str, str | None], Observation]:
        """The newest observation of each (source, window, limit id)."""
        return newest_of(self.read(tail=TAIL_BYTES))

    def append(self, observations: list[Observation]) -> int:
        """Write the observations that say something new; returns how many were written."""
        if not observations:
            return 0
        kept = self.read(tail=TAIL_BYTES)
        seen = {(o.key(), o.observed_at) for o in kept}
        newest = newest_of(kept)
        fresh = []
        for obs in observations:
            if (obs.key(), obs.observed_at) in seen:
                continue  # read again (a re-import, a forked session's replayed lines)
            seen.add((obs.key(), obs.observed_at))
            old = newest.get(obs.key())
            if old is not None and obs.observed_at < old.observed_at:
                fresh.append(obs)  # history from a log read late: kept, the latest stays
                continue
            if (
                old is not None
                and old.used_percent == obs.used_percent
                and same_reset(old.resets_at, obs.resets_at)
                and obs.observed_at - old.observed_at < REPEAT_MS
            ):
                continue
            fresh.append(obs)
            newest[obs.key()] = obs
        if not fresh:
            return 0
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = "".join(json.dumps(o.to_json()) + "\n" for o in fresh).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        return len(fresh)
