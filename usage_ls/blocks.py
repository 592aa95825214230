"""Estimated 5-hour billing blocks, as ccusage's `blocks` command computes them (20.0.24).

Pure: records' timestamps, tokens and cost in, blocks out. No subscription announces its
windows here, so they are estimated from the usage itself:

- a block starts at its first message's hour, floored in UTC, and lasts 5 hours;
- a message more than 5 hours after the block's start, or more than 5 hours after the
  previous message, starts a new block; in the second case a *gap* block covers the quiet
  time between (from the previous message + 5 h to the next message), with no usage;
- a block is active while now is before its end and less than 5 hours after its last
  message; its burn rate is its tokens (and cost) per minute between its first and last
  message, and its projection adds that rate times the minutes left (rounded) to what it has.

ccusage rounds a projection's cost to cents; here money keeps `queries.MONEY_DIGITS` decimals.
`gather` reads only the days that can change the blocks of a range: a block's start depends
on the blocks before it, back to the last pause of more than 5 hours.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from usage_ls import days
from usage_ls.queries import MONEY_DIGITS
from usage_ls.store.columns import RecordColumns

SESSION_HOURS = 5
HOUR_MS = 3_600_000
MINUTE_MS = 60_000
DURATION_MS = SESSION_HOURS * HOUR_MS
DEFAULT_TOOL = "claude-code"  # ccusage's blocks read Claude Code only
MAX_SCAN_DAYS = 3660  # days read back (or forward) at most to find a pause
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass
class Entries:
    """Usage records as columns (any order): what blocks are made of."""

    ts: np.ndarray  # int64 epoch ms
    tokens: np.ndarray  # int64 (4, n): input, output, cache read, cache write (1-hour part included)
    cost: np.ndarray  # float64 USD, NaN when unpriced
    credits: np.ndarray  # float64, NaN when unknown
    model: np.ndarray  # int ids into `names`
    names: list[str]

    @staticmethod
    def of(parts: list[RecordColumns], names: list[str]) -> Entries:
        parts = [p for p in parts if len(p)]
        if not parts:
            z = np.zeros(0, dtype=np.int64)
            return Entries(z, np.zeros((4, 0), dtype=np.int64), np.zeros(0), np.zeros(0), z, names)
        return Entries(
            ts=np.concatenate([p.ts for p in parts]),
            tokens=np.concatenate([p.tokens[:4] for p in parts], axis=1),
            cost=np.concatenate([p.cost for p in parts]),
            credits=np.concatenate([p.credits for p in parts]),
            model=np.concatenate([p.model for p in parts]),
            names=names,
        )


def iso_utc(ms: int) -> str:
    """`2026-11-19T09:00:00.000Z`, as ccusage writes times."""
    t = _EPOCH + dt.timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)  # Rust's f64::round for the positive numbers used here


@dataclass
class Block:
    """One block (or gap); times in epoch ms; `tokens` as in `Entries.tokens`."""

    start: int
    end: int
    first: int | None  # first and last message (None for a gap)
    last: int | None
    entries: int = 0
    tokens: tuple[int, int, int, int] = (0, 0, 0, 0)
    cost: float = 0.0
    credits: float = 0.0
    unpriced: int = 0
    models: tuple[str, ...] = ()

    @property
    def gap(self) -> bool:
        return self.first is None

    @property
    def total_tokens(self) -> int:
        return sum(self.tokens)

    def is_active(self, now_ms: int) -> bool:
        """Now is before the block's end and within 5 hours of its last message."""
        return self.last is not None and now_ms - self.last < self.end - self.start and now_ms < self.end

    def burn_rate(self) -> dict[str, float] | None:
        """Tokens and cost per minute between the first and last message (None with no span)."""
        if self.first is None or self.last is None or self.last <= self.first:
            return None
        minutes = (self.last - self.first) / MINUTE_MS
        return {
            "tokensPerMinute": self.total_tokens / minutes,
            "tokensPerMinuteForIndicator": (self.tokens[0] + self.tokens[1]) / minutes,
            "costPerHour": self.cost / minutes * 60,
        }

    def projection(self, now_ms: int) -> dict[str, Any] | None:
        """At the burn rate, what the block holds at its end (active blocks only)."""
        rate = self.burn_rate() if self.is_active(now_ms) else None
        if rate is None:
            return None
        remaining = _round_half_up((self.end - now_ms) / MINUTE_MS)
        return {
            "totalTokens": _round_half_up(self.total_tokens + rate["tokensPerMinute"] * remaining),
            "totalCost": round(self.cost + rate["costPerHour"] / 60 * remaining, MONEY_DIGITS),
            "remainingMinutes": remaining,
        }

    def json(self, now_ms: int) -> dict[str, Any]:
        """ccusage's `blocks --json` fields (plus credits and unpriced entries)."""
        active = self.is_active(now_ms)
        rate = self.burn_rate() if active else None
        if rate is not None:
            rate["costPerHour"] = round(rate["costPerHour"], MONEY_DIGITS)
        start = iso_utc(self.start)
        return {
            "id": f"gap-{start}" if self.gap else start,
            "startTime": start,
            "endTime": iso_utc(self.end),
            "actualEndTime": None if self.last is None else iso_utc(self.last),
            "isActive": active,
            "isGap": self.gap,
            "entries": self.entries,
            "tokenCounts": {
                "inputTokens": self.tokens[0],
                "outputTokens": self.tokens[1],
                "cacheCreationInputTokens": self.tokens[3],
                "cacheReadInputTokens": self.tokens[2],
            },
            "totalTokens": self.total_tokens,
            "costUSD": round(self.cost, MONEY_DIGITS),
            "credits": round(self.credits, MONEY_DIGITS),
            "unpricedEntries": self.unpriced,
            "models": list(self.models),
            "burnRate": rate,
            "projection": self.projection(now_ms) if active else None,
        }


