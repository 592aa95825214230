"""Queries: filters in, protocol-shaped plain data out.

Pure functions over the ledger's aggregate rows (`Chunk`) and records; no I/O, no LSP. The
server, the CLI and the dashboard all call these, so every face shows the same numbers.

A filter by tool (`tool`: the records whose `feature` is the tool's name, or starts with it
and a space, as `claude-code agent=reviewer`) is answered from the day files' records, since
the rollups are kept per (day, model, project, user, billing) only: the same `Chunk`, one row
per record, so every report built on `filtered` takes it as it is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from usage_ls import days
from usage_ls.errors import InvalidParams, describe
from usage_ls.model import BILLINGS, TOKEN_FIELDS, TOTAL_TOKEN_FIELDS, billing_code
from usage_ls.store.columns import SOURCES, TEXT_COLUMNS, RecordColumns
from usage_ls.store.ledger import Ledger
from usage_ls.store.rollup import METRIC_COUNT, METRICS, Chunk

MAX_RANGE_DAYS = 3660
# Sums of money keep 12 decimals (a millionth of a micro-dollar): the sums' float noise goes,
# a day of fractions of a cent keeps every digit. Only the renderers round, for display.
MONEY_DIGITS = 12


@dataclass(frozen=True)
class Filter:
    start: str
    end: str
    project: str | None = None
    user: str | None = None
    model: str | None = None
    billing: str | None = None
    tool: str | None = None  # the records of one tool (`feature`), from the day files

    @property
    def key(self) -> tuple[str | None, ...]:
        return (self.start, self.end, self.project, self.user, self.model, self.billing, self.tool)

    @property
    def narrowed(self) -> bool:
        """True when the filter selects some of its days' records, not all."""
        return bool(self.project or self.user or self.model or self.billing or self.tool)


def parse_filter(params: dict[str, Any] | None, tz: dt.tzinfo) -> Filter:
    """A protocol filter; raises InvalidParams naming the bad field."""
    params = params or {}
    if not isinstance(params, dict):
        raise InvalidParams("params", "expected an object")
    today = days.today(tz)
    values = {}
    for name in ("from", "to"):
        value = params.get(name)
        if value is None:
            values[name] = today
            continue
        try:
            values[name] = days.parse_day(value).isoformat()
        except (ValueError, TypeError):
            raise InvalidParams(name, f"expected a date as YYYY-MM-DD, got {describe(value)}") from None
    start, end = values["from"], values["to"]
    if params.get("from") is not None and params.get("to") is None and start > end:
        end = start
    if start > end:
        raise InvalidParams("to", f"({end}) is before from ({start})")
    if days.ordinal(end) - days.ordinal(start) >= MAX_RANGE_DAYS:
        raise InvalidParams("from", f"range is longer than {MAX_RANGE_DAYS} days")
    strings = {}
    for name in ("project", "user", "model"):
        value = params.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > 200):
            raise InvalidParams(name, f"expected a string of at most 200 characters, got {describe(value)}")
        strings[name] = value or None
    billing = params.get("billing")
    if billing not in (None, "", "premium", "byok", "all"):
        raise InvalidParams("billing", f'expected "premium", "byok" or "all", got {describe(billing)}')
    tool = params.get("tool")
    if tool is not None and (not isinstance(tool, str) or len(tool) > 200):
        raise InvalidParams("tool", f'expected a tool name like "claude-code" or "all", got {describe(tool)}')
    scope = params.get("scope")
    if scope == "team":
        raise InvalidParams("scope", '"team" is not answered by this method (docs/team.md lists those that are)')
    if scope not in (None, "local"):
        raise InvalidParams("scope", f'expected "local" or "team", got {describe(scope)}')
    return Filter(
        start,
        end,
        billing=None if billing in (None, "", "all") else billing,
        tool=None if tool in (None, "", "all") else tool,
        **strings,
    )


def filtered(ledger: Ledger, selection: Filter) -> Chunk:
    """The filter's aggregate rows, from the rollups. A filter by tool is answered from the
    records (`by_tool.rows`): the rollups have no tool."""
    if selection.tool is not None:
        raise ValueError("a filter by tool is answered by by_tool.rows, not the rollups")
    chunk = ledger.facts(selection.start, selection.end)
    mask = None
    for value, dims, column in (
        (selection.model, ledger.models, "model"),
        (selection.project, ledger.projects, "project"),
        (selection.user, ledger.users, "user"),
    ):
        if value is not None:
            sel = getattr(chunk, column) == dims.lookup(value)
            mask = sel if mask is None else mask & sel
    if selection.billing is not None:
        sel = chunk.billing == billing_code(selection.billing)
        mask = sel if mask is None else mask & sel
    return chunk if mask is None else chunk.take(mask)


