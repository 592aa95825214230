"""What the plans of `[plans]` give: AI Credits used of the month's allowance, the plan's value
(usage at API list prices against its price), and estimated 5-hour windows where no tool
reports an official one. Together with the reported windows this is `usage/limits`.

- A plan's period is the calendar month: in UTC for credit plans (Copilot resets allowances at
  00:00 UTC on the 1st, whatever the user's zone), in the configured zone for the others
  (Claude's and ChatGPT's real period runs from the subscription date, which no log says).
- A tool's records are those whose `feature` names it (its first word is the tool, or starts
  with it and `-`/`_`: `claude-code agent=x`, `copilot-chat`).
- Credits are the ledger's credits (1 credit = $0.01 of list price by default, the AI Credit's
  own rate); base credits are used first, then the flex allotment.
- An estimated window is the active 5-hour block of blocks.py (ccusage's), for Claude Code and
  Codex when they report no window, and for any tool whose plan sets `block_tokens`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from usage_ls import blocks, days, windows
from usage_ls.config import Config
from usage_ls.plan_data import Plan
from usage_ls.queries import MONEY_DIGITS
from usage_ls.store.columns import TEXT_COLUMNS, RecordColumns
from usage_ls.store.ledger import Ledger
from usage_ls.store.limits import Observation

ESTIMATED_TOOLS = ("claude-code", "codex")  # tools whose plans have 5-hour windows
BLOCK_LOOKBACK_DAYS = 7  # the chain of blocks is followed back this far at most (a pause ends it sooner)
FEATURE_ROW = TEXT_COLUMNS.index("feature")


def is_tool(feature: str | None, tool: str) -> bool:
    if not feature:
        return False
    head = feature.split(" ", 1)[0]
    return head == tool or head.startswith((tool + "-", tool + "_"))


def tool_rows(cols: RecordColumns, tool: str) -> np.ndarray:
    """Which of a day's records are `tool`'s."""
    if not len(cols):
        return np.zeros(0, dtype=bool)
    refs = cols.text[FEATURE_ROW]
    wanted = [j for j in np.unique(refs).tolist() if j >= 0 and is_tool(cols.strings.get(j), tool)]
    return np.isin(refs, wanted)


def period(plan: Plan, now_ms: int, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the plan's month holding `now_ms`."""
    zone = dt.UTC if plan.utc_month else tz
    now = dt.datetime.fromtimestamp(now_ms / 1000, zone)
    start = dt.datetime(now.year, now.month, 1, tzinfo=zone)
    nxt = now.year * 12 + now.month  # the next month, 0-based
    return start, dt.datetime(nxt // 12, nxt % 12 + 1, 1, tzinfo=zone)


def _ms(t: dt.datetime) -> int:
    return int(t.timestamp() * 1000)


def usage(ledger: Ledger, tool: str, start_ms: int, end_ms: int, tz: dt.tzinfo, now_ms: int) -> tuple[float, float]:
    """(list-price USD, credits) of `tool`'s records in [start_ms, end_ms) (the days after
    tomorrow are not read: nothing is recorded there yet)."""
    cost = credits = 0.0
    last = min(days.day_of(end_ms - 1, tz), days.shift(days.day_of(now_ms, tz), 1))
    for day in days.day_range(days.day_of(start_ms, tz), last):
        cols = ledger.day_columns(day)
        if not len(cols):
            continue
        rows = tool_rows(cols, tool) & (cols.ts >= start_ms) & (cols.ts < end_ms)
        cost += float(np.nansum(cols.cost[rows]))
        credits += float(np.nansum(cols.credits[rows]))
    return cost, credits


def iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


def plan_view(plan: Plan, ledger: Ledger, tz: dt.tzinfo, now_ms: int) -> dict[str, Any]:
    """One entry of `usage/limits` `plans` (docs/protocol.md)."""
    start, end = period(plan, now_ms, tz)
    cost, used = usage(ledger, plan.tool, _ms(start), _ms(end), tz, now_ms)
    price = plan.monthly_price_usd
    credits = None
    if plan.base_credits is not None:
        allowance = plan.base_credits + plan.flex_credits
        credits = {
            "allowance": allowance,
            "base": plan.base_credits,
            "flex": plan.flex_credits,
            "used": round(used, 6),
            "remaining": round(max(0.0, allowance - used), 6),
            "resetsAt": iso(end),
        }
    return {
        "tool": plan.tool,
        "plan": plan.plan,
        "label": plan.label,
        "monthlyPriceUsd": price,
        "periodStart": iso(start),
        "periodEnd": iso(end),
        "listPriceUsd": round(cost, MONEY_DIGITS),
        "valueRatio": round(cost / price, 2) if price else None,
        "credits": credits,
    }


def credit_split(credits: dict[str, Any]) -> tuple[float, float]:
    """(base used, flex used): the base is spent first."""
    base_used = min(credits["used"], credits["base"])
    return base_used, min(credits["flex"], credits["used"] - base_used)


def active_block(ledger: Ledger, tool: str, tz: dt.tzinfo, now_ms: int) -> blocks.Block | None:
    """`tool`'s 5-hour block holding now, as `usage-ls report blocks` counts it when there was
    a pause of 5 hours in the last week (else the chain of blocks is taken to start a week ago:
    `usage/limits` stays quick for usage around the clock)."""
    today = days.day_of(now_ms, tz)
    oldest = days.shift(today, -BLOCK_LOOKBACK_DAYS)

    def load(day: str) -> RecordColumns:
        if day < oldest:  # an empty day: a pause
            return ledger.day_columns(today).take(np.zeros(0, dtype=np.int64))
        cols = ledger.day_columns(day)
        rows = tool_rows(cols, tool)
        return cols if rows.all() else cols.take(rows)

    found = blocks.report(load, days.shift(today, -1), today, tz, now_ms, ledger.models.names)
    return next((b for b in reversed(found) if b.is_active(now_ms)), None)


def estimated_windows(ledger: Ledger, cfg: Config, official: list[dict[str, Any]], now_ms: int) -> list[dict[str, Any]]:
    """The active 5-hour block of each tool that reports no window of its own (one that
    reports only a weekly window, as Codex's weekly-only plans, has no 5-hour window)."""
    have = {w["source"] for w in official}
    tools = [*ESTIMATED_TOOLS, *(t for t, p in cfg.plans.items() if p.block_tokens and t not in ESTIMATED_TOOLS)]
    out = []
    for tool in tools:
        if tool in have:
            continue
        block = active_block(ledger, tool, cfg.tz, now_ms)
        if block is None:
            continue
        projection = block.projection(now_ms)
        plan = cfg.plans.get(tool)
        out.append(
            windows.estimated(
                tool,
                block.start,
                block.end,
                block.total_tokens,
                block.cost,
                None if projection is None else projection["totalTokens"],
                None if projection is None else projection["totalCost"],
                plan.block_tokens if plan else None,
                now_ms,
                cfg.tz,
            )
        )
    return out


def limits(ledger: Ledger, cfg: Config, observations: list[Observation], now_ms: int) -> dict[str, Any]:
    """`usage/limits`: {windows, plans}."""
    official = windows.view(observations, now_ms, cfg.tz)
    shown = windows.ordered(official + estimated_windows(ledger, cfg, official, now_ms))
    return {"windows": shown, "plans": [plan_view(p, ledger, cfg.tz, now_ms) for p in cfg.plans.values()]}
