"""`usage-ls report weekly|monthly|blocks|sessions` and `report daily --breakdown`: the CLI's
side of periods.py, blocks.py and session_list.py (default ranges, JSON, the tables in
render/periods.py and render/sessions.py)."""

from __future__ import annotations

import datetime as dt
import os
import sys
import textwrap
from typing import Any

import orjson

from usage_ls import blocks, days, periods
from usage_ls.errors import InvalidParams
from usage_ls.render import limits as limits_render
from usage_ls.render import periods as render
from usage_ls.render import text as fmt
from usage_ls.render.fit import WIDTH, paint

KINDS = {"daily": "day", "weekly": "week", "monthly": "month"}
WEEKS_SHOWN = 8  # default ranges: this week and the 7 before it,
MONTHS_SHOWN = 12  # this month and the 11 before it,
BLOCK_DAYS = 7  # blocks of the last 7 days
SESSION_DAYS = 30  # sessions of the last 30 days


def color_wanted(stream: Any = None) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set or TERM=dumb."""
    stream = stream or sys.stdout
    isatty = getattr(stream, "isatty", None)
    tty = bool(isatty and isatty())
    return tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def default_from(what: str, today: str, week_start: str) -> str:
    if what == "weekly":
        return periods.period_start(days.shift(today, -7 * (WEEKS_SHOWN - 1)), "week", week_start)
    if what == "monthly":
        d = dt.date.fromisoformat(today)
        n = d.year * 12 + d.month - 1 - (MONTHS_SHOWN - 1)
        return dt.date(n // 12, n % 12 + 1, 1).isoformat()
    if what == "sessions":
        return days.shift(today, -(SESSION_DAYS - 1))
    return days.shift(today, -(BLOCK_DAYS - 1) if what == "blocks" else -6)


def run(args: Any, svc: Any, params: dict[str, Any]) -> int:
    """Print the report `args.what` (weekly, monthly, blocks, or daily with --breakdown)."""
    if "from" not in params:
        params["from"] = default_from(args.what, svc.today(), svc.cfg.week_start)
    f = svc.parse_filter({k: v for k, v in params.items() if k != "scope"})
    shown = ("from", "to", "byTool") + (("tool",) if args.what == "blocks" else ())  # blocks name their tool
    scope = ", ".join(f"{k}={fmt.plain(v)}" for k, v in params.items() if k not in shown)
    span = f.start if f.start == f.end else f"{f.start} .. {f.end}"
    color = color_wanted()
    where = f"{span}" + (f" · {scope}" if scope else "")
    if args.what == "blocks":
        return _blocks(args, svc, params, where, color)
    if args.what == "limits":
        return _limits(args, svc)
    if args.what == "sessions":
        return _sessions(args, svc, params, where, color)
    kind = KINDS[args.what]
    result = svc.periods(kind, params)
    if args.json:
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        return 0
    title = f"{args.what} · {where}"
    if kind == "week":
        title += f" · weeks start on {svc.cfg.week_start.capitalize()}"
    print(title)
    print(render.periods(result, kind, "tool" if args.by_tool else "model" if args.breakdown else None, color))
    return 0


def _limits(args: Any, svc: Any) -> int:
    """`report limits`: the plan windows (reported and estimated) and the plans (`usage/limits`)."""
    result = svc.limits()
    if args.json:
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        return 0
    if not result["windows"]:
        print("No plan windows reported yet: Claude Code reports them to")
        print("`usage-ls statusline --claude-code` (docs/limits.md), Codex in its session logs")
        print("(`usage-ls import codex`).")
    else:
        rows = []
        for w in result["windows"]:
            reset = (
                "" if w["resetsAtLocal"] is None else dt.datetime.fromisoformat(w["resetsAtLocal"]).strftime("%a %H:%M")
            )
            pace = "" if w["projectedPercent"] is None else f"{w['projectedPercent']:.0f}%"
            used = "" if w["usedPercent"] is None else f"{w['usedPercent']:.0f}%"
            label = w["label"] + (" (estimated)" if w["estimated"] else "")
            rows.append([fmt.plain(w["source"]), label, used, pace, reset, w["level"]])
        print(fmt.table(["Source", "Window", "Used", "At this pace", "Resets", "Level"], rows, "llrrll"))
        for w in result["windows"]:
            if w["estimated"]:
                print(f"{fmt.plain(w['source'])} 5-hour block (estimated): {limits_render.estimated_line(w)}")
    if not result["plans"]:
        print("\nNo plans set: name yours under [plans] in config.toml for its value and credits")
        print("(docs/limits.md).")
        return 0
    rows = []
    for p in result["plans"]:
        c = p["credits"]
        price = "" if p["monthlyPriceUsd"] is None else f"${p['monthlyPriceUsd']:,.0f}"
        value = "" if p["valueRatio"] is None else limits_render.ratio_text(p["valueRatio"])
        start, end = (dt.datetime.fromisoformat(p[k].replace("Z", "+00:00")) for k in ("periodStart", "periodEnd"))
        span = f"{start:%b} {start.day} – {end:%b} {end.day}" + (" UTC" if p["periodStart"].endswith("Z") else "")
        used = "" if c is None else f"{limits_render.count(c['used'])} / {limits_render.count(c['allowance'])}"
        rows.append(
            [fmt.plain(p["tool"]), fmt.plain(p["label"]), span, price, f"${p['listPriceUsd']:,.2f}", value, used]
        )
    print()
    print(fmt.table(["Tool", "Plan", "Period", "Price", "At list price", "Value", "AI Credits"], rows, "lllrrrr"))
    for p in result["plans"]:
        credits = limits_render.credits_text(p)
        if credits:
            print(f"{fmt.plain(p['label'])}: {credits}")
    return 0


def _sessions(args: Any, svc: Any, params: dict[str, Any], where: str, color: bool) -> int:
    """`report sessions`: the filter's conversations, newest first (`usage/sessions`)."""
    from usage_ls.render import sessions as render_sessions
    from usage_ls.session_list import MAX_LIMIT

    if args.breakdown:
        raise InvalidParams("--breakdown", "applies to daily, weekly and monthly, not sessions")
    sort = "-start" if args.sort == "-timestamp" else args.sort  # (the interactions' default)
    if args.json:  # every session, page after page
        result = svc.sessions({**params, "sort": sort, "limit": MAX_LIMIT})
        while len(result["sessions"]) < result["total"]:
            more = svc.sessions({**params, "sort": sort, "limit": MAX_LIMIT, "offset": len(result["sessions"])})
            result["sessions"] += more["sessions"]
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        return 0
    if not 0 < args.limit <= MAX_LIMIT:
        raise InvalidParams("--limit", f"expected 1..{MAX_LIMIT}, got {args.limit}")
    result = svc.sessions({**params, "sort": sort, "limit": args.limit})
    print(f"sessions · {where}" + ("" if sort == "-start" else f" · by {sort}"))
    print(render_sessions.sessions(result, color, args.wide))
    notes = render_sessions.notes(result, args.limit, args.wide)
    if notes:
        print()
    for line in notes:
        for part in textwrap.wrap(line, WIDTH):
            print(paint(part, "note", color))
    return 0


def _blocks(args: Any, svc: Any, params: dict[str, Any], where: str, color: bool) -> int:
    if args.breakdown:
        raise InvalidParams("--breakdown", "applies to daily, weekly and monthly, not blocks")
    tool = args.tool or blocks.DEFAULT_TOOL
    now = days.now_ms()
    items = svc.blocks({**params, "tool": tool}, now_ms=now)
    f = svc.parse_filter({k: v for k, v in params.items() if k != "scope"})
    if args.json:
        result = {
            "estimated": True,
            "sessionHours": blocks.SESSION_HOURS,
            "tool": tool,
            "from": f.start,
            "to": f.end,
            "now": blocks.iso_utc(now),
            "blocks": [b.json(now) for b in items],
        }
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        return 0
    print(f"blocks · {fmt.plain(tool)} · {where}")
    note = (
        "Estimated 5-hour windows, as ccusage's blocks: a block starts at the hour of its first"
        " message and lasts 5 hours; your provider's real windows may differ. Times in "
        f"{svc.cfg.timezone or 'the system time zone'}."
    )
    for line in textwrap.wrap(note, WIDTH):
        print(paint(line, "note", color))
    print()
    print(render.blocks(items, svc.tz, now, color))
    return 0
