"""What `config.toml` can set, as one `Config`, and the small checks every section shares
(a number, a table, a value's type for a message: never the value, which may be a secret)."""

from __future__ import annotations

import datetime as dt
import getpass
import math
from dataclasses import dataclass, field
from pathlib import Path

from usage_ls import days
from usage_ls.paths import CONFIG_FILE
from usage_ls.plan_data import Plan

PRICE_KEYS = ("input", "output", "cache_read", "cache_write", "cache_write_1h")
BUDGET_KEYS = ("daily_credits", "monthly_credits", "monthly_byok_usd")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

EXAMPLE = """\
# usage-ls configuration (all keys optional)
# user = "alice"                 # who records are attributed to by default
# timezone = "Europe/Berlin"     # days are local days in this zone (default: the system's)
# week_start = "monday"          # first day of a week in `usage-ls report weekly`

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
# [budgets.users."bob"]          # the same keys for one person (all their machines with [sync])
# daily_credits = 200
# [budgets.team]                 # the same keys for the whole team's totals (needs [sync]; docs/team.md)
# monthly_credits = 50000

# [plans]                        # which plan each tool is on (docs/limits.md)
# claude-code = "max5"           # Claude: "pro", "max5", "max20"
# codex = "plus"                 # ChatGPT: "plus", "pro"
# copilot = "pro"                # Copilot: "free", "pro", "pro+", "max", "business", "enterprise"
# [plans.gemini]                 # any tool: a custom plan, or a known one with your own figures
# plan = "custom"
# monthly_price_usd = 20
# credits = 2000                 # AI Credits a month (then flex_credits), reset 00:00 UTC on the 1st

# [limits]
# thresholds = [75, 90]          # a plan window's used % announced once per window each
# pace_alert = true              # and once when the pace runs ahead of the window

# [receive]
# otlp = "127.0.0.1:4318"        # accept OpenTelemetry (OTLP/HTTP) from AI tools here (loopback only)
# genai = "metrics"              # other GenAI emitters: count gen_ai.client.token.usage ("metrics") or
#                                # gen_ai.usage.* on their log events ("events"); see docs/live.md

# [sync]
# postgres = "postgresql://alice@db.example/usage?sslmode=verify-full"
#                                # push records to the team's PostgreSQL (off by default); libpq's
#                                # conventions work: PG* variables, ~/.pgpass, "service=usage"; see docs/team.md

# [export]
# otlp = "http://127.0.0.1:4318" # send token, cost and credit metrics to an OpenTelemetry collector (off by
#                                # default; OTLP/HTTP protobuf, /v1/metrics added); see docs/team.md
# headers = { "authorization" = "Bearer ..." }   # sent with each export (e.g. a vendor's API key)

# [prices."my-model"]            # USD per million tokens, for custom models or negotiated rates
# input = 1.0
# output = 4.0
# cache_read = 0.1
# cache_write = 1.25
"""


@dataclass
class Config:
    data_dir: Path
    user: str = field(default_factory=lambda: login_name())  # held to the name rules by `service.settle_user`
    timezone: str | None = None
    tz: dt.tzinfo = field(default_factory=days.system_zone)
    week_start: str = "monday"  # one of WEEKDAYS
    usd_per_credit: float = 0.01
    credits_per_request: dict[str, float] = field(default_factory=dict)
    daily_credits: float | None = None
    monthly_credits: float | None = None
    monthly_byok_usd: float | None = None
    thresholds: tuple[float, ...] = (50.0, 80.0, 100.0)
    # per-project budgets: project -> {daily_credits, monthly_credits, monthly_byok_usd}
    project_budgets: dict[str, dict[str, float]] = field(default_factory=dict)
    # [budgets.users."name"] and [budgets.team]: the same keys, per user and for the team's totals
    user_budgets: dict[str, dict[str, float]] = field(default_factory=dict)
    team_budgets: dict[str, float] = field(default_factory=dict)
    prices: dict[str, dict[str, float]] = field(default_factory=dict)
    import_watch: list[str] = field(default_factory=lambda: ["auto"])  # every tool with logs here
    import_watch_set: bool = False  # config.toml says (else USAGE_LS_WATCH may)
    receive_otlp: tuple[str, int] | None = None  # [receive] otlp: (loopback host, port); None: off
    receive_genai: str = "metrics"  # [receive] genai: which signal of other GenAI emitters counts
    plans: dict[str, Plan] = field(default_factory=dict)  # [plans]: tool -> its plan
    limit_thresholds: tuple[float, ...] = (75.0, 90.0)  # [limits] thresholds: window alerts
    limit_pace_alert: bool = True  # [limits] pace_alert
    sync_postgres: str | None = (
        None  # [sync] postgres: a libpq connection string (may hold a password); "": libpq's defaults; None: off
    )
    export_otlp: str | None = None  # [export] otlp: an OTLP/HTTP endpoint (http or https URL); None: off
    export_headers: dict[str, str] = field(default_factory=dict)  # [export] headers (may hold a key)
    errors: list[str] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.data_dir / CONFIG_FILE


def login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "me"


def toml_type(value) -> str:
    """What a config value is, for a message: its TOML type, never the value (it may be a secret)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string" if value else "an empty string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dt.datetime):
        return "a date-time"
    return "a date" if isinstance(value, dt.date) else "a time"


def number(errors: list[str], key: str, value, *, positive: bool = False) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        errors.append(f"{key}: expected a number, got {toml_type(value)}")
        return None
    if not math.isfinite(value):
        errors.append(f"{key}: expected a finite number")
        return None
    if value < 0 or (positive and value == 0):
        errors.append(f"{key}: must be {'> 0' if positive else '>= 0'}")
        return None
    return float(value)


def table(errors: list[str], raw: dict, key: str, prefix: str = "") -> dict:
    value = raw.get(key, {})
    if isinstance(value, dict):
        return value
    errors.append(f"{prefix}{key}: expected a table, got {toml_type(value)}")
    return {}
