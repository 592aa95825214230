"""The application: one object the server, the CLI and the dashboard share.

`Usage` is a thin front: it opens the ledger with its pricing, answers the protocol's queries
(cached per (query, filter) until the ledger's version or the day changes), and hands the
rest to its rooms: `Budgets` (budgets.py) and the `InsightEngine` (insight_engine.py). It
returns plain data; the faces (server, CLI, dashboard) render it (`usage_ls.views`,
`usage_ls.render`). It knows nothing of LSP, HTTP or argparse.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

import usage_ls.by_tool as by_tool
from usage_ls import attributed, blocks, days, limit_alerts, periods, plans, price_extra, queries, session_list, windows
from usage_ls.budgets import Budgets
from usage_ls.config import Config, load_config
from usage_ls.errors import InvalidParams, describe
from usage_ls.insight_engine import InsightEngine
from usage_ls.model import Defaults
from usage_ls.names import default_name as default_name
from usage_ls.names import settle_user
from usage_ls.pricing import Pricer
from usage_ls.store.cache import ByteCache
from usage_ls.store.ledger import CHECKPOINT_RECORDS, Ledger
from usage_ls.store.limit_reader import ObservationReader
from usage_ls.store.limits import LimitLog

MAX_BATCH = 50_000  # records in one usage/record
RESULT_CACHE_BYTES = 8 * 1024 * 1024  # query results, weighed as JSON (a year of `usage/daily` is ~1.2 MB)
MODEL_CHARS = r"A-Za-z0-9\-._/:"
MODEL_WORD = re.compile(rf"[{MODEL_CHARS}]+")


def result_weight(value: Any) -> int:
    """A cached result's weight: its size as JSON."""
    try:
        return 256 + len(orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS))
    except TypeError:
        return 4096


def _team_scope(params: Any) -> bool:
    return isinstance(params, dict) and params.get("scope") == "team"


