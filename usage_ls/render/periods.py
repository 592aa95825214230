"""Terminal tables of periods (weeks, months, days with their models) and of estimated 5-hour
blocks: data in, text out, at most 80 columns wide.

A table first tries exact token counts; when that is wider than 80 columns the token columns
become compact (12.3M), then the label column (model names) is shortened with "…". Colour (only
when asked for: the CLI asks on a TTY without NO_COLOR) marks whole lines: the header bold,
model rows dim, the total bold, the active block green.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from usage_ls.render import tables
from usage_ls.render import text as fmt
from usage_ls.render.fit import WIDTH, fitted, paint, short_model


def _numbers(row: dict[str, Any], compact: bool) -> list[str]:
    tok = fmt.tokens if compact else fmt.count
    return [
        fmt.count(row["messages"]),
        tok(row["inputTokens"]),
        tok(row["outputTokens"]),
        tok(row["cacheReadTokens"] + row["cacheWriteTokens"]),
        tok(row["totalTokens"]),
        fmt.credits(row["credits"]) if row["unpricedMessages"] < row["messages"] else "unpriced",
        tables.cost(row),
    ]


def periods(result: dict[str, Any], kind: str, breakdown: str | None = None, color: bool = False) -> str:
    """The periods with usage (a period without any is left out; the JSON keeps it), each
    followed by its models (`breakdown` "model") or its tools ("tool"), and the total."""
    key = {"day": "days", "week": "weeks", "month": "months"}[kind]
    label = {"day": "date", "week": "week", "month": "month"}[kind]
    used = [p for p in result[key] if p["messages"]]
    if not used:
        return "no usage in this range"
    entries: list[tuple[str, dict[str, Any], str | None]] = []
    for p in used:
        entries.append((p[label], p, None))
        if breakdown:
            split = p["byTool"] if breakdown == "tool" else p["byModel"]
            entries += [(f"  {name}", m, "model") for name, m in split.items()]
    if len(used) > 1 or breakdown:
        entries.append(("Total", result["totals"], "total"))

    def rows(compact: bool) -> list[list[str]]:
        return [[name, *_numbers(row, compact)] for name, row, _ in entries]

    headers = [label.capitalize(), "Msgs", "Input", "Output", "Cache", "Total", "Credits", "Cost"]
    return fitted(headers, rows, "lrrrrrrr", [style for *_, style in entries], color)


def daily(result: dict[str, Any], color: bool = False) -> str:
    """`report daily`: the days with usage (the JSON keeps every day, for charts), each with
    its top three models by tokens (shortened to fit 80 columns), and the total."""
    used = [d for d in result["days"] if d["messages"]]
    if not used:
        return "no usage in this range"
    total: dict[str, Any] = {
        k: sum(d[k] for d in used) for k in ("credits", "messages", "inputTokens", "outputTokens", "cacheReadTokens")
    }
    priced = [d["costUsd"] for d in used if d["costUsd"] is not None]  # a day of unpriced records only: None
    total["costUsd"] = sum(priced) if priced else None
    total |= {k: sum(d[k] for d in used) for k in ("cacheWriteTokens", "totalTokens", "unpricedMessages")}
    entries: list[tuple[str, dict[str, Any], str, str | None]] = []
    tops: dict[str, str] = {}  # a day's top model and how many others, where three do not fit
    for d in used:
        ranked = [short_model(name) for name, _ in sorted(d["byModel"].items(), key=lambda kv: -kv[1]["totalTokens"])]
        entries.append((d["date"], d, ", ".join(ranked[:3]), None))
        tops[d["date"]] = ranked[0] + (f" +{len(ranked) - 1}" if len(ranked) > 1 else "") if ranked else ""
    if len(used) > 1:
        entries.append(("Total", total, "", "total"))

    def rows(compact: bool, marked: bool = False) -> list[list[str]]:
        out = []
        for name, row, models, _ in entries:
            numbers = _numbers(row, compact)
            if marked and 0 < row["unpricedMessages"] < row["messages"]:
                numbers[-1] = fmt.usd(row["costUsd"]) + "*"  # "+N unpriced" said once, below
            out.append([name, *numbers, tops.get(name, "") if marked else models])
        return out

    def fits(text: str) -> bool:
        return max(len(fmt.plain(line)) for line in text.splitlines()) <= WIDTH

    headers = ["Date", "Msgs", "Input", "Output", "Cache", "Total", "Credits", "Cost", "Top models"]
    styles = [style for *_, style in entries]
    text = fitted(headers, rows, "lrrrrrrrl", styles, color, elastic=8, min_elastic=12)
    if fits(text):
        return text
    # "$1.16 +2 unpriced" leaves no room for the models: a mark on the cost, and one note
    text = fitted(headers, lambda c: rows(c, True), "lrrrrrrrl", styles, color, elastic=8, min_elastic=12)
    unpriced = total["unpricedMessages"]
    if fits(text) and unpriced:
        note = f"* and unpriced messages (their model has no known price): {unpriced:,} of {total['messages']:,}"
        return text + "\n" + paint(note, "note", color)
    return fitted(headers[:-1], lambda c: [r[:-1] for r in rows(c)], "lrrrrrrr", styles, color)  # no room for models


def _local(ms: int, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).astimezone(tz)


def _span(minutes: int) -> str:
    hours, mins = divmod(max(0, minutes), 60)
    return f"{hours}h {mins:02d}m" if hours else f"{mins}m"


def blocks(items: list[Any], tz: dt.tzinfo, now_ms: int, color: bool = False) -> str:
    """Blocks with usage (gaps are left out; the JSON keeps them), in local time, and the
    active block's burn rate and projection. Everything here is an estimate."""
    used = [b for b in items if not b.gap]
    if not used:
        return "no usage in this range"
    table, styles = [], []
    for b in used:
        start, end = _local(b.start, tz), _local(b.end, tz)
        until = end.strftime("%H:%M") if end.date() == start.date() else end.strftime("%m-%d %H:%M")
        active = b.is_active(now_ms)
        table.append(
            [
                start.strftime("%Y-%m-%d %H:%M"),
                until + (" active" if active else ""),
                _span((b.last - b.start) // 60_000),
                fmt.count(b.entries),
                fmt.count(b.total_tokens),
                tables.cost({"costUsd": b.cost, "messages": b.entries, "unpricedMessages": b.unpriced}),
                ", ".join(b.models),
            ]
        )
        styles.append("active" if active else None)
    headers = ["Start", "Until", "Used", "Msgs", "Tokens", "Cost", "Models"]
    out = fitted(headers, lambda compact: table, "lllrrrl", styles, color, elastic=6, min_elastic=12)
    current = next((b for b in used if b.is_active(now_ms)), None)
    if current is not None:
        out += "\n\n" + "\n".join(paint(line, "active", color) for line in active_lines(current, tz, now_ms))
    return out


def active_lines(block: Any, tz: dt.tzinfo, now_ms: int) -> list[str]:
    """What the active block holds, its burn rate and where it ends at that rate."""
    end = _local(block.end, tz).strftime("%H:%M")
    left = (block.end - now_ms) // 60_000
    lines = [
        f"Active block (estimated): {_local(block.start, tz).strftime('%H:%M')}-{end}, {_span(left)} left;"
        f" so far {fmt.count(block.total_tokens)} tokens, {fmt.usd(block.cost)}"
    ]
    rate, projection = block.burn_rate(), block.projection(now_ms)
    if rate is None or projection is None:
        lines.append("  burn rate: not yet (one message so far)")
        return lines
    lines.append(
        f"  burn rate: {fmt.count(round(rate['tokensPerMinute']))} tokens/min, {fmt.usd(rate['costPerHour'])}/h"
    )
    lines.append(
        f"  projected by {end} at this rate: {fmt.count(projection['totalTokens'])} tokens,"
        f" {fmt.usd(projection['totalCost'])}"
    )
    return lines
