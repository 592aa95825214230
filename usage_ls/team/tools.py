"""`scope: "team"` by tool: the protocol's `tool` filter and `byTool` split over the team
database's `records` (its rollups have no tool), and `usage/tools` (the tools with records).

A record is a tool's when its `feature` is the tool's name or starts with it and a space (as
locally: queries.row_mask); a record's tool is its feature's first word unless that is a
`key=value` one (attribution.tool_of), else by_tool.NO_TOOL. The database sums the filter's
records per day × model × billing and the one dimension the answer groups by (project or
user), and per tool when `byTool` asks; the sums become the `Chunk` rows the local answers
are built from (queries.py, periods.py), so the answers have the local shapes. The records
table keeps each record once (its primary key), so each is counted once.

Row-level security applies as to every answer read from `records` (docs/team.md): a reader's
login sums every user's records, a member's only its own user's, while the rollup answers
(without `tool`) show the whole team's totals to both.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from usage_ls import by_tool, days, periods, queries
from usage_ls.attribution import tool_of
from usage_ls.queries import Filter
from usage_ls.store.columns import Dims
from usage_ls.store.rollup import METRICS, Chunk
from usage_ls.team import records
from usage_ls.team.query import Reader, where

_COLUMNS = {  # a record's sums, in the order of rollup.METRICS, summed exactly, sent as float8
    "messages": "count(*)::float8",
    "inputTokens": "sum(input_tokens)::float8",
    "outputTokens": "sum(output_tokens)::float8",
    "cacheReadTokens": "sum(cache_read_tokens)::float8",
    "cacheWriteTokens": "sum(cache_write_tokens)::float8",
    "costUsd": "coalesce(sum(cost_usd), 0)::float8",
    "credits": "coalesce(sum(credits), 0)::float8",
    "unpricedMessages": "(count(*) FILTER (WHERE cost_usd IS NULL))::float8",
}
assert tuple(_COLUMNS) == METRICS
# a feature's first word, grouped by in the database; attribution.tool_of makes it a tool here
# (none for an empty or key=value word): one function a row (a CASE over it cost ~4x)
FIRST_WORD = "split_part(feature, ' ', 1)"


class _Names:
    """What the local answers read of a ledger: the names the rows' ids stand for."""

    def __init__(self) -> None:
        self.models, self.projects, self.users = Dims(), Dims(), Dims()


class Rows:
    """The filter's records summed per day × model × billing (× `column`) (× tool): `chunk`,
    the names its ids stand for (`names`), and with `split`, each row's tool (an index into
    `tools`)."""

    def __init__(self, reader: Reader, f: Filter, column: str | None = None, split: bool = False):
        sql, args = where(f)
        more, more_args = records.of_tool(f.tool)
        keys = ["day - %s::date", "model", "billing"]
        if column is not None:
            keys.append(f'"{column}"')
        if split:
            keys.append(FIRST_WORD)
        groups = ", ".join(str(i + 1) for i in range(len(keys)))
        rows = reader.rows(
            f"SELECT {', '.join(keys)}, {', '.join(_COLUMNS.values())} FROM usage_ls.records "
            f"WHERE {sql}{more} GROUP BY {groups}",
            [f.start, *args, *more_args],
        )
        self.names = _Names()
        n, width = len(rows), len(keys)
        lo = days.ordinal(f.start)
        day = np.fromiter((lo + r[0] for r in rows), dtype=np.int32, count=n)
        model = np.fromiter((self.names.models.id(r[1]) for r in rows), dtype=np.int32, count=n)
        billing = np.fromiter((r[2] == "byok" for r in rows), dtype=np.int8, count=n)
        zero = np.zeros(n, dtype=np.int32)
        project, user = zero, zero
        if column == "project":
            project = np.fromiter((self.names.projects.id(r[3]) for r in rows), dtype=np.int32, count=n)
        if column == "user":
            user = np.fromiter((self.names.users.id(r[3]) for r in rows), dtype=np.int32, count=n)
        m = np.array([r[width:] for r in rows], dtype=np.float64).reshape(n, len(METRICS)).T
        self.chunk = Chunk(day, model, project, user, billing, np.ascontiguousarray(m))
        index: dict[str, int] = {}
        names = {word: tool_of(word) or by_tool.NO_TOOL for word in {r[width - 1] for r in rows}} if split else {}
        self.tool_ids = np.fromiter(
            (index.setdefault(names.get(r[width - 1], by_tool.NO_TOOL), len(index)) for r in rows),
            dtype=np.int32,
            count=n,
        )
        self.tools: list[str] = list(index)
        self.start = f.start

    def split(self, period_of_day: np.ndarray, nper: int) -> list[list[tuple[str, np.ndarray]]]:
        """by_tool.split over these rows."""
        return by_tool.split_rows(self.chunk, self.tool_ids, self.tools, self.start, period_of_day, nper)


def answer(name: str, reader: Reader, f: Filter, split: bool, week_start: str) -> dict[str, Any]:
    """summary, token_split, projects, users, daily or periods ("week", "month", "day") with
    the filter's `tool` and/or `byTool` (`split`), from the records."""
    column = {"projects": "project", "users": "user"}.get(name)
    rows = Rows(reader, f, column, split and name in ("daily", "week", "month", "day"))
    names: Any = rows.names
    if name == "summary":
        return queries.summary(rows.chunk)
    if name in ("token_split", "projects", "users"):
        result: dict[str, Any] = getattr(queries, name)(names, rows.chunk)
        return result
    if name == "daily":
        ndays = days.ordinal(f.end) - days.ordinal(f.start) + 1
        tools = rows.split(np.arange(ndays), ndays) if split else None
        return queries.daily(names, rows.chunk, f, tools)
    return periods.periods(names, rows.chunk, f, name, week_start, split, rows.split if split else None)


def present(reader: Reader, f: Filter) -> dict[str, Any]:
    """`usage/tools` of the team: the tools with records in the filter's days, sorted."""
    found = reader.rows(
        f"SELECT DISTINCT {FIRST_WORD} FROM usage_ls.records WHERE day BETWEEN %s AND %s", [f.start, f.end]
    )
    return {"tools": sorted({tool for r in found if (tool := tool_of(r[0]))})}