class Usage:
    def __init__(
        self, cfg: Config | None = None, *, data_dir: str | Path | None = None, tag: str = "srv", writable: bool = True
    ):
        self.cfg = cfg or load_config(data_dir)
        settle_user(self.cfg)
        self.pricer = Pricer(self.cfg)
        self.ledger = Ledger(self.cfg.data_dir, self.cfg.tz, self.pricer.apply, tag=tag, writable=writable)
        self.results = ByteCache(RESULT_CACHE_BYTES, result_weight)
        self.limit_log = LimitLog(self.cfg.data_dir)
        self.limit_sig: tuple[int, int] | None = None
        self.limit_changes = 0
        self.limit_reader = ObservationReader(self.limit_log)  # the whole history, read on as it grows
        self.budgets = Budgets(self.cfg, self.summary)
        self.engine = InsightEngine(self.cfg, self.ledger, self.pricer, self.budgets, self.summary, result_weight)
        self.defer_insights = False  # set by a starting server; see status_data
        # callables the server polls on every tick (e.g. live log importers); each returns
        # True when it recorded something
        self.watchers: list[Callable[[], bool]] = []
        self.team_lock = threading.Lock()
        self.team_link: Any = None  # team/scope.TeamLink, made on the first `scope: "team"` query
        self.live_sources: list[dict] = []  # the server's: tools watched, the receiver (sources.py)

    def open(self) -> Usage:
        self.ledger.open()
        return self

    def close(self) -> None:
        self.budgets.close()
        if self.team_link is not None:
            self.team_link.close()
        try:
            self.ledger.close()
        finally:
            self.pricer.save_cache()

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
            raise InvalidParams("records", "expected a list of records")
        if len(records) > MAX_BATCH:
            raise InvalidParams("records", f"at most {MAX_BATCH} records per batch, got {len(records)}")
        return self.ledger.ingest(records, defaults or self.defaults(), sync=sync)

    # -- the ledger's upkeep, for the server's background loop ---------------------------------

    @property
    def version(self) -> int:
        """Changes whenever what queries see changes: the ledger, or a plan window observed."""
        return self.ledger.version + self.limit_changes

    def refresh(self) -> bool:
        """Catch up with other processes' writes; True when anything changed."""
        changed = self.ledger.refresh()
        sig = self.limit_log.signature()
        if sig != self.limit_sig:  # a status line command (another process) kept a window
            self.limit_sig, self.limit_changes = sig, self.limit_changes + 1
            changed = True
        return changed

    def sync(self) -> None:
        """fsync records acknowledged without it (notifications: group commit)."""
        self.ledger.sync()

    def retry_unwritten(self) -> int:
        """Write records kept in memory after a disk error; returns how many were written."""
        return self.ledger.retry_unwritten() if self.ledger.unwritten else 0

    def rotate_journal(self) -> None:
        """Start a fresh journal once ours is large (the old one is folded by a checkpoint)."""
        self.ledger.rotate_journal()

    def checkpoint_due(self, idle: bool) -> bool:
        """Enough records pending to fold them, or any while writes are idle."""
        pending = self.ledger.pending
        return pending >= CHECKPOINT_RECORDS or bool(pending and idle)

    def take_problems(self) -> list[str]:
        return self.ledger.take_problems()

    # -- cached queries --------------------------------------------------------------------

    def cached(self, name: str, key: tuple, compute: Callable[[], Any]) -> Any:
        """`compute()`, once per (name, key) until the ledger or the day changes."""
        return self.results.memo((self.version, self.today()), (name, key), compute)

    def forget_results(self) -> None:
        self.results.clear()

    def parse_filter(self, params: dict | None) -> queries.Filter:
        return queries.parse_filter(params, self.tz)

    def rows(self, f: queries.Filter) -> Any:
        return by_tool.rows(self.ledger, f)

    def team(self, name: str, params: dict) -> dict:
        """A `scope: "team"` answer, from the team database (team/scope.py)."""
        f = self.parse_filter({k: v for k, v in params.items() if k != "scope"})
        return self.linked().answer(name, f, params)

    def team_db(self) -> Any:
        """The team database's reader (team/query.Reader); InvalidParams naming `scope` without
        `[sync] postgres`."""
        return self.linked().db()

    def linked(self) -> Any:
        from usage_ls.team.scope import TeamLink

        with self.team_lock:  # (the server's team thread, or the CLI and budgets on the loop)
            if self.team_link is None:
                self.team_link = TeamLink(self.cfg, self.pricer)
            return self.team_link

    def _answer(self, name: str, params: dict | None, compute: Callable[[queries.Filter], dict]) -> dict:
        """A query answered from the team database (`scope: "team"`) or, cached, the ledger."""
        if _team_scope(params):
            return self.team(name, params or {})
        self.ledger.refresh()
        f = self.parse_filter(params)
        return self.cached(name, f.key, lambda: compute(f))

    def summary(self, params: dict | None = None) -> dict:
        return self._answer("summary", params, lambda f: queries.summary(self.rows(f)))

    def token_split(self, params: dict | None = None) -> dict:
        return self._answer("token_split", params, lambda f: queries.token_split(self.ledger, self.rows(f)))

    def projects(self, params: dict | None = None) -> dict:
        return self._answer("projects", params, lambda f: queries.projects(self.ledger, self.rows(f)))

    def users(self, params: dict | None = None) -> dict:
        return self._answer("users", params, lambda f: queries.users(self.ledger, self.rows(f)))

    def tools(self, params: dict | None = None) -> dict:
        """`usage/tools`: the tools with records in the filter's days (only from/to count), sorted."""
        if _team_scope(params):
            return self.team("tools", params or {})
        self.ledger.refresh()
        f = queries.Filter(*self.parse_filter(params).key[:2])
        return self.cached("tools", (f.start, f.end), lambda: {"tools": by_tool.present(self.ledger, f)})

    def daily(self, params: dict | None = None) -> dict:
        if _team_scope(params):
            return self.team("daily", params)
        self.ledger.refresh()
        f = self.parse_filter(params)
        split = by_tool.flag(params)
        tools = (lambda: by_tool.days_split(self.ledger, f)) if split else (lambda: None)
        return self.cached("daily", (f.key, split), lambda: queries.daily(self.ledger, self.rows(f), f, tools()))

    def periods(self, kind: str, params: dict | None = None) -> dict:
        """The filter's days by "week" (starting on config's `week_start`), "month" or "day"."""
        if _team_scope(params):
            return self.team(kind, params or {})
        self.ledger.refresh()
        f, split, week = self.parse_filter(params), by_tool.flag(params), self.cfg.week_start
        key = (kind, f.key, split)
        return self.cached("periods", key, lambda: periods.periods(self.ledger, self.rows(f), f, kind, week, split))

    def blocks(self, params: dict | None = None, now_ms: int | None = None) -> list[blocks.Block]:
        """Estimated 5-hour blocks (blocks.py) of one tool's records (params "tool": default
        "claude-code", "all" for every record) starting in the filter's days; with `scope:
        "team"`, of the team database's records (CLI only: no protocol method)."""
        team = _team_scope(params)
        f = self.parse_filter({k: v for k, v in (params or {}).items() if k != "scope" or not team})
        tool = (params or {}).get("tool", blocks.DEFAULT_TOOL)  # its type and length: parse_filter
        if not tool:
            raise InvalidParams("tool", f'expected a tool name like "claude-code" or "all", got {tool!r}')
        feature = None if tool == "all" else tool
        now = days.now_ms() if now_ms is None else now_ms
        if team:  # every machine's records, each once (a person's windows: give `user`)
            from usage_ls.team import records

            loader = records.DayLoader(self.team_db(), f, *records.of_tool(feature))
            loader.read(f.start, days.shift(f.end, 1))
            return blocks.report(loader, f.start, f.end, self.tz, now, loader.models.names)
        self.ledger.refresh()

        def load(day: str):
            return queries.matching_columns(self.ledger, f, day, feature)

        return blocks.report(load, f.start, f.end, self.tz, now, self.ledger.models.names)

    def limit_history(self, params: dict | None = None) -> dict:
        """`usage/limitHistory`: each plan window's observations in the filter's days (in the
        configured zone), optionally of one `source` (`windows.history`)."""
        self.refresh()
        f = self.parse_filter(params)
        source = (params or {}).get("source") or None
        if source is not None and (not isinstance(source, str) or len(source) > 200):
            raise InvalidParams("source", f'expected a tool name like "claude-code" or "codex", got {describe(source)}')
        now = days.now_ms()
        start, end = days.midnight_ms(f.start, self.tz), days.midnight_ms(days.shift(f.end, 1), self.tz)

        def compute() -> dict:
            series = windows.history(self.limit_reader.all(), start, end, now, source)
            return {"from": f.start, "to": f.end, "startMs": start, "endMs": end, "now": now, "series": series}

        return self.cached("limitHistory", (f.start, f.end, source, now // 60_000), compute)

    def interactions(self, params: dict | None = None) -> dict:
        if _team_scope(params):
            return self.team("interactions", params or {})
        self.ledger.refresh()
        params = params or {}
        f = self.parse_filter(params)
        offset, limit, sort = params.get("offset", 0), params.get("limit", 100), params.get("sort")
        if sort is not None and not isinstance(sort, str):
            raise InvalidParams("sort", f"expected a column name, got {describe(sort)}")
        session = params.get("session")
        if session is not None and (not isinstance(session, str) or not session or len(session) > 200):
            raise InvalidParams("session", f"expected a session id (1..200 characters), got {describe(session)}")
        key = (f.key, offset, limit, sort, session)
        return self.cached("rows", key, lambda: queries.interactions(self.ledger, f, offset, limit, sort, session))

    def sessions(self, params: dict | None = None) -> dict:
        """`usage/sessions`: the filter's conversations, paged (session_list.py)."""
        if _team_scope(params):
            return self.team("sessions", params or {})
        self.ledger.refresh()
        params = params or {}
        f = self.parse_filter(params)
        offset, limit, sort = params.get("offset", 0), params.get("limit", 100), params.get("sort")
        session_list.check_page(offset, limit, sort)
        key = (f.key, offset, limit, sort)
        return self.cached("sessions", key, lambda: session_list.sessions(self.ledger, f, offset, limit, sort))

    def attribution(self, params: dict | None = None) -> dict:
        """Cost and tokens per agent, skill, plugin, MCP server and query source (attributed.py)."""
        if _team_scope(params):
            return self.team("attribution", params or {})
        self.ledger.refresh()
        params = params or {}
        f = self.parse_filter(params)
        by, tool = attributed.parse_params(params)
        return self.cached("attribution", (f.key, by, tool), lambda: attributed.split(self.ledger, f, by, tool))

    # -- status bar, hover ----------------------------------------------------------------

    def status_mode(self, params: dict | None) -> str:
        """What a status bar counts: "premium" credits or "byok" dollars; "auto" (the default):
        Premium credits unless the last 7 days have BYOK usage and no Premium usage (someone
        who uses Claude Code or Codex on their own keys or a subscription sees dollars, not
        `0.0 cr`)."""
        mode = (params or {}).get("billing") or "auto"
        if mode not in ("premium", "byok", "auto"):
            raise InvalidParams("billing", f'expected "auto", "premium" or "byok", got {describe(mode)}')
        if mode == "auto":
            mode = self.cached("status-auto", (), self._auto_mode)
        return mode

    def _auto_mode(self) -> str:
        week = {"from": days.shift(self.today(), -6), "to": self.today()}
        if self.summary({**week, "billing": "premium"})["messages"]:
            return "premium"
        return "byok" if self.summary({**week, "billing": "byok"})["messages"] else "premium"

    def status_data(self, mode: str) -> dict:
        """What the status bar shows (`status_mode`), as data (`views.status_bar` renders it):
        today's summaries by billing, the week's series, today's models, budgets, live insights."""
        today = self.today()
        week = {"from": days.shift(today, -6), "to": today, "billing": mode}
        metric = "credits" if mode == "premium" else "costUsd"
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
                    "byokUsd": (b or {}).get("costUsd") or 0.0,
                    "unpricedMessages": (p or {}).get("unpricedMessages", 0) + (b or {}).get("unpricedMessages", 0),
                    "messages": (p or {}).get("messages", 0) + (b or {}).get("messages", 0),
                }
            )
        models.sort(key=lambda m: (-m["totalTokens"], m["model"]))
        # A cold server answers its first status bar without the insights lines (they need a
        # month of history); the server computes them right after and pushes the full tooltip.
        live = None if self.defer_insights else self.live_insights()
        budgets = live["budgets"] if live else self.budgets.current()
        return {
            "mode": mode,
            "today": today,
            "premium": premium,
            "byok": byok,
            "models": models,
            "spark": queries.series(self.ledger, self.parse_filter(week), metric),
            "weekCredits": queries.series(self.ledger, self.parse_filter({**week, "billing": "premium"}), "credits"),
            "budgets": budgets,
            "live": live,
            "level": self.budgets.level(budgets),
            "limits": self.limits()["windows"],
            "plans": self.limits()["plans"],
        }

    def limits(self, params: dict | None = None, now_ms: int | None = None) -> dict:
        """`usage/limits`: the plan windows the tools reported (their latest observations) and
        the estimated ones, the most constraining first, with pace and level (`windows.py`);
        each configured plan's value and credits (`plans.py`). This machine's: `scope: "team"`
        is refused, as by every method it does not answer."""
        if isinstance(params, dict) and params.get("scope") not in (None, "local"):
            queries.parse_filter({"scope": params["scope"]}, self.tz)  # InvalidParams naming `scope`
        self.refresh()
        now = days.now_ms() if now_ms is None else now_ms
        return self.cached(
            "limits",
            (now // 60_000,),  # elapsed share and pace move with the clock: a minute's resolution
            lambda: plans.limits(self.ledger, self.cfg, list(self.limit_log.latest().values()), now),
        )

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

    def model_data(self, model: str) -> dict:
        """What the hover over `model` shows, as data: today's summary, the week's tokens and
        where its price comes from."""
        self.ledger.refresh()
        today = self.today()
        week = self.parse_filter({"from": days.shift(today, -6), "to": today, "model": model})
        match = self.pricer.match(model)
        if match is None:
            why = price_extra.unpriced_reason(model)
            note = f"Not in the price table: unpriced ({why + '; ' if why else ''}add it under [prices] in config.toml)"
        elif match.source == "config":
            note = "Priced from your config.toml"
        elif match.source == "usage-ls":
            note = f"Priced from {match.detail}"
        else:
            note = f"Priced as {match.provider_id}/{match.model_id} (genai-prices)"
        return {
            "model": model,
            "today": today,
            "stats": self.summary({"model": model}),
            "weekTokens": queries.series(self.ledger, week, "totalTokens"),
            "priceNote": note,
        }

    # -- insights (insight_engine.py) and alerts -----------------------------------------------

    def insights(self, params: dict | None = None) -> dict:
        """`usage/insights`: a filter (default: this month so far) -> {budgets, burnRate,
        projection, spikes, tips}."""
        params = params if params is not None else {}
        if isinstance(params, dict) and params.get("from") is None and params.get("to") is None:
            params = {**params, "from": self.today()[:8] + "01"}
        if _team_scope(params):  # (in the server's team thread: nothing local is touched)
            return self.team("insights", params)
        self.ledger.refresh()
        f = self.parse_filter(params)
        key = (f.key, self.budgets.generation())  # the team database's budgets answered anew
        return self.cached("insights", key, lambda: self.engine.compute(f, tips=True))

    def live_insights(self) -> dict:
        """Today's insights for the status bar and the spike alert (no tips: cheap)."""
        self.ledger.refresh()
        return self.cached(
            "live", (self.budgets.generation(),), lambda: self.engine.compute(self.parse_filter({}), tips=False)
        )

    def due_alerts(self) -> dict:
        """Budget thresholds crossed and spikes of today, each not yet announced (once across
        processes): {"budgets": [(budget, threshold)], "spikes": [spike], "limits": [(kind, window
        or plan, threshold)]} (limit_alerts.py)."""
        return {
            "budgets": self.budgets.due(),
            "spikes": self.engine.due_spikes(self.live_insights()),
            "limits": limit_alerts.due(
                self.cfg.data_dir, self.limits(), self.cfg.limit_thresholds, self.cfg.limit_pace_alert
            ),
        }
