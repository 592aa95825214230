"""Where the data lives and what `config.toml` says.

A bad key never stops the server: it is reported (naming the key and the problem, and the
type of what was found: never the value, which may be a secret) and its default is used,
while every good key beside it is kept.
"""

from __future__ import annotations

import datetime as dt
import getpass
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from usage_ls import days, plan_data
from usage_ls.paths import CONFIG_FILE, default_data_dir
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
    prices: dict[str, dict[str, float]] = field(default_factory=dict)
    import_watch: list[str] = field(default_factory=lambda: ["auto"])  # every tool with logs here
    import_watch_set: bool = False  # config.toml says (else USAGE_LS_WATCH may)
    receive_otlp: tuple[str, int] | None = None  # [receive] otlp: (loopback host, port); None: off
    receive_genai: str = "metrics"  # [receive] genai: which signal of other GenAI emitters counts
    plans: dict[str, Plan] = field(default_factory=dict)  # [plans]: tool -> its plan
    limit_thresholds: tuple[float, ...] = (75.0, 90.0)  # [limits] thresholds: window alerts
    limit_pace_alert: bool = True  # [limits] pace_alert
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


def _number(errors: list[str], key: str, value, *, positive: bool = False) -> float | None:
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
    known = {"user", "timezone", "week_start", "credits", "budgets", "prices", "import", "receive", "plans", "limits"}
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
            errors.append(
                f"budgets.thresholds: expected a list of percentages like [50, 80, 100], got {toml_type(values)}"
                + (" with an item that is not a number in 0-1000" if isinstance(values, list) and values else "")
            )
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
        cfg.import_watch_set = True
        if isinstance(watch, str) and watch in ("auto", "all"):
            cfg.import_watch = [watch]
        elif isinstance(watch, list) and all(isinstance(w, str) for w in watch):
            cfg.import_watch = list(watch)
        else:
            errors.append(f'import.watch: expected "auto", "all" or a list of tool names, got {toml_type(watch)}')
    _receive(errors, cfg, _table(errors, raw, "receive"))
    for tool, value in _table(errors, raw, "plans").items():
        plan = _plan(errors, tool, value)
        if plan is not None:
            cfg.plans[tool] = plan
    _limits(errors, cfg, _table(errors, raw, "limits"))
    return cfg


TOOL_NAME = re.compile(r"[a-z0-9][a-z0-9._+-]{0,59}")


def _plan(errors: list[str], tool: str, value: object) -> Plan | None:
    """`[plans]` `tool = "max5"` or a table (`plan_data.PLAN_KEYS`): the tool's plan, or None
    with the problem named."""
    key = f"plans.{tool}"
    if not TOOL_NAME.fullmatch(tool):
        errors.append(f"{key}: expected a tool name such as claude-code, codex or copilot")
        return None
    table = {"plan": value} if isinstance(value, str) else value
    if not isinstance(table, dict):
        errors.append(f'{key}: expected a plan name such as "max5" or a table, got {toml_type(value)}')
        return None
    for k in table:
        if k not in plan_data.PLAN_KEYS:
            errors.append(f"{key}.{k}: unknown key (known: {', '.join(plan_data.PLAN_KEYS)})")
    name = table.get("plan", plan_data.CUSTOM)
    known = plan_data.known_plans(tool)
    if not isinstance(name, str) or name.strip().lower() not in known:
        got = f'"{name}"' if isinstance(name, str) and len(name) < 40 else toml_type(name)
        errors.append(
            f"{key}{'' if isinstance(value, str) else '.plan'}: unknown plan {got} (known for {tool}: {', '.join(known)})"
        )
        return None
    name = name.strip().lower()
    spec = plan_data.BY_TOOL.get(tool, {}).get(name)
    numbers: dict[str, float] = {}
    for k in ("monthly_price_usd", "credits", "flex_credits", "block_tokens"):
        if k in table:
            number = _number(errors, f"{key}.{k}", table[k], positive=k == "block_tokens")
            if number is None:
                return None
            numbers[k] = number
    label = table.get("label")
    if label is not None and not (isinstance(label, str) and label.strip() and len(label) <= 80):
        errors.append(f"{key}.label: expected a name of 1-80 characters, got {toml_type(label)}")
        return None
    if spec is None:  # custom
        if "monthly_price_usd" not in numbers:
            errors.append(f"{key}: a custom plan needs monthly_price_usd (USD a month)")
            return None
        spec = plan_data.PlanSpec(f"{tool} plan", None, None, 0.0, True)
    base = numbers.get("credits", spec.base_credits)
    if base is None and "flex_credits" in numbers:
        errors.append(f"{key}.flex_credits: needs credits (the base allowance, used first)")
        return None
    return Plan(
        tool=tool,
        plan=name,
        label=label.strip() if isinstance(label, str) else spec.label,
        monthly_price_usd=numbers.get("monthly_price_usd", spec.monthly_price_usd),
        base_credits=base,
        flex_credits=numbers.get("flex_credits", spec.flex_credits if base is not None else 0.0),
        utc_month=spec.utc_month,
        block_tokens=int(numbers["block_tokens"]) if "block_tokens" in numbers else None,
    )


