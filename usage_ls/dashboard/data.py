"""What the dashboard page starts with: the filter it opens on and the data for it.

Everything comes from the service's query methods (`summary`, `token_split`, `projects`,
`users`, `daily`, `interactions`, `sessions`, `insights`, `attribution`, and `usage/tools` for
the Tool picker), the same ones the page calls later through the editor or
the local HTTP server, so the first paint and every later refresh show the same numbers.
"""

from __future__ import annotations

import datetime as dt

from usage_ls import days
from usage_ls.errors import InvalidParams, describe

PRESETS = ("today", "yesterday", "7d", "30d", "month")
DEFAULT_PRESET = "7d"
PAGE_SIZE = 50
STATIC_ROWS = 10_000  # a static snapshot carries up to this many interactions (one query's limit)
SESSIONS_PAGE = 10  # the Sessions table's page
STATIC_SESSIONS = 500  # a static snapshot carries up to this many sessions
FILTER_KEYS = ("from", "to", "project", "user", "model", "billing", "tool")


def preset_range(preset: str, today: str) -> tuple[str, str]:
    """The inclusive days of a date preset, relative to `today` (the configured zone's)."""
    if preset == "today":
        return today, today
    if preset == "yesterday":
        y = days.shift(today, -1)
        return y, y
    if preset == "7d":
        return days.shift(today, -6), today
    if preset == "30d":
        return days.shift(today, -29), today
    if preset == "month":
        return today[:8] + "01", today
    raise InvalidParams("preset", f"expected one of {', '.join(PRESETS)}, got {describe(preset)}")


def matching_preset(start: str, end: str, today: str) -> str:
    for name in PRESETS:
        if preset_range(name, today) == (start, end):
            return name
    return "custom"


def page_scope(params: dict) -> dict:
    """`{"scope": "team"}` when the page opens on the team's numbers, else `{}`."""
    scope = params.get("scope") or "local"
    if scope not in ("local", "team"):
        raise InvalidParams("scope", f'expected "local" or "team", got {describe(scope)}')
    return {"scope": "team"} if scope == "team" else {}


def initial_filter(svc, params: dict) -> tuple[dict, str]:
    """(filter with explicit from/to/billing, preset name) for the page's first view.

    Without `from`/`to` the page opens on `preset` (default: the last 7 days). Without
    `billing` it opens on Premium, unless the range has only BYOK usage.
    """
    today = svc.today()
    flt = {k: params[k] for k in FILTER_KEYS if params.get(k) not in (None, "")}
    if flt.get("tool") == "all":
        del flt["tool"]
    preset = params.get("preset")
    if "from" not in flt and "to" not in flt:
        preset = preset or DEFAULT_PRESET
        flt["from"], flt["to"] = preset_range(preset, today)
    else:
        parsed = svc.parse_filter({k: v for k, v in flt.items() if k in ("from", "to")})
        flt["from"], flt["to"] = parsed.start, parsed.end
        preset = matching_preset(parsed.start, parsed.end, today)
    if flt.get("billing") in (None, "all"):
        flt["billing"] = "premium"
        base = {k: flt[k] for k in ("from", "to", "tool") if k in flt} | page_scope(params)
        if (
            not svc.summary({**base, "billing": "premium"})["messages"]
            and svc.summary({**base, "billing": "byok"})["messages"]
        ):
            flt["billing"] = "byok"
    svc.parse_filter(flt)  # raises InvalidParams naming a bad field
    return flt, preset


def option_filter(flt: dict) -> dict:
    """The filter the project/user/model pickers list names for: the range and billing only
    (the Tool picker's: the range only, `usage/tools`)."""
    return {"from": flt["from"], "to": flt["to"], "billing": flt["billing"]}


def initial_data(svc, flt: dict, *, static: bool = False, scope: dict | None = None) -> dict:
    """The results the page renders first, keyed by what the page asks for; with `scope`
    `{"scope": "team"}`, the team's (the plan limits stay this machine's)."""
    table = {"offset": 0, "limit": STATIC_ROWS if static else PAGE_SIZE, "sort": "-timestamp"}
    opts = {**option_filter(flt), **(scope or {})}
    flt = {**flt, **(scope or {})}
    return {
        "summary": svc.summary(flt),
        "tokenSplit": svc.token_split(flt),
        "projects": svc.projects(flt),
        "users": svc.users(flt),
        "daily": svc.daily(flt),
        "interactions": svc.interactions({**flt, **table}),
        "sessions": svc.sessions({**flt, "offset": 0, "limit": STATIC_SESSIONS if static else SESSIONS_PAGE}),
        # budgets, burn rate and projections (about now), spikes and tips (about the range)
        # (the team's are not asked by tool: the page asks and shows why)
        "insights": None if scope and "tool" in flt else svc.insights(flt),
        "attribution": svc.attribution(flt),  # the "Where it went" card
        "options": {
            "projects": [p["project"] for p in svc.projects(opts)["projects"]],
            "users": [u["user"] for u in svc.users(opts)["users"]],
            "models": [m["model"] for m in svc.token_split(opts)["models"]],
            # the Tool picker's: the range only (the team's: from its records, team/tools.py)
            "tools": svc.tools({"from": flt["from"], "to": flt["to"], **(scope or {})})["tools"],
        },
        # the Plan limits card (static/limits.js): the windows now, and their history in the range
        "limits": svc.limits(),
        "limitHistory": svc.limit_history({"from": flt["from"], "to": flt["to"]}),
    }


def bootstrap(svc, params: dict, mode: str) -> dict:
    scope = page_scope(params)
    flt, preset = initial_filter(svc, params)
    static = mode == "static"
    return {
        "mode": mode,
        "scope": scope.get("scope", "local"),
        "today": svc.today(),
        "filter": flt,
        "preset": preset,
        "pageSize": PAGE_SIZE,
        "staticRows": STATIC_ROWS if static else 0,
        "version": svc.version,
        "teamSync": svc.cfg.sync_postgres is not None,  # the Local / Team switch ([sync] postgres)
        "warnAt": max([t for t in svc.cfg.thresholds if t < 100] or [80.0]),
        "generatedAt": dt.datetime.now(svc.tz).isoformat(timespec="seconds"),
        "data": initial_data(svc, flt, static=static, scope=scope),
    }
