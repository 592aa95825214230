"""The status bar (text, Markdown tooltip, level) and the hover over a model name."""

from __future__ import annotations

import datetime as dt

from usage_ls.render.limits import estimated_line, plan_lines
from usage_ls.render.text import count, credits, md, md_table, plain, plural, spark, tokens, usd


def status_text(mode: str, today: dict, spark_values: list[float]) -> str:
    if mode == "byok":
        return f"{usd(today['costUsd'])} {spark(spark_values)}".strip()
    return f"{credits(today['credits'])} cr {spark(spark_values)}".strip()


def short_day(day: str) -> str:
    """`2026-12-01` -> `Dec 1`."""
    d = dt.date.fromisoformat(day)
    return f"{d:%b} {d.day}"


def amount(x: float, unit: str) -> str:
    return f"{credits(x)} credits" if unit == "credits" else usd(x)


def budget_lines(budgets: list[dict], esc=plain) -> list[str]:
    """'This month: 412 of 1,500 credits left (73% used), resets Dec 1', plus where today's
    pace ends the period when insights projected it."""
    lines = []
    for b in budgets:
        if b["used"] is None:  # the team database has not answered (budgets.py)
            lines.append(f"{esc(b['label'])}: unavailable ({esc(b.get('unavailable') or 'no answer')})")
            continue
        left = max(0.0, b["limit"] - b["used"])
        if b["unit"] == "credits":
            text = f"{credits(left)} of {credits(b['limit'])} credits left"
        else:
            text = f"{usd(left)} of {usd(b['limit'])} left"
        line = f"{esc(b['label'])}: {text} ({b['percent']:.0f}% used), resets {short_day(b['resets'])}"
        if "projected" in b and b["projected"] > b["used"]:
            line += f"; at today's pace {amount(b['projected'], b['unit'])} ({b['projectedPercent']:.0f}%) by then"
        lines.append(line)
    return lines


def spike_line(s: dict, esc=plain) -> str:
    """One sentence about a spike: when, how much against usual, and who caused it."""
    if s["kind"] == "day":
        period, usual = f"on {s['date']}", "day"
    else:
        period, usual = f"{s['hour']:02d}:00-{(s['hour'] + 1) % 24:02d}:00 on {s['date']}", "busy hour"
    calls = f" in {plural(s['calls'], 'message')}" if s.get("calls") else ""
    text = (
        f"Unusual spend {period}: {amount(s['value'], s['unit'])}{calls} against a typical {usual} of "
        f"{amount(s['median'], s['unit'])}"
    )
    who = []
    if s.get("topModel"):
        who.append(f"{esc(s['topModel']['name'])} ({s['topModel']['share']:.0%})")
    if s.get("topProject"):
        who.append(f"project {esc(s['topProject']['name'])} ({s['topProject']['share']:.0%})")
    if who:
        text += "; mostly " + " in ".join(who)
    if s.get("topUser"):  # the team's insights: who spent most of it
        text += f", by {esc(s['topUser']['name'])} ({s['topUser']['share']:.0%})"
    return text + "."


def insight_lines(ins: dict, mode: str) -> list[str]:
    """Burn rate, projection and today's spikes for the tooltip."""
    key, unit = ("credits", "credits") if mode == "premium" else ("byokUsd", "usd")
    burn, proj = ins["burnRate"], ins["projection"]
    month_end = proj.get("monthEnd")
    line = (
        f"Burn rate: {amount(burn[key], unit)}/h over the last hour · at today's pace "
        f"{amount(proj['endOfDay'][key], unit)} by end of day, {amount(proj['endOfMonth'][key], unit)} by "
        + (short_day(month_end) if month_end else "month end")
    )
    lines = [line]
    today = [s for s in ins["spikes"] if s["date"] == ins["to"]]
    today.sort(key=lambda s: (s["kind"] != "hour", -s.get("hour", 0)))  # the latest hour first
    if today:
        lines.append(f"⚠ {spike_line(today[0], md)}")
    return lines


def tooltip(
    day: str,
    premium: dict,
    byok: dict,
    models: list[dict],
    budgets: list[dict],
    week: list[float],
    insights: dict | None = None,
    mode: str = "premium",
) -> str:
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
        f"{plural(premium['messages'] + byok['messages'], 'message')} · "
        f"{tokens(premium['totalTokens'] + byok['totalTokens'])} tokens"
    )
    unpriced = premium["unpricedMessages"] + byok["unpricedMessages"]
    if unpriced:
        parts += ["", f"_{plural(unpriced, 'message')} unpriced: model not in the price table_"]
    if budgets:
        parts += [""] + [f"- {line}" for line in budget_lines(budgets, md)]
    if insights is not None:
        parts += [""] + [f"- {line}" for line in insight_lines(insights, mode)]
    parts += ["", f"Last 7 days (credits): {spark(week)}"]
    return "\n".join(parts)


