"""How the protocol methods that answer `scope: "team"` (protocol.py: `team=True`) are answered:
the service hands each such request here with its filter (parsed as usual) and its other params."""

from __future__ import annotations

import threading
from typing import Any

from usage_ls import by_tool
from usage_ls.errors import InvalidParams
from usage_ls.pricing import Pricer
from usage_ls.queries import Filter
from usage_ls.settings import Config
from usage_ls.team import insights, query, records, tools
from usage_ls.team.query import Reader


def answer(
    name: str,
    reader: Reader,
    f: Filter,
    params: dict[str, Any],
    cfg: Config,
    pricer: Pricer,
    cache: insights.Cache | None = None,
) -> dict[str, Any]:
    split = by_tool.flag(params) and name in ("daily", "week", "month", "day")
    if params.get("byTool") and not split:
        raise InvalidParams("byTool", f"{name} is not split by tool: byTool is for usage/daily and usage/periods")
    if name == "tools":
        return tools.present(reader, f)
    if f.tool is not None and name == "insights":
        # the insights read the rollups (projection, spikes) beside the records
        raise InvalidParams(
            "tool", 'the team\'s insights are not asked by tool: leave "tool" out, or use scope "local"'
        )
    if f.tool is not None or split:
        if name in ("summary", "token_split", "projects", "users", "daily", "week", "month", "day"):
            # from the records: the rollups have no tool (team/tools.py)
            return tools.answer(name, reader, f, split, cfg.week_start)
    if name in ("summary", "token_split", "projects", "users", "daily"):
        result: dict[str, Any] = getattr(query, name)(reader, f)
        return result
    if name == "interactions":
        return records.interactions(reader, f, params, cfg.tz)
    if name == "sessions":
        return records.sessions(reader, f, params, cfg.tz)
    if name == "attribution":
        return records.attribution(reader, f, params)
    if name == "insights":
        return insights.compute(reader, f, cfg, pricer, cache)
    if name in ("week", "month", "day"):
        return query.periods(reader, f, name, cfg.week_start)
    raise InvalidParams("scope", f'"team" is not answered by {name}')


class TeamLink:
    """A service's link to the team database: one reader (a connection, opened on first use)
    and the team insights' cache. Insights keep their spikes and tips while a cheap stamp of
    the days they read is unchanged (team/insights.Cache); nothing else is kept: other
    machines change it."""

    def __init__(self, cfg: Config, pricer: Pricer):
        self.cfg, self.pricer = cfg, pricer
        self.lock = threading.Lock()
        self.reader: Reader | None = None
        self.cache = insights.Cache()

    def db(self) -> Reader:
        if self.cfg.sync_postgres is None:
            raise InvalidParams(
                "scope", '"team" needs the team database: [sync] postgres in config.toml (docs/team.md)'
            )
        with self.lock:
            if self.reader is None:
                self.reader = Reader(self.cfg.sync_postgres)
            return self.reader

    def answer(self, name: str, f: Filter, params: dict[str, Any]) -> dict[str, Any]:
        return answer(name, self.db(), f, params, self.cfg, self.pricer, self.cache)

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