def group(keys: np.ndarray, m: np.ndarray, nbins: int) -> np.ndarray:
    """Sums of each metric per key: (nbins, METRIC_COUNT). `m` is metric-major (METRIC_COUNT, n)."""
    out = np.zeros((nbins, METRIC_COUNT))
    if len(keys):
        for i in range(METRIC_COUNT):
            out[:, i] = np.bincount(keys, weights=m[i], minlength=nbins)
    return out


def _totals(row: np.ndarray) -> dict[str, Any]:
    values = {name: row[i] for i, name in enumerate(METRICS)}
    result: dict[str, Any] = {
        "credits": round(float(values["credits"]), MONEY_DIGITS),
        "costUsd": round(float(values["costUsd"]), MONEY_DIGITS),
        "messages": int(values["messages"]),
    }
    for key in TOTAL_TOKEN_FIELDS:
        result[key] = int(values[key])
    result["totalTokens"] = sum(result[k] for k in TOTAL_TOKEN_FIELDS)
    result["unpricedMessages"] = int(values["unpricedMessages"])
    if result["messages"] and result["unpricedMessages"] == result["messages"]:
        result["costUsd"] = None  # nothing here has a price: not $0
    return result


def summary(chunk: Chunk) -> dict[str, Any]:
    return _totals(chunk.m.sum(axis=1) if len(chunk) else np.zeros(METRIC_COUNT))


def _by_dim(chunk: Chunk, column: str, names: list[str], label: str) -> list[dict[str, Any]]:
    ids = getattr(chunk, column)
    sums = group(ids, chunk.m, len(names))
    present = np.unique(ids)
    rows = []
    for i in present:
        row = {label: names[int(i)], **_totals(sums[int(i)])}
        rows.append(row)
    rows.sort(key=lambda r: (-r["totalTokens"], -(r["costUsd"] or 0.0), r[label]))
    return rows


def token_split(ledger: Ledger, chunk: Chunk) -> dict[str, Any]:
    return {"models": _by_dim(chunk, "model", ledger.models.names, "model")}


def projects(ledger: Ledger, chunk: Chunk) -> dict[str, Any]:
    return {"projects": _by_dim(chunk, "project", ledger.projects.names, "project")}


def users(ledger: Ledger, chunk: Chunk) -> dict[str, Any]:
    return {"users": _by_dim(chunk, "user", ledger.users.names, "user")}


def totals_rows(sums: np.ndarray) -> list[dict[str, Any]]:
    """`_totals` for many rows at once (numpy -> Python in one pass)."""
    if not len(sums):
        return []
    credits = np.round(sums[:, METRICS.index("credits")], MONEY_DIGITS).tolist()
    cost = np.round(sums[:, METRICS.index("costUsd")], MONEY_DIGITS).tolist()
    ints = sums[:, [METRICS.index(k) for k in ("messages", *TOTAL_TOKEN_FIELDS, "unpricedMessages")]].astype(np.int64)
    total = ints[:, 1:5].sum(axis=1).tolist()
    ints = ints.tolist()
    return [
        {
            "credits": credits[i],
            "costUsd": None if row[0] and row[5] == row[0] else cost[i],  # nothing priced: not $0
            "messages": row[0],
            "inputTokens": row[1],
            "outputTokens": row[2],
            "cacheReadTokens": row[3],
            "cacheWriteTokens": row[4],
            "totalTokens": total[i],
            "unpricedMessages": row[5],
        }
        for i, row in enumerate(ints)
    ]


