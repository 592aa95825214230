"""`usage/insights` with `scope: "team"`: the local insights (insights.py, spikes.py) over the
team database's numbers.

- burn rate: the records of the last hour (`records`, the partitions of yesterday to tomorrow
  only: another machine's day may be a day ahead), every machine's;
- projection: today's and the month's spend from the daily rollup, projected at today's pace
  to the end of the day and month (this machine's clock and days: `day` is the local day on the
  machine that recorded a record);
- spikes: days of the range against their previous 28 days (spikes.day_spikes), from the
  rollup, each with the model, project and user that spent most of it (the rollup) and the
  session (`records`); hours of yesterday and today against the busy hours of the previous 28
  days (insights.recent_hour_spikes), from `records` summed per quarter hour in the database
  and binned into this machine's local hours, each with its model, project, user and session;
- tips: insights.tips (the cheaper model for short answers and prompt caching, each record
  re-priced as locally; a project that caused half a spike day) over the range's records that
  can make one (short priced answers of a model with a cheaper sibling, long prompts);
- budgets: none here (this machine's budgets are about its own usage).

What comes from `records` follows the row-level security (a member's login reads its own
user's records; docs/team.md). The answer has the local shape (insight_engine.compute) plus
`"scope": "team"`, `topUser` in each spike and `computedAt`, when its spikes and tips were
computed.

The spikes and tips (seconds over a month of a large team's records) are kept in a `Cache`
per filter and day, with a stamp of the days they read taken from the `daily_models` rollup
(messages, tokens and cost summed over those days, and the database's id): records are only
ever inserted, each once, and the rollup counts every user's records in the same
transaction, so an unchanged stamp means no record of those days arrived since, whoever
pushed it and whatever row-level security lets this login read. The burn rate and the
projection (the clock's) are read anew for every answer.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from usage_ls import days, insights, spikes
from usage_ls.model import TOKEN_FIELDS
from usage_ls.pricing import Pricer
from usage_ls.queries import Filter
from usage_ls.settings import Config
from usage_ls.store.columns import Dims, RecordColumns
from usage_ls.team import query
from usage_ls.team.query import Reader, where
from usage_ls.team.records import stored_records

_RECENT = """
SELECT coalesce(sum(credits), 0)::float8, coalesce(sum(cost_usd), 0)::float8,
       coalesce(sum(cost_usd) FILTER (WHERE billing = 'byok'), 0)::float8
FROM usage_ls.records WHERE {where} AND ts > to_timestamp(%s / 1000.0) AND ts <= to_timestamp(%s / 1000.0)
"""


def _spent(reader: Reader, f: Filter) -> dict[str, float]:
    sql, args = where(f)
    row = reader.rows(
        "SELECT coalesce(sum(credits), 0)::float8, coalesce(sum(cost_usd), 0)::float8, "
        f"coalesce(sum(cost_usd) FILTER (WHERE billing = 'byok'), 0)::float8 FROM usage_ls.daily WHERE {sql}",
        args,
    )[0]
    return {"credits": float(row[0]), "costUsd": float(row[1]), "byokUsd": float(row[2])}


def _money(metric: str) -> str:
    return "credits" if metric == "credits" else "cost_usd"


def _over(f: Filter, start: str, end: str) -> Filter:
    return Filter(start, end, f.project, f.user, f.model, f.billing)


def _top(reader: Reader, f: Filter, column: str, metric: str) -> dict[str, Any] | None:
    sql, args = where(f)
    rows = reader.rows(
        f'SELECT "{column}", sum({_money(metric)})::float8 FROM usage_ls.daily WHERE {sql} GROUP BY "{column}"', args
    )
    return insights.top_share({name: float(value or 0.0) for name, value in rows if value})


_WITHIN = " AND ts >= to_timestamp(%s / 1000.0) AND ts < to_timestamp(%s / 1000.0)"
_QUARTER_MS = 900_000  # every time zone's offset is a whole number of quarter hours


def _tops(reader: Reader, f: Filter, metric: str, more: str, args: list[Any]) -> dict[str, Any]:
    """The model, project, user and session that spent most of the filter's records (and
    `more`): insights.top_share of each, as the local spikes' attribution."""
    sql, where_args = where(f)
    rows = reader.rows(
        f'SELECT model, project, "user", session, coalesce(sum({_money(metric)}), 0)::float8 '
        f"FROM usage_ls.records WHERE {sql}{more} GROUP BY 1, 2, 3, 4",
        [*where_args, *args],
    )
    sums: list[dict[str, float]] = [{}, {}, {}, {}]
    for *names, value in rows:
        for by, name in zip(sums, names):
            if name:
                by[name] = by.get(name, 0.0) + float(value)
    top = [insights.top_share(by) for by in sums]
    return {"topModel": top[0], "topProject": top[1], "topUser": top[2], "topSession": top[3] if sums[3] else None}


