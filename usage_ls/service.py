"""The application: one object the server and the CLI share.

Wires the ledger, the queries and the renderers together; knows nothing of LSP or argparse.
Results are cached per (query, filter) until the ledger's version or the day changes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import time
from pathlib import Path

import numpy as np
import orjson

from usage_ls import days, insights, queries
from usage_ls.config import BUDGET_KEYS, Config, load_config
from usage_ls.model import Defaults
from usage_ls.pricing import Pricer
from usage_ls.render import status as status_render
from usage_ls.render.text import credits as fmt_credits
from usage_ls.render.text import usd
from usage_ls.store import Ledger, storage
from usage_ls.store.columns import RecordColumns
from usage_ls.store.journal import FileLock
from usage_ls.store.ledger import METRICS

ATTRIBUTION_SECONDS = 10.0
RESULT_CACHE_BYTES = 8 * 1024 * 1024  # query results, weighed as JSON (a year of `usage/daily` is ~1.2 MB)
PAST_CACHE_BYTES = 1024 * 1024
MODEL_CHARS = r"A-Za-z0-9\-._/:"
MODEL_WORD = re.compile(rf"[{MODEL_CHARS}]+")


class Memo:
    """Results computed once per stamp (e.g. the ledger's version). When the stamp changes,
    every result is dropped: none of them would be served again. Beyond `max_bytes` (results
    weighed by their JSON size) the least recently used go."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.stamp = None
        self.entries: dict = {}  # key -> (value, weight), least recently used first
        self.bytes = 0

    def get(self, stamp, key, compute):
        if stamp != self.stamp:
            self.entries.clear()
            self.bytes = 0
            self.stamp = stamp
        hit = self.entries.pop(key, None)
        if hit is None:
            value = compute()
            if self.stamp != stamp:  # the ledger moved on while computing: not for later
                return value
            hit = (value, _weight(value))
            self.bytes += hit[1]
            while self.entries and self.bytes > self.max_bytes:
                self.bytes -= self.entries.pop(next(iter(self.entries)))[1]
        self.entries[key] = hit
        return hit[0]

    def clear(self) -> None:
        self.entries.clear()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self.entries)


def _weight(value) -> int:
    try:
        return 256 + len(orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS))
    except TypeError:
        return 4096


