"""`usage/insights` with `scope: "team"`: what makes sense team-wide, from the team database.

- burn rate: the records of the last hour (`records`, the partitions of yesterday to tomorrow
  only: another machine's day may be a day ahead), every machine's;
- projection: today's and the month's spend from the daily rollup, projected at today's pace
  to the end of the day and month (this machine's clock and days: `day` is the local day on the
  machine that recorded a record);
- spikes: days of the range against their previous 28 days (spikes.day_spikes), from the
  rollup, each with the model, project and user that spent most of it. No hour spikes (the
  rollup has no hours) and no session attribution;
- tips: spike concentration (a project that caused half a spike day). The swap and caching
  tips need every record's tokens re-priced: they stay local;
- budgets: none here (this machine's budgets are about its own usage).

The answer has the local shape (insight_engine.compute) plus `"scope": "team"`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from usage_ls import days, insights, spikes
from usage_ls.queries import Filter
from usage_ls.team import query
from usage_ls.team.query import Reader, where

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


def _over(f: Filter, start: str, end: str) -> Filter:
    return Filter(start, end, f.project, f.user, f.model, f.billing)


def _top(reader: Reader, f: Filter, column: str, metric: str) -> dict[str, Any] | None:
    sql, args = where(f)
    money = "credits" if metric == "credits" else "cost_usd"
    rows = reader.rows(
        f'SELECT "{column}", sum({money})::float8 FROM usage_ls.daily WHERE {sql} GROUP BY "{column}"', args
    )
    return insights.top_share({name: float(value or 0.0) for name, value in rows if value})


def compute(reader: Reader, f: Filter, tz: dt.tzinfo, usd_per_credit: float) -> dict[str, Any]:
    today, now = days.today(tz), days.now_ms()
    metric, unit = ("credits", "credits") if f.billing == "premium" else ("costUsd", "usd")
    per_usd = 1.0 / usd_per_credit if unit == "credits" else 1.0
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
        spike["unit"] = unit
    return {
        "from": f.start,
        "to": f.end,
        "scope": "team",
        "budgets": [],
        "burnRate": burn,
        "projection": projection,
        "spikes": unusual,
        "tips": insights.rank_tips(insights.spike_tips(unusual, unit, usd_per_credit)),
    }