class _Quarters:
    """Spend and priced calls per quarter hour, from `records`, binned into the hours of this
    machine's days (insights.hour_sums) as the local engine bins a day's records."""

    def __init__(self, reader: Reader, f: Filter, metric: str, tz: dt.tzinfo):
        self.reader, self.f, self.metric, self.tz = reader, f, metric, tz
        self.histories: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def _read(self, first: str, last: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lo, hi = days.midnight_ms(first, self.tz), days.midnight_ms(days.shift(last, 1), self.tz)
        # the records' days are their machines' (another zone may be a day ahead or behind)
        sql, args = where(_over(self.f, days.shift(first, -1), days.shift(last, 1)))
        money = _money(self.metric)
        rows = self.reader.rows(
            f"SELECT floor(extract(epoch FROM ts) * 1000 / {_QUARTER_MS})::bigint * {_QUARTER_MS}, "
            f"coalesce(sum({money}), 0)::float8, count(*) FILTER (WHERE {money} > 0) "
            f"FROM usage_ls.records WHERE {sql}{_WITHIN} GROUP BY 1",
            [*args, lo, hi],
        )
        table = np.array(rows, dtype=np.float64).reshape(len(rows), 3)
        return table[:, 0].astype(np.int64), table[:, 1], table[:, 2]

    def _hours(self, quarters: tuple[np.ndarray, np.ndarray, np.ndarray], day: str) -> tuple[np.ndarray, np.ndarray]:
        ts, spend, calls = quarters
        start, end = days.midnight_ms(day, self.tz), days.midnight_ms(days.shift(day, 1), self.tz)
        keep = (ts >= start) & (ts < end)
        return insights.hour_sums(ts, spend, start, keep), insights.hour_sums(ts, calls, start, keep)

    def day(self, day: str) -> tuple[np.ndarray, np.ndarray]:
        return self._hours(self._read(day, day), day)

    def history(self, day: str, calls: bool) -> np.ndarray:
        if day not in self.histories:
            first = days.shift(day, -spikes.BASELINE_DAYS)
            quarters = self._read(first, days.shift(day, -1))
            rows = [self._hours(quarters, d) for d in days.day_range(first, days.shift(day, -1))]
            self.histories[day] = (np.array([r[0] for r in rows]), np.array([r[1] for r in rows]))
        return self.histories[day][1 if calls else 0]


_TOTAL_IN = "input_tokens + cache_read_tokens + cache_write_tokens"
_GROUPS = f"""
SELECT model, provider, billing, project, floor(extract(epoch FROM ts) / 86400)::bigint * 86400000,
       output_tokens <= {insights.SHORT_OUTPUT_TOKENS}, cost_usd IS NOT NULL, input_tokens >= {insights.LONG_PROMPT_TOKENS},
       count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens),
       sum(cache_write_1h_tokens), sum(cost_usd)::float8, coalesce(sum(credits), 0)::float8,
       min({_TOTAL_IN}), max({_TOTAL_IN})
FROM usage_ls.records WHERE {{where}} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
"""
_ONE_GROUP = (
    " AND model = %s AND provider IS NOT DISTINCT FROM %s AND billing = %s AND project = %s"
    " AND ts >= to_timestamp(%s / 1000.0) AND ts < to_timestamp(%s / 1000.0)"
    f" AND (output_tokens <= {insights.SHORT_OUTPUT_TOKENS}) = %s AND (cost_usd IS NOT NULL) = %s"
    f" AND (input_tokens >= {insights.LONG_PROMPT_TOKENS}) = %s"
)


def _tips(
    reader: Reader, f: Filter, cfg: Config, pricer: Pricer, unusual: list[dict[str, Any]], unit: str
) -> list[dict[str, Any]]:
    """insights.tips over the range's records that can make a tip (short priced answers of a
    model with a cheaper sibling, long prompts), summed in the database per model, provider,
    billing, project, UTC day and side of each threshold: the tips are sums of what each record
    costs at rates that depend on nothing else but its tier, and a group whose records' input
    spans two tiers is read record by record."""
    swaps: dict[str, tuple[str, str]] = {}  # model -> (the cheaper model, its provider)
    for row in query.token_split(reader, f)["models"]:
        match = pricer.match(row["model"])
        if match is not None and match.source == "genai-prices" and match.model_id in insights.SWAPS:
            swaps[row["model"]] = (insights.SWAPS[match.model_id], match.provider_id)
    more = (
        f" AND ((output_tokens <= {insights.SHORT_OUTPUT_TOKENS} AND cost_usd IS NOT NULL AND model = ANY(%s))"
        f" OR input_tokens >= {insights.LONG_PROMPT_TOKENS})"
    )
    sql, args = where(f)
    records: list[dict[str, Any]] = []
    counts: list[int] = []
    for g in reader.rows(_GROUPS.format(where=sql + more), [*args, list(swaps)]):
        model, provider, billing, project, day_ms, short, priced, long = g[:8]
        lo, hi = int(g[16]), int(g[17])
        priced_by = ([swaps[model]] if short and priced and model in swaps else []) + (
            [(model, provider)] if long else []
        )
        # (the same tier is the same Rates object: pricing.py keeps one per tier)
        if any(pricer.rates(m, p, day_ms, lo) is not pricer.rates(m, p, day_ms, hi) for m, p in priced_by):
            one = (model, provider, billing, project, day_ms, day_ms + 86_400_000, short, priced, long)
            found = stored_records(reader, f, more + _ONE_GROUP, (list(swaps), *one))
            records += found
            counts += [1] * len(found)
            continue
        records.append(
            {
                "id": None,
                "ts": int(day_ms),
                "date": None,
                "model": model,
                "provider": provider,
                "billing": billing,
                "project": project,
                "user": "",
                **dict(zip(TOKEN_FIELDS, (int(v) for v in g[9:14]))),
                "costUsd": g[14],
                "costSource": None,
                "credits": g[15],
            }
        )
        counts.append(int(g[8]))
    models, projects, users = Dims(), Dims(), Dims()
    cols = RecordColumns.build(records, models, projects, users)
    return insights.tips(
        cols,
        models.names,
        projects.names,
        pricer,
        cfg.usd_per_credit,
        cfg.credits_per_request,
        unusual,
        unit,
        np.array(counts, dtype=np.int64),
    )


_STAMP = """
SELECT (SELECT database_id::text FROM usage_ls.meta), count(*), coalesce(sum(messages), 0)::bigint,
       coalesce(sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), 0)::bigint,
       coalesce(sum(cost_usd), 0)::text, coalesce(sum(credits), 0)::text
FROM usage_ls.daily_models WHERE day BETWEEN %s AND %s
"""


def read_days(f: Filter, today: str) -> tuple[str, str]:
    """The first and last `day` of the records and rollup rows that the spikes and tips of
    `f` read: the range and its 28 days of baseline; with yesterday or today in the range,
    also the hour spikes' days (a day either side, and their own 28-day baseline)."""
    first, last = days.shift(f.start, -spikes.BASELINE_DAYS), f.end
    if f.start <= today and days.shift(today, -1) <= f.end:
        first = min(first, days.shift(today, -spikes.BASELINE_DAYS - 2))
        last = max(last, days.shift(today, 1))
    return first, last


Key = tuple[tuple[str | None, ...], str]  # (the filter's key, today)
Stamp = tuple[Any, ...]  # a row of _STAMP


class Cache:
    """The spikes and tips of the last few filters, each with the day it was computed on and
    the stamp of the days it read (`read_days`): answered again while the stamp is the
    same. The stamp is the whole team's whatever the filter (the rollup counts everyone's
    records), so any record of those days makes the next answer computed anew: exact, never
    stale, at worst computed again for a record the filter leaves out."""

    SIZE = 16

    def __init__(self) -> None:
        self.entries: OrderedDict[Key, tuple[Stamp, dict[str, Any]]] = OrderedDict()
        self.lock = threading.Lock()  # the dashboard's threads share a service (under its lock too)

    def get(self, key: Key, stamp: Stamp) -> dict[str, Any] | None:
        with self.lock:
            found = self.entries.get(key)
            if found is None or found[0] != stamp:
                return None
            self.entries.move_to_end(key)
            return found[1]

    def put(self, key: Key, stamp: Stamp, value: dict[str, Any]) -> None:
        with self.lock:
            self.entries[key] = (stamp, value)
            self.entries.move_to_end(key)
            while len(self.entries) > self.SIZE:
                self.entries.popitem(last=False)


def stamp(reader: Reader, f: Filter, today: str) -> Stamp:
    return tuple(reader.rows(_STAMP, list(read_days(f, today)))[0])


def _range(reader: Reader, f: Filter, cfg: Config, pricer: Pricer, today: str) -> dict[str, Any]:
    """The spikes and tips: what depends on the range's records (and on `today` for the hour
    spikes), not on the time of day."""
    tz = cfg.tz
    metric, unit = ("credits", "credits") if f.billing == "premium" else ("costUsd", "usd")
    per_usd = 1.0 / cfg.usd_per_credit if unit == "credits" else 1.0
    first = days.shift(f.start, -spikes.BASELINE_DAYS)
    series = query.series(reader, _over(f, first, f.end), metric)
    unusual = spikes.day_spikes(
        days.day_range(first, f.end), series, spikes.BASELINE_DAYS, spikes.DAY_FLOOR_USD * per_usd
    )
    for spike in unusual:
        day = _over(f, spike["date"], spike["date"])
        spike["topModel"] = _top(reader, day, "model", metric)
        spike["topProject"] = _top(reader, day, "project", metric)
        spike["topUser"] = _top(reader, day, "user", metric)
        spike["topSession"] = _tops(reader, day, metric, "", [])["topSession"]
        spike["unit"] = unit
    quarters = _Quarters(reader, f, metric, tz)
    hourly = insights.recent_hour_spikes(
        f.start, f.end, today, tz, spikes.HOUR_FLOOR_USD * per_usd, quarters.day, quarters.history
    )
    for spike in hourly:
        lo = days.midnight_ms(spike["date"], tz) + spike["hour"] * insights.HOUR_MS
        near = _over(f, days.shift(spike["date"], -1), days.shift(spike["date"], 1))
        spike.update(_tops(reader, near, metric, _WITHIN, [lo, lo + insights.HOUR_MS]), unit=unit)
    unusual = sorted(unusual + hourly, key=lambda s: (s["date"], s.get("hour", -1)))
    tips = _tips(reader, f, cfg, pricer, unusual, unit)
    return {"spikes": unusual, "tips": tips}


def compute(reader: Reader, f: Filter, cfg: Config, pricer: Pricer, cache: Cache | None = None) -> dict[str, Any]:
    tz, today = cfg.tz, days.today(cfg.tz)
    # the stamp first: a record arriving while the range is computed may or may not be in it,
    # and then the next answer sees a new stamp and computes it again
    seen = stamp(reader, f, today) if cache is not None else ()
    key: Key = (f.key, today)
    kept = cache.get(key, seen) if cache is not None else None
    if kept is None:
        kept = {**_range(reader, f, cfg, pricer, today), "computedAt": days.iso_timestamp(days.now_ms(), tz)}
        if cache is not None:
            cache.put(key, seen, kept)
    burn, projection = _now(reader, f, cfg, today)
    return {
        "from": f.start,
        "to": f.end,
        "scope": "team",
        "budgets": [],
        "burnRate": burn,
        "projection": projection,
        "spikes": kept["spikes"],
        "tips": kept["tips"],
        "computedAt": kept["computedAt"],
    }


def _now(reader: Reader, f: Filter, cfg: Config, today: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The burn rate (the last hour's records) and the projection (today's and the month's
    spend from the rollup, at today's pace): the clock's, read for every answer."""
    tz, now = cfg.tz, days.now_ms()
    start = days.midnight_ms(today, tz)
    month_end = days.next_month_start(today)
    elapsed = (now - start) / insights.HOUR_MS
    left_today = (days.midnight_ms(days.shift(today, 1), tz) - now) / insights.HOUR_MS
    left_month = (days.midnight_ms(month_end, tz) - now) / insights.HOUR_MS

    # the records' days are their machines' (another zone may be a day ahead or behind)
    sql, args = where(_over(f, days.shift(today, -1), days.shift(today, 1)))
    recent = reader.rows(_RECENT.format(where=sql), [*args, now - insights.HOUR_MS, now])[0]
    burn = {
        "credits": float(recent[0]),
        "costUsd": float(recent[1]),
        "byokUsd": 0.0 if f.billing == "premium" else float(recent[2]),
        "window": "1h",
        "asOf": days.iso_timestamp(now, tz),
    }
    today_vals = _spent(reader, _over(f, today, today))
    month_vals = _spent(reader, _over(f, today[:8] + "01", today))
    if f.billing == "premium":
        today_vals["byokUsd"] = month_vals["byokUsd"] = 0.0
    projection: dict[str, Any] = {
        "hoursElapsed": elapsed,
        "monthEnd": days.shift(month_end, -1),
        "pace": {},
        "today": {},
        "endOfDay": {},
        "endOfMonth": {},
        "monthToDate": {},
    }
    for key in ("credits", "costUsd", "byokUsd"):
        rate = insights.pace(today_vals[key], elapsed)
        projection["pace"][key] = rate
        projection["today"][key] = today_vals[key]
        projection["monthToDate"][key] = month_vals[key]
        projection["endOfDay"][key] = insights.project(today_vals[key], rate, left_today)
        projection["endOfMonth"][key] = insights.project(month_vals[key], rate, left_month)
    return burn, projection
