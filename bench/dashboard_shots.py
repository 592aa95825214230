"""Screenshots of the dashboard for docs/: light and dark, Premium and BYOK, and the Plan
limits card on its own (docs/dashboard-limits.png, -dark.png).

    .venv/bin/python bench/dashboard_shots.py [docs] [--limits-only]

Fills a temporary data dir with 45 days of synthetic usage (bench/dashboard_data.py; each
record's feature names a tool by its model, so the Tool picker has names) plus one
runaway agent session nine days ago (a spike, and tips for the Insights card) and a month of
plan-window observations (bench/limits_data.py), serves the live dashboard on 127.0.0.1 and
photographs it in headless Chromium.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import dataclasses

import limits_data
from dashboard_data import generate
from playwright.sync_api import sync_playwright

from usage_ls import days, protocol
from usage_ls.dashboard.serve import DashboardServer
from usage_ls.service import Usage


class ShotUsage(Usage):
    """The service, with sample `plans` in `usage/limits` while the server has none to give
    (the plans work fills them from config.toml's [plans]): the Claude plan's value is this
    month's Premium usage at list price against Claude Pro's $20; Copilot's AI Credits are a sample."""

    def limits(self, params=None):
        result = super().limits(params)
        if result.get("plans"):
            return result
        today = self.today()
        month = {"from": today[:8] + "01", "to": today, "billing": "premium"}
        listed = round(self.summary(month)["costUsd"], 2)
        start, end = (
            month["from"] + "T00:00:00Z",
            days.next_month_start(today) + "T00:00:00Z",
        )  # as plans.py writes them
        credits = {"allowance": 1500, "base": 1000, "flex": 500, "used": 1180.5, "remaining": 319.5, "resetsAt": end}
        plans = [
            {"tool": "claude-code", "plan": "pro", "label": "Claude Pro", "monthlyPriceUsd": 20.0,
             "periodStart": start, "periodEnd": end, "listPriceUsd": listed, "valueRatio": listed / 20,
             "credits": None},
            {"tool": "copilot", "plan": "pro-plus", "label": "Copilot Pro+", "monthlyPriceUsd": 39.0,
             "periodStart": start, "periodEnd": end, "listPriceUsd": 61.4, "valueRatio": 61.4 / 39,
             "credits": credits},
        ]  # fmt: skip
        return {**result, "plans": plans}


# the HTTP API calls the protocol's methods on the service: let it reach ShotUsage.limits
protocol.DASHBOARD_METHODS["limits"] = dataclasses.replace(
    protocol.DASHBOARD_METHODS["limits"], call=lambda svc, params: svc.limits(params)
)


def tool_of(record: dict) -> str:
    """Each synthetic record's tool, by its model, so the Tool picker has names to show."""
    model = record["model"]
    if model.startswith("claude"):
        return "claude-code"
    if model.startswith("gemini"):
        return "gemini"
    if model.startswith("gpt"):
        return "codex" if record["billing"] == "byok" else "copilot-chat"
    return "opencode"


def runaway_session(data: Path, back: int = 9) -> None:
    """An agent stuck in a loop `back` days ago: 260 short claude-opus-4-1 answers on the plan's
    credits, in ml-experiments, within two hours."""
    svc = Usage(data_dir=data, tag="shots").open()
    try:
        day = dt.date.fromisoformat(svc.today()) - dt.timedelta(days=back)
        start = dt.datetime.combine(day, dt.time(14, 5), svc.tz)
        svc.record(
            [
                {
                    "id": f"runaway-{i}",
                    "timestamp": (start + dt.timedelta(seconds=27 * i)).isoformat(),
                    "model": "claude-opus-4-1",
                    "provider": "anthropic",
                    "billing": "premium",
                    "project": "ml-experiments",
                    "user": "bob",
                    "inputTokens": 3_000 + 7 * i,
                    "outputTokens": 280,
                    "session": "runaway-agent",
                    "feature": "claude-code agent=general-purpose",
                }
                for i in range(260)
            ]
        )
        svc.ledger.checkpoint()
    finally:
        svc.close()


def settle(page, act) -> None:
    """Do something that refreshes the page and wait until it has."""
    gen = page.eval_on_selector("#app", "e => e.dataset.gen")
    act()
    page.wait_for_function(
        f"() => document.getElementById('app').dataset.gen !== '{gen}' && "
        "document.getElementById('app').getAttribute('aria-busy') === 'false'"
    )


ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def main(out_dir: Path, per_day: int = 160, full: bool = True, limits_only: bool = False) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir(parents=True)
        (data / "config.toml").write_text(
            "[budgets]\ndaily_credits = 600\nmonthly_credits = 12000\nmonthly_byok_usd = 100\n", encoding="utf-8"
        )
        generate(data, n_days=45, per_day=per_day, feature=tool_of)
        runaway_session(data)
        limits_data.write(data, days.now_ms())
        svc = ShotUsage(data_dir=data, tag="shots", writable=False).open()
        server = DashboardServer(svc, {"preset": "30d"})
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                for scheme in ("light", "dark"):
                    page = browser.new_page(
                        viewport={"width": 1440, "height": 900}, color_scheme=scheme, device_scale_factor=1
                    )
                    page.goto(server.url)
                    page.wait_for_function("() => window.usageDashboard && window.usageDashboard.ready")
                    gen = page.eval_on_selector("#app", "e => e.dataset.gen")
                    page.select_option("#page-size", "25")  # a shorter page for the picture
                    page.wait_for_function(
                        f"() => document.getElementById('app').dataset.gen !== '{gen}' && "
                        "document.getElementById('app').getAttribute('aria-busy') === 'false'"
                    )
                    # the Plan limits card on its own, over a week (a month of 5-hour windows is a comb)
                    settle(page, lambda: page.click('#date-presets button[data-preset="7d"]'))
                    page.mouse.move(5, 5)
                    card = page.locator("#limits")
                    card.scroll_into_view_if_needed()
                    path = out_dir / ("dashboard-limits.png" if scheme == "light" else "dashboard-limits-dark.png")
                    card.screenshot(path=str(path))
                    print(path)
                    settle(page, lambda: page.click('#date-presets button[data-preset="30d"]'))
                    page.evaluate("window.scrollTo(0, 0)")
                    for billing in () if limits_only else ("premium", "byok"):
                        if billing == "byok":
                            gen = page.eval_on_selector("#app", "e => e.dataset.gen")
                            page.click('#billing button[data-billing="byok"]')
                            page.wait_for_function(
                                f"() => document.getElementById('app').dataset.gen !== '{gen}' && "
                                "document.getElementById('app').getAttribute('aria-busy') === 'false'"
                            )
                        page.mouse.move(5, 5)
                        path = out_dir / f"dashboard-{scheme}-{billing}.png"
                        page.screenshot(path=str(path), full_page=full)
                        print(path)
                    page.close()
                browser.close()
        finally:
            server.shutdown()
            svc.close()


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(Path(args[0] if args else "docs"), limits_only="--limits-only" in sys.argv)
