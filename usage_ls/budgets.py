"""Budgets: what `[budgets]` in config.toml allows, what is used of it now, and which
thresholds are crossed and not yet announced.

`Budgets.current()` lists every configured budget (global, then per project) with its use in
its period; `level` turns them into the status bar's colour; `due()` names the thresholds
crossed since the last time, announced once across every server process (alerts.json under
its lock, shared with spike alerts through `announced`). Messages are the faces' to word
(`render.status.budget_alert`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

from usage_ls import days, fileio
from usage_ls.config import BUDGET_KEYS, Config
from usage_ls.store.journal import FileLock

Summary = Callable[[dict], dict]  # a filter -> usage/summary's result


class Budgets:
    def __init__(self, cfg: Config, summary: Summary):
        self.cfg = cfg
        self.summary = summary

    def current(self, project: str | None = None) -> list[dict]:
        """Configured budgets with what is used of them now: the global ones, then each
        project's (`[budgets.projects."name"]`; only `project`'s when given)."""
        cfg, today = self.cfg, days.today(self.cfg.tz)
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
                params = {"from": start, "to": end, "billing": billing}
                if scope is not None:
                    params["project"] = scope
                s = self.summary(params)
                used = s["credits"] if unit == "credits" else s["costUsd"] or 0.0
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
        """The status bar's level: error at 100%, warning past the highest threshold below it."""
        top = max((b["percent"] for b in budgets), default=0.0)
        warn = max([t for t in self.cfg.thresholds if t < 100] or [80.0])
        return "error" if top >= 100 else "warning" if top >= warn else "normal"

    def due(self) -> list[tuple[dict, float]]:
        """(budget, threshold) for each budget whose threshold was crossed and not yet
        announced in its period; thresholds crossed together (one big record) are one: the highest."""
        budgets = self.current()
        if not budgets:
            return []
        out = []
        with announced(self.cfg.data_dir) as seen:
            if seen is None:
                return []
            for b in budgets:
                crossed = None
                for threshold in self.cfg.thresholds:
                    key = f"{b['budget']}:{b['period']}:{threshold:g}"
                    if b.get("project") is not None:
                        key = f"project:{b['project']}:{key}"
                    if b["percent"] >= threshold and key not in seen:
                        seen[key] = days.now_ms()
                        crossed = threshold
                if crossed is not None:
                    out.append((b, crossed))
        return out


@contextlib.contextmanager
def announced(data_dir: Path) -> Iterator[dict | None]:
    """alerts.json under its lock: what was already announced in the editor, across all
    server processes; saved when the caller added to it. None when the lock is busy."""
    path = data_dir / "alerts.json"
    lock = FileLock(data_dir / "alerts.lock")
    if not lock.acquire(blocking=True, timeout=2):
        yield None
        return
    try:
        seen = fileio.read_json(path) or {}
        before = len(seen)
        yield seen
        if len(seen) != before:
            fileio.atomic_write(path, orjson.dumps(seen))
    finally:
        lock.release()
