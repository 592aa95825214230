"""Where the data lives and what `config.toml` says.

A bad key never stops the server: it is reported (naming the key and the problem, and the
type of what was found: never the value, which may be a secret) and its default is used,
while every good key beside it is kept. `Config` and the shared checks are in `settings`,
the later sections in `config_sections`.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

from usage_ls import config_sections as sections
from usage_ls import days, settings
from usage_ls.config_sections import parse_listen
from usage_ls.paths import default_data_dir
from usage_ls.settings import (
    BUDGET_KEYS,
    EXAMPLE,
    PRICE_KEYS,
    WEEKDAYS,
    Config,
    login_name,
    toml_type,
)

__all__ = [
    "BUDGET_KEYS",
    "EXAMPLE",
    "PRICE_KEYS",
    "WEEKDAYS",
    "Config",
    "load_config",
    "login_name",
    "parse_listen",
    "toml_type",
]


def load_config(data_dir: Path | str | None = None) -> Config:
    # the system's zone only when none is configured: finding it (tzlocal) costs ~10 ms, a
    # tenth of a small import's start-up
    cfg = Config(data_dir=Path(data_dir).expanduser() if data_dir else default_data_dir(), tz=dt.UTC)
    _read(cfg)
    if cfg.timezone is None:
        cfg.tz = days.system_zone()
    return cfg


def _read(cfg: Config) -> Config:
    path = cfg.path
    if not path.exists():
        return cfg
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        cfg.errors.append(f"{path}: cannot be read ({exc}); using defaults for every key")
        return cfg
    errors = cfg.errors
    known = {
        "user",
        "timezone",
        "week_start",
        "credits",
        "budgets",
        "prices",
        "import",
        "receive",
        "plans",
        "limits",
        "sync",
        "export",
    }
    for key in raw:
        if key not in known:
            errors.append(f"{key}: unknown key (known: {', '.join(sorted(known))})")
    if "user" in raw:
        if isinstance(raw["user"], str) and raw["user"].strip():
            cfg.user = raw["user"].strip()
        else:
            errors.append(f"user: expected a non-empty string, got {toml_type(raw['user'])}")
    if "timezone" in raw:
        try:
            if not isinstance(raw["timezone"], str):
                raise ValueError(f"expected a string, got {toml_type(raw['timezone'])}")
            cfg.tz = days.zone_named(raw["timezone"])
            cfg.timezone = raw["timezone"]
        except ValueError as exc:
            errors.append(f"timezone: {exc}")
    if "week_start" in raw:
        value = raw["week_start"]
        if isinstance(value, str) and value.strip().lower() in WEEKDAYS:
            cfg.week_start = value.strip().lower()
        else:
            errors.append(f'week_start: expected a day name ("monday" ... "sunday"), got {value!r}')
    credits = settings.table(errors, raw, "credits")
    if "usd_per_credit" in credits:
        value = settings.number(errors, "credits.usd_per_credit", credits["usd_per_credit"], positive=True)
        if value is not None:
            cfg.usd_per_credit = value
    per_request = settings.table(errors, credits, "per_request", prefix="credits.")
    for model, value in per_request.items():
        number = settings.number(errors, f"credits.per_request.{model}", value)
        if number is not None:
            cfg.credits_per_request[model] = number
    budgets = settings.table(errors, raw, "budgets")
    for key in budgets:
        if key not in (*BUDGET_KEYS, "thresholds", "projects", "users", "team"):
            known_keys = ", ".join((*BUDGET_KEYS, "projects", "team", "thresholds", "users"))
            errors.append(f"budgets.{key}: unknown key (known: {known_keys})")
    for key in BUDGET_KEYS:
        if key in budgets:
            number = settings.number(errors, f"budgets.{key}", budgets[key], positive=True)
            if number is not None:
                setattr(cfg, key, number)
    for project, table in settings.table(errors, budgets, "projects", prefix="budgets.").items():
        if not isinstance(table, dict):
            errors.append(f"budgets.projects.{project}: expected a table of budgets")
            continue
        entry: dict[str, float] = {}
        for key, value in table.items():
            if key not in BUDGET_KEYS:
                errors.append(f"budgets.projects.{project}.{key}: unknown budget (known: {', '.join(BUDGET_KEYS)})")
                continue
            number = settings.number(errors, f"budgets.projects.{project}.{key}", value, positive=True)
            if number is not None:
                entry[key] = number
        if entry:
            cfg.project_budgets[project] = entry
    sections.people_budgets(errors, cfg, budgets)
    if "thresholds" in budgets:
        values = budgets["thresholds"]
        good = (
            isinstance(values, list)
            and values
            and all(not isinstance(v, bool) and isinstance(v, (int, float)) and 0 < v <= 1000 for v in values)
        )
        if good:
            cfg.thresholds = tuple(sorted(float(v) for v in values))
        else:
            errors.append(
                f"budgets.thresholds: expected a list of percentages like [50, 80, 100], got {toml_type(values)}"
                + (" with an item that is not a number in 0-1000" if isinstance(values, list) and values else "")
            )
    prices = settings.table(errors, raw, "prices")
    for model, table in prices.items():
        if not isinstance(table, dict):
            errors.append(f"prices.{model}: expected a table of USD per million tokens")
            continue
        entry: dict[str, float] = {}
        for key, value in table.items():
            if key not in PRICE_KEYS:
                errors.append(f"prices.{model}.{key}: unknown price (known: {', '.join(PRICE_KEYS)})")
                continue
            number = settings.number(errors, f"prices.{model}.{key}", value)
            if number is not None:
                entry[key] = number
        if "input" in entry and "output" in entry:
            cfg.prices[model] = entry
        else:
            errors.append(f"prices.{model}: needs at least input and output (USD per million tokens)")
    imports = settings.table(errors, raw, "import")
    if "watch" in imports:
        watch = imports["watch"]
        cfg.import_watch_set = True
        if isinstance(watch, str) and watch in ("auto", "all"):
            cfg.import_watch = [watch]
        elif isinstance(watch, list) and all(isinstance(w, str) for w in watch):
            cfg.import_watch = list(watch)
        else:
            errors.append(f'import.watch: expected "auto", "all" or a list of tool names, got {toml_type(watch)}')
    sections.receive(errors, cfg, settings.table(errors, raw, "receive"))
    for tool, value in settings.table(errors, raw, "plans").items():
        plan = sections.plan(errors, tool, value)
        if plan is not None:
            cfg.plans[tool] = plan
    sections.limits(errors, cfg, settings.table(errors, raw, "limits"))
    sections.sync(errors, cfg, settings.table(errors, raw, "sync"))
    sections.export(errors, cfg, settings.table(errors, raw, "export"))
    return cfg
