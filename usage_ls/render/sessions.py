"""The terminal table of `usage-ls report sessions`: one row per conversation, at most 80
columns (session ids cut to 8 characters, the project and its models in one column cut to the
room left, models to the main one; `--wide` shows them whole), and the notes under it saying
what was left out and how to see it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from usage_ls.render import tables
from usage_ls.render import text as fmt
from usage_ls.render.fit import fitted, paint, short_model

SHORT_ID = 8


def duration(ms: int) -> str:
    minutes = ms // 60_000
    if minutes < 1:
        return f"{ms // 1000}s"
    hours, mins = divmod(minutes, 60)
    if hours >= 24:
        return f"{hours // 24}d{hours % 24:02d}h"
    return f"{hours}h{mins:02d}m" if hours else f"{mins}m"


def _models(models: list[str], wide: bool) -> str:
    if wide or not models:
        return ", ".join(models)
    first = short_model(models[0])[:18]
    return first + (f" +{len(models) - 1}" if len(models) > 1 else "")


def share(row: dict[str, Any]) -> str:
    """The sub-agents' share, as a whole percentage ("<1%" for a little); "" for none."""
    if not row["subagents"]["messages"]:
        return ""
    pct = row["subagentShare"] * 100
    return "<1%" if pct < 1 else f"{pct:.0f}%"


def sessions(result: dict[str, Any], color: bool = False, wide: bool = False) -> str:
    rows_in = result["sessions"]
    if not rows_in:
        return "no sessions in this range"
    headers = ["Session", "Start", "Dur", "Project · models", "Msgs", "Tokens", "Cost", "Agents"]

    def rows(compact: bool) -> list[list[str]]:
        out = []
        for r in rows_in:
            start = dt.datetime.fromisoformat(r["start"])
            out.append(
                [
                    r["session"] if wide else r["session"][:SHORT_ID],
                    start.strftime("%Y-%m-%d %H:%M" if wide else "%m-%d %H:%M"),
                    duration(r["durationMs"]),
                    " · ".join(x for x in (r["project"] or "", _models(r["models"], wide)) if x),
                    fmt.count(r["messages"]),
                    fmt.tokens(r["totalTokens"]) if compact else fmt.count(r["totalTokens"]),
                    tables.cost(r),
                    share(r),
                ]
            )
        return out

    align = "llllrrrr"
    if wide:
        lines = fmt.table(headers, rows(False), align).split("\n")
        return "\n".join([paint(lines[0], "head", color), *lines[1:]])
    return fitted(headers, rows, align, [None] * len(rows_in), color, elastic=3, min_elastic=10)


def notes(result: dict[str, Any], limit: int, wide: bool) -> list[str]:
    """What the table leaves out, and how to see it."""
    out = []
    shown, total = len(result["sessions"]), result["total"]
    if total > shown:
        out.append(f"{shown} of {total} sessions shown: --limit {total} for all, --json for every field.")
    if any(r["subagents"]["messages"] for r in result["sessions"]):
        out.append("Agents: the part of a session's cost (its tokens, when unpriced) made by its sub-agents.")
    if not wide and result["sessions"]:
        out.append("Session ids cut to 8 characters, models to the main one: --wide shows them whole.")
    loose = result["withoutSession"]
    if loose["messages"]:
        out.append(
            f"Not listed: {fmt.plural(loose['messages'], 'message')} without a session id"
            f" ({fmt.count(loose['totalTokens'])} tokens, {fmt.usd(loose['costUsd'])})."
        )
    return out