def hover(
    model: str, day: str, stats: dict | None, week_tokens: list[float], price_note: str, markdown: bool = True
) -> str:
    """The hover over a model name: Markdown, or plain text for a client that takes only that
    (its `hover.contentFormat` lacks markdown, as Emacs's eglot without markdown-mode)."""
    name = md(model) if markdown else plain(model)
    parts = [f"**{name}**: AI usage today ({day})" if markdown else f"{name}: AI usage today ({day})", ""]
    if stats and stats["messages"]:
        rows = [
            ("Input", stats["inputTokens"]),
            ("Output", stats["outputTokens"]),
            ("Cache read", stats["cacheReadTokens"]),
            ("Cache write", stats["cacheWriteTokens"]),
            ("Total tokens", stats["totalTokens"]),
        ]
        width = max(len(count(v)) for _, v in rows)
        # a fenced block, not a Markdown table: it lines up in every client (Neovim shows
        # tables as raw pipes) and nothing in it is interpreted
        table = [f"{label:<13}{count(v):>{width}}" for label, v in rows]
        parts += ["```text", *table, "```", ""] if markdown else [*table, ""]
        cost = usd(stats["costUsd"])
        if stats["unpricedMessages"]:
            cost += f" ({count(stats['unpricedMessages'])} unpriced)"
        money = f"Credits: {credits(stats['credits'])} · Cost: {cost}"
        if markdown:
            money = f"**Credits:** {credits(stats['credits'])} · **Cost:** {cost}"
        parts.append(f"{money} · {plural(stats['messages'], 'message')}")
    else:
        parts.append("No usage of this model today.")
    note = f"_{price_note}_" if markdown else price_note
    parts += ["", f"Last 7 days (tokens): {spark(week_tokens)}", "", note]
    return "\n".join(parts)


def budget_alert(b: dict, crossed: float) -> str:
    """The message told once when a budget crosses a threshold."""
    return (
        f"usage-ls: {b['label']} {crossed:g}% of budget reached: {amount(b['used'], b['unit'])} of "
        f"{amount(b['limit'], b['unit'])} (resets {b['resets']})."
    )


def windows_text(windows: list[dict]) -> str:
    """`5h 42% · wk 18%`: the most constraining windows with a used share (at most two), for
    the status bar; an estimated one as `5h ~42%`."""
    known = [w for w in windows if w["usedPercent"] is not None][:2]
    return " · ".join(f"{plain(w['label'])} {'~' if w['estimated'] else ''}{w['usedPercent']:.0f}%" for w in known)


def windows_tooltip(windows: list[dict], esc=md, plans: list[dict] | None = None) -> str:
    """**Plan limits**, a line per window: used, how far into the window, the pace, the reset
    (an estimated block: its tokens and cost, labelled *estimated*); then each plan's value and
    credits."""
    lines = ["**Plan limits**", ""]
    for w in windows:
        line = f"- {esc(w['source'])} {esc(w['label'])}: "
        if w["estimated"]:
            line += "block " + estimated_line(w) + ("" if w["usedPercent"] is None else ", ")
        if w["usedPercent"] is not None:
            line += f"{w['usedPercent']:.0f}% used"
        if w["elapsedPercent"] is not None:
            line += f", {w['elapsedPercent']:.0f}% of the window passed"
        if w["projectedPercent"] is not None:
            line += f"; at this pace {w['projectedPercent']:.0f}% by the reset"
        if w["resetsAtLocal"]:
            when = dt.datetime.fromisoformat(w["resetsAtLocal"])
            line += f"; resets {when:%a %H:%M}"
        if w["estimated"]:
            line += " _(estimated)_"
        lines.append(line)
    return "\n".join(lines + (["", *plan_lines(plans, esc)] if plans else []))


LABELS = {
    "claude-code": "Claude Code",
    "codex": "Codex",
    "gemini": "Gemini CLI",
    "aider": "aider",
    "cline": "Cline/Roo/Kilo Code",
    "opencode": "opencode",
    "continue": "Continue",
    "droid": "Factory Droid",
    "goose": "Goose",
    "qwen": "Qwen Code",
    "kimi": "Kimi CLI",
    "pi": "pi",
    "openclaw": "OpenClaw",
    "hermes": "Hermes Agent",
    "amp": "Amp",
    "codebuff": "Codebuff",
    "kilo": "Kilo CLI",
    "copilot-cli": "Copilot CLI",
}


def source_line(source: dict, esc=md) -> str:
    """One live source: its name, how it is watched, when it last gave a record."""
    last = source.get("lastRecord")
    when = "no record yet"
    if last:
        moment = dt.datetime.fromtimestamp(last)
        fmt = "%H:%M:%S" if moment.date() == dt.date.today() else "%Y-%m-%d %H:%M"
        when = f"last record {moment:{fmt}}"
    mode = source.get("mode") or ""
    how = {"events": "file events", "receiver": "OpenTelemetry"}.get(mode, mode)
    return f"{esc(LABELS.get(source['tool'], source['tool']))} ({esc(how)}): {when}"


def sources_tooltip(sources: list[dict], esc=md) -> str:
    """**Live sources**, a line per tool watched (and the OTLP receiver)."""
    return "\n".join(["**Live sources**", ""] + [f"- {source_line(s, esc)}" for s in sources])