class Usage:
    def __init__(self, cfg: Config | None = None, *, data_dir: str | Path | None = None, tag: str = "srv", writable: bool = True):
        self.cfg = cfg or load_config(data_dir)
        self.pricer = Pricer(self.cfg)
        self.ledger = Ledger(self.cfg, self.pricer, tag=tag, writable=writable)
        self._cache = Memo(RESULT_CACHE_BYTES)
        self._attribution_cache: dict[tuple, tuple[float, dict]] = {}
        self.defer_insights = False  # set by a starting server; see _status_bar
        self._live: dict | None = None  # today's records as columns (see _today_columns)
        self._hours_cache: dict[tuple, tuple] = {}
        self._past_cache = Memo(PAST_CACHE_BYTES)
        # callables the server polls on every tick (e.g. live log importers); each returns
        # True when it recorded something
        self.watchers: list = []

    def open(self) -> "Usage":
        self.ledger.open()
        return self

    def close(self) -> None:
        try:
            self.ledger.close()
        finally:
            self.pricer.save_cache()

    @property
    def tz(self) -> dt.tzinfo:
        return self.cfg.tz

    def today(self) -> str:
        return days.today(self.tz)

    def defaults(self, project: str | None = None, user: str | None = None) -> Defaults:
        return Defaults(project=project or "(no project)", user=user or self.cfg.user, tz=self.tz)

    # -- writing ---------------------------------------------------------------------------

    def record(self, records, defaults: Defaults | None = None, *, sync: bool = True) -> dict:
        if not isinstance(records, list):
            raise queries.FilterError("records", "expected a list of records")
        if len(records) > 50_000:
            raise queries.FilterError("records", f"at most 50000 records per batch, got {len(records)}")
        return self.ledger.ingest(records, defaults or self.defaults(), sync=sync)

    # -- cached queries --------------------------------------------------------------------

    def _cached(self, name: str, key: tuple, compute):
        return self._cache.get((self.ledger.version, self.today()), (name, key), compute)

    def flt(self, params: dict | None) -> queries.Filter:
        return queries.parse_filter(params, self.tz)

    def summary(self, params: dict | None = None) -> dict:
        self.ledger.refresh()
        f = self.flt(params)
        return self._cached("summary", f.key, lambda: queries.summary(queries.filtered(self.ledger, f)))

    def token_split(self, params: dict | None = None) -> dict:
        self.ledger.refresh()
        f = self.flt(params)
        return self._cached("split", f.key, lambda: queries.token_split(self.ledger, queries.filtered(self.ledger, f)))

    def projects(self, params: dict | None = None) -> dict:
        self.ledger.refresh()
        f = self.flt(params)
        return self._cached("projects", f.key, lambda: queries.projects(self.ledger, queries.filtered(self.ledger, f)))

    def users(self, params: dict | None = None) -> dict:
        self.ledger.refresh()
        f = self.flt(params)
        return self._cached("users", f.key, lambda: queries.users(self.ledger, queries.filtered(self.ledger, f)))

    def daily(self, params: dict | None = None) -> dict:
        self.ledger.refresh()
        f = self.flt(params)
        return self._cached("daily", f.key, lambda: queries.daily(self.ledger, queries.filtered(self.ledger, f), f))

    def interactions(self, params: dict | None = None) -> dict:
        self.ledger.refresh()
        params = params or {}
        f = self.flt(params)
        offset, limit, sort = params.get("offset", 0), params.get("limit", 100), params.get("sort")
        if sort is not None and not isinstance(sort, str):
            raise queries.FilterError("sort", f"expected a column name, got {sort!r}"[:100])
        key = (f.key, offset, limit, sort)
        return self._cached("rows", key, lambda: queries.interactions(self.ledger, f, offset, limit, sort))

    def dashboard(self, params: dict | None = None) -> dict:
        """`usage/dashboard`: the complete dashboard page for a filter (usage_ls.dashboard)."""
        from usage_ls import dashboard

        self.ledger.refresh()
        return dashboard.page(self, params or {})

    # -- status bar, budgets, hover ----------------------------------------------------------

    def budgets(self, project: str | None = None) -> list[dict]:
        """Configured budgets with what is used of them now: the global ones, then each
        project's (`[budgets.projects."name"]`; only `project`'s when given)."""
        cfg, today = self.cfg, self.today()
        out = []
        month_start = today[:8] + "01"
        nxt = days.next_month_start(today)
        specs = [
            ("daily_credits", "Today", "credits", "premium", today, today, days.shift(today, 1)),
            ("monthly_credits", "This month", "credits", "premium", month_start, today, nxt),
            ("monthly_byok_usd", "BYOK this month", "usd", "byok", month_start, today, nxt),
        ]
        scopes = [(None, {k: getattr(cfg, k) for k in BUDGET_KEYS})]
        scopes += [(name, b) for name, b in cfg.project_budgets.items() if project is None or name == project]
        for scope, limits in scopes:
            for attr, label, unit, billing, start, end, resets in specs:
                limit = limits.get(attr)
                if not limit:
                    continue
                flt = {"from": start, "to": end, "billing": billing}
                if scope is not None:
                    flt["project"] = scope
                s = self.summary(flt)
                used = s["credits"] if unit == "credits" else s["costUsd"]
                out.append(
                    {
                        "budget": attr,
                        "label": label if scope is None else f"{scope} · {label}",
                        "project": scope,
                        "unit": unit,
                        "limit": limit,
                        "used": used,
                        "percent": 100.0 * used / limit,
                        "period": start if attr != "daily_credits" else today,
                        "resets": resets,
                    }
                )
        return out

    def level(self, budgets: list[dict]) -> str:
        top = max((b["percent"] for b in budgets), default=0.0)
        warn = max([t for t in self.cfg.thresholds if t < 100] or [80.0])
        return "error" if top >= 100 else "warning" if top >= warn else "normal"

    def status_bar(self, params: dict | None = None) -> dict:
        params = params or {}
        mode = params.get("billing") or "premium"
        if mode not in ("premium", "byok"):
            raise queries.FilterError("billing", f'expected "premium" or "byok", got {mode!r}'[:100])
        self.ledger.refresh()
        return self._cached("status", (mode,), lambda: self._status_bar(mode))

    def _status_bar(self, mode: str) -> dict:
        today = self.today()
        week = {"from": days.shift(today, -6), "to": today, "billing": mode}
        metric = "credits" if mode == "premium" else "costUsd"
        spark_values = queries.series(self.ledger, self.flt(week), metric)
        premium = self.summary({"billing": "premium"})
        byok = self.summary({"billing": "byok"})
        split_p = {m["model"]: m for m in self.token_split({"billing": "premium"})["models"]}
        split_b = {m["model"]: m for m in self.token_split({"billing": "byok"})["models"]}
        models = []
        for name in set(split_p) | set(split_b):
            p, b = split_p.get(name), split_b.get(name)
            models.append(
                {
                    "model": name,
                    "totalTokens": (p or {}).get("totalTokens", 0) + (b or {}).get("totalTokens", 0),
                    "premiumCredits": (p or {}).get("credits", 0.0),
                    "byokUsd": (b or {}).get("costUsd", 0.0),
                    "unpricedMessages": (p or {}).get("unpricedMessages", 0) + (b or {}).get("unpricedMessages", 0),
                    "messages": (p or {}).get("messages", 0) + (b or {}).get("messages", 0),
                }
            )
        models.sort(key=lambda m: (-m["totalTokens"], m["model"]))
        # A cold server answers its first status bar without the insights lines (they need a
        # month of history); the server computes them right after and pushes the full tooltip.
        live = None if self.defer_insights else self.live_insights()
        budgets = live["budgets"] if live else self.budgets()
        week_credits = queries.series(self.ledger, self.flt({**week, "billing": "premium"}), "credits")
        today_summary = premium if mode == "premium" else byok
        return {
            "text": status_render.status_text(mode, today_summary, spark_values),
            "tooltip": status_render.tooltip(today, premium, byok, models, budgets, week_credits, live, mode),
            "level": self.level(budgets),
            "credits": premium["credits"],
            "costUsd": byok["costUsd"],
            "billing": mode,
        }

    def due_alerts(self) -> list[str]:
        """Budget thresholds crossed and not yet announced in their period (once across processes)."""
        budgets = self.budgets()
        if not budgets:
            return []
        with self._announced() as seen:
            if seen is None:
                return []
            messages = []
            for b in budgets:
                # thresholds crossed together (one big record) are one message: the highest
                crossed = None
                for threshold in self.cfg.thresholds:
                    key = f"{b['budget']}:{b['period']}:{threshold:g}"
                    if b.get("project") is not None:
                        key = f"project:{b['project']}:{key}"
                    if b["percent"] >= threshold and key not in seen:
                        seen[key] = days.now_ms()
                        crossed = threshold
                if crossed is not None:
                    used = fmt_credits(b["used"]) + " credits" if b["unit"] == "credits" else usd(b["used"])
                    limit = fmt_credits(b["limit"]) + " credits" if b["unit"] == "credits" else usd(b["limit"])
                    messages.append(
                        f"usage-ls: {b['label']} {crossed:g}% of budget reached: {used} of {limit} "
                        f"(resets {b['resets']})."
                    )
            return messages

    @contextlib.contextmanager
    def _announced(self):
        """alerts.json under its lock: what was already announced in the editor, across all
        server processes; saved when the caller added to it. None when the lock is busy."""
        path = self.cfg.data_dir / "alerts.json"
        lock = FileLock(self.cfg.data_dir / "alerts.lock")
        if not lock.acquire(blocking=True, timeout=2):
            yield None
            return
        try:
            seen = storage.read_json(path) or {}
            before = len(seen)
            yield seen
            if len(seen) != before:
                storage.atomic_write(path, orjson.dumps(seen))
        finally:
            lock.release()

    # -- insights: budgets left, burn rate, projection, spikes, tips (usage_ls.insights) ---------

    def insights(self, params: dict | None = None) -> dict:
        """`usage/insights`: a filter (default: this month so far) -> {budgets, burnRate,
        projection, spikes, tips}."""
        self.ledger.refresh()
        params = params if params is not None else {}
        if isinstance(params, dict) and params.get("from") is None and params.get("to") is None:
            params = {**params, "from": self.today()[:8] + "01"}
        f = self.flt(params)
        return self._cached("insights", f.key, lambda: self._insights(f, tips=True))

    def live_insights(self) -> dict:
        """Today's insights for the status bar and the spike alert (no tips: cheap)."""
        self.ledger.refresh()
        return self._cached("live", (), lambda: self._insights(self.flt({}), tips=False))

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
        led, today = self.ledger, self.today()
        stamp = (today, led._state.get("seq"), sum(len(v) for d, v in led._ov_records.items() if d < today))
        return self._past_cache.get(stamp, (name, key), compute)

    def _today_columns(self) -> RecordColumns:
        """Today's records as columns, kept up to date incrementally: the status bar asks after
        every record, and rebuilding a busy day from its file each time costs milliseconds."""
        led, day = self.ledger, self.today()
        path = led._day_path(day)
        sig = led._signature(path)
        pending = led._ov_records.get(day)
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
                add = RecordColumns.build(new, led.models, led.projects, led.users)
                live["cols"] = RecordColumns.concat([live["cols"], add])
        return live["cols"]

    def _day_cols(self, day: str) -> RecordColumns:
        return self._today_columns() if day == self.today() else self.ledger.day_columns(day)

    def _mask(self, cols: RecordColumns, f: queries.Filter):
        mask = None
        for value, dims, column in ((f.model, self.ledger.models, "model"), (f.project, self.ledger.projects, "project"), (f.user, self.ledger.users, "user")):
            if value is not None:
                sel = getattr(cols, column) == dims.lookup(value)
                mask = sel if mask is None else mask & sel
        if f.billing is not None:
            sel = cols.billing == (0 if f.billing == "premium" else 1)
            mask = sel if mask is None else mask & sel
        return mask

    @staticmethod
    def _spend(cols: RecordColumns, metric: str) -> np.ndarray:
        return np.nan_to_num(cols.credits if metric == "credits" else cols.cost)

    def _dims(self, f: queries.Filter, **over) -> dict:
        out = {k: v for k, v in (("project", f.project), ("user", f.user), ("model", f.model), ("billing", f.billing)) if v}
        return {**out, **over}

    def _hour_history(self, day: str, f: queries.Filter, metric: str) -> np.ndarray:
        """Spend per hour of the 28 days before `day` (28 x 25), cached until one of those days changes."""
        first = days.shift(day, -insights.BASELINE_DAYS)
        prev = days.shift(day, -1)
        sig = self._past("days", (first, prev, f.key, metric), lambda: tuple(
            queries.series(self.ledger, self.flt(self._dims(f, **{"from": first, "to": prev})), metric)))
        key = (day, f.project, f.user, f.model, f.billing, metric)
        hit = self._hours_cache.get(key)
        if hit is not None and hit[0] == sig:
            return hit[1]
        rows = []
        unfiltered = not (f.project or f.user or f.model or f.billing)
        for d, total in zip(days.day_range(first, prev), sig):
            if not total:
                rows.append(np.zeros(25))
                continue
            hours = self.ledger.day_hours(d) if unfiltered else None
            if hours is not None:  # hourly totals kept in the rollups: no day file to read
                rows.append(hours[0] if metric == "credits" else hours[1])
                continue
            cols = self.ledger.day_columns(d)
            rows.append(insights.hour_bins(cols, self._spend(cols, metric), self._clock(d, 0)["dayStart"], self._mask(cols, f)))
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
        self._attribution_cache[key] = (now, {k: spike.get(k) for k in ("topModel", "topProject", "topSession") if k in spike})
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
            chunk = queries.filtered(led, self.flt(self._dims(f, **{"from": day, "to": day})))
            values = chunk.m[METRICS.index(metric)]
            by_model = insights.contributions(led.models.names, chunk.model, values)
            by_project = insights.contributions(led.projects.names, chunk.project, values)
        spike["topModel"] = insights.top_share(by_model)
        spike["topProject"] = insights.top_share(by_project)
        spike["unit"] = unit
        return spike

    def _insights(self, f: queries.Filter, *, tips: bool) -> dict:
        cfg, today, now = self.cfg, self.today(), days.now_ms()
        clock = self._clock(today, now)
        # spend is credits when the filter is Premium, else list-price dollars (both billings)
        metric, unit = ("credits", "credits") if f.billing == "premium" else ("costUsd", "usd")
        per_usd = 1.0 / cfg.usd_per_credit if unit == "credits" else 1.0

        # today's spend comes from today's records (kept incrementally); anything before
        # today from the aggregates, cached until a past day changes (see _past)
        cols = self._today_columns()
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
        for b in self.budgets(project=f.project):
            scope = None if b["project"] is None else cols.project == self.ledger.projects.lookup(b["project"])
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
            before = self._past("month", f.key, lambda: (
                self.summary(self._dims(f, **{"from": month_start, "to": yesterday})),
                self.summary(self._dims(f, **{"from": month_start, "to": yesterday, "billing": "byok"}))["costUsd"],
            ))
        else:
            before = ({"credits": 0.0, "costUsd": 0.0}, 0.0)
        today_vals = {
            "credits": spent(credits_v, mask),
            "costUsd": spent(cost_v, mask),
            "byokUsd": 0.0 if f.billing == "premium" else spent(cost_v, byok_mask),
        }
        month_vals = {
            "credits": before[0]["credits"] + today_vals["credits"],
            "costUsd": before[0]["costUsd"] + today_vals["costUsd"],
            "byokUsd": (0.0 if f.billing == "premium" else before[1]) + today_vals["byokUsd"],
        }
        projection = {"hoursElapsed": clock["elapsed"], "monthEnd": days.shift(clock["monthEnd"], -1), "pace": {}, "today": {}, "endOfDay": {}, "endOfMonth": {}, "monthToDate": {}}
        for key in ("credits", "costUsd", "byokUsd"):
            rate = insights.pace(today_vals[key], clock["elapsed"])
            projection["pace"][key] = rate
            projection["today"][key] = today_vals[key]
            projection["monthToDate"][key] = month_vals[key]
            projection["endOfDay"][key] = insights.project(today_vals[key], rate, clock["leftToday"])
            projection["endOfMonth"][key] = insights.project(month_vals[key], rate, clock["leftMonth"])

        # spikes: the days of the range against their previous 28 days; hours of today and yesterday
        first = days.shift(f.start, -insights.BASELINE_DAYS)
        past_end = min(f.end, yesterday)
        dates = days.day_range(first, f.end)
        series = self._past("series", (f.key, metric), lambda: queries.series(
            self.ledger, self.flt(self._dims(f, **{"from": first, "to": past_end})), metric))
        if f.end == today:
            series = series + [spent(credits_v if metric == "credits" else cost_v, mask)]
        spikes = insights.day_spikes(dates, series, insights.BASELINE_DAYS, insights.DAY_FLOOR_USD * per_usd)
        hour_floor = insights.HOUR_FLOOR_USD * per_usd
        for day in (days.shift(today, -1), today):
            if not f.start <= day <= f.end:
                continue
            dcols = self._day_cols(day)
            hours = insights.hour_bins(dcols, self._spend(dcols, metric), self._clock(day, 0)["dayStart"], self._mask(dcols, f))
            if hours.max(initial=0.0) <= hour_floor:
                continue  # no hour can be a spike: skip loading the history
            base = insights.hour_baseline(self._hour_history(day, f, metric))
            spikes += insights.hour_spikes(day, hours, base, hour_floor)
        for spike in spikes:
            self._attribute(spike, f, metric, unit, sessions=tips)
            if spike["kind"] == "hour":
                spike["start"] = days.iso_timestamp(self._clock(spike["date"], 0)["dayStart"] + spike["hour"] * insights.HOUR_MS, self.tz)
        spikes.sort(key=lambda s: (s["date"], s.get("hour", -1)))

        result = {"from": f.start, "to": f.end, "budgets": out_budgets, "burnRate": burn, "projection": projection, "spikes": spikes, "tips": []}
        if tips:
            parts = []
            for d in days.day_range(f.start, f.end):  # each day filtered first: less to put together
                cols = self._day_cols(d)
                keep = self._mask(cols, f)
                parts.append(cols if keep is None else cols.take(keep))
            rng = RecordColumns.concat(parts)
            names = self.ledger.models.names
            found = insights.swap_tips(rng, names, self.pricer, cfg.usd_per_credit, cfg.credits_per_request)
            found += insights.cache_tips(rng, names, self.ledger.projects.names, self.pricer, cfg.usd_per_credit, cfg.credits_per_request)
            found += insights.spike_tips(spikes, unit, cfg.usd_per_credit)
            result["tips"] = insights.rank_tips(found)
        return result

    def due_spike_alerts(self) -> list[str]:
        """Spikes of today (the day, or an hour of it) not yet announced (once across processes)."""
        live = self.live_insights()
        today = self.today()
        current = [s for s in live["spikes"] if s["date"] == today]
        if not current:
            return []
        with self._announced() as seen:
            if seen is None:
                return []
            fresh = []
            for s in current:
                key = f"spike:{s['kind']}:{s['date']}" + (f"T{s['hour']:02d}" if s["kind"] == "hour" else "")
                if key not in seen:
                    seen[key] = days.now_ms()
                    fresh.append(s)
            # a spiking hour usually makes a spiking day too: one message, the most specific
            fresh.sort(key=lambda s: (s["kind"] != "hour", -s.get("hour", 0)))
            return ["usage-ls: " + status_render.spike_line(fresh[0])] if fresh else []

    def model_at(self, line: str, character: int) -> str | None:
        """The model name under the cursor, if the word there is one."""
        for m in MODEL_WORD.finditer(line):
            if m.start() <= character < m.end() or (character == m.end() and m.end() > m.start()):
                word = m.group(0).strip(".:/-_")
                return self.resolve_model(word)
        return None

    def resolve_model(self, word: str) -> str | None:
        """A stored model name, or a name the price table knows; None for ordinary words."""
        if len(word) < 3 or len(word) > 200 or not re.search(r"[A-Za-z]", word):
            return None
        bare, _provider = self.pricer.split_ref(word, None)
        known = self.ledger.known_models()
        lowered = {name.lower(): name for name in known}
        for candidate in dict.fromkeys((word, bare)):
            if candidate in known:
                return candidate
            if candidate.lower() in lowered:
                return lowered[candidate.lower()]
        if not re.search(r"\d", word) and "-" not in word:
            return None  # bare words ("claude", "gpt") are families, not models
        return bare if self.pricer.match(word) is not None else None

    def hover(self, model: str) -> str:
        self.ledger.refresh()
        return self._cached("hover", (model,), lambda: self._hover(model))

    def _hover(self, model: str) -> str:
        today = self.today()
        stats = self.summary({"model": model})
        week = self.flt({"from": days.shift(today, -6), "to": today, "model": model})
        week_tokens = queries.series(self.ledger, week, "totalTokens")
        match = self.pricer.match(model)
        if match is None:
            note = "Not in the price table: unpriced (add it under [prices] in config.toml)"
        elif match.source == "config":
            note = "Priced from your config.toml"
        else:
            note = f"Priced as {match.provider_id}/{match.model_id} (genai-prices)"
        return status_render.hover(model, today, stats, week_tokens, note)

