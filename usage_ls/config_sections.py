"""The sections of `config.toml` past the basics: plans, limits, the OTLP receiver, team
sync and the OTLP export, and the budgets per user and for the team. Each checks its own table, reports what is wrong (naming the key and
the type found, never the value) and sets what is right on the `Config`."""

from __future__ import annotations

import re

from usage_ls import plan_data, settings
from usage_ls.plan_data import Plan
from usage_ls.settings import BUDGET_KEYS, Config, toml_type

TOOL_NAME = re.compile(r"[a-z0-9][a-z0-9._+-]{0,59}")


def plan(errors: list[str], tool: str, value: object) -> Plan | None:
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
            number = settings.number(errors, f"{key}.{k}", table[k], positive=k == "block_tokens")
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


def limits(errors: list[str], cfg: Config, table: dict) -> None:
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
    if not (host in LOOPBACK_NAMES or is_loopback_v4(host)):
        raise ValueError("must be a loopback address (127.0.0.1, ::1 or localhost)")
    return host, port


def is_loopback_v4(host: str) -> bool:
    parts = host.split(".")
    return len(parts) == 4 and parts[0] == "127" and all(p.isdigit() and int(p) < 256 for p in parts)


def receive(errors: list[str], cfg: Config, table: dict) -> None:
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


def sync(errors: list[str], cfg: Config, table: dict) -> None:
    """[sync] postgres: kept as written (libpq parses it, never we: it may hold a password);
    `true` is libpq's defaults alone (PGHOST, PGSERVICE ... in the environment); `false` or "" is off."""
    for key in table:
        if key != "postgres":
            errors.append(f"sync.{key}: unknown key (known: postgres)")
    value = table.get("postgres", False)
    if value is False or value == "":
        return
    if value is True:
        cfg.sync_postgres = ""
    elif isinstance(value, str) and value.strip():
        cfg.sync_postgres = value.strip()
    else:
        errors.append(
            f'sync.postgres: expected a connection string like "postgresql://host/db", got {toml_type(value)}'
        )


def export(errors: list[str], cfg: Config, table: dict) -> None:
    """[export] otlp: an http(s) URL (a base: /v1/metrics is added), headers: a table of strings."""
    for key in table:
        if key not in ("otlp", "headers"):
            errors.append(f"export.{key}: unknown key (known: headers, otlp)")
    value = table.get("otlp", False)
    if value is not False and value != "":
        if isinstance(value, str) and value.strip().lower().startswith(("http://", "https://")) and "://" in value:
            cfg.export_otlp = value.strip()
        else:
            got = "text without http:// or https://" if isinstance(value, str) else toml_type(value)
            errors.append(
                f'export.otlp: expected an http(s) URL like "http://127.0.0.1:4318", got {got}; the export stays off'
            )
    headers = table.get("headers", {})
    if isinstance(headers, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        cfg.export_headers = dict(headers)
    else:
        errors.append('export.headers: expected a table of strings, e.g. { authorization = "Bearer ..." }')


def budget_limits(errors: list[str], key: str, table: object) -> dict[str, float]:
    """One scope's budgets (`BUDGET_KEYS`), each a number > 0; the problems named."""
    if not isinstance(table, dict):
        errors.append(f"{key}: expected a table of budgets ({', '.join(BUDGET_KEYS)}), got {toml_type(table)}")
        return {}
    entry: dict[str, float] = {}
    for name, value in table.items():
        if name not in BUDGET_KEYS:
            errors.append(f"{key}.{name}: unknown budget (known: {', '.join(BUDGET_KEYS)})")
            continue
        number = settings.number(errors, f"{key}.{name}", value, positive=True)
        if number is not None:
            entry[name] = number
    return entry


def people_budgets(errors: list[str], cfg: Config, budgets: dict) -> None:
    """`[budgets.users."name"]` (one person's usage, every machine of theirs) and `[budgets.team]`
    (everyone's): the keys of the global budgets."""
    for user, table in settings.table(errors, budgets, "users", prefix="budgets.").items():
        if not user.strip():
            errors.append("budgets.users: a user's name must not be empty")
            continue
        entry = budget_limits(errors, f'budgets.users."{user}"', table)
        if entry:
            cfg.user_budgets[user] = entry
    if "team" in budgets:
        cfg.team_budgets = budget_limits(errors, "budgets.team", budgets["team"])
