"""What the editor and the terminal show, made from the service's data: the status bar, the
hover over a model name, and the alerts told once. Shared by every face (server, CLI), cached
with the service's results, so a status bar asked after every record costs a dict lookup.
"""

from __future__ import annotations

from usage_ls import windows
from usage_ls.render import status as status_render
from usage_ls.service import Usage


def status_bar(svc: Usage, params: dict | None = None) -> dict:
    """`usage/statusBar`: {text, tooltip, level, credits, costUsd, billing}."""
    mode = svc.status_mode(params)
    svc.refresh()
    bar = svc.cached("status", (mode,), lambda: _status_bar(svc.status_data(mode)))
    if svc.live_sources:
        bar = {**bar, "tooltip": bar["tooltip"] + "\n\n" + status_render.sources_tooltip(svc.live_sources)}
    return bar


def _status_bar(data: dict) -> dict:
    mode, premium, byok, limits = data["mode"], data["premium"], data["byok"], data["limits"]
    text = status_render.status_text(mode, premium if mode == "premium" else byok, data["spark"])
    tooltip = status_render.tooltip(
        data["today"], premium, byok, data["models"], data["budgets"], data["weekCredits"], data["live"], mode
    )
    if limits:
        text += " · " + status_render.windows_text(limits)
        tooltip += "\n\n" + status_render.windows_tooltip(limits)
    return {
        "text": text,
        "tooltip": tooltip,
        "level": max(data["level"], windows.worst_level(limits), key=windows.LEVELS.index),
        "credits": premium["credits"],
        "costUsd": byok["costUsd"],
        "billing": mode,
    }


def hover(svc: Usage, model: str) -> str:
    """The Markdown of a hover over `model`."""
    svc.refresh()
    return svc.cached("hover", (model,), lambda: _hover(svc.model_data(model)))


def _hover(data: dict) -> str:
    return status_render.hover(data["model"], data["today"], data["stats"], data["weekTokens"], data["priceNote"])


def alerts(svc: Usage) -> list[str]:
    """Messages for budget thresholds crossed and spikes of today not yet announced."""
    due = svc.due_alerts()
    messages = [status_render.budget_alert(b, threshold) for b, threshold in due["budgets"]]
    messages += ["usage-ls: " + status_render.spike_line(s) for s in due["spikes"]]
    return messages
