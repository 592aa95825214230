"""Where the data lives and what `config.toml` says.

A bad key never stops the server: it is reported (naming the key and the problem) and its
default is used, while every good key beside it is kept.
"""

from __future__ import annotations

import datetime as dt
import getpass
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from usage_ls import days
from usage_ls.paths import CONFIG_FILE, default_data_dir

PRICE_KEYS = ("input", "output", "cache_read", "cache_write", "cache_write_1h")
BUDGET_KEYS = ("daily_credits", "monthly_credits", "monthly_byok_usd")

EXAMPLE = """\
# usage-ls configuration (all keys optional)
# user = "alice"                 # who records are attributed to by default
# timezone = "Europe/Berlin"     # days are local days in this zone (default: the system's)

[credits]
# usd_per_credit = 0.01          # 1 credit = $0.01 of list price
# [credits.per_request]          # plans that count "premium requests": credits per request
# "gpt-4.1" = 1

[budgets]
# daily_credits = 500            # status bar turns warning at 80%, error at 100%
# monthly_credits = 10000
# monthly_byok_usd = 50
# thresholds = [50, 80, 100]     # percentages announced once per day/month each
# [budgets.projects."widget"]    # the same keys for one project
# monthly_credits = 300

# [prices."my-model"]            # USD per million tokens, for custom models or negotiated rates
# input = 1.0
# output = 4.0
# cache_read = 0.1
# cache_write = 1.25
"""


@dataclass
class Config:
    data_dir: Path
    user: str = field(default_factory=lambda: _login())
    timezone: str | None = None
    tz: dt.tzinfo = field(default_factory=days.system_zone)
    usd_per_credit: float = 0.01
    credits_per_request: dict[str, float] = field(default_factory=dict)
    daily_credits: float | None = None
    monthly_credits: float | None = None
    monthly_byok_usd: float | None = None
    thresholds: tuple[float, ...] = (50.0, 80.0, 100.0)
    # per-project budgets: project -> {daily_credits, monthly_credits, monthly_byok_usd}
    project_budgets: dict[str, dict[str, float]] = field(default_factory=dict)
    prices: dict[str, dict[str, float]] = field(default_factory=dict)
    import_watch: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.data_dir / CONFIG_FILE


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "me"


def _number(errors: list[str], key: str, value, *, positive: bool = False) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        errors.append(f"{key}: expected a number, got {value!r}")
        return None
    if value < 0 or (positive and value == 0):
        errors.append(f"{key}: must be {'> 0' if positive else '>= 0'}, got {value!r}")
        return None
    return float(value)


def load_config(data_dir: Path | str | None = None) -> Config:
    cfg = Config(data_dir=Path(data_dir).expanduser() if data_dir else default_data_dir())
    path = cfg.path
    if not path.exists():
        return cfg
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        cfg.errors.append(f"{path}: cannot be read ({exc}); using defaults for every key")
        return cfg
    errors = cfg.errors
    known = {"user", "timezone", "credits", "budgets", "prices", "import"}
    for key in raw:
        if key not in known:
            errors.append(f"{key}: unknown key (known: {', '.join(sorted(known))})")
    if "user" in raw:
        if isinstance(raw["user"], str) and raw["user"].strip():
            cfg.user = raw["user"].strip()
        else:
            errors.append(f"user: expected a non-empty string, got {raw['user']!r}")
    if "timezone" in raw:
        try:
            if not isinstance(raw["timezone"], str):
                raise ValueError(f"expected a string, got {raw['timezone']!r}")
            cfg.tz = days.zone_named(raw["timezone"])
            cfg.timezone = raw["timezone"]
        except ValueError as exc:
            errors.append(f"timezone: {exc}")
    credits = _table(errors, raw, "credits")
    if "usd_per_credit" in credits:
        value = _number(errors, "credits.usd_per_credit", credits["usd_per_credit"], positive=True)
        if value is not None:
            cfg.usd_per_credit = value
    per_request = _table(errors, credits, "per_request", prefix="credits.")
    for model, value in per_request.items():
        number = _number(errors, f"credits.per_request.{model}", value)
        if number is not None:
            cfg.credits_per_request[model] = number
    budgets = _table(errors, raw, "budgets")
    for key in budgets:
        if key not in (*BUDGET_KEYS, "thresholds", "projects"):
            errors.append(f"budgets.{key}: unknown key (known: {', '.join((*BUDGET_KEYS, 'thresholds', 'projects'))})")
    for key in BUDGET_KEYS:
        if key in budgets:
            number = _number(errors, f"budgets.{key}", budgets[key], positive=True)
            if number is not None:
                setattr(cfg, key, number)
    for project, table in _table(errors, budgets, "projects", prefix="budgets.").items():
        if not isinstance(table, dict):
            errors.append(f"budgets.projects.{project}: expected a table of budgets")
            continue
        entry: dict[str, float] = {}
        for key, value in table.items():
            if key not in BUDGET_KEYS:
                errors.append(f"budgets.projects.{project}.{key}: unknown budget (known: {', '.join(BUDGET_KEYS)})")
                continue
            number = _number(errors, f"budgets.projects.{project}.{key}", value, positive=True)
            if number is not None:
                entry[key] = number
        if entry:
            cfg.project_budgets[project] = entry
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
            errors.append(f"budgets.thresholds: expected a list of percentages like [50, 80, 100], got {values!r}")
    prices = _table(errors, raw, "prices")
    for model, table in prices.items():
        if not isinstance(table, dict):
            errors.append(f"prices.{model}: expected a table of USD per million tokens")
            continue
        entry: dict[str, float] = {}
        for key, value in table.items():
            if key not in PRICE_KEYS:
                errors.append(f"prices.{model}.{key}: unknown price (known: {', '.join(PRICE_KEYS)})")
                continue
            number = _number(errors, f"prices.{model}.{key}", value)
            if number is not None:
                entry[key] = number
        if "input" in entry and "output" in entry:
            cfg.prices[model] = entry
        else:
            errors.append(f"prices.{model}: needs at least input and output (USD per million tokens)")
    imports = _table(errors, raw, "import")
    if "watch" in imports:
        watch = imports["watch"]
        if isinstance(watch, list) and all(isinstance(w, str) for w in watch):
            cfg.import_watch = list(watch)
        else:
            errors.append(f"import.watch: expected a list of tool names, got {watch!r}")
    return cfg


def _table(errors: list[str], raw: dict, key: str, prefix: str = "") -> dict:
    value = raw.get(key, {})
    if isinstance(value, dict):
        return value
    errors.append(f"{prefix}{key}: expected a table, got {value!r}")
    return {}
