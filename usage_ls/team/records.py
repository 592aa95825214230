"""`scope: "team"` answers that need single records: `usage/interactions`, `usage/sessions` and
`usage/attribution`, read from the team database's `records` (partitioned by month: a range of
days reads only its months' partitions; `records_ts`, schema version 2, orders and pages
interactions by time without sorting the range).

The answers have the local ones' shapes (queries.interactions, session_list.sessions,
attributed.split). Sessions and attribution are grouped in the database (per session × model
× project × feature, per feature) and finished here with the local code's rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np

from usage_ls import attributed, days
from usage_ls.errors import InvalidParams, describe
from usage_ls.model import TOKEN_FIELDS
from usage_ls.queries import MONEY_DIGITS, SORT_COLUMNS, Filter
from usage_ls.session_list import check_page, is_subagent, tool_of
from usage_ls.team.query import Reader, where

_TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
_TOTAL = " + ".join(_TOKENS)
_TS_MS = "round(extract(epoch FROM ts) * 1000)::bigint"
_KEYS = {  # the local sort keys (queries._sort_key), as SQL ("|" between two keys)
    "timestamp": "ts",
    "date": "ts",
    "project": 'lower(project) COLLATE "C"|project COLLATE "C"',
    "model": 'lower(model) COLLATE "C"|model COLLATE "C"',
    "user": 'lower("user") COLLATE "C"|"user" COLLATE "C"',
    "billing": "billing = 'byok'",
    "inputTokens": "input_tokens",
    "outputTokens": "output_tokens",
    "cacheReadTokens": "cache_read_tokens",
    "cacheWriteTokens": "cache_write_tokens",
    "totalTokens": f"({_TOTAL})",
    "costUsd": "coalesce(cost_usd, -1)",  # unpriced sorts below $0
    "credits": "coalesce(credits, -1)",
}
assert set(_KEYS) == set(SORT_COLUMNS)
_ROW = (
    f'id, {_TS_MS}, day::text, model, provider, billing, project, "user", {", ".join(_TOKENS)}, '
    "cache_write_1h_tokens, cost_usd::float8, cost_source, credits::float8, feature, session"
)


def _page(params: dict[str, Any]) -> tuple[int, int]:
    offset, limit = params.get("offset", 0), params.get("limit", 100)
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidParams("offset", f"expected an integer >= 0, got {describe(offset)}")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= 10_000:
        raise InvalidParams("limit", f"expected an integer 0..10000, got {describe(limit)}")
    return offset, limit


def interactions(reader: Reader, f: Filter, params: dict[str, Any], tz: dt.tzinfo) -> dict[str, Any]:
    """The filter's records (of `session`, given one), sorted by `sort` and paged: the shape of
    queries.interactions. Ties are broken by time, then id."""
    sort = params.get("sort") or "-timestamp"
    if not isinstance(sort, str):
        raise InvalidParams("sort", f"expected a column name, got {describe(sort)}")
    column = sort.lstrip("-+")
    if column not in _KEYS:
        raise InvalidParams("sort", f"unknown column {describe(column)} (known: {', '.join(SORT_COLUMNS)})")
    offset, limit = _page(params)
    sql, args = where(f)
    session = params.get("session")
    if session is not None:
        if not isinstance(session, str) or not session or len(session) > 200:
            raise InvalidParams("session", f"expected a session id (1..200 characters), got {describe(session)}")
        sql += " AND session = %s"
        args.append(session)
    way = " DESC" if sort.startswith("-") else ""
    order = ", ".join(f"{k}{way}" for k in _KEYS[column].split("|")) + f", ts{way}, id{way}"
    total = reader.rows(f"SELECT count(*) FROM usage_ls.records WHERE {sql}", args)[0][0]
    rows = []
    if limit and offset < total:
        rows = reader.rows(
            f"SELECT {_ROW} FROM usage_ls.records WHERE {sql} ORDER BY {order} LIMIT %s OFFSET %s",
            [*args, limit, offset],
        )
    return {"total": int(total), "rows": [_row(r, tz) for r in rows]}


def _row(r: tuple[Any, ...], tz: dt.tzinfo) -> dict[str, Any]:
    tokens = [int(v) for v in r[8:13]]
    return {
        "id": r[0],
        "timestamp": days.iso_timestamp(int(r[1]), tz),
        "date": r[2],
        "model": r[3],
        "provider": r[4],
        "billing": r[5],
        "project": r[6],
        "user": r[7],
        **dict(zip(TOKEN_FIELDS, tokens)),
        "totalTokens": sum(tokens[:4]),
        "costUsd": r[13],
        "costSource": r[14],
        "credits": r[15],
        "feature": r[16],
        "session": r[17],
    }


_SESSION_PARTS = f"""
SELECT session, model, project, feature, min({_TS_MS}), max({_TS_MS}), count(*),
       {", ".join(f"sum({c})" for c in (*_TOKENS, "cache_write_1h_tokens"))},
       coalesce(sum(cost_usd), 0)::float8, count(*) FILTER (WHERE cost_usd IS NULL), coalesce(sum(credits), 0)::float8
