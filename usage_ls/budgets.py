"""Budgets: what `[budgets]` in config.toml allows, what is used of it now, and which
thresholds are crossed and not yet announced.

`Budgets.current()` lists every configured budget (global, the team's, per user, per project)
with its use in its period (the team's and other users' from the team database when sync is
on: team/budget_totals.py, never waited for in a server); `level` turns them into the status
bar's colour; `due()` names the thresholds crossed since the last time, announced once across
every server process (alerts.json under its lock, shared with spike alerts through
`announced`). Messages are the faces' to word (`render.status.budget_alert`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from usage_ls import days, fileio
from usage_ls.config import BUDGET_KEYS, Config
from usage_ls.store.journal import FileLock

if TYPE_CHECKING:
    from usage_ls.team.budget_totals import TeamTotals

Summary = Callable[[dict], dict]  # a filter -> usage/summary's result


class Budgets:
    def __init__(self, cfg: Config, summary: Summary):
        self.cfg = cfg
        self.summary = summary
        self.team: TeamTotals | None = None  # the team database's totals, when it answers for a budget
        remote = cfg.team_budgets or any(user != cfg.user for user in cfg.user_budgets)
        if cfg.sync_postgres is not None and remote:
            from usage_ls.team.budget_totals import TeamTotals

            self.team = TeamTotals(cfg.sync_postgres)

    def generation(self) -> int:
        """Moves when the team database's answer changed (results that show budgets are redone)."""
        return 0 if self.team is None else self.team.generation

    def scopes(self, project: str | None) -> list[tuple[str, str | None, dict[str, float]]]:
        """(kind, name, limits): the global budgets, the team's, each user's, each project's
        (only `project`'s when given)."""
        cfg = self.cfg
        out: list[tuple[str, str | None, dict[str, float]]] = [("all", None, {k: getattr(cfg, k) for k in BUDGET_KEYS})]
        if cfg.team_budgets:
            out.append(("team", None, cfg.team_budgets))
        out += [("user", name, b) for name, b in cfg.user_budgets.items()]
        out += [("project", name, b) for name, b in cfg.project_budgets.items() if project is None or name == project]
        return out

    def current(self, project: str | None = None) -> list[dict]:
        """Configured budgets with what is used of them now: the global ones, the team's, each
        user's (`[budgets.users."name"]`), then each project's (`[budgets.projects."name"]`;
        only `project`'s when given). The team's and other users' come from the team database
        when sync is on (`source: "team"`; `used` null and `unavailable` saying why when it
        has not answered), the rest from this ledger."""
        cfg, today = self.cfg, days.today(self.cfg.tz)
        out = []
        month_start = today[:8] + "01"
        nxt = days.next_month_start(today)
        specs = [
            ("daily_credits", "Today", "credits", "premium", today, today, days.shift(today, 1)),
            ("monthly_credits", "This month", "credits", "premium", month_start, today, nxt),
            ("monthly_byok_usd", "BYOK this month", "usd", "byok", month_start, today, nxt),
        ]
        for kind, name, limits in self.scopes(project):
            remote = self.team is not None and (kind == "team" or (kind == "user" and name != cfg.user))
            for attr, label, unit, billing, start, end, resets in specs:
                limit = limits.get(attr)
                if not limit:
                    continue
                row: dict = {
                    "budget": attr,
                    "label": label if kind == "all" else f"{'Team' if kind == 'team' else name} · {label}",
                    "project": name if kind == "project" else None,
                    "user": name if kind == "user" else None,
                    "team": kind == "team",
                    "source": "team" if remote else "local",
                    "unit": unit,
                    "limit": limit,
                    "period": start if attr != "daily_credits" else today,
                    "resets": resets,
                }
                if remote and self.team is not None:
                    answer = self.team.used(month_start, today)
                    if isinstance(answer, str):
                        out.append({**row, "used": None, "percent": None, "unavailable": answer})
                        continue
                    values = answer.credits if unit == "credits" else answer.cost
                    who = name if kind == "user" else None
                    used = values.get((who, billing, "today" if attr == "daily_credits" else "month"), 0.0)
                    row["usedToday"] = values.get((who, billing, "today"), 0.0)
                else:
                    params = {"from": start, "to": end, "billing": billing}
                    if kind in ("project", "user"):
                        params[kind] = name
                    s = self.summary(params)
                    used = s["credits"] if unit == "credits" else s["costUsd"] or 0.0
                out.append({**row, "used": used, "percent": 100.0 * used / limit})
        return out

    def poll(self) -> None:
        """Read the team database again in the background when its answer is old (a server's tick)."""
        if self.team is not None:
            today = days.today(self.cfg.tz)
            self.team.poll((today[:8] + "01", today))

    def close(self) -> None:
        if self.team is not None:
            self.team.close()

    def level(self, budgets: list[dict]) -> str:
        """The status bar's level: error at 100%, warning past the highest threshold below it."""
        top = max((b["percent"] for b in budgets if b["percent"] is not None), default=0.0)
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
                if b["percent"] is None:  # the team database has not answered: nothing to announce
                    continue
                crossed = None
                for threshold in self.cfg.thresholds:
                    key = f"{b['budget']}:{b['period']}:{threshold:g}"
                    if b.get("project") is not None:
                        key = f"project:{b['project']}:{key}"
                    elif b.get("user") is not None:
                        key = f"user:{b['user']}:{key}"
                    elif b.get("team"):
                        key = f"team:{key}"
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
