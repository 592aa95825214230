"""`scope: "team"`: the protocol's answers from the team database's daily rollups.

Only the rollups are read, never the records, and of them the smallest that holds the answer
(schema.py): `daily_models` (day × model × billing) unless a user or project is asked for or
grouped by; `daily_users` (day × user × model × billing) for one user or by user;
`daily_projects` likewise for projects; `daily` (day × user × project × model × billing,
indexed by user and by project) only when both are. A year is then a few thousand rows,
whatever the number of records. The answers have the shapes of the local ones (queries.py), so
every face renders them as is. Money is summed as `numeric` in the database (exact), then
rounded as the local answers are.
"""

from __future__ import annotations

import threading
import time
from typing import Any, cast

import numpy as np

from usage_ls import days
from usage_ls import periods as periods_of
from usage_ls.model import TOTAL_TOKEN_FIELDS
from usage_ls.queries import MONEY_DIGITS, Filter, totals_rows
from usage_ls.store.rollup import METRICS, Chunk
from usage_ls.team import db, schema
from usage_ls.team.db import TeamError

# the rollup's columns in the order of rollup.METRICS
# summed exactly in the database (bigint, numeric), sent as float8
_SUMS = tuple(f"coalesce(sum({c}), 0)::float8" for c in schema.ROLLUP_COLUMNS)
assert len(_SUMS) == len(METRICS)
_ROW = tuple(c.replace("coalesce(sum(", "(").replace("), 0)::", ")::") for c in _SUMS)  # one row's, as sent
_MESSAGES, _COST, _CREDITS, _UNPRICED = (
    METRICS.index(k) for k in ("messages", "costUsd", "credits", "unpricedMessages")
)
_TOKENS = [METRICS.index(k) for k in TOTAL_TOKEN_FIELDS]


class Reader:
    """One connection to the team database, opened on first use and again after it broke. A
    failed connect is remembered for DOWN_S: a page asking ten questions of a database that
    is unreachable (each connect waiting up to db.CONNECT_TIMEOUT_S) hears so at once."""

    DOWN_S = 15.0

    def __init__(self, conninfo: str):
        self.conninfo = conninfo
        self.conn: Any = None
        self.lock = threading.Lock()
        self.down: tuple[float, str] | None = None  # (when, the error) of the last failed connect

    def _connect(self) -> Any:
        if self.down is not None and time.monotonic() - self.down[0] < self.DOWN_S:
            raise TeamError(self.down[1])
        try:
            conn = db.connect(self.conninfo)
        except TeamError as exc:
            self.down = (time.monotonic(), str(exc))
            raise
        self.down = None
        # answers by tool sum a year of records per day x model x tool (team/tools.py): at the
        # default 4 MB PostgreSQL sorted them on disk and compiled the plan (JIT, ~0.25 s), 1.4 s
        # in all at 1M records; in memory, uncompiled, a fraction (docs/performance.md)
        conn.execute("SET work_mem = '32MB'")
        conn.execute("SET jit = off")
        return conn

    def rows(self, sql: str, args: list[Any], binary: bool = False) -> list[tuple[Any, ...]]:
        """The statement's rows; `binary`: in PostgreSQL's binary format (a year's float8
        columns arrive ~3x faster than as text, which the server prints and we parse)."""
        with self.lock:
            for attempt in (1, 2):  # a connection the server closed since: once more on a new one
                if self.conn is None or self.conn.closed:
                    conn = self._connect()
                    try:
                        schema.prepare(conn, migrate=False)  # a schema newer than we know is not read
                    except BaseException:
                        conn.close()
                        raise
                    self.conn = conn
                try:
                    return list(self.conn.execute(sql, args, binary=binary).fetchall())
                except Exception as exc:
                    broken = self.conn.broken or self.conn.closed
                    if broken:
                        self.conn.close()
                        self.conn = None
                    if attempt == 2 or not broken:
                        raise TeamError(f"the team database did not answer: {db.said(exc, self.conninfo)}") from None
            raise AssertionError("unreachable")

    def close(self) -> None:
        with self.lock:
            if self.conn is not None:
                self.conn.close()
                self.conn = None


def where(f: Filter) -> tuple[str, list[Any]]:
    sql, args = ["day BETWEEN %s AND %s"], [f.start, f.end]
    for column, value in (("user", f.user), ("project", f.project), ("model", f.model), ("billing", f.billing)):
        if value is not None:
            sql.append(f'"{column}" = %s')
            args.append(value)
    return " AND ".join(sql), args


def _table(f: Filter, column: str = "model") -> str:
    """The rollup to read: the one keyed by what the filter and the grouping need of user and
    project (schema.py); each holds a row per day × model × billing of what it is keyed by."""
    by_user = f.user is not None or column == "user"
    by_project = f.project is not None or column == "project"
    if by_user and by_project:
        return "usage_ls.daily"
    return "usage_ls.daily_users" if by_user else "usage_ls.daily_projects" if by_project else "usage_ls.daily_models"


def _sums(row: tuple[Any, ...]) -> list[float]:
    return list(row)


def summary(reader: Reader, f: Filter) -> dict[str, Any]:
    where_sql, args = where(f)
    rows = reader.rows(f"SELECT {', '.join(_SUMS)} FROM {_table(f)} WHERE {where_sql}", args)
    return totals_rows(np.array([_sums(rows[0])]))[0]


def _by(reader: Reader, f: Filter, column: str, label: str) -> list[dict[str, Any]]:
    where_sql, args = where(f)
    rows = reader.rows(
        f'SELECT "{column}", {", ".join(_SUMS)} FROM {_table(f, column)} WHERE {where_sql} GROUP BY "{column}"', args
    )
    out = [{label: row[0], **t} for row, t in zip(rows, totals_rows(np.array([_sums(r[1:]) for r in rows])))]
    out.sort(key=lambda r: (-r["totalTokens"], -(r["costUsd"] or 0.0), r[label]))
    return out


