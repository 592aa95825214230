"""`scope: "team"` answers that need single records: `usage/interactions`, `usage/sessions` and
`usage/attribution`, read from the team database's `records` (partitioned by month: a range of
days reads only its months' partitions; `records_ts`, schema version 3, orders and pages
interactions by time without sorting the range).

The answers have the local ones' shapes (queries.interactions, session_list.sessions,
attributed.split). Sessions and attribution are grouped in the database (per session × model
× project × feature, per feature) and finished here with the local code's rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from usage_ls import attributed, days
from usage_ls.errors import InvalidParams, describe
from usage_ls.model import TOKEN_FIELDS, TOTAL_TOKEN_FIELDS
from usage_ls.queries import MONEY_DIGITS, SORT_COLUMNS, Filter
from usage_ls.session_list import check_page
from usage_ls.store.columns import Dims, RecordColumns
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


class Found(NamedTuple):
    """Records as the local code holds a day's: columns, and the names their ids stand for."""

    cols: RecordColumns
    models: Dims
    projects: Dims
    users: Dims


def columns(reader: Reader, f: Filter, more: str = "", args: tuple[Any, ...] = ()) -> Found:
    """The filter's records (and `more`: " AND …" SQL with its `args`) as RecordColumns, in
    time order: the local code (sessions.py, insights.py) runs on them as on a day's columns."""
    models, projects, users = Dims(), Dims(), Dims()
    return Found(_read(reader, f, more, args, models, projects, users), models, projects, users)


def _read(
    reader: Reader, f: Filter, more: str, args: tuple[Any, ...], models: Dims, projects: Dims, users: Dims
) -> RecordColumns:
    return RecordColumns.build(stored_records(reader, f, more, args), models, projects, users)


