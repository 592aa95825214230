"""The longer `usage-ls` commands, kept out of cli.py: insights (text) and prices."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson

from usage_ls import days, price_data, price_extra
from usage_ls.config import load_config
from usage_ls.render import status as status_render
from usage_ls.render import text as fmt


def insights(svc: Any, params: dict[str, Any], as_json: bool) -> int:
    """`usage-ls insights`: the protocol's usage/insights (default: this month so far)."""
    result = svc.insights(params)
    if as_json:
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        return 0
    team = result.get("scope") == "team"
    # the filters asked for, as the reports show them (scope=team last)
    shown = [f"{k}={fmt.plain(str(v))}" for k, v in params.items() if k not in ("from", "to", "scope")]
    shown += ["scope=team"] if team else []
    print(f"insights · {result['from']} .. {result['to']}" + (f" · {', '.join(shown)}" if shown else ""))
    print("\nBudgets")
    lines = status_render.budget_lines(result["budgets"])
    if lines:
        print("\n".join(f"  {line}" for line in lines))
    elif team:
        print("  not in the team's insights: [budgets] are this machine's (usage-ls insights shows them)")
    else:
        print("  none configured ([budgets] in config.toml)")
    burn, proj = result["burnRate"], result["projection"]
    print("\nBurn rate and projection (at today's pace)")
    rows = [
        [label, f(burn[key]) + "/h", f(proj["today"][key]), f(proj["endOfDay"][key]), f(proj["endOfMonth"][key])]
        for label, key, f in (
            ("Premium credits", "credits", fmt.credits),
            ("BYOK dollars", "byokUsd", fmt.usd),
            ("List price, all", "costUsd", fmt.usd),
        )
    ]
    print(fmt.table(["", "Last hour", "Today", "End of day", f"End of month ({proj['monthEnd']})"], rows, "lrrrr"))
    print("\nSpikes")
    if result["spikes"]:
        for spike in result["spikes"]:
            print(f"  {status_render.spike_line(spike)}")
    else:
        whose = "the team's" if team else "your"
        print(f"  none: no day or hour far above {whose} usual spend")
    print("\nTips")
    if result["tips"]:
        for tip in result["tips"]:
            saving = fmt.usd(tip["savingUsd"])
            if tip["savingCredits"]:
                saving += f" ({fmt.credits(tip['savingCredits'])} credits)"
            print(f"  - {_tip_title(tip)}: save about {saving}")
            print(f"    {fmt.plain(tip['how'])}")
    else:
        print("  none: nothing in this period would save a noticeable amount")
    return 0


def _tip_title(tip: dict[str, Any]) -> str:
    if tip["kind"] == "cheaperModel":
        return f"use {tip['alternative']} instead of {fmt.plain(tip['model'])} for short answers"
    if tip["kind"] == "promptCaching":
        return f"cache the long prompts of project {fmt.plain(tip['project'])}"
    who = f"project {fmt.plain(tip['project'])}" if "project" in tip else f"session {fmt.plain(tip['session'])}"
    return f"{who} caused most of the spike on {tip['date']}"


