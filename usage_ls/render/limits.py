"""Plans and plan windows in words: the tooltip's plan lines, the alerts told once, the plan
value. Pure: `usage/limits` data in, text out; names from the data go through `esc`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from usage_ls.render.text import plain, tokens, usd


def count(x: float) -> str:
    return f"{x:,.0f}"


def value_text(p: dict[str, Any]) -> str:
    """`Claude Max 5×: $100; your usage at list price: $1,243, 12.4×`."""
    price = p["monthlyPriceUsd"]
    text = f"{p['label']}: " + ("price not set" if price is None else f"${price:,.0f}")
    text += f"; your usage at list price: ${p['listPriceUsd']:,.2f}"
    if p["valueRatio"] is not None:
        text += f", {ratio_text(p['valueRatio'])}"
    return text


def ratio_text(ratio: float) -> str:
    """`12.4×`, `0.15×`."""
    return f"{ratio:.1f}×" if ratio >= 1 else f"{ratio:.2f}×"


def credits_text(p: dict[str, Any]) -> str | None:
    """`AI Credits 1,200 of 1,500 used (base spent, 300 flex left); resets Jan 1 00:00 UTC`."""
    c = p["credits"]
    if c is None:
        return None
    base_used = min(c["used"], c["base"])
    flex_left = max(0.0, c["flex"] - (c["used"] - base_used))
    where = f"{count(c['base'] - base_used)} base left" if c["used"] < c["base"] else "base spent"
    if c["flex"]:
        where += f", {count(flex_left)} flex left"
    resets = dt.datetime.fromisoformat(c["resetsAt"].replace("Z", "+00:00"))
    return (
        f"AI Credits {count(c['used'])} of {count(c['allowance'])} used ({where}); "
        f"resets {resets:%b} {resets.day} 00:00 UTC"
    )


def plan_lines(plans: list[dict[str, Any]], esc: Callable[[str], str] = plain) -> list[str]:
    """One line per plan (and its credits), for the tooltip and the CLI."""
    lines = []
    for p in plans:
        line = f"- {esc(value_text(p))}"
        credits = credits_text(p)
        if credits:
            line += f"; {credits}"
        lines.append(line)
    return lines


def estimated_line(w: dict[str, Any]) -> str:
    """What an estimated block holds: `1.2M tokens, $4.10 so far (at this rate 2.0M, $6.80)`."""
    text = f"{tokens(w['tokens'])} tokens, {usd(w['costUsd'])} so far"
    if w["projectedTokens"] is not None:
        text += f" (at this rate {tokens(w['projectedTokens'])}, {usd(w['projectedCostUsd'])} by its end)"
    return text


def _when(w: dict[str, Any]) -> str:
    return "" if not w["resetsAtLocal"] else f"; resets {dt.datetime.fromisoformat(w['resetsAtLocal']):%a %H:%M}"


def window_alert(kind: str, w: dict[str, Any], crossed: float | None) -> str:
    name = f"{plain(w['source'])} {plain(w['label'])} window" + (" (estimated)" if w["estimated"] else "")
    if kind == "pace":
        return (
            f"usage-ls: {name}: at this pace {w['projectedPercent']:.0f}% by the reset "
            f"({w['usedPercent']:.0f}% used, {w['elapsedPercent']:.0f}% of the window passed){_when(w)}."
        )
    return f"usage-ls: {name} {w['usedPercent']:.0f}% used (past {crossed:g}%){_when(w)}."


def credits_alert(p: dict[str, Any], crossed: float) -> str:
    return f"usage-ls: {plain(p['label'])} {crossed:g}% of AI Credits reached: {credits_text(p)}."