def token_split(reader: Reader, f: Filter) -> dict[str, Any]:
    return {"models": _by(reader, f, "model", "model")}


def projects(reader: Reader, f: Filter) -> dict[str, Any]:
    return {"projects": _by(reader, f, "project", "project")}


def users(reader: Reader, f: Filter) -> dict[str, Any]:
    return {"users": _by(reader, f, "user", "user")}


def daily(reader: Reader, f: Filter) -> dict[str, Any]:
    where_sql, args = where(f)
    # Every rollup has a row per day × model × billing of the filter's user or project (`daily`
    # too, when both are given): the rows are sent as they are and added up below, not by an
    # aggregate in the database (per-group numeric state: 17-30 ms for a year's 3,000 groups).
    select = f"SELECT day - %s::date, model, {', '.join(_ROW)} FROM {_table(f)} WHERE {where_sql}"
    rows = reader.rows(select, [f.start, *args], binary=True)  # each day as its offset from the range's first
    lo, hi = days.ordinal(f.start), days.ordinal(f.end)
    ndays = hi - lo + 1
    at = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    index: dict[str, int] = {}
    seen = np.fromiter((index.setdefault(row[1], len(index)) for row in rows), dtype=np.int64, count=len(rows))
    names = sorted(index)  # each day's models in name order, whatever order the rows came in
    rank = np.empty(len(names), dtype=np.int64)
    rank[[index[name] for name in names]] = np.arange(len(names))
    model = rank[seen]
    sums = np.array([row[2:] for row in rows], dtype=np.float64).reshape(len(rows), len(METRICS))
    # day × model cells, each metric added up by bincount (np.add.at per row was slower)
    cell = at * max(1, len(names)) + model
    nbins = ndays * max(1, len(names))
    per_cell = np.stack([np.bincount(cell, weights=sums[:, k], minlength=nbins) for k in range(len(METRICS))], axis=1)
    per_day = per_cell.reshape(ndays, max(1, len(names)), len(METRICS)).sum(axis=1)
    out = [{"date": days.from_ordinal(lo + d), **t, "byModel": {}} for d, t in enumerate(totals_rows(per_day))]
    # each day's models: only the four numbers the answer has, a list per column, then one pass
    used = np.flatnonzero(per_cell[:, _MESSAGES])
    cells = per_cell[used]
    messages = cells[:, _MESSAGES].astype(np.int64).tolist()
    unpriced = cells[:, _UNPRICED].astype(np.int64).tolist()
    credits = np.round(cells[:, _CREDITS], MONEY_DIGITS).tolist()
    cost = np.round(cells[:, _COST], MONEY_DIGITS).tolist()
    tokens = cells[:, _TOKENS].sum(axis=1).astype(np.int64).tolist()
    width = max(1, len(names))
    for j, flat in enumerate(used.tolist()):
        d, m = divmod(flat, width)
        out[d]["byModel"][names[m]] = {
            "credits": credits[j],
            "costUsd": None if unpriced[j] == messages[j] else cost[j],
            "totalTokens": tokens[j],
            "messages": messages[j],
        }
    return {"days": out}


def budget_totals(reader: Reader, start: str, today: str) -> list[tuple[str, str, bool, float, float]]:
    """(user, billing, is today, credits, cost) from `start` to `today`: what the team's budgets
    and other people's use (budgets.py), from the rollup like every team answer."""
    rows = reader.rows(
        'SELECT "user", billing, day = %s::date, coalesce(sum(credits), 0)::float8, coalesce(sum(cost_usd), 0)::float8 '
        "FROM usage_ls.daily_users WHERE day BETWEEN %s AND %s GROUP BY 1, 2, 3",
        [today, start, today],
    )
    return [(str(r[0]), str(r[1]), bool(r[2]), float(r[3]), float(r[4])) for r in rows]


def periods(reader: Reader, f: Filter, kind: str, week_start: str) -> dict[str, Any]:
    """Weeks, months (or days with their models): periods.periods over the rollup's rows."""
    where_sql, args = where(f)
    rows = reader.rows(
        f"SELECT day::text, model, {', '.join(_SUMS)} FROM {_table(f)} WHERE {where_sql} GROUP BY day, model",
        args,
    )
    names = sorted({r[1] for r in rows})
    index = {name: i for i, name in enumerate(names)}
    ids = np.array([index[r[1]] for r in rows], dtype=np.int32)
    zero = np.zeros(len(rows), dtype=np.int32)
    chunk = Chunk(
        np.array([days.ordinal(r[0]) for r in rows], dtype=np.int32),
        ids,
        zero,
        zero,
        zero.astype(np.int8),
        np.array([_sums(r[2:]) for r in rows], dtype=np.float64).T.reshape(len(METRICS), len(rows)),
    )
    return periods_of.periods(cast(Any, _Names(names)), chunk, f, kind, week_start)


class _Names:
    """What periods.periods reads of a ledger: the model names."""

    def __init__(self, names: list[str]):
        self.models = self
        self.names = names


def series(reader: Reader, f: Filter, metric: str) -> list[float]:
    """One metric per day of the filter's range (queries.series)."""
    column = {"credits": "credits", "costUsd": "cost_usd"}[metric]
    where_sql, args = where(f)
    rows = reader.rows(f"SELECT day::text, sum({column})::float8 FROM {_table(f)} WHERE {where_sql} GROUP BY day", args)
    lo = days.ordinal(f.start)
    out = [0.0] * (days.ordinal(f.end) - lo + 1)
    for day, value in rows:
        out[days.ordinal(day) - lo] = float(value or 0.0)
    return out
