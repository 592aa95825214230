"""Sessions: one row per conversation (the tool's session id) of a filter's records.

`usage/sessions`, `usage-ls report sessions` and the dashboard's Sessions table. Pure numpy over
each day's record columns (`Ledger.day_columns`, the data `usage/interactions` pages): per day
the filter's rows are found, their session strings are decoded once per distinct session and
mapped to one index for the whole range, and every sum is a `bincount` over that index. Only
the page's sessions are made into dicts.

Sub-agents: a record whose `feature` has the word `query=subagent` (`claude-code
agent=code-reviewer query=subagent`: a Claude Code sub-agent's call, as the transcript importer
and the OTLP receiver write it) is usage of a sub-agent; it carries its parent conversation's
session id, so it is counted in that session, and its part is given as `subagents` and
`subagentShare`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from usage_ls import days
from usage_ls.errors import InvalidParams, describe
from usage_ls.model import TOKEN_FIELDS, TOTAL_TOKEN_FIELDS
from usage_ls.queries import MONEY_DIGITS, Filter, row_mask
from usage_ls.store.columns import TEXT_COLUMNS
from usage_ls.store.ledger import Ledger

SORT_COLUMNS = ("start", "lastActivity", "duration", "messages", "totalTokens", "costUsd", "subagentShare")
MAX_LIMIT = 10_000
FEATURE_ROW = TEXT_COLUMNS.index("feature")
SESSION_ROW = TEXT_COLUMNS.index("session")


def is_subagent(feature: str | None) -> bool:
    """Whether a record's feature says it is a sub-agent's call (`... query=subagent`)."""
    return feature is not None and "query=subagent" in feature.split(" ")[1:]


def tool_of(feature: str | None) -> str | None:
    """The tool a feature names: its first word (`claude-code` of `claude-code agent=x`)."""
    return feature.split(" ", 1)[0] if feature else None


@dataclass
class _Rows:
    """The filter's records that have a session, from every day, in columns."""

    sid: np.ndarray  # int64: index into `sessions`
    ts: np.ndarray
    model: np.ndarray
    project: np.ndarray
    tool: np.ndarray  # int64: index into `tools`, -1 for none
    sub: np.ndarray  # bool: a sub-agent's record
    tokens: np.ndarray  # (5, n) TOKEN_FIELDS
    cost: np.ndarray
    credits: np.ndarray


def check_page(offset: object, limit: object, sort: object) -> tuple[int, int, str, bool]:
    """(offset, limit, column, descending) of a page request; InvalidParams naming the field."""
    if sort is None:
        sort = "-start"
    if not isinstance(sort, str) or sort.lstrip("-+") not in SORT_COLUMNS:
        raise InvalidParams("sort", f"unknown column {describe(sort)} (known: {', '.join(SORT_COLUMNS)})")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidParams("offset", f"expected an integer >= 0, got {describe(offset)}")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= MAX_LIMIT:
        raise InvalidParams("limit", f"expected an integer 0..{MAX_LIMIT}, got {describe(limit)}")
    return offset, limit, sort.lstrip("-+"), sort.startswith("-")


def gather(ledger: Ledger, selection: Filter) -> tuple[_Rows, list[str], list[str], dict[str, Any]]:
    """The filter's records with a session (their columns), the session ids, the tool names, and
    the totals of the records without a session ({messages, totalTokens, costUsd})."""
    sessions: dict[str, int] = {}
    tools: dict[str, int] = {}
    parts: list[tuple[np.ndarray, ...]] = []
    loose = {"messages": 0, "totalTokens": 0, "costUsd": 0.0}
    for day in days.day_range(selection.start, selection.end):
        cols = ledger.day_columns(day)
        if not len(cols):
            continue
        mask = row_mask(ledger, cols, selection)
        srefs = cols.text[SESSION_ROW]
        none = mask & (srefs < 0)
        if none.any():
            loose["messages"] += int(none.sum())
            loose["totalTokens"] += int(cols.tokens[:4, none].sum())
            cost = cols.cost[none]
            loose["costUsd"] += float(cost[~np.isnan(cost)].sum())
        rows = np.flatnonzero(mask & (srefs >= 0))
        if not len(rows):
            continue
        get = cols.strings.get
        uniq, inv = np.unique(srefs[rows], return_inverse=True)
        ids = [sessions.setdefault(s, len(sessions)) for s in (get(j) or "" for j in uniq.tolist())]
        funiq, finv = np.unique(cols.text[FEATURE_ROW, rows], return_inverse=True)
        features = [get(j) for j in funiq.tolist()]
        tool_ids = [-1 if tool_of(f) is None else tools.setdefault(tool_of(f) or "", len(tools)) for f in features]
        sub_flags = np.array([is_subagent(f) for f in features], dtype=bool)
        parts.append(
            (
                np.array(ids, dtype=np.int64)[inv.reshape(-1)],
                cols.ts[rows],
                cols.model[rows].astype(np.int64),
                cols.project[rows].astype(np.int64),
                np.array(tool_ids, dtype=np.int64)[finv.reshape(-1)],
                sub_flags[finv.reshape(-1)],
                cols.tokens[:, rows],
                cols.cost[rows],
                cols.credits[rows],
            )
        )
    loose["costUsd"] = round(loose["costUsd"], MONEY_DIGITS)
    if parts:
        joined = [np.concatenate(c, axis=-1) for c in zip(*parts)]
    else:
        i64 = np.zeros(0, dtype=np.int64)
        joined = [i64, i64, i64, i64, i64, np.zeros(0, dtype=bool), np.zeros((5, 0), dtype=np.int64)]
        joined += [np.zeros(0), np.zeros(0)]
    return _Rows(*joined), list(sessions), list(tools), loose