FROM usage_ls.records WHERE {{where}} GROUP BY session, model, project, feature
"""


def sessions(reader: Reader, f: Filter, params: dict[str, Any], tz: dt.tzinfo) -> dict[str, Any]:
    """The filter's conversations, paged: the shape of session_list.sessions. The database sums
    each session's records per model, project and feature; the rest is done here."""
    offset, limit, column, descending = check_page(
        params.get("offset", 0), params.get("limit", 100), params.get("sort")
    )
    sql, args = where(f)
    loose = {"messages": 0, "totalTokens": 0, "costUsd": 0.0}
    acc: dict[str, dict[str, Any]] = {}
    for r in reader.rows(_SESSION_PARTS.format(where=sql), args):
        session, model, project, feature, start, end, n = r[:7]
        tokens = [int(v) for v in r[7:12]]
        cost, unpriced, credits = float(r[12]), int(r[13]), float(r[14])
        total = sum(tokens[:4])
        if session is None:
            loose["messages"] += int(n)
            loose["totalTokens"] += total
            loose["costUsd"] += cost
            continue
        s = acc.setdefault(
            session,
            {"start": start, "end": end, "n": 0, "tokens": [0] * 5, "cost": 0.0, "unpriced": 0, "credits": 0.0}
            | {"sub": [0, 0, 0.0], "models": {}, "projects": {}, "tools": {}},
        )
        s["start"], s["end"] = min(s["start"], start), max(s["end"], end)
        s["n"] += int(n)
        s["tokens"] = [a + b for a, b in zip(s["tokens"], tokens)]
        s["cost"] += cost
        s["unpriced"] += unpriced
        s["credits"] += credits
        if is_subagent(feature):
            s["sub"] = [s["sub"][0] + int(n), s["sub"][1] + total, s["sub"][2] + cost]
        for key, name in (("models", model), ("projects", project), ("tools", tool_of(feature))):
            if name is not None:
                s[key][name] = s[key].get(name, 0) + total
    loose["costUsd"] = round(loose["costUsd"], MONEY_DIGITS)
    out = [_session(name, s, tz) for name, s in acc.items()]
    sort_key: Callable[[dict[str, Any]], Any] = {
        "start": lambda o: o["_start"],
        "lastActivity": lambda o: o["_end"],
        "duration": lambda o: o["durationMs"],
        "messages": lambda o: o["messages"],
        "totalTokens": lambda o: o["totalTokens"],
        "costUsd": lambda o: -1.0 if o["costUsd"] is None else o["costUsd"],
        "subagentShare": lambda o: o["subagentShare"],
    }[column]
    out.sort(key=lambda o: (sort_key(o), o["_start"], o["session"]), reverse=descending)
    page = out[offset : offset + limit]
    for o in page:
        del o["_start"], o["_end"]
    return {"total": len(out), "sessions": page, "withoutSession": loose}


def _heaviest(weights: dict[str, int]) -> list[str]:
    return [name for name, _ in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))]


def _session(name: str, s: dict[str, Any], tz: dt.tzinfo) -> dict[str, Any]:
    total = sum(s["tokens"][:4])
    sub_n, sub_tokens, sub_cost = s["sub"]
    if not sub_n:
        share = 0.0
    else:
        share = sub_cost / s["cost"] if s["cost"] > 0 else sub_tokens / max(total, 1)
    projects = _heaviest(s["projects"])
    return {
        "session": name,
        "tools": _heaviest(s["tools"]),
        "project": projects[0] if projects else None,
        "projects": projects,
        "models": _heaviest(s["models"]),
        "start": days.iso_timestamp(int(s["start"]), tz),
        "lastActivity": days.iso_timestamp(int(s["end"]), tz),
        "durationMs": int(s["end"] - s["start"]),
        "messages": s["n"],
        **dict(zip(TOKEN_FIELDS, s["tokens"])),
        "totalTokens": total,
        "costUsd": None if s["unpriced"] == s["n"] else round(s["cost"], MONEY_DIGITS),
        "credits": round(s["credits"], MONEY_DIGITS),
        "unpricedMessages": s["unpriced"],
        "subagents": {"messages": sub_n, "totalTokens": sub_tokens, "costUsd": round(sub_cost, MONEY_DIGITS)},
        "subagentShare": round(float(share), 4),
        "_start": s["start"],
        "_end": s["end"],
    }


def attribution(reader: Reader, f: Filter, params: dict[str, Any]) -> dict[str, Any]:
    """Cost and tokens per agent, skill, plugin, MCP server and query source: the database sums
    per feature string, attributed.by_feature does the rest as it does locally."""
    by, tool = attributed.parse_params(params)
    sql, args = where(f)
    rows = reader.rows(
        f"SELECT feature, count(*), {', '.join(f'sum({c})' for c in _TOKENS)}, "
        "coalesce(sum(cost_usd), 0)::float8, coalesce(sum(credits), 0)::float8, "
        f"count(*) FILTER (WHERE cost_usd IS NULL) FROM usage_ls.records WHERE {sql} GROUP BY feature",
        args,
    )
    sums = {r[0]: np.array([float(v) for v in r[1:]]) for r in rows}
    return attributed.by_feature(sums, by, tool)