def daily(
    ledger: Ledger, chunk: Chunk, selection: Filter, tools: list[list[tuple[str, np.ndarray]]] | None = None
) -> dict[str, Any]:
    """Each day of the filter: its totals and `byModel`; given `tools` (by_tool.split, one
    list a day), `byTool` too."""
    lo, hi = days.ordinal(selection.start), days.ordinal(selection.end)
    ndays = hi - lo + 1
    day_idx = chunk.day.astype(np.int64) - lo
    out = [
        {"date": days.from_ordinal(lo + d), **t, "byModel": {}}
        for d, t in enumerate(totals_rows(group(day_idx, chunk.m, ndays)))
    ]
    present = np.unique(chunk.model)
    if len(present):
        remap = np.full(int(present.max()) + 1, -1, dtype=np.int64)
        remap[present] = np.arange(len(present))
        key = day_idx * len(present) + remap[chunk.model]
        nbins = ndays * len(present)
        m = chunk.m
        msgs_all = np.bincount(key, weights=m[METRICS.index("messages")], minlength=nbins)
        used = np.nonzero(msgs_all)[0]
        tok_w = m[[METRICS.index(k) for k in TOTAL_TOKEN_FIELDS]].sum(axis=0)

        def per_bin(weights: np.ndarray) -> np.ndarray:
            return np.bincount(key, weights=weights, minlength=nbins)[used]

        credits = np.round(per_bin(m[METRICS.index("credits")]), MONEY_DIGITS).tolist()
        cost = np.round(per_bin(m[METRICS.index("costUsd")]), MONEY_DIGITS).tolist()
        msgs = msgs_all[used].astype(np.int64).tolist()
        unpriced = per_bin(m[METRICS.index("unpricedMessages")]).astype(np.int64).tolist()
        tokens = per_bin(tok_w).astype(np.int64).tolist()
        names = [ledger.models.names[int(m)] for m in present]
        for j, flat in enumerate(used.tolist()):
            d, mi = divmod(flat, len(present))
            out[d]["byModel"][names[mi]] = {
                "credits": credits[j],
                "costUsd": None if unpriced[j] == msgs[j] else cost[j],
                "totalTokens": tokens[j],
                "messages": msgs[j],
            }
    if tools is not None:  # each day's tools, in byModel's shape
        for d, day_tools in enumerate(tools):
            out[d]["byTool"] = {name: short_totals(sums) for name, sums in day_tools}
    return {"days": out}


def short_totals(sums: np.ndarray) -> dict[str, Any]:
    """A byModel/byTool entry of `usage/daily`: credits, cost, tokens, messages."""
    row = _totals(sums)
    return {k: row[k] for k in ("credits", "costUsd", "totalTokens", "messages")}


def series(ledger: Ledger, selection: Filter, metric: str, chunk: Chunk | None = None) -> list[float]:
    """One metric per day of the filter's range (for sparklines), from its rows (`chunk`:
    given for a filter by tool, see by_tool.rows)."""
    if chunk is None:
        chunk = filtered(ledger, selection)
    lo, hi = days.ordinal(selection.start), days.ordinal(selection.end)
    if not len(chunk):
        return [0.0] * (hi - lo + 1)
    if metric == "totalTokens":
        weights = chunk.m[[METRICS.index(k) for k in TOTAL_TOKEN_FIELDS]].sum(axis=0)
    else:
        weights = chunk.m[METRICS.index(metric)]
    return [float(v) for v in np.bincount(chunk.day.astype(np.int64) - lo, weights=weights, minlength=hi - lo + 1)]


def interactions(
    ledger: Ledger,
    selection: Filter,
    offset: int = 0,
    limit: int = 100,
    sort: str | None = None,
    session: str | None = None,
) -> dict[str, Any]:
    """Every record in the filter (and of `session`, given one), sorted and paged. `sort` is a
    column, `-column` for descending."""
    sort = sort or "-timestamp"
    descending = sort.startswith("-")
    column = sort.lstrip("-+")
    if column not in SORT_COLUMNS:
        raise InvalidParams("sort", f"unknown column {describe(column)} (known: {', '.join(SORT_COLUMNS)})")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidParams("offset", f"expected an integer >= 0, got {describe(offset)}")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= 10_000:
        raise InvalidParams("limit", f"expected an integer 0..10000, got {describe(limit)}")
    # Each day's matching rows are found in that day's columns; only their sort keys are put
    # together (not the days' columns: 20 MB for 90 busy days), and only the page's rows read.
    parts = [ledger.day_columns(day) for day in days.day_range(selection.start, selection.end)]
    keys, stamps, where = [np.zeros(0)], [np.zeros(0, dtype=np.int64)], [np.zeros((2, 0), dtype=np.int64)]
    for p, cols in enumerate(parts):
        if not len(cols):
            continue
        mask = row_mask(ledger, cols, selection)
        if session is not None:
            refs = cols.text[TEXT_COLUMNS.index("session")]
            mask &= np.isin(refs, [j for j in np.unique(refs).tolist() if cols.strings.get(j) == session])
        rows = np.nonzero(mask)[0]
        keys.append(_sort_key(ledger, cols, column)[rows])
        stamps.append(cols.ts[rows])
        where.append(np.array([np.full(len(rows), p), rows]))
    key, ts, at = np.concatenate(keys), np.concatenate(stamps), np.concatenate(where, axis=1)
    pos = np.arange(len(key))  # ties keep the days' order, and each day file's
    if descending:
        order = np.lexsort((-pos, -ts, -key))
    else:
        order = np.lexsort((pos, ts, key))
    page = order[offset : offset + limit].tolist()
    return {"total": len(key), "rows": [_row(ledger, parts[at[0, i]], int(at[1, i])) for i in page]}