def compute(entries: Entries, duration_ms: int = DURATION_MS) -> list[Block]:
    """Every block of `entries`, gap blocks included, by start time (as ccusage sorts them)."""
    order = np.argsort(entries.ts, kind="stable")
    ts = entries.ts[order].astype(np.int64)
    n = len(ts)
    if not n:
        return []
    pauses = np.nonzero(np.diff(ts) > duration_ms)[0] + 1  # messages that always start a block
    spans: list[tuple[int, int, int]] = []
    i, k = 0, 0
    while i < n:
        start = int(ts[i]) - int(ts[i]) % HOUR_MS
        j = int(np.searchsorted(ts, start + duration_ms, side="right"))
        while k < len(pauses) and pauses[k] <= i:
            k += 1
        if k < len(pauses):
            j = min(j, int(pauses[k]))
        spans.append((i, j, start))
        i = j
    firsts = np.array([s[0] for s in spans])
    model, cost, credits = entries.model[order], entries.cost[order], entries.credits[order]
    tok = np.add.reduceat(entries.tokens[:, order], firsts, axis=1).T.tolist()
    usd = np.add.reduceat(np.nan_to_num(cost), firsts).tolist()
    cr = np.add.reduceat(np.nan_to_num(credits), firsts).tolist()
    unpriced = np.add.reduceat(np.isnan(cost).astype(np.int64), firsts).tolist()
    # each block's models in the order they first appear: one unique over (block, model)
    width = int(model.max()) + 1
    block_of = np.repeat(np.arange(len(spans)), np.diff(np.append(firsts, n)))
    pairs, first_seen = np.unique(block_of * width + model, return_index=True)
    models: list[list[str]] = [[] for _ in spans]
    for pair in pairs[np.lexsort((first_seen, pairs // width))].tolist():
        b, m = divmod(pair, width)
        models[b].append(entries.names[m])
    out: list[Block] = []
    for b, (i, j, start) in enumerate(spans):
        if out and int(ts[i]) - int(ts[i - 1]) > duration_ms:
            out.append(Block(int(ts[i - 1]) + duration_ms, int(ts[i]), None, None))
        out.append(
            Block(
                start,
                start + duration_ms,
                int(ts[i]),
                int(ts[j - 1]),
                entries=j - i,
                tokens=(tok[b][0], tok[b][1], tok[b][2], tok[b][3]),
                cost=usd[b],
                credits=cr[b],
                unpriced=unpriced[b],
                models=tuple(models[b]),
            )
        )
    out.sort(key=lambda block: block.start)  # stable; a gap may start after the next block's floored start
    return out


def gather(
    load: Callable[[str], RecordColumns], start: str, end: str, tz: dt.tzinfo, last_day: str
) -> list[RecordColumns]:
    """The records that decide the blocks starting on days start..end: those days and the next
    (a block runs up to 5 hours past its start), earlier days back to a pause of more than
    5 hours (where a block starts whatever came before), and the next record after the last
    one when a gap block may start in the range (not past `last_day`)."""
    parts = [c for c in (load(d) for d in days.day_range(start, days.shift(end, 1))) if len(c)]
    earliest = min((int(c.ts.min()) for c in parts), default=None)
    day = days.shift(start, -1)
    for _ in range(MAX_SCAN_DAYS):
        cols = load(day)
        if not len(cols):
            break  # a whole day without usage is a pause
        parts.insert(0, cols)
        ts = np.sort(cols.ts)
        if earliest is not None:
            ts = np.append(ts, earliest)
        earliest = int(ts[0])
        if np.any(np.diff(ts) > DURATION_MS):
            break
        day = days.shift(day, -1)
    latest = max((int(c.ts.max()) for c in parts), default=None)
    if latest is not None and days.day_of(latest + DURATION_MS, tz) <= end:
        day = days.shift(end, 2)
        for _ in range(MAX_SCAN_DAYS):
            if day > last_day:
                break
            cols = load(day)
            if len(cols):
                parts.append(cols)
                break
            day = days.shift(day, 1)
    return parts


def report(
    load: Callable[[str], RecordColumns], start: str, end: str, tz: dt.tzinfo, now_ms: int, names: list[str]
) -> list[Block]:
    """The blocks (gap blocks included) that start on days start..end in `tz`, as ccusage's
    `--since/--until` keep them."""
    last_day = max(days.shift(days.day_of(now_ms, tz), 1), days.shift(end, 1))
    blocks = compute(Entries.of(gather(load, start, end, tz, last_day), names))
    return [b for b in blocks if start <= days.day_of_cached(b.start, tz) <= end]
