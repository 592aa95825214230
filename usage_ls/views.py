"""What the editor and the terminal show, made from the service's data: the status bar, the
hover over a model name, and the alerts told once. Shared by every face (server, CLI), cached
with the service's results, so a status bar asked after every record costs a dict lookup.
"""

from __future__ import annotations

from usage_ls import windows
from usage_ls.render import limits as limits_render
from usage_ls.render import status as status_render
from usage_ls.service import Usage


def status_bar(svc: Usage, params: dict | None = None) -> dict:
    """`usage/statusBar`: {text, tooltip, level, credits, costUsd, billing}."""
    mode = svc.status_mode(params)
    svc.refresh()
    bar = svc.cached("status", (mode, svc.budgets.generation()), lambda: _status_bar(svc.status_data(mode)))
    if svc.live_sources:
        bar = {**bar, "tooltip": bar["tooltip"] + "\n\n" + status_render.sources_tooltip(svc.live_sources)}
    if svc.cfg.sync_postgres is not None:  # records queued, last push, last error (team/sync_note.py)
        from usage_ls import days
        from usage_ls.team import sync_note

        cfg, led = svc.cfg, svc.ledger
        st = sync_note.status(cfg.data_dir, cfg.tz, cfg.sync_postgres, led.pending, led.checkpoint_seq)
        bar = {**bar, "tooltip": bar["tooltip"] + "\n\n" + sync_note.tooltip(st, days.now_ms())}
    return bar


def _status_bar(data: dict) -> dict:
    mode, premium, byok, limits = data["mode"], data["premium"], data["byok"], data["limits"]
    text = status_render.status_text(mode, premium if mode == "premium" else byok, data["spark"])
    tooltip = status_render.tooltip(
        data["today"], premium, byok, data["models"], data["budgets"], data["weekCredits"], data["live"], mode
    )
    shown = status_render.windows_text(limits)
    if shown:
        text += " · " + shown
    if limits or data["plans"]:
        tooltip += "\n\n" + status_render.windows_tooltip(limits, plans=data["plans"])
    return {
        "text": text,
        "tooltip": tooltip,
        "level": max(data["level"], windows.worst_level(limits), key=windows.LEVELS.index),
        "credits": premium["credits"],
        "costUsd": byok["costUsd"],
        "billing": mode,
    }


def hover(svc: Usage, model: str, markdown: bool = True) -> str:
    """The hover over `model`: Markdown, or plain text."""
    svc.refresh()
    return svc.cached("hover", (model, markdown), lambda: _hover(svc.model_data(model), markdown))


def _hover(data: dict, markdown: bool) -> str:
    return status_render.hover(
        data["model"], data["today"], data["stats"], data["weekTokens"], data["priceNote"], markdown
    )


def alerts(svc: Usage) -> list[str]:
    """Messages for budget thresholds crossed, spikes of today, plan windows and AI Credits
    past their thresholds, each not yet announced."""
    due = svc.due_alerts()
    messages = [status_render.budget_alert(b, threshold) for b, threshold in due["budgets"]]
    messages += ["usage-ls: " + status_render.spike_line(s) for s in due["spikes"]]
    for kind, item, crossed in due["limits"]:
        if kind == "credits" and crossed is not None:
            messages.append(limits_render.credits_alert(item, crossed))
        else:
            messages.append(limits_render.window_alert(kind, item, crossed))
    return messages
