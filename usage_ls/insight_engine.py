"""The insights engine: feeds `insights` (the statistics) from the ledger, and remembers.

`compute(filter, tips=...)` answers `usage/insights` and the status bar's live lines: budgets
left with their projection, burn rate over the last hour, today's pace to the end of the day
and month, spikes (days of the range and hours of today and yesterday, each against its own
history) with who caused them, and tips. It keeps what makes that cheap enough to run after
every record: today's records as columns, updated incrementally (`today_columns`); results
about past days, cached until one of them changes (`_past`); 28 days of hourly spend per
filter; spike attributions for ATTRIBUTION_SECONDS.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from usage_ls import by_tool, days, insights, queries, spikes
from usage_ls.budgets import Budgets, announced
from usage_ls.config import Config
from usage_ls.pricing import Pricer
from usage_ls.store.cache import ByteCache
from usage_ls.store.columns import RecordColumns
from usage_ls.store.ledger import Ledger
from usage_ls.store.rollup import METRICS

ATTRIBUTION_SECONDS = 10.0
PAST_CACHE_BYTES = 1024 * 1024


class InsightEngine:
    def __init__(
        self,
        cfg: Config,
        ledger: Ledger,
        pricer: Pricer,
        budgets: Budgets,
        summary: Callable[[dict], dict],
        weigh: Callable,
    ):
        self.cfg = cfg
        self.tz = cfg.tz
        self.ledger = ledger
        self.pricer = pricer
        self.budgets = budgets
        self.summary = summary
        self._attribution_cache: dict[tuple, tuple[float, dict]] = {}
        self._live: dict | None = None  # today's records as columns (see today_columns)
        self._hours_cache: dict[tuple, tuple] = {}
        self._past_cache = ByteCache(PAST_CACHE_BYTES, weigh)

    def _filter(self, params: dict) -> queries.Filter:
        return queries.parse_filter(params, self.tz)

    def _series(self, f: queries.Filter, metric: str) -> list[float]:
        return queries.series(self.ledger, f, metric, by_tool.rows(self.ledger, f))

    def _clock(self, today: str, now_ms: int) -> dict:
        """Hours elapsed today and left today and this month (real local midnights: DST-safe)."""

        def midnight(day: str) -> int:
            return days.midnight_ms(day, self.tz)

        month_end = days.next_month_start(today)
        start, end = midnight(today), midnight(days.shift(today, 1))
        return {
            "dayStart": start,
            "monthEnd": month_end,
            "elapsed": (now_ms - start) / insights.HOUR_MS,
            "leftToday": (end - now_ms) / insights.HOUR_MS,
            "leftMonth": (midnight(month_end) - now_ms) / insights.HOUR_MS,
        }

    def _past(self, name: str, key, compute):
        """A result about days before today, cached until one of them changes (a checkpoint or
        an old record arriving), not on every new record of today: the status bar asks after
        each one."""
        led, today = self.ledger, days.today(self.tz)
        stamp = (today, led.checkpoint_seq, led.overlay.count_before(today))
        return self._past_cache.memo(stamp, (name, key), compute)

    def today_columns(self) -> RecordColumns:
        """Today's records as columns, kept up to date incrementally: the status bar asks after
        every record, and rebuilding a busy day from its file each time costs milliseconds."""
        led, day = self.ledger, days.today(self.tz)
        sig = led.day_file_signature(day)
        pending = led.pending_lines(day)
        live = self._live
        if live is not None and live["day"] == day and (live["sig"] != sig or live["pending"] is not pending):
            # a checkpoint folded today's pending lines (which we had already) into the day
            # file: when the file holds exactly the records we hold, keep our columns instead
            # of parsing the whole day again
            chunk = led.facts(day, day)  # the day's rollup plus its pending lines
            on_file = (int(chunk.m[METRICS.index("messages")].sum()) if len(chunk) else 0) - len(pending or ())
            if on_file == len(live["cols"]):
                live.update(sig=sig, pending=pending, n=0)
        if live is None or live["day"] != day or live["sig"] != sig or live["pending"] is not pending:
            base = led.file_columns(day)
            live = self._live = {"day": day, "sig": sig, "pending": pending, "n": 0, "cols": base, "ids": set(base.ids)}
        if pending is not None and live["n"] < len(pending):
            new = [r for r in led.pending_records(day, live["n"]) if r["id"] not in live["ids"]]
            live["n"] = len(pending)
            if new:
                live["ids"].update(r["id"] for r in new)
                add = RecordColumns.build(new, *led.names)
                live["cols"] = RecordColumns.concat([live["cols"], add])
        return live["cols"]

    def _day_cols(self, day: str) -> RecordColumns:
        return self.today_columns() if day == days.today(self.tz) else self.ledger.day_columns(day)

    def _mask(self, cols: RecordColumns, f: queries.Filter):
        """The filter's records among `cols`; None when it selects them all."""
        return queries.row_mask(self.ledger, cols, f) if f.narrowed else None

    @staticmethod
    def _spend(cols: RecordColumns, metric: str) -> np.ndarray:
        return np.nan_to_num(cols.credits if metric == "credits" else cols.cost)

    def _dims(self, f: queries.Filter, **over) -> dict:
        out = {
            k: v
            for k, v in (
                ("project", f.project),
                ("user", f.user),
                ("model", f.model),
                ("billing", f.billing),
                ("tool", f.tool),
            )
            if v
        }
        return {**out, **over}

    def _hour_history(self, day: str, f: queries.Filter, metric: str, calls: bool = False) -> np.ndarray:
        """Spend (or, with `calls`, priced calls) per hour of the 28 days before `day` (28 x 25),
        cached until one of those days changes. Spend comes from the rollups' hourly totals
        when unfiltered; calls always from the day files (asked only for a candidate spike)."""
        first = days.shift(day, -spikes.BASELINE_DAYS)
        prev = days.shift(day, -1)
        sig = self._past(
            "days",
            (first, prev, f.key, metric),
            lambda: tuple(self._series(self._filter(self._dims(f, **{"from": first, "to": prev})), metric)),
        )
        key = (day, f.project, f.user, f.model, f.billing, f.tool, metric, calls)
        hit = self._hours_cache.get(key)
        if hit is not None and hit[0] == sig:
            return hit[1]
        rows = []
        unfiltered = not f.narrowed
        for d, total in zip(days.day_range(first, prev), sig):
            if not total:
                rows.append(np.zeros(25))
                continue
            hours = self.ledger.day_hours(d) if unfiltered and not calls else None
            if hours is not None:  # hourly totals kept in the rollups: no day file to read
                rows.append(hours[0] if metric == "credits" else hours[1])
                continue
            cols = self.ledger.day_columns(d)
            per_hour = insights.hour_calls if calls else insights.hour_bins
            rows.append(per_hour(cols, self._spend(cols, metric), self._clock(d, 0)["dayStart"], self._mask(cols, f)))
        value = np.array(rows)
        if len(self._hours_cache) > 64:
            self._hours_cache.clear()
        self._hours_cache[key] = (sig, value)
        return value

    def _attribute(self, spike: dict, f: queries.Filter, metric: str, unit: str, sessions: bool) -> dict:
        """Which model, project (and session) a spike's spend came from.

        Shares move slowly while a spike goes on, and the status bar asks after every record:
        an attribution is reused for ATTRIBUTION_SECONDS (the spike's amounts stay exact)."""
        key = (spike["date"], spike["kind"], spike.get("hour"), f.key, metric, sessions)
        now = time.monotonic()
        hit = self._attribution_cache.get(key)
        if hit is not None and now - hit[0] < ATTRIBUTION_SECONDS:
            spike.update(hit[1])
            spike["unit"] = unit
            return spike
        self._attribute_now(spike, f, metric, unit, sessions)
        if len(self._attribution_cache) > 64:
            self._attribution_cache.clear()
        self._attribution_cache[key] = (
            now,
            {k: spike.get(k) for k in ("topModel", "topProject", "topSession") if k in spike},
        )
        return spike

    def _attribute_now(self, spike: dict, f: queries.Filter, metric: str, unit: str, sessions: bool) -> dict:
        led, day = self.ledger, spike["date"]
        cols = self._day_cols(day) if spike["kind"] == "hour" or sessions else None
        if cols is not None:
            mask = self._mask(cols, f)
            keep = np.ones(len(cols), dtype=bool) if mask is None else mask
            if spike["kind"] == "hour":
                idx = (cols.ts - self._clock(day, 0)["dayStart"]) // insights.HOUR_MS
                keep &= idx == spike["hour"]
            values = self._spend(cols, metric)[keep]
            by_model = insights.contributions(led.models.names, cols.model[keep], values)
            by_project = insights.contributions(led.projects.names, cols.project[keep], values)
            by_session: dict[str, float] = {}
            refs = cols.sessions.refs[keep]
            has = refs >= 0
            if has.any():
                sums = np.bincount(refs[has], weights=values[has])
                for j in np.unique(refs[has]).tolist():
                    session = cols.strings[j]
                    if session:
                        by_session[session] = by_session.get(session, 0.0) + float(sums[j])
            spike["topSession"] = insights.top_share(by_session) if by_session else None
        else:
            chunk = by_tool.rows(led, self._filter(self._dims(f, **{"from": day, "to": day})))
            values = chunk.m[METRICS.index(metric)]
            by_model = insights.contributions(led.models.names, chunk.model, values)
            by_project = insights.contributions(led.projects.names, chunk.project, values)
        spike["topModel"] = insights.top_share(by_model)
        spike["topProject"] = insights.top_share(by_project)
        spike["unit"] = unit
        return spike

    def compute(self, f: queries.Filter, *, tips: bool) -> dict:
        """Budgets left, burn rate, projection, spikes and (with `tips`) tips for a filter."""
        cfg, today, now = self.cfg, days.today(self.tz), days.now_ms()
        clock = self._clock(today, now)
        # spend is credits when the filter is Premium, else list-price dollars (both billings)
        metric, unit = ("credits", "credits") if f.billing == "premium" else ("costUsd", "usd")
        per_usd = 1.0 / cfg.usd_per_credit if unit == "credits" else 1.0

        # today's spend comes from today's records (kept incrementally); anything before
        # today from the aggregates, cached until a past day changes (see _past)
        cols = self.today_columns()
        mask = self._mask(cols, f)
        credits_v, cost_v = self._spend(cols, "credits"), self._spend(cols, "costUsd")
        is_byok = cols.billing == 1

        def spent(values, *masks) -> float:
            keep = None
            for m in masks:
                if m is not None:
                    keep = m if keep is None else keep & m
            return float(values.sum() if keep is None else values[keep].sum())

        # budgets, each projected to the end of its period at today's pace
        out_budgets = []
        for b in self.budgets.current(project=f.project):
            if b["source"] == "team":  # from the team database: its own today, or unavailable
                if b["used"] is not None:
                    left = clock["leftToday"] if b["budget"] == "daily_credits" else clock["leftMonth"]
                    b = insights.budget_left(b, insights.pace(b["usedToday"], clock["elapsed"]), left)
                out_budgets.append(b)
                continue
            scope = None if b["project"] is None else cols.project == self.ledger.projects.lookup(b["project"])
            if b["user"] is not None:
                scope = cols.user == self.ledger.users.lookup(b["user"])
            if b["unit"] == "credits":
                today_used = spent(credits_v, ~is_byok, scope)
            else:
                today_used = spent(cost_v, is_byok, scope)
            rate = insights.pace(today_used, clock["elapsed"])
            left = clock["leftToday"] if b["budget"] == "daily_credits" else clock["leftMonth"]
            out_budgets.append(insights.budget_left(b, rate, left))

        # burn rate over the last hour and projection at today's pace
        byok_mask = is_byok if mask is None else is_byok & mask
        burn = {
            "credits": insights.burn_rate(cols, credits_v, now, mask),
            "costUsd": insights.burn_rate(cols, cost_v, now, mask),
            "byokUsd": insights.burn_rate(cols, cost_v, now, byok_mask),
            "window": "1h",
            "asOf": days.iso_timestamp(now, self.tz),
        }
        month_start, yesterday = today[:8] + "01", days.shift(today, -1)
        if month_start < today:
            before = self._past(
                "month",
                f.key,
                lambda: (
                    self.summary(self._dims(f, **{"from": month_start, "to": yesterday})),
                    self.summary(self._dims(f, **{"from": month_start, "to": yesterday, "billing": "byok"}))["costUsd"]
                    or 0.0,
                ),
            )
        else:
            before = ({"credits": 0.0, "costUsd": 0.0}, 0.0)
        today_vals = {
            "credits": spent(credits_v, mask),
            "costUsd": spent(cost_v, mask),
            "byokUsd": 0.0 if f.billing == "premium" else spent(cost_v, byok_mask),
        }
        month_vals = {
            "credits": before[0]["credits"] + today_vals["credits"],
            "costUsd": (before[0]["costUsd"] or 0.0) + today_vals["costUsd"],
            "byokUsd": (0.0 if f.billing == "premium" else before[1]) + today_vals["byokUsd"],
        }
        projection = {
            "hoursElapsed": clock["elapsed"],
            "monthEnd": days.shift(clock["monthEnd"], -1),
            "pace": {},
            "today": {},
            "endOfDay": {},
            "endOfMonth": {},
            "monthToDate": {},
        }
        for key in ("credits", "costUsd", "byokUsd"):
            rate = insights.pace(today_vals[key], clock["elapsed"])
            projection["pace"][key] = rate
            projection["today"][key] = today_vals[key]
            projection["monthToDate"][key] = month_vals[key]
            projection["endOfDay"][key] = insights.project(today_vals[key], rate, clock["leftToday"])
            projection["endOfMonth"][key] = insights.project(month_vals[key], rate, clock["leftMonth"])

        # spikes: the days of the range against their previous 28 days; hours of today and yesterday
        first = days.shift(f.start, -spikes.BASELINE_DAYS)
        past_end = min(f.end, yesterday)
        dates = days.day_range(first, f.end)
        series = self._past(
            "series",
            (f.key, metric),
            lambda: self._series(self._filter(self._dims(f, **{"from": first, "to": past_end})), metric),
        )
        if f.end == today:
            series = series + [spent(credits_v if metric == "credits" else cost_v, mask)]
        unusual = spikes.day_spikes(dates, series, spikes.BASELINE_DAYS, spikes.DAY_FLOOR_USD * per_usd)

        def hours_of(day: str) -> tuple[np.ndarray, np.ndarray]:
            dcols = self._day_cols(day)
            values, start, dmask = self._spend(dcols, metric), self._clock(day, 0)["dayStart"], self._mask(dcols, f)
            return insights.hour_bins(dcols, values, start, dmask), insights.hour_calls(dcols, values, start, dmask)

        unusual += insights.recent_hour_spikes(
            f.start,
            f.end,
            today,
            self.tz,
            spikes.HOUR_FLOOR_USD * per_usd,
            hours_of,
            lambda day, calls: self._hour_history(day, f, metric, calls=calls),
        )
        for spike in unusual:
            self._attribute(spike, f, metric, unit, sessions=tips)
        unusual.sort(key=lambda s: (s["date"], s.get("hour", -1)))

        result = {
            "from": f.start,
            "to": f.end,
            "budgets": out_budgets,
            "burnRate": burn,
            "projection": projection,
            "spikes": unusual,
            "tips": [],
        }
        if tips:
            parts = []
            for d in days.day_range(f.start, f.end):  # each day filtered first: less to put together
                cols = self._day_cols(d)
                keep = self._mask(cols, f)
                parts.append(cols if keep is None else cols.take(keep))
            rng = RecordColumns.concat(parts)
            result["tips"] = insights.tips(
                rng,
                self.ledger.models.names,
                self.ledger.projects.names,
                self.pricer,
                cfg.usd_per_credit,
                cfg.credits_per_request,
                unusual,
                unit,
            )
        return result

    def due_spikes(self, live: dict) -> list[dict]:
        """Of `live`'s spikes, today's (the day, or an hour of it) not yet announced, once
        across processes: a spiking hour usually makes a spiking day too, so the most
        specific one only."""
        today = days.today(self.tz)
        current = [s for s in live["spikes"] if s["date"] == today]
        if not current:
            return []
        with announced(self.cfg.data_dir) as seen:
            if seen is None:
                return []
            fresh = []
            for s in current:
                key = f"spike:{s['kind']}:{s['date']}" + (f"T{s['hour']:02d}" if s["kind"] == "hour" else "")
                if key not in seen:
                    seen[key] = days.now_ms()
                    fresh.append(s)
            fresh.sort(key=lambda s: (s["kind"] != "hour", -s.get("hour", 0)))
            return fresh[:1]
