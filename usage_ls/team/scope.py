"""Which protocol methods answer `scope: "team"`, and how: the service hands each such request
here with its filter (parsed as usual) and its other params."""

from __future__ import annotations

from typing import Any

from usage_ls.errors import InvalidParams
from usage_ls.pricing import Pricer
from usage_ls.queries import Filter
from usage_ls.settings import Config
from usage_ls.team import insights, query, records
from usage_ls.team.query import Reader

METHODS = (
    "summary",
    "token_split",
    "projects",
    "users",
    "daily",
    "interactions",
    "sessions",
    "insights",
    "attribution",
    "periods",
)


def answer(
    name: str,
    reader: Reader,
    f: Filter,
    params: dict[str, Any],
    cfg: Config,
    pricer: Pricer,
    cache: insights.Cache | None = None,
) -> dict[str, Any]:
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