def row_mask(ledger: Ledger, cols: RecordColumns, selection: Filter, feature: str | None = None) -> np.ndarray:
    """Which of a day's records the filter selects (and, given `feature` or the filter's `tool`,
    only that tool's: features that are it or start with it and a space, the attribution words)."""
    if feature is None:
        feature = selection.tool
    mask = np.ones(len(cols), dtype=bool)
    for value, dims, column_name in (
        (selection.model, ledger.models, "model"),
        (selection.project, ledger.projects, "project"),
        (selection.user, ledger.users, "user"),
    ):
        if value is not None:
            mask &= getattr(cols, column_name) == dims.lookup(value)
    if selection.billing is not None:
        mask &= cols.billing == billing_code(selection.billing)
    if feature is not None and len(cols):
        refs = cols.text[TEXT_COLUMNS.index("feature")]
        # the tool's records, attributed ones too (`claude-code agent=code-reviewer`)
        wanted = [j for j in np.unique(refs).tolist() if _of_tool(cols.strings.get(j), feature)]
        mask &= np.isin(refs, wanted)
    return mask


def _of_tool(text: str | None, tool: str) -> bool:
    return text is not None and (text == tool or text.startswith(tool + " "))


def matching_columns(ledger: Ledger, selection: Filter, day: str, feature: str | None = None) -> RecordColumns:
    """A day's records that the filter selects, as columns (the day's own when all are)."""
    cols = ledger.day_columns(day)
    mask = row_mask(ledger, cols, selection, feature)
    return cols if mask.all() else cols.take(mask)


SORT_COLUMNS = (
    "timestamp",
    "date",
    "project",
    "model",
    "user",
    "billing",
    "inputTokens",
    "outputTokens",
    "cacheReadTokens",
    "cacheWriteTokens",
    "totalTokens",
    "costUsd",
    "credits",
)


def _rank(names: list[str]) -> np.ndarray:
    """Position of each interned name in case-insensitive order."""
    order = sorted(range(len(names)), key=lambda i: (names[i].lower(), names[i]))
    rank = np.empty(len(names), dtype=np.float64)
    rank[order] = np.arange(len(names))
    return rank


def _sort_key(ledger: Ledger, cols: RecordColumns, column: str) -> np.ndarray:
    if column in ("timestamp", "date"):
        return cols.ts.astype(np.float64)
    if column in ("project", "model", "user"):
        ids = getattr(cols, column)
        dims = getattr(ledger, column + "s")
        return _rank(dims.names)[ids] if len(ids) else np.zeros(0)
    if column == "billing":
        return cols.billing.astype(np.float64)
    if column == "totalTokens":
        total: np.ndarray = cols.tokens[:4].sum(axis=0).astype(np.float64)
        return total
    if column in TOKEN_FIELDS:
        one: np.ndarray = cols.tokens[TOKEN_FIELDS.index(column)].astype(np.float64)
        return one
    values = cols.cost if column == "costUsd" else cols.credits
    return np.where(np.isnan(values), -1.0, values)  # unpriced sorts below $0


def _row(ledger: Ledger, cols: RecordColumns, i: int) -> dict[str, Any]:
    t = cols.tokens[:, i].tolist()
    date, provider, feature, session = cols.extra[i]
    cost, credits = float(cols.cost[i]), float(cols.credits[i])
    return {
        "id": cols.ids[i],
        "timestamp": days.iso_timestamp(int(cols.ts[i]), ledger.tz),
        "date": date,
        "model": ledger.models.names[int(cols.model[i])],
        "provider": provider,
        "billing": BILLINGS[int(cols.billing[i])],
        "project": ledger.projects.names[int(cols.project[i])],
        "user": ledger.users.names[int(cols.user[i])],
        "inputTokens": t[0],
        "outputTokens": t[1],
        "cacheReadTokens": t[2],
        "cacheWriteTokens": t[3],
        "cacheWrite1hTokens": t[4],
        "totalTokens": t[0] + t[1] + t[2] + t[3],
        "costUsd": None if cost != cost else cost,
        "costSource": SOURCES[int(cols.source[i])],
        "credits": None if credits != credits else credits,
        "feature": feature,
        "session": session,
    }
