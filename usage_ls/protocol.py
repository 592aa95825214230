"""The usage/* protocol, declared once.

Each `Method` names a request, what it takes and answers (TypedDicts: the shapes of
docs/protocol.md), the call that answers it, and whether the dashboard may ask for it too.
The language server registers its handlers from `METHODS`, the dashboard's HTTP API serves
`DASHBOARD_METHODS` (`POST /api/<short name>`), and a test checks that the VS Code client's
list of dashboard methods is the same. `usage/record` is declared here too; the server
handles it itself (it is also a notification). `initialize` options are `InitOptions`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, TypedDict

from usage_ls import views
from usage_ls.errors import kind
from usage_ls.model import RecordError, check_name
from usage_ls.service import Usage

FilterParams = TypedDict(
    "FilterParams",
    {"from": str, "to": str, "project": str, "user": str, "model": str, "billing": str, "tool": str, "scope": str},
    total=False,
)


class DailyParams(FilterParams, total=False):
    byTool: bool  # each day's tools beside its models


class InteractionsParams(FilterParams, total=False):
    offset: int
    limit: int
    sort: str
    session: str  # only this conversation's records


class SessionsParams(FilterParams, total=False):
    offset: int
    limit: int
    sort: str  # a column of session_list.SORT_COLUMNS, "-column" descending (default "-start")


class AttributionParams(FilterParams, total=False):
    by: str  # one of agent, skill, plugin, mcp, query (default: all of them); `tool`: one tool's


class DashboardParams(FilterParams, total=False):
    nonce: str
    preset: str
    mode: str


class StatusBarParams(TypedDict, total=False):
    billing: str


class RecordParams(TypedDict):
    records: list[dict[str, Any]]


class Totals(TypedDict):
    messages: int
    inputTokens: int
    outputTokens: int
    cacheReadTokens: int
    cacheWriteTokens: int
    totalTokens: int
    costUsd: float
    credits: float
    unpricedMessages: int


class StatusBarResult(TypedDict):
    text: str
    tooltip: str
    level: str
    credits: float
    costUsd: float
    billing: str


class RecordResult(TypedDict, total=False):
    accepted: int
    duplicates: int
    enriched: int  # duplicates whose attribution was added to the stored record
    rejected: list[dict[str, Any]]
    durable: bool
    warning: str
    ignoredFields: dict[str, int]


class DashboardResult(TypedDict):
    html: str


class ToolsResult(TypedDict):
    tools: list[str]  # the tools with records in the days, sorted ("claude-code", "codex", ...)


class LimitWindow(TypedDict):
    source: str  # "claude-code", "codex", ...
    window: str  # "5h", "7d", "<minutes>m"
    label: str  # "5h", "wk", ...
    limitId: str | None
    usedPercent: float | None  # null: an estimated window without a plan's block_tokens
    resetsAt: int | None  # epoch ms
    resetsAtLocal: str | None  # ISO 8601 in the configured time zone
    observedAt: int
    elapsedPercent: float | None
    projectedPercent: float | None  # used share at this pace by the reset
    # estimated windows also carry startsAt, tokens, costUsd, projectedTokens, projectedCostUsd, tokenLimit
    estimated: bool
    level: str  # "normal" | "warning" | "error"


class PlanCredits(TypedDict):
    allowance: float  # base + flex
    base: float
    flex: float
    used: float  # base first, then flex
    remaining: float
    resetsAt: str  # ISO 8601, 00:00 UTC on the 1st


class PlanResult(TypedDict):
    tool: str
    plan: str  # the config's id: "max5"
    label: str  # "Claude Max 5×"
    monthlyPriceUsd: float | None
    periodStart: str  # ISO 8601
    periodEnd: str  # exclusive
    listPriceUsd: float  # the tool's usage in the period at list price
    valueRatio: float | None  # listPriceUsd / monthlyPriceUsd
    credits: PlanCredits | None


class LimitsResult(TypedDict):
    windows: list[LimitWindow]  # the most constraining first
    plans: list[PlanResult]


class LimitHistoryParams(FilterParams, total=False):
    source: str  # one tool's windows ("claude-code", "codex", ...); absent: every tool's


class LimitPoint(TypedDict):
    t: int  # when observed, epoch ms
    usedPercent: float
    resetsAt: int | None


class LimitSeries(TypedDict):
    source: str
    window: str
    label: str
    limitId: str | None
    points: list[LimitPoint]  # in time order; the first may precede the range (its window still open)
    resets: list[int]  # epoch ms in the range at which an observed window started again
    sampled: bool  # more observations than MAX_POINTS: thinned (each span's peak and last kept)


# `from`/`to`: the days as resolved; `startMs`/`endMs`: their edges in the configured zone
LimitHistoryResult = TypedDict(
    "LimitHistoryResult",
    {"from": str, "to": str, "startMs": int, "endMs": int, "now": int, "series": list[LimitSeries]},
)


Result = dict[str, Any]  # the other results: see docs/protocol.md for their fields


@dataclass(frozen=True)
class Method:
    name: str  # "usage/summary"
    call: Callable[[Usage, dict[str, Any]], Any]
    params: type
    result: type
    dashboard: bool = False  # the dashboard page may call it (webview postMessage, HTTP API)
    team: bool = False  # answers `scope: "team"` from the team database (team/scope.py)

    @property
    def short(self) -> str:
        return self.name.split("/", 1)[1]


def dashboard_page(svc: Usage, params: dict[str, Any]) -> dict[str, Any]:
    """`usage/dashboard`; the page builder (and its static files) load on the first call, not at
    server start: most sessions never open the dashboard."""
    from usage_ls import dashboard

    return dashboard.build_page(svc, params)


METHODS: tuple[Method, ...] = (
    Method("usage/summary", Usage.summary, FilterParams, Totals, dashboard=True, team=True),
    Method("usage/tokenSplit", Usage.token_split, FilterParams, Result, dashboard=True, team=True),
    Method("usage/projects", Usage.projects, FilterParams, Result, dashboard=True, team=True),
    Method("usage/users", Usage.users, FilterParams, Result, dashboard=True, team=True),
    Method("usage/daily", Usage.daily, DailyParams, Result, dashboard=True, team=True),
    Method("usage/interactions", Usage.interactions, InteractionsParams, Result, dashboard=True, team=True),
    Method("usage/sessions", Usage.sessions, SessionsParams, Result, dashboard=True, team=True),
    Method("usage/insights", Usage.insights, FilterParams, Result, dashboard=True, team=True),
    Method("usage/limitHistory", Usage.limit_history, LimitHistoryParams, LimitHistoryResult, dashboard=True),
    Method("usage/limits", Usage.limits, FilterParams, LimitsResult, dashboard=True),
    Method("usage/attribution", Usage.attribution, AttributionParams, Result, dashboard=True, team=True),
    Method("usage/tools", Usage.tools, FilterParams, ToolsResult, dashboard=True, team=True),
    Method("usage/statusBar", views.status_bar, StatusBarParams, StatusBarResult),
    Method("usage/dashboard", dashboard_page, DashboardParams, DashboardResult),
)
RECORD = "usage/record"  # params RecordParams, result RecordResult (a request) or none (a notification)
DID_CHANGE = "usage/didChange"  # server -> client: {today: Totals, statusBar: StatusBarResult, limits: LimitsResult}
DASHBOARD_METHODS: dict[str, Method] = {m.short: m for m in METHODS if m.dashboard}
# the service's questions that take `scope: "team"` (Usage.summary, .token_split, ...)
TEAM_QUESTIONS = frozenset(m.call.__name__ for m in METHODS if m.team)


@dataclass
class InitOptions:
    """`initializationOptions` of `initialize`: each is optional; a bad one is reported by name
    and its default used (`read`). `project` and `user` are held to the record rules."""

    project: str | None = None  # default: the workspace folder's name (`service.default_name`)
    user: str | None = None  # default: config.toml's `user`, else the login name
    dataDir: str | None = None  # default: USAGE_LS_DATA_DIR, else the platform's data folder
    progressStatus: bool = False  # today's credits as a `$/progress` (editors without a status-bar API)

    @staticmethod
    def read(raw: object) -> tuple[InitOptions, list[str]]:
        """Options from what the client sent, and a message for each one not understood."""
        opts, problems = InitOptions(), list[str]()
        if not raw:  # absent, or an empty Lua table (Neovim sends `[]`)
            return opts, problems
        if not isinstance(raw, dict):
            return opts, [f"initializationOptions: expected an object, got {kind(raw)}"]
        known = {f.name for f in fields(InitOptions)}
        for key, value in raw.items():
            if key not in known:
                continue  # options of other versions or other clients: not ours to refuse
            if key == "progressStatus":
                if not isinstance(value, bool):
                    problems.append(
                        f"initializationOptions.{key}: expected true or false, got {kind(value)}; using false"
                    )
                else:
                    opts.progressStatus = value
                continue
            if value is not None and not isinstance(value, str):
                problems.append(f"initializationOptions.{key}: expected a string, got {kind(value)}; using the default")
                continue
            if value and key in ("project", "user"):
                try:
                    value = check_name(value, key)
                except RecordError as exc:
                    problems.append(f"initializationOptions.{key}: {exc.message}; using the default")
                    continue
            setattr(opts, key, value or None)
        return opts, problems