def stored_records(reader: Reader, f: Filter, more: str = "", args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """The filter's records (and `more`), in time order, as the ledger stores them."""
    sql, where_args = where(f)
    rows = reader.rows(f"SELECT {_ROW} FROM usage_ls.records WHERE {sql}{more} ORDER BY ts, id", [*where_args, *args])
    return [_stored(r) for r in rows]


def _stored(r: tuple[Any, ...]) -> dict[str, Any]:
    """A row of `_ROW` as the ledger stores a record (model.py)."""
    return {
        "id": r[0],
        "ts": int(r[1]),
        "date": r[2],
        "model": r[3],
        "provider": r[4],
        "billing": r[5],
        "project": r[6],
        "user": r[7],
        **dict(zip(TOKEN_FIELDS, (int(v) for v in r[8:13]))),
        "costUsd": r[13],
        "costSource": r[14],
        "credits": r[15],
        "feature": r[16],
        "session": r[17],
    }


def of_tool(tool: str | None) -> tuple[str, tuple[Any, ...]]:
    """SQL for one tool's records, attributed ones too (queries.row_mask's `feature`)."""
    if tool is None:
        return "", ()
    return " AND (feature = %s OR left(feature, %s) = %s)", (tool, len(tool) + 1, tool + " ")


def _where(f: Filter) -> tuple[str, list[Any]]:
    """query.where, and the filter's `tool`."""
    sql, args = where(f)
    more, more_args = of_tool(f.tool)
    return sql + more, [*args, *more_args]


class DayLoader:
    """The filter's records a day at a time (a record's day is its machine's), as blocks.gather
    asks for them: `read` gets a range at once, other days are read when asked; the names
    (`models`…) are shared by every day's columns."""

    def __init__(self, reader: Reader, f: Filter, more: str = "", args: tuple[Any, ...] = ()):
        self.reader, self.f, self.more, self.args = reader, f, more, args
        self.models, self.projects, self.users = Dims(), Dims(), Dims()
        self.days: dict[str, RecordColumns] = {}

    def read(self, first: str, last: str) -> None:
        f = Filter(first, last, self.f.project, self.f.user, self.f.model, self.f.billing)
        cols = _read(self.reader, f, self.more, self.args, self.models, self.projects, self.users)
        dates = np.array([cols.strings.get(j) for j in cols.text[1].tolist()], dtype=object)
        for day in days.day_range(first, last):
            self.days[day] = cols.take(dates == day) if len(cols) else cols

    def __call__(self, day: str) -> RecordColumns:
        if day not in self.days:
            self.read(day, day)
        return self.days[day]


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
    sql, args = _where(f)
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
    """A row of `_ROW` as usage/interactions shows a record."""
    stored = _stored(r)
    out = {"id": stored["id"], "timestamp": days.iso_timestamp(stored["ts"], tz)}
    for key, value in stored.items():
        if key not in ("id", "ts"):
            out[key] = value
        if key == TOKEN_FIELDS[-1]:
            out["totalTokens"] = sum(stored[k] for k in TOTAL_TOKEN_FIELDS)
    return out


_SUB = "(feature || ' ') LIKE '%% query=subagent %%'"  # session_list.is_subagent: a word after the first
_SESSIONS = f"""
SELECT session, min({_TS_MS}), max({_TS_MS}), count(*),
       {", ".join(f"sum({c})" for c in (*_TOKENS, "cache_write_1h_tokens"))},
       coalesce(sum(cost_usd), 0)::float8, count(*) FILTER (WHERE cost_usd IS NULL), coalesce(sum(credits), 0)::float8,
       count(*) FILTER (WHERE {_SUB}), coalesce(sum({_TOTAL}) FILTER (WHERE {_SUB}), 0),
       coalesce(sum(cost_usd) FILTER (WHERE {_SUB}), 0)::float8
FROM usage_ls.records WHERE {{where}} GROUP BY session
"""
_MEMBERS = f"""
SELECT session, model, project, nullif(split_part(feature, ' ', 1), ''), sum({_TOTAL})
FROM usage_ls.records WHERE {{where}} AND session = ANY(%s) GROUP BY 1, 2, 3, 4
"""


def sessions(reader: Reader, f: Filter, params: dict[str, Any], tz: dt.tzinfo) -> dict[str, Any]:
    """The filter's conversations, paged: the shape of session_list.sessions. The database sums
    each session's records; the page's sessions' models, projects and tools are asked next."""
    offset, limit, column, descending = check_page(
        params.get("offset", 0), params.get("limit", 100), params.get("sort")
    )
    sql, args = _where(f)
    loose = {"messages": 0, "totalTokens": 0, "costUsd": 0.0}
    out = []
    for r in reader.rows(_SESSIONS.format(where=sql), args):
        tokens = [int(v) for v in r[4:9]]
        if r[0] is None:
            loose = {"messages": int(r[3]), "totalTokens": sum(tokens[:4]), "costUsd": round(float(r[9]), MONEY_DIGITS)}
            continue
        out.append(_session(r, tokens, tz))
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
    members: dict[str, dict[str, dict[str, int]]] = {o["session"]: {"m": {}, "p": {}, "t": {}} for o in page}
    if page:
        for session, model, project, tool, weight in reader.rows(_MEMBERS.format(where=sql), [*args, list(members)]):
            for key, name in (("m", model), ("p", project), ("t", tool)):
                if name is not None:
                    members[session][key][name] = members[session][key].get(name, 0) + int(weight)
    for o in page:
        m = members[o.pop("session_")]
        projects = _heaviest(m["p"])
        o.update(tools=_heaviest(m["t"]), project=projects[0] if projects else None, projects=projects)
        o["models"] = _heaviest(m["m"])
        del o["_start"], o["_end"]
    return {"total": len(out), "sessions": [_ordered(o) for o in page], "withoutSession": loose}


_ORDER = ("session", "tools", "project", "projects", "models", "start", "lastActivity", "durationMs", "messages")


def _ordered(o: dict[str, Any]) -> dict[str, Any]:
    """The keys in session_list's order."""
    return {**{k: o[k] for k in _ORDER}, **{k: v for k, v in o.items() if k not in _ORDER}}


def _heaviest(weights: dict[str, int]) -> list[str]:
    return [name for name, _ in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))]


def _session(r: tuple[Any, ...], tokens: list[int], tz: dt.tzinfo) -> dict[str, Any]:
    session, start, end, n = r[0], int(r[1]), int(r[2]), int(r[3])
    cost, unpriced, credits = float(r[9]), int(r[10]), float(r[11])
    sub_n, sub_tokens, sub_cost = int(r[12]), int(r[13]), float(r[14])
    total = sum(tokens[:4])
    if not sub_n:
        share = 0.0
    else:
        share = sub_cost / cost if cost > 0 else sub_tokens / max(total, 1)
    return {
        "session": session,
        "session_": session,
        "start": days.iso_timestamp(start, tz),
        "lastActivity": days.iso_timestamp(end, tz),
        "durationMs": end - start,
        "messages": n,
        **dict(zip(TOKEN_FIELDS, tokens)),
        "totalTokens": total,
        "costUsd": None if unpriced == n else round(cost, MONEY_DIGITS),
        "credits": round(credits, MONEY_DIGITS),
        "unpricedMessages": unpriced,
        "subagents": {"messages": sub_n, "totalTokens": sub_tokens, "costUsd": round(sub_cost, MONEY_DIGITS)},
        "subagentShare": round(float(share), 4),
        "_start": start,
        "_end": end,
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
