"""Weeks and months: a filter's days grouped into calendar periods (`usage-ls report weekly`,
`monthly`, and `daily --breakdown`).

Pure: the ledger's aggregate rows of the filter in, protocol-shaped plain data out. Days are
the ledger's local days (the configured time zone), so weeks and months are local too. A week
starts on the configured day (`week_start` in config.toml). A period is summed from the same
rows as the days inside it, so its totals are the sum of its days'.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np

from usage_ls import by_tool, days, queries
from usage_ls.config import WEEKDAYS
from usage_ls.store.ledger import Ledger
from usage_ls.store.rollup import METRICS, Chunk

KINDS = {"day": "days", "week": "weeks", "month": "months"}  # kind -> the result's list


def period_start(day: str, kind: str, week_start: str = "monday") -> str:
    """The first day of the period (of `kind`) that holds `day`."""
    d = dt.date.fromisoformat(day)
    if kind == "month":
        return d.replace(day=1).isoformat()
    if kind == "week":
        return (d - dt.timedelta(days=(d.weekday() - WEEKDAYS.index(week_start)) % 7)).isoformat()
    return day


def period_end(start: str, kind: str) -> str:
    """The last day of the period that starts on `start`."""
    if kind == "month":
        return days.shift(days.next_month_start(start), -1)
    if kind == "week":
        return days.shift(start, 6)
    return start


def label(start: str, kind: str) -> str:
    return start[:7] if kind == "month" else start


def periods(
    ledger: Ledger,
    chunk: Chunk,
    selection: queries.Filter,
    kind: str,
    week_start: str = "monday",
    split_tools: bool = False,
    splitter: Callable[[np.ndarray, int], list[list[tuple[str, np.ndarray]]]] | None = None,
) -> dict[str, Any]:
    """Every period that overlaps the filter's days, each with its totals and `byModel` (the
    same totals per model, most tokens first): {"weeks"|"months"|"days": [...], "totals"}.
    A period's `start`/`end` are its calendar bounds, `from`/`to` the days of it counted.
    With `split_tools`, each period has `byTool` too (the same totals per tool, from the records;
    `splitter(period_of_day, nper)` gives them when not the ledger's: by_tool.split's shape)."""
    if kind not in KINDS:
        raise ValueError(f"unknown period {kind!r}")
    lo, hi = days.ordinal(selection.start), days.ordinal(selection.end)
    bounds: list[tuple[str, str]] = []
    day_period = np.empty(hi - lo + 1, dtype=np.int64)
    n = lo
    while n <= hi:
        start = period_start(days.from_ordinal(n), kind, week_start)
        end = period_end(start, kind)
        last = min(days.ordinal(end), hi)
        day_period[n - lo : last - lo + 1] = len(bounds)
        bounds.append((start, end))
        n = last + 1
    nper = len(bounds)
    idx = day_period[chunk.day.astype(np.int64) - lo] if len(chunk) else np.zeros(0, dtype=np.int64)
    rows = queries.totals_rows(queries.group(idx, chunk.m, nper))
    out = [
        {
            kind if kind != "day" else "date": label(start, kind),
            "start": start,
            "end": end,
            "from": max(start, selection.start),
            "to": min(end, selection.end),
            **row,
            "byModel": {},
        }
        for (start, end), row in zip(bounds, rows)
    ]
    present = np.unique(chunk.model)
    if len(present):
        remap = np.full(int(present.max()) + 1, -1, dtype=np.int64)
        remap[present] = np.arange(len(present))
        key = idx * len(present) + remap[chunk.model]
        sums = queries.group(key, chunk.m, nper * len(present))
        used = np.nonzero(sums[:, METRICS.index("messages")])[0]
        names = [ledger.models.names[int(m)] for m in present]
        per_model: list[list[tuple[str, dict[str, Any]]]] = [[] for _ in range(nper)]
        for flat, row in zip(used.tolist(), queries.totals_rows(sums[used])):
            p, mi = divmod(flat, len(present))
            per_model[p].append((names[mi], row))
        for p, models in enumerate(per_model):
            models.sort(key=lambda item: (-item[1]["totalTokens"], -(item[1]["costUsd"] or 0.0), item[0]))
            out[p]["byModel"] = dict(models)
    if split_tools:
        if splitter is None:
            split = by_tool.split(ledger, selection, day_period, nper)
        else:
            split = splitter(day_period, nper)
        for p, tools in enumerate(split):
            rows = queries.totals_rows(np.array([sums for _, sums in tools])) if tools else []
            out[p]["byTool"] = {name: row for (name, _), row in zip(tools, rows)}
    result: dict[str, Any] = {KINDS[kind]: out, "totals": queries.summary(chunk)}
    if kind == "week":
        result["weekStart"] = week_start
    return result