def prices(args: Any) -> int:
    """`usage-ls prices show|update|reset`: see price_data.py. Stored records keep their cost."""
    data_dir = load_config().data_dir
    if args.action == "reset":
        removed = price_data.reset(data_dir)
        print("fetched price data removed: " if removed else "no fetched price data in use: ", end="")
        print("new records are priced with the bundled genai-prices table")
        return 0
    old, info = price_data.load(data_dir)
    if args.action == "show":
        print(f"price data: {fmt.plain(info.summary())}\nfile:       {info.path}")
        print(f"our prices: {len(price_extra.ENTRIES)} dated entries for models genai-prices lacks (docs/pricing.md)")
        for problem in info.problems:
            print(f"problem:    {fmt.plain(problem)}")
        unpriced_models()
        return 1 if info.problems else 0
    try:
        if args.from_file:
            origin, last_modified = str(Path(args.from_file).resolve()), None
            body = price_data.read(Path(args.from_file))
        else:
            origin = args.url or price_data.default_url()
            print(f"fetching {origin}", file=sys.stderr)
            body, last_modified = price_data.fetch(origin)
        _, providers = price_data.parse(body, origin)
        path = price_data.install(data_dir, body, providers, origin, last_modified)
    except (price_data.PriceDataError, OSError) as exc:
        print(f"usage-ls prices update: {fmt.plain(str(exc))}", file=sys.stderr)
        print(
            f"usage-ls prices update: the price data in use is unchanged ({fmt.plain(info.summary())})", file=sys.stderr
        )
        return 1
    change = price_data.compare(old.providers, providers)
    (p0, p1), (m0, m1) = change.providers, change.models
    print(f"price data updated: {p0} -> {p1} providers, {m0} -> {m1} models (was: {fmt.plain(info.summary())})")
    for label, names in (("new models", change.added), ("removed", change.removed), ("new prices", change.repriced)):
        if names:
            shown = ", ".join(fmt.plain(n) for n in names[:40])
            print(f"{label} ({len(names)}): {shown}" + (f", and {len(names) - 40} more" if len(names) > 40 else ""))
    if change.removed:
        print(
            f"note: {len(change.removed)} models of the data in use are not in the new data: new records of them will be "
            "unpriced (`usage-ls prices reset` goes back to the bundled table)"
        )
    print(f"saved as {path}: new records are priced with it; records already stored keep their cost")
    return 0


def unpriced_models() -> None:
    """`prices show`: the models of this ledger with unpriced records (the last ten years), and
    whether new records of each are priced now, or why not."""
    from usage_ls.queries import MAX_RANGE_DAYS
    from usage_ls.service import Usage

    svc = Usage(tag="cli", writable=False).open()
    try:
        today = svc.today()
        rows = svc.token_split({"from": days.shift(today, -(MAX_RANGE_DAYS - 1)), "to": today})["models"]
        rows = [r for r in rows if r["unpricedMessages"]]
        if not rows:
            print("unpriced:   none: every record in your ledger has a cost")
            return
        print(f"unpriced:   {len(rows)} model(s) in your ledger have records without a cost:")
        table = []
        for row in sorted(rows, key=lambda r: (-r["unpricedMessages"], r["model"])):
            match = svc.pricer.match(row["model"])
            if match is None:
                why = price_extra.unpriced_reason(row["model"])
                now = f"still unpriced: {why}" if why else "still unpriced: not in the price data"
                now += f' (add [prices."{row["model"]}"] to config.toml)'
            elif match.source == "config":
                now = "priced now by your config.toml"
            elif match.source == "usage-ls":
                now = f"priced now by {match.detail}"
            else:
                now = f"priced now as {match.provider_id}/{match.model_id} (genai-prices)"
            records = f"{row['unpricedMessages']:,} of {row['messages']:,}"
            table.append([fmt.plain(row["model"]), records, fmt.plain(now)])
        print(fmt.table(["Model", "Unpriced records", "New records"], table, "lrl"))
        print("records keep the cost they were stored with: new price data prices new records")
    finally:
        svc.close()


def show_config() -> int:
    """`usage-ls config`: the data directory, config file and what it sets (secrets masked)."""
    from usage_ls.config import EXAMPLE, load_config
    from usage_ls.service import settle_user
    from usage_ls.team.secrets import shown

    cfg = load_config()
    settle_user(cfg)
    print(f"data directory: {cfg.data_dir}")
    print(f"config file:    {cfg.path} ({'present' if cfg.path.exists() else 'absent: defaults in use'})")
    print(f"user:           {cfg.user}")
    print(f"timezone:       {cfg.timezone or 'system'} ({cfg.tz})")
    print(f"weeks start on: {cfg.week_start}")
    print(f"1 credit =      ${cfg.usd_per_credit:g}")
    print(f"team database:  {shown(cfg.sync_postgres)}")
    if cfg.export_otlp is not None:
        headers = f" (headers: {', '.join(sorted(cfg.export_headers))}, values not shown)" if cfg.export_headers else ""
        print(f"OTLP export:    {shown(cfg.export_otlp)}{headers}")
    for problem in cfg.errors:
        print(f"problem:        {problem}")
    if not cfg.path.exists():
        print("\nExample config.toml:\n" + EXAMPLE)
    return 1 if cfg.errors else 0
