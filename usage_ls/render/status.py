"""The status bar (text, Markdown tooltip, level) and the hover over a model name."""

from __future__ import annotations

from usage_ls.render.text import count, credits, md, md_table, spark, tokens, usd


def status_text(mode: str, today: dict, spark_values: list[float]) -> str:
    if mode == "byok":
        return f"{usd(today['costUsd'])} {spark(spark_values)}".strip()
    return f"{credits(today['credits'])} cr {spark(spark_values)}".strip()


def budget_lines(budgets: list[dict]) -> list[str]:
    lines = []
    for b in budgets:
        left = max(0.0, b["limit"] - b["used"])
        if b["unit"] == "credits":
            lines.append(
                f"{b['label']}: {credits(b['used'])} of {credits(b['limit'])} credits used "
                f"({b['percent']:.0f}%), {credits(left)} left, resets {b['resets']}"
            )
        else:
            lines.append(
                f"{b['label']}: {usd(b['used'])} of {usd(b['limit'])} used ({b['percent']:.0f}%), "
                f"{usd(left)} left, resets {b['resets']}"
            )
    return lines


def tooltip(day: str, premium: dict, byok: dict, models: list[dict], budgets: list[dict], week: list[float]) -> str:
    parts = [f"**AI usage today** ({day})", ""]
    if models:
        rows = [
            [
                md(m["model"]),
                tokens(m["totalTokens"]),
                "unpriced" if m["unpricedMessages"] == m["messages"] else credits(m["premiumCredits"]),
                usd(m["byokUsd"]),
            ]
            for m in models[:8]
        ]
        if len(models) > 8:
            rest = models[8:]
            rows.append(
                [
                    f"_{len(rest)} more_",
                    tokens(sum(m["totalTokens"] for m in rest)),
                    credits(sum(m["premiumCredits"] for m in rest)),
                    usd(sum(m["byokUsd"] for m in rest)),
                ]
            )
        parts += [md_table(["Model", "Tokens", "Credits", "BYOK"], rows), ""]
    else:
        parts += ["No AI usage recorded today.", ""]
    parts.append(
        f"**Premium:** {credits(premium['credits'])} credits · **BYOK:** {usd(byok['costUsd'])} · "
        f"{count(premium['messages'] + byok['messages'])} messages · "
        f"{tokens(premium['totalTokens'] + byok['totalTokens'])} tokens"
    )
    unpriced = premium["unpricedMessages"] + byok["unpricedMessages"]
    if unpriced:
        parts += ["", f"_{count(unpriced)} message(s) unpriced: model not in the price table_"]
    if budgets:
        parts += [""] + [f"- {line}" for line in budget_lines(budgets)]
    parts += ["", f"Last 7 days (credits): {spark(week)}"]
    return "\n".join(parts)


def hover(model: str, day: str, stats: dict | None, week_tokens: list[float], price_note: str) -> str:
    parts = [f"**{md(model)}**: AI usage today ({day})", ""]
    if stats and stats["messages"]:
        rows = [
            ["Input", count(stats["inputTokens"])],
            ["Output", count(stats["outputTokens"])],
            ["Cache read", count(stats["cacheReadTokens"])],
            ["Cache write", count(stats["cacheWriteTokens"])],
            ["**Total**", f"**{count(stats['totalTokens'])}**"],
        ]
        parts += [md_table(["Tokens", ""], rows), ""]
        cost = usd(stats["costUsd"])
        if stats["unpricedMessages"]:
            cost += f" ({count(stats['unpricedMessages'])} unpriced)"
        parts.append(
            f"**Credits:** {credits(stats['credits'])} · **Cost:** {cost} · {count(stats['messages'])} messages"
        )
    else:
        parts.append("No usage of this model today.")
    parts += ["", f"Last 7 days (tokens): {spark(week_tokens)}", "", f"_{price_note}_"]
    return "\n".join(parts)