def _sum(sid: np.ndarray, n: int, weights: np.ndarray | None = None, where: np.ndarray | None = None) -> np.ndarray:
    if where is not None:
        sid = sid[where]
        weights = None if weights is None else weights[where]
    return np.bincount(sid, weights=weights, minlength=n)


def _members(sid: np.ndarray, other: np.ndarray, weight: np.ndarray, n: int) -> list[list[int]]:
    """Per session, the distinct values of `other` (ints >= 0), heaviest first."""
    out: list[list[int]] = [[] for _ in range(n)]
    if not len(sid):
        return out
    width = int(other.max()) + 2
    key = sid * width + (other + 1)
    pairs, inv = np.unique(key, return_inverse=True)
    w = np.bincount(inv.reshape(-1), weights=weight, minlength=len(pairs))
    order = np.lexsort((-w, pairs // width))
    for k in pairs[order].tolist():
        s, v = divmod(k, width)
        if v:
            out[s].append(v - 1)
    return out


def sessions(
    ledger: Ledger, selection: Filter, offset: int = 0, limit: int = 100, sort: str | None = None
) -> dict[str, Any]:
    """`usage/sessions`: {"total": sessions in the filter, "sessions": the page, sorted by `sort`
    (a column of SORT_COLUMNS, `-column` descending; default `-start`, newest first),
    "withoutSession": the filter's records that name no session}."""
    offset, limit, column, descending = check_page(offset, limit, sort)
    rows, ids, tools, loose = gather(ledger, selection)
    n, sid = len(ids), rows.sid
    total = rows.tokens[:4].sum(axis=0)
    messages = _sum(sid, n).astype(np.int64)
    start = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    end = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(start, sid, rows.ts)
    np.maximum.at(end, sid, rows.ts)
    priced = ~np.isnan(rows.cost)
    cost = _sum(sid, n, rows.cost, priced)
    unpriced = _sum(sid, n, where=~priced).astype(np.int64)
    has_credits = ~np.isnan(rows.credits)
    credits = _sum(sid, n, rows.credits, has_credits)
    tokens = np.array([_sum(sid, n, rows.tokens[i].astype(np.float64)) for i in range(len(TOKEN_FIELDS))])
    tok_total = tokens[:4].sum(axis=0)
    sub = rows.sub
    sub_messages = _sum(sid, n, where=sub).astype(np.int64)
    sub_tokens = _sum(sid, n, total.astype(np.float64), sub)
    sub_cost = _sum(sid, n, rows.cost, sub & priced)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(cost > 0, sub_cost / np.where(cost > 0, cost, 1), sub_tokens / np.maximum(tok_total, 1))
    share = np.where(sub_messages > 0, share, 0.0)
    key = {
        "start": start,
        "lastActivity": end,
        "duration": end - start,
        "messages": messages,
        "totalTokens": tok_total,
        "costUsd": np.where(unpriced == messages, -1.0, cost),  # unpriced sorts below $0
        "subagentShare": share,
    }[column].astype(np.float64)
    id_rank = np.empty(n, dtype=np.float64)
    id_rank[sorted(range(n), key=ids.__getitem__)] = np.arange(n)
    order = np.lexsort((-id_rank, -start, -key) if descending else (id_rank, start, key))
    page = order[offset : offset + limit]
    page_set = np.zeros(n, dtype=bool)
    page_set[page] = True
    in_page = page_set[sid] if len(sid) else np.zeros(0, dtype=bool)
    weight = total.astype(np.float64)[in_page]
    models = _members(sid[in_page], rows.model[in_page], weight, n)
    projects = _members(sid[in_page], rows.project[in_page], weight, n)
    tool_lists = _members(sid[in_page], rows.tool[in_page], weight, n)
    out = []
    for s in page.tolist():
        t = [int(v) for v in tokens[:, s].tolist()]
        c = None if unpriced[s] == messages[s] else round(float(cost[s]), MONEY_DIGITS)
        out.append(
            {
                "session": ids[s],
                "tools": [tools[i] for i in tool_lists[s]],
                "project": ledger.projects.names[projects[s][0]] if projects[s] else None,
                "projects": [ledger.projects.names[i] for i in projects[s]],
                "models": [ledger.models.names[i] for i in models[s]],
                "start": days.iso_timestamp(int(start[s]), ledger.tz),
                "lastActivity": days.iso_timestamp(int(end[s]), ledger.tz),
                "durationMs": int(end[s] - start[s]),
                "messages": int(messages[s]),
                **dict(zip(TOKEN_FIELDS, t)),
                "totalTokens": sum(t[: len(TOTAL_TOKEN_FIELDS)]),
                "costUsd": c,
                "credits": round(float(credits[s]), MONEY_DIGITS),
                "unpricedMessages": int(unpriced[s]),
                "subagents": {
                    "messages": int(sub_messages[s]),
                    "totalTokens": int(sub_tokens[s]),
                    "costUsd": round(float(sub_cost[s]), MONEY_DIGITS),
                },
                "subagentShare": round(float(share[s]), 4),
            }
        )
    return {"total": n, "sessions": out, "withoutSession": loose}
