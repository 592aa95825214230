"""The application: one object the server and the CLI share.

Wires the ledger, the queries and the renderers together; knows nothing of LSP or argparse.
Results are cached per (query, filter) until the ledger's version or the day changes.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import orjson

from usage_ls import days, queries
from usage_ls.config import Config, load_config
from usage_ls.model import Defaults
from usage_ls.pricing import Pricer
from usage_ls.render import status as status_render
from usage_ls.render.text import credits as fmt_credits
from usage_ls.render.text import usd
from usage_ls.store import Ledger, storage
from usage_ls.store.journal import FileLock

MODEL_CHARS = r"A-Za-z0-9\-._/:"
MODEL_WORD = re.compile(rf"[{MODEL_CHARS}]+")


class Usage:
    def __init__(self, cfg: Config | None = None, *, data_dir: str | Path | None = None, tag: str = "srv", writable: bool = True):
        self.cfg = cfg or load_config(data_dir)
        self.pricer = Pricer(self.cfg)
        self.ledger = Ledger(self.cfg, self.pricer, tag=tag, writable=writable)
        self._cache: dict[tuple, tuple[tuple, object]] = {}
        # callables the server polls on every tick (e.g. live log importers); each returns
        # True when it recorded something
        self.watchers: list = []

    def open(self) -> "Usage":
        self.ledger.open()
        return self

    def close(self) -> None:
        self.ledger.close()

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
        stamp = (self.ledger.version, self.today())
        hit = self._cache.get((name, key))
        if hit is not None and hit[0] == stamp:
            return hit[1]
        value = compute()
        if len(self._cache) > 512:
            self._cache.clear()
        self._cache[(name, key)] = (stamp, value)
        return value

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

    def budgets(self) -> list[dict]:
        """Configured budgets with what is used of them now."""
        cfg, today = self.cfg, self.today()
        out = []
        month_start = today[:8] + "01"
        nxt = dt.date.fromisoformat(month_start)
        nxt = (nxt.replace(day=28) + dt.timedelta(days=4)).replace(day=1).isoformat()
        specs = [
            ("daily_credits", "Today", "credits", "premium", today, today, days.shift(today, 1)),
            ("monthly_credits", "This month", "credits", "premium", month_start, today, nxt),
            ("monthly_byok_usd", "BYOK this month", "usd", "byok", month_start, today, nxt),
        ]
        for attr, label, unit, billing, start, end, resets in specs:
            limit = getattr(cfg, attr)
            if not limit:
                continue
            s = self.summary({"from": start, "to": end, "billing": billing})
            used = s["credits"] if unit == "credits" else s["costUsd"]
            out.append(
                {
                    "budget": attr,
                    "label": label,
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
        budgets = self.budgets()
        week_credits = queries.series(self.ledger, self.flt({**week, "billing": "premium"}), "credits")
        today_summary = premium if mode == "premium" else byok
        return {
            "text": status_render.status_text(mode, today_summary, spark_values),
            "tooltip": status_render.tooltip(today, premium, byok, models, budgets, week_credits),
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
        path = self.cfg.data_dir / "alerts.json"
        lock = FileLock(self.cfg.data_dir / "alerts.lock")
        if not lock.acquire(blocking=True, timeout=2):
            return []
        try:
            seen = storage.read_json(path) or {}
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
            if messages:
                storage.atomic_write(path, orjson.dumps(seen))
            return messages
        finally:
            lock.release()

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
