"""One tool's numbers, and numbers split by tool (`--tool`, `--by-tool`; the protocol's `tool`
filter and `usage/daily`'s `byTool`).

A record's tool is its `feature`'s first word (`claude-code agent=reviewer` is Claude Code's);
the rollups are kept per (day, model, project, user, billing) only, so these are added up from
the day files' records (their `.cols` caches: ~0.2 ms a day once written), as `Chunk` rows, one
a record (`rows`), which every report built on aggregate rows takes as they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from usage_ls import days
from usage_ls.attribution import tool_of
from usage_ls.errors import InvalidParams, describe
from usage_ls.model import TOKEN_FIELDS, TOTAL_TOKEN_FIELDS
from usage_ls.queries import Filter, filtered, group, row_mask
from usage_ls.store.columns import TEXT_COLUMNS
from usage_ls.store.ledger import Ledger
from usage_ls.store.rollup import METRIC_COUNT, METRICS, Chunk

NO_TOOL = "(no tool)"  # a record without a feature, in a split by tool


def flag(params: dict[str, Any] | None) -> bool:
    """The `byTool` flag of `usage/daily` (and the CLI's weeks and months): each period's
    tools beside its models. InvalidParams naming it when not a boolean."""
    value = (params or {}).get("byTool", False)
    if not isinstance(value, bool):
        raise InvalidParams("byTool", f"expected true or false, got {describe(value)}")
    return value


def rows(ledger: Ledger, selection: Filter) -> Chunk:
    """The filter's aggregate rows: from the rollups (`queries.filtered`), or for a filter by
    tool from its records, one row each."""
    return record_rows(ledger, selection)[0] if selection.tool is not None else filtered(ledger, selection)


def days_split(ledger: Ledger, selection: Filter) -> list[list[tuple[str, np.ndarray]]]:
    """`split` by day (for `queries.daily`)."""
    ndays = days.ordinal(selection.end) - days.ordinal(selection.start) + 1
    return split(ledger, selection, np.arange(ndays), ndays)


def record_rows(ledger: Ledger, selection: Filter, tools: list[str] | None = None) -> tuple[Chunk, np.ndarray]:
    """The filter's records, one aggregate row each; given `tools`, each row's tool too: an
    index into `tools` (names appended as found; NO_TOOL for a record without a feature)."""
    parts, tool_ids = [], []
    index: dict[str, int] = {name: i for i, name in enumerate(tools or ())}
    for day in days.day_range(selection.start, selection.end):
        cols = ledger.day_columns(day)
        if not len(cols):
            continue
        cols = cols.take(row_mask(ledger, cols, selection))
        n = len(cols)
        if not n:
            continue
        m = np.empty((METRIC_COUNT, n))
        m[METRICS.index("messages")] = 1.0
        for field in TOTAL_TOKEN_FIELDS:
            m[METRICS.index(field)] = cols.tokens[TOKEN_FIELDS.index(field)]
        unpriced = np.isnan(cols.cost)
        m[METRICS.index("costUsd")] = np.where(unpriced, 0.0, cols.cost)
        m[METRICS.index("credits")] = np.nan_to_num(cols.credits, nan=0.0)
        m[METRICS.index("unpricedMessages")] = unpriced
        day_ord = np.full(n, days.ordinal(day), dtype=np.int32)
        parts.append(Chunk(day_ord, cols.model, cols.project, cols.user, cols.billing, m))
        if tools is not None:
            refs = cols.text[TEXT_COLUMNS.index("feature")]
            present = np.unique(refs)
            remap = np.zeros(int(present.max()) + 2, dtype=np.int32)  # refs of -1 (None) at the end
            for j in present.tolist():
                name = (tool_of(cols.strings.get(j)) if j >= 0 else None) or NO_TOOL
                if name not in index:
                    index[name] = len(tools)
                    tools.append(name)
                remap[j] = index[name]
            tool_ids.append(remap[refs])
    ids = np.concatenate(tool_ids) if tool_ids else np.zeros(0, dtype=np.int32)
    return Chunk.concat(parts), ids


def split(
    ledger: Ledger, selection: Filter, period_of_day: np.ndarray, nper: int
) -> list[list[tuple[str, np.ndarray]]]:
    """Each period's sums per tool, most tokens first: [[(tool, metric sums)...] per period].
    `period_of_day` maps a day of the filter (its index from `selection.start`) to its period."""
    tools: list[str] = []
    chunk, tool_ids = record_rows(ledger, selection, tools)
    return split_rows(chunk, tool_ids, tools, selection.start, period_of_day, nper)


def split_rows(
    chunk: Chunk, tool_ids: np.ndarray, tools: list[str], start: str, period_of_day: np.ndarray, nper: int
) -> list[list[tuple[str, np.ndarray]]]:
    """`split` of aggregate rows, each a tool's (`tool_ids`: indexes into `tools`), from `start`
    (the team's, team/tools.py, are summed per tool in the database)."""
    out: list[list[tuple[str, np.ndarray]]] = [[] for _ in range(nper)]
    if not len(chunk):
        return out
    idx = period_of_day[chunk.day.astype(np.int64) - days.ordinal(start)]
    sums = group(idx * len(tools) + tool_ids, chunk.m, nper * len(tools))
    tok = [METRICS.index(k) for k in TOTAL_TOKEN_FIELDS]
    cost = METRICS.index("costUsd")
    for flat in np.nonzero(sums[:, METRICS.index("messages")])[0].tolist():
        p, t = divmod(flat, len(tools))
        out[p].append((tools[t], sums[flat]))
    for rows in out:
        rows.sort(key=lambda item: (-float(item[1][tok].sum()), -float(item[1][cost]), item[0]))
    return out


def present(ledger: Ledger, selection: Filter) -> list[str]:
    """The tools (features' first words) that have records in the filter's days, sorted."""
    found: set[str] = set()
    for day in days.day_range(selection.start, selection.end):
        cols = ledger.day_columns(day)
        if len(cols):
            refs = np.unique(cols.text[TEXT_COLUMNS.index("feature")]).tolist()
            found.update(t for j in refs if j >= 0 and (t := tool_of(cols.strings.get(j))))
    return sorted(found)