def _limits(errors: list[str], cfg: Config, table: dict) -> None:
    for key in table:
        if key not in ("thresholds", "pace_alert"):
            errors.append(f"limits.{key}: unknown key (known: pace_alert, thresholds)")
    if "thresholds" in table:
        values = table["thresholds"]
        if isinstance(values, list) and all(
            not isinstance(v, bool) and isinstance(v, (int, float)) and 0 < v <= 100 for v in values
        ):
            cfg.limit_thresholds = tuple(sorted({float(v) for v in values}))
        else:
            errors.append(
                f"limits.thresholds: expected a list of percentages from 1 to 100 like [75, 90], got {toml_type(values)}"
                + (" with an item that is not one" if isinstance(values, list) else "")
            )
    if "pace_alert" in table:
        if isinstance(table["pace_alert"], bool):
            cfg.limit_pace_alert = table["pace_alert"]
        else:
            errors.append(f"limits.pace_alert: expected true or false, got {toml_type(table['pace_alert'])}")


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def parse_listen(value: object) -> tuple[str, int]:
    """`"127.0.0.1:4318"` (or `"[::1]:4318"`, `"localhost:4318"`) -> (host, port); ValueError
    naming the problem otherwise. Only loopback: the receiver is never reachable from elsewhere."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f'expected "127.0.0.1:PORT", got {toml_type(value)}')
    text = value.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit():
        raise ValueError('expected "HOST:PORT" such as "127.0.0.1:4318"')
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    port = int(port_text)
    if not 0 < port < 65536:
        raise ValueError("the port must be 1-65535")
    if not (host in LOOPBACK_NAMES or _is_loopback_v4(host)):
        raise ValueError("must be a loopback address (127.0.0.1, ::1 or localhost)")
    return host, port


def _is_loopback_v4(host: str) -> bool:
    parts = host.split(".")
    return len(parts) == 4 and parts[0] == "127" and all(p.isdigit() and int(p) < 256 for p in parts)


def _receive(errors: list[str], cfg: Config, table: dict) -> None:
    for key in table:
        if key not in ("otlp", "genai"):
            errors.append(f"receive.{key}: unknown key (known: genai, otlp)")
    if "otlp" in table and table["otlp"] not in (False, ""):
        try:
            cfg.receive_otlp = parse_listen(table["otlp"])
        except ValueError as exc:
            errors.append(f"receive.otlp: {exc}; the receiver stays off")
    if "genai" in table:
        if table["genai"] in ("metrics", "events"):
            cfg.receive_genai = table["genai"]
        else:
            errors.append(f'receive.genai: expected "metrics" or "events", got {toml_type(table["genai"])}')


def _table(errors: list[str], raw: dict, key: str, prefix: str = "") -> dict:
    value = raw.get(key, {})
    if isinstance(value, dict):
        return value
    errors.append(f"{prefix}{key}: expected a table, got {toml_type(value)}")
    return {}
