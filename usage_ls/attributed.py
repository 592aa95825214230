"""Where the money went inside a tool: cost and tokens per agent, skill, plugin, MCP server and
query source (`usage/attribution`, `usage-ls report agents`, the dashboard's "Where it went").

The words come from each record's `feature` (`claude-code agent=code-reviewer mcp=github
query=subagent`: attribution.py), with annotations applied (a later OpenTelemetry event's words
on an imported record). A record counts once under each of its words: a sub-agent's call that
used an MCP server is in `agent` and in `mcp`; within one kind it counts once. Rollups hold no
feature, so this reads the records of the range's days (as columns: per day, the rows are
summed per distinct feature string in numpy; each distinct string is parsed once per query).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from usage_ls import attribution, days
from usage_ls.errors import InvalidParams, describe
from usage_ls.queries import Filter, group, row_mask, totals_rows
from usage_ls.store.columns import TEXT_COLUMNS, RecordColumns
from usage_ls.store.ledger import Ledger
from usage_ls.store.rollup import METRIC_COUNT

KINDS = attribution.KEYS  # agent, skill, plugin, mcp, query
_FEATURE = TEXT_COLUMNS.index("feature")


def parse_params(params: dict[str, Any]) -> tuple[str | None, str | None]:
    """(`by`, `tool`) of a `usage/attribution` request; InvalidParams naming a bad one."""
    by, tool = params.get("by"), params.get("tool")
    if by is not None and by not in KINDS:
        raise InvalidParams("by", f"expected one of {', '.join(KINDS)}, got {describe(by)}")
    if tool is not None and (not isinstance(tool, str) or not 0 < len(tool) <= 200):
        raise InvalidParams("tool", f'expected a tool name such as "claude-code", got {describe(tool)}')
    return by, tool


def _metrics(cols: RecordColumns, rows: np.ndarray) -> np.ndarray:
    """The rows' metrics in rollup.METRICS order: (METRIC_COUNT, len(rows))."""
    cost, credits = cols.cost[rows], cols.credits[rows]
    tokens = cols.tokens[:4, rows].astype(np.float64)
    unpriced = np.isnan(cost)
    return np.vstack(
        [
            np.ones(len(rows)),
            tokens,
            np.where(unpriced, 0.0, cost),
            np.nan_to_num(credits),
            unpriced.astype(np.float64),
        ]
    )


def split(ledger: Ledger, selection: Filter, by: str | None = None, tool: str | None = None) -> dict[str, Any]:
    """{"total", "attributed", "by": {kind: [{"name", totals...}]}}: the filter's totals, the
    part with any attribution, and per kind (only `by` when given) each name's totals, the
    most spent first."""
    index: dict[str | None, int] = {}  # each distinct feature string -> its row in `sums`
    parts: list[tuple[np.ndarray, np.ndarray]] = []  # per day: (rows in `sums`, their metrics)
    for day in days.day_range(selection.start, selection.end):
        cols = ledger.day_columns(day)
        if not len(cols):
            continue
        rows = np.flatnonzero(row_mask(ledger, cols, selection))
        if not len(rows):
            continue
        refs, inverse = np.unique(cols.text[_FEATURE, rows], return_inverse=True)
        get = cols.strings.get
        ids = np.fromiter(
            (index.setdefault(get(r), len(index)) for r in refs.tolist()), dtype=np.int64, count=len(refs)
        )
        parts.append((ids, group(inverse.reshape(-1), _metrics(cols, rows), len(refs))))
    sums = np.zeros((len(index), METRIC_COUNT))
    for ids, per in parts:
        np.add.at(sums, ids, per)
    return by_feature({text: sums[j] for text, j in index.items()}, by, tool)


def by_feature(sums: dict[str | None, np.ndarray], by: str | None = None, tool: str | None = None) -> dict[str, Any]:
    """`split`'s answer from the totals (rollup.METRICS) per distinct feature string (the team
    scope's come from the database)."""
    kinds = (by,) if by else KINDS
    total = np.zeros(METRIC_COUNT)
    attributed = np.zeros(METRIC_COUNT)
    named: dict[tuple[str, str], np.ndarray] = {}
    for text, row in sums.items():  # each distinct feature parsed once
        if tool is not None and attribution.tool_of(text) != tool:
            continue
        total += row
        words = attribution.parse(text)
        if words:
            attributed += row
        for kind in kinds:
            value = words.get(kind)
            if value is not None:
                key = (kind, value)
                named[key] = row + named[key] if key in named else row.copy()
    keys = sorted(named)
    rows_out = totals_rows(np.array([named[k] for k in keys])) if keys else []
    out: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    for (kind, name), totals in zip(keys, rows_out):
        out[kind].append({"name": name, **totals})
    for rows_of_kind in out.values():
        rows_of_kind.sort(key=lambda r: (-(r["costUsd"] or 0.0), -r["credits"], -r["totalTokens"], r["name"]))
    both = totals_rows(np.array([total, attributed]))
    return {"total": both[0], "attributed": both[1], "by": out}
